/**
 * Helpers of the durability and crash tests: a real `serve` process over stdio (signals,
 * its 'data dir opened' line, an SDK client on its pipes), log lines that carry a unique
 * `seq=<n>`, waiting on conditions with deadlines, and the crash test's own verdict
 * (every seq indexed exactly once, intact, with its line number).
 */
import { spawn } from 'node:child_process';
import { afterEach } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type ServeExit, ServeProc } from '../../tools/crash-test/serve-proc.js';
import { scanFiles, type Verdict, verifyDataDir } from '../../tools/crash-test/verify.js';

export const CLI = fileURLToPath(new URL('../../dist/bundle/cli.js', import.meta.url));
export const CRASH_TEST = fileURLToPath(new URL('../../dist/tools/crash-test.js', import.meta.url));

export function requireBuilt(): void {
  if (!existsSync(CLI) || !existsSync(CRASH_TEST)) throw new Error('dist/ is missing: run npm run build first');
}

export function tempDir(label: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `ltm-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * How long a durability test waits for a real process before it fails: generous, since it
 * only bounds a failure and the machine is shared (issue 9).
 */
export const DEADLINE_MS = 60_000;

/** Polls until check() returns a value other than null/false; throws with describe() at the deadline. */
export async function waitFor<T>(check: () => Promise<T | null | false> | T | null | false, timeoutMs: number, describe: () => unknown): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${JSON.stringify(await describe())}`);
    await sleep(50);
  }
}

/** Base of the test lines' timestamps: entry seq is stamped BASE_MS + seq ms unless told otherwise. */
export const BASE_MS = Date.parse('2024-01-15T10:00:00.000Z');
const TAGS = ['INFO', 'WARN', 'ERROR', 'DEBUG'];

/** One log line (with its newline) carrying seq. */
export function seqLine(seq: number, tsMs = BASE_MS + seq, pad = 40): string {
  return `${new Date(tsMs).toISOString()} [${TAGS[seq % TAGS.length]}] request ${seq} ${'x'.repeat(seq % pad)} seq=${seq}\n`;
}

/** Lines for seqs from .. from + count - 1, stamped by tsOf (default BASE_MS + seq). */
export function seqLines(from: number, count: number, tsOf: (seq: number) => number = (s) => BASE_MS + s): string {
  let out = '';
  for (let s = from; s < from + count; s++) out += seqLine(s, tsOf(s));
  return out;
}

export function appendSeq(path: string, from: number, count: number, tsOf?: (seq: number) => number): void {
  appendFileSync(path, seqLines(from, count, tsOf));
}

export interface SourceStatusJson {
  name: string;
  state: string;
  bytes_read: number;
  file_bytes: number;
  pending_bytes: number;
  lines_read: number;
  entries: number;
  rotations: number;
  error?: string;
}

export interface TailStatusJson {
  sources: SourceStatusJson[];
  wal: { enabled: boolean; segments: number; bytes: number; durable_entries: number; unsynced_entries: number; fsync_policy: string; corrupt_records: number };
  index: { entries: number; first_timestamp: string | null; last_timestamp: string | null };
}

export async function tailStatus(client: Client): Promise<TailStatusJson> {
  const r = await client.callTool({ name: 'tail_status', arguments: {} });
  return r.structuredContent as unknown as TailStatusJson;
}

/** A `serve` process with an SDK client connected over its stdio. */
export interface Served {
  proc: ServeProc;
  client: Client;
  /** Sends the signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<ServeExit>;
}

export async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  requireBuilt();
  const proc = new ServeProc(CLI, args, null, env);
  const client = new Client({ name: 'durability-test', version: '1.0.0' });
  try {
    await client.connect(proc.transport());
  } catch (err) {
    proc.signal('SIGKILL');
    throw new Error(`serve did not start: ${(err as Error).message}\n${proc.stderrTail()}`);
  }
  return {
    proc,
    client,
    async stop(signal = 'SIGTERM') {
      await client.close().catch(() => undefined);
      proc.signal(signal);
      return proc.exited;
    },
  };
}

/** Waits until the (single) source is live with nothing pending and the index holds `entries`. */
export async function waitIndexed(client: Client, entries: number, timeoutMs = DEADLINE_MS): Promise<TailStatusJson> {
  let last: TailStatusJson | null = null;
  return waitFor(
    async () => {
      last = await tailStatus(client);
      const s = last.sources[0];
      return s !== undefined && s.state === 'live' && s.pending_bytes === 0 && last.index.entries >= entries ? last : null;
    },
    timeoutMs,
    () => last,
  );
}

/**
 * The crash test's verdict for seqs firstSeq .. firstSeq + count - 1 in the given files
 * (oldest first): the data dir is opened read-only in-process and every entry compared.
 */
export async function verdict(files: readonly string[], dataDir: string, firstSeq: number, count: number): Promise<Verdict> {
  return verifyDataDir(dataDir, scanFiles(files, firstSeq, count));
}

/** The figures a test asserts to be zero, with the samples to show when they are not. */
export function faults(v: Verdict): { written: number; lost: number; duplicated: number; corrupt: number; wrongLine: number; samples: string[] } {
  return { written: v.written, lost: v.lost, duplicated: v.duplicated, corrupt: v.corrupt, wrongLine: v.wrongLine, samples: v.samples };
}

/** Runs the CLI to its end (stdin empty) and returns the exit code and output. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  requireBuilt();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_TRIAGE_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** find_nearest_log at an epoch-ms time: the status and the bodies found. */
export async function nearest(client: Client, epochMs: number, extra: Record<string, unknown> = {}): Promise<{ status: string; bodies: string[] }> {
  const r = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: new Date(epochMs).toISOString(), ...extra } });
  if (r.isError === true) throw new Error(`find_nearest_log failed: ${JSON.stringify(r.content)}`);
  const s = r.structuredContent as { status: string; entries: { body: string }[] };
  return { status: s.status, bodies: s.entries.map((e) => e.body) };
}

/** `serve --source log --data-dir data ...extra`, returned once its data dir is open. */
export async function serveOpened(log: string, data: string, extra: string[] = []): Promise<Served> {
  const s = await serve(['--source', log, '--data-dir', data, ...extra]);
  await waitFor(() => s.proc.recovery, DEADLINE_MS, () => s.proc.stderrTail());
  return s;
}

/**
 * Per-test work dirs and served processes, cleaned up after each test (SIGKILL, then the
 * dir removed): `const { workDir, start } = useServeFixtures();` at the top of a test file.
 */
export function useServeFixtures(): {
  workDir: (label: string) => { log: string; data: string; dir: string };
  start: (log: string, data: string, extra?: string[]) => Promise<Served>;
} {
  let cleanup: (() => void) | null = null;
  let running: Served[] = [];
  afterEach(async () => {
    for (const s of running) await s.stop('SIGKILL');
    running = [];
    cleanup?.();
    cleanup = null;
  });
  return {
    workDir(label) {
      const t = tempDir(label);
      cleanup = t.cleanup;
      return { dir: t.dir, log: join(t.dir, 'app.log'), data: join(t.dir, 'data') };
    },
    async start(log, data, extra = []) {
      const s = await serveOpened(log, data, extra);
      running.push(s);
      return s;
    },
  };
}
