/**
 * One `serve` process of the crash test: spawned over stdio with stdin kept open on a pipe
 * (closing it would stop the server), its pino lines on stderr watched for the moments the
 * test measures, and an MCP transport over its pipes for the round that gets queried.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** What the server's 'data dir opened' line says about its recovery. */
export interface Recovery {
  /** From spawn to the line, as the test saw it (process start and imports included). */
  sinceSpawnMs: number;
  /** The server's own measure: lock, WAL open and repair, checkpoint load, replay. */
  ms: number;
  replayedEntries: number;
  checkpoint: string | null;
  entries: number;
}

export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ServeProc {
  readonly child: ChildProcessWithoutNullStreams;
  readonly spawnedAt = performance.now();
  readonly exited: Promise<ServeExit>;
  recovery: Recovery | null = null;
  /** Milliseconds from spawn to the 'serving' line (the MCP transport is up). */
  servingMs: number | null = null;
  /** The last stderr lines, for a failure report. */
  private readonly tail: string[] = [];
  private partial = '';
  private readonly waiters: { msg: string; resolve: () => void }[] = [];

  private readonly logFile: WriteStream | null;

  /** logPath: where to keep the server's whole stderr (forensics when the check fails). */
  constructor(cli: string, args: readonly string[], logPath: string | null = null, env: NodeJS.ProcessEnv = {}) {
    this.logFile = logPath === null ? null : createWriteStream(logPath);
    this.child = spawn(process.execPath, [cli, 'serve', ...args], {
      env: { ...process.env, LOG_TRIAGE_LOG_LEVEL: 'info', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr.on('data', (d: Buffer) => {
      this.logFile?.write(d);
      this.onStderr(d.toString());
    });
    this.child.stderr.on('end', () => this.logFile?.end());
    // A server killed mid-write closes its end; the test does not care about EPIPE on stdin.
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal unless the process already ended. */
  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.child.kill(sig);
  }

  /** Resolves when a log line with this msg appears (or never). */
  waitFor(msg: string): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ msg, resolve }));
  }

  stderrTail(): string {
    return this.tail.join('\n');
  }

  /** A Transport over the child's stdin/stdout, for the SDK Client. */
  transport(): Transport {
    return new ChildStdioTransport(this.child);
  }

  private onStderr(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      this.tail.push(line);
      if (this.tail.length > 40) this.tail.shift();
      let entry: { msg?: string; ms?: number; replayedEntries?: number; checkpoint?: string | null; entries?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue; // a one-line refusal or a stack trace: kept in the tail only
      }
      const at = performance.now() - this.spawnedAt;
      if (entry.msg === 'data dir opened') {
        this.recovery = {
          sinceSpawnMs: at, ms: entry.ms ?? 0, replayedEntries: entry.replayedEntries ?? 0,
          checkpoint: entry.checkpoint ?? null, entries: entry.entries ?? 0,
        };
      } else if (entry.msg === 'serving') {
        this.servingMs = at;
      }
      for (const w of this.waiters.filter((x) => x.msg === entry.msg)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }
}

/** StdioClientTransport spawns its own process; this one wraps a process we already own. */
class ChildStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly buffer = new ReadBuffer();

  constructor(private readonly child: ChildProcessWithoutNullStreams) {}

  async start(): Promise<void> {
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.buffer.append(chunk);
      for (;;) {
        let message: JSONRPCMessage | null;
        try {
          message = this.buffer.readMessage();
        } catch (err) {
          this.onerror?.(err as Error);
          continue;
        }
        if (message === null) break;
        this.onmessage?.(message);
      }
    });
    this.child.on('exit', () => this.onclose?.());
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.stdin.write(serializeMessage(message))) resolve();
      else this.child.stdin.once('drain', () => resolve());
    });
  }

  /** Leaves the process alone: the test stops it with a signal, and stdin must stay open. */
  async close(): Promise<void> {
    this.child.stdout.removeAllListeners('data');
  }
}
