/** Running the built CLI and the generator as real processes for the end-to-end benches. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const CLI = fileURLToPath(new URL('../../bundle/cli.js', import.meta.url));
export const GENERATE = fileURLToPath(new URL('../generate.js', import.meta.url));

const GNU_TIME = '/usr/bin/time';
const CPU_MARK = 'LTM_CPU_SECONDS';

/**
 * `cmd args` wrapped in GNU time when it is there, so the CPU the process used (user + system)
 * can be read from its stderr with cpuMs(): on a machine shared with other jobs the wall time
 * also counts the waiting for a core, the CPU time does not.
 */
export function withCpuTime(cmd: string, args: string[]): [string, string[]] {
  return existsSync(GNU_TIME) ? [GNU_TIME, ['-f', `${CPU_MARK} %U %S`, cmd, ...args]] : [cmd, args];
}

/** The CPU time GNU time reported in `stderr`, ms (NaN without it). */
export function cpuMs(stderr: string): number {
  const m = new RegExp(`${CPU_MARK} ([\\d.]+) ([\\d.]+)`).exec(stderr);
  return m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN;
}

/** Runs a command to completion; resolves with its wall and CPU time in ms and output. */
export function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, keepStdout = true): Promise<{ ms: number; cpuMs: number; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const [c, a] = withCpuTime(cmd, args);
    const child = spawn(c, a, { env: { ...process.env, ...env }, stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ ms: performance.now() - started, cpuMs: cpuMs(stderr), code, stdout, stderr }));
    child.on('error', () => resolve({ ms: NaN, cpuMs: NaN, code: -1, stdout, stderr }));
  });
}

export interface Served {
  client: Client;
  pid: number;
  /** The server's stderr so far (pino JSON lines), when captured. */
  log(): string;
  close(): Promise<void>;
}

/** Starts `serve` over stdio and connects the SDK client; `captureLog` keeps its info log. */
export async function serveStdio(args: string[], captureLog = false): Promise<Served> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', ...args],
    env: { ...(process.env as Record<string, string>), LOG_TRIAGE_LOG_LEVEL: captureLog ? 'info' : 'warn' },
    stderr: captureLog ? 'pipe' : 'ignore',
  });
  let log = '';
  transport.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  return { client, pid: transport.pid ?? -1, log: () => log, close: () => client.close() };
}

/** Resident set size of a process, bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export interface SourceState {
  state: string;
  pending_bytes: number;
  entries: number;
  lag_ms: number | null;
}

export async function sources(client: Client): Promise<SourceState[]> {
  const r = await client.callTool({ name: 'tail_status', arguments: {} });
  return (r.structuredContent as { sources: SourceState[] }).sources;
}

/** Polls until every source is live with nothing pending. */
export async function waitLive(client: Client, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await sources(client);
    if (s.every((x) => x.state === 'live' && x.pending_bytes === 0)) return;
    if (Date.now() > deadline) throw new Error(`not live after ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
