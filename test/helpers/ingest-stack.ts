/**
 * The real ingestion stack in-process (Ingestor -> parse pool -> sink -> EmbeddedStore) with
 * fast poll/quiet settings, over either sink `serve` can use: the in-memory one of
 * `--ephemeral`, or the WAL sink of a data dir (the default: batches appended to the WAL,
 * bodies read back from its segments). The live-ingestion tests run over both (issue 18).
 * Plus the checks those tests share: waiting on a condition with a deadline, running the seq
 * writer as a process, and "every entry the writer wrote is indexed exactly once, with the
 * right body, timestamp, tag and line".
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { resolveConfig, type SourceSpec } from '../../src/config.js';
import { Ingestor } from '../../src/ingest/ingestor.js';
import { ParsePool } from '../../src/ingest/parse-pool.js';
import type { IngestSink } from '../../src/ingest/source-pipeline.js';
import { type Durable, openDurable } from '../../src/store/durable/open.js';
import { EmbeddedStore, type IngestStatus } from '../../src/store/embedded-store.js';
import { EphemeralSink } from '../../src/store/ephemeral-sink.js';
import { FileBodyStore } from '../../src/store/file-body-store.js';
import type { EntryView } from '../../src/store/store.js';
import type { WalIo } from '../../src/wal/index.js';
import { BASE_MS, entryBody, entryLines, entryTag, entryUs, seqOf } from './seq-writer.mjs';

export const WRITER = fileURLToPath(new URL('./seq-writer.mjs', import.meta.url));

/** Where batches go: `--ephemeral`'s memory sink, or a data dir's WAL (serve's default). */
export type SinkKind = 'memory' | 'wal';
export const SINKS: readonly SinkKind[] = ['memory', 'wal'];

/**
 * How long a test waits for a condition before it fails. Generous on purpose: a deadline
 * only bounds a failure, and the machine is shared (issue 9: limits that hold only on a fast
 * machine are bugs). A passing test never waits this long.
 */
export const DEADLINE_MS = 30_000;

export interface StackOptions {
  sink?: SinkKind;
  threads?: number;
  pollMs?: number;
  quietMs?: number;
  chunkBytes?: number;
  maxLineBytes?: number;
  timezone?: string;
  /** Wraps the real sink (to slow it down or count batches). */
  wrapSink?: (sink: IngestSink) => IngestSink;
  pool?: ParsePool;
  /** With the WAL sink: an existing data dir to open (restart()), else a new temp dir. */
  dataDir?: string;
  /** With the WAL sink: the WAL's file operations (EngineOptions.walIo), and more serve flags. */
  walIo?: WalIo;
  serveArgs?: string[];
}

export interface Stack {
  store: EmbeddedStore;
  ingestor: Ingestor;
  pool: ParsePool;
  /** The data dir side with the WAL sink, null with the memory sink. */
  durable: Durable | null;
  /** Warnings and errors the ingestion layer logged (a test expects none unless it says so). */
  warnings: string[];
  status(name?: string): IngestStatus;
  /** --ephemeral's body store (null with the WAL sink). */
  bodyStore: FileBodyStore | null;
  /** The descriptors --ephemeral's body store holds open (none with the WAL sink). */
  bodyDescriptors(): number[];
  /**
   * WAL sink only: closes this stack (final checkpoint) and opens a new, unstarted one on the
   * same data dir, which holds what the checkpoint and the WAL replay restore. The new stack
   * removes the data dir when it closes.
   */
  restart(): Promise<Stack>;
  close(): Promise<void>;
}

export async function openStack(sources: SourceSpec[], options: StackOptions = {}): Promise<Stack> {
  const pool = options.pool ?? new ParsePool({ threads: options.threads ?? 0 });
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
  let ingestor: Ingestor | null = null;
  const ingestStatus = (): IngestStatus[] => ingestor?.statuses() ?? [];
  let store: EmbeddedStore;
  let sink: IngestSink;
  let durable: Durable | null = null;
  let dataDir: string | null = null;
  let fileBodies: FileBodyStore | null = null;
  if (options.sink === 'wal') {
    dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'ltm-stack-data-'));
    const args = ['serve', '--data-dir', dataDir, ...sources.flatMap((s) => ['--source', `${s.name}=${s.path}`]), ...(options.serveArgs ?? [])];
    durable = await openDurable(resolveConfig(args, {}), { ingestStatus, logger, ...(options.walIo === undefined ? {} : { walIo: options.walIo }) });
    store = durable.store;
    sink = durable.sink;
  } else {
    fileBodies = new FileBodyStore();
    store = new EmbeddedStore({ sources: sources.map((s) => s.name), bodies: fileBodies, ingestStatus });
    sink = new EphemeralSink(store, fileBodies, new Map(sources.map((s) => [s.name, s.path])));
  }
  ingestor = new Ingestor({
    sources,
    format: 'auto',
    timezone: options.timezone ?? 'UTC',
    pool,
    sink: options.wrapSink ? options.wrapSink(sink) : sink,
    logger,
    ...(durable === null ? {} : { resume: durable.resume }),
    pollMs: options.pollMs ?? 20,
    quietMs: options.quietMs ?? 30,
    ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }),
    ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
  });
  const ing = ingestor;
  const d = durable;
  const fb = fileBodies as FileBodyStore | null;
  let closing: Promise<void> | null = null;
  const shutdown = (): Promise<void> =>
    (closing ??= (async () => {
      await ing.stop();
      await d?.close();
      if (options.pool === undefined) await pool.close();
      await store.close();
      fb?.close();
    })());
  return {
    store,
    ingestor: ing,
    pool,
    durable: d,
    warnings,
    bodyStore: fb,
    bodyDescriptors: () => fb?.descriptors() ?? [],
    status(name) {
      const all = ing.statuses();
      const s = name === undefined ? all[0] : all.find((x) => x.name === name);
      if (s === undefined) throw new Error(`no source ${name ?? '#0'}`);
      return s;
    },
    async restart() {
      if (dataDir === null) throw new Error('restart() needs the WAL sink');
      await shutdown();
      return openStack(sources, { ...options, dataDir });
    },
    async close() {
      await shutdown();
      if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 10 ms until it returns true; fails with `describe()` after the deadline. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = DEADLINE_MS, describe: () => unknown = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(await describe())}`);
    await sleep(10);
  }
}

/**
 * Files under `dir` this process holds open other than `current` (Linux: /proc/self/fd). A
 * follower closes a rotated-away file once it has drained it: after a writer is done, an
 * empty list says no late line can still come from an old file, which a fixed sleep past the
 * drain grace only assumed (issue 18). Null where /proc is not there to ask.
 */
export function otherOpenFiles(dir: string, current: string, ignore: readonly number[] = []): string[] | null {
  if (!existsSync('/proc/self/fd')) return null;
  const root = realpathSync(dir);
  let keep = '';
  try {
    keep = realpathSync(current);
  } catch {
    // the path is gone (deleted, not re-created): every open file counts
  }
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    if (ignore.includes(Number(fd))) continue;
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed while listing
    }
    if (target.startsWith(root + '/') && target !== keep) open.push(target);
  }
  return open;
}

/** The whole time range the seq writer stamps (a day from BASE_MS). */
export const ALL = { from: (BASE_MS - 3_600_000) * 1000, to: (BASE_MS + 86_400_000) * 1000, tags: null };

export async function allEntries(store: EmbeddedStore, source?: string): Promise<EntryView[]> {
  return store.entriesInRange({ ...ALL, ...(source === undefined ? {} : { source }) }, 10_000_000, 65_000);
}

export async function countAll(store: EmbeddedStore, source?: string): Promise<number> {
  return store.countInRange({ ...ALL, ...(source === undefined ? {} : { source }) });
}

/**
 * Every seq in [first, first + total) is indexed exactly once with the body, timestamp and tag
 * the writer gave it; with `lines`, also at the line number it has in the file it went to.
 */
export function expectExactlyOnce(entries: readonly EntryView[], total: number, options: { first?: number; lines?: readonly number[]; source?: string } = {}): void {
  const first = options.first ?? 0;
  const seen = new Map<number, number>();
  const strays: string[] = [];
  for (const e of entries) {
    const seq = seqOf(e.body);
    if (seq < first || seq >= first + total) {
      strays.push(e.body.slice(0, 80));
      continue;
    }
    seen.set(seq, (seen.get(seq) ?? 0) + 1);
  }
  const missing: number[] = [];
  const duplicated: number[] = [];
  for (let seq = first; seq < first + total; seq++) {
    const n = seen.get(seq) ?? 0;
    if (n === 0) missing.push(seq);
    if (n > 1) duplicated.push(seq);
  }
  expect({ missing: missing.slice(0, 20), missingCount: missing.length, duplicated: duplicated.slice(0, 20), strays: strays.slice(0, 5) })
    .toEqual({ missing: [], missingCount: 0, duplicated: [], strays: [] });
  expect(entries.length).toBe(total);
  const wrong: string[] = [];
  for (const e of entries) {
    const seq = seqOf(e.body);
    if (e.body !== entryBody(seq)) wrong.push(`seq ${seq}: body ${JSON.stringify(e.body.slice(0, 120))}`);
    if (e.ts !== entryUs(seq)) wrong.push(`seq ${seq}: ts ${e.ts}`);
    if (e.tag !== entryTag(seq)) wrong.push(`seq ${seq}: tag ${e.tag}`);
    if (e.truncated) wrong.push(`seq ${seq}: truncated`);
    if (options.source !== undefined && e.source !== options.source) wrong.push(`seq ${seq}: source ${e.source}`);
    const line = options.lines?.[seq - first];
    if (line !== undefined && e.line !== line) wrong.push(`seq ${seq}: line ${e.line}, written at ${line}`);
  }
  expect(wrong.slice(0, 10)).toEqual([]);
}

/** Physical lines of entries [first, first + total): what lines_read must add up to. */
export function physicalLines(total: number, first = 0): number {
  let n = 0;
  for (let seq = first; seq < first + total; seq++) n += entryLines(seq).length;
  return n;
}

export interface WriterOptions {
  path: string;
  mode: 'none' | 'rename' | 'copytruncate' | 'delete' | 'symlink';
  total: number;
  first?: number;
  perTick: number;
  intervalMs: number;
  rotateEvery?: number;
  linger?: number;
}

export interface WriterResult {
  rotations: number;
  /** 1-based line of each entry in the file it was written to. */
  lines: number[];
  /** When the last rotated-away file was last written (epoch ms), 0 without rotation. */
  lastRotationAt: number;
}

/** Runs seq-writer.mjs as a separate process and resolves with its ledger when it exits. */
export function runWriter(options: WriterOptions): Promise<WriterResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, JSON.stringify({ rotateEvery: 1 << 30, ...options })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`writer exited with ${code}: ${err}`));
      else resolve(JSON.parse(out) as WriterResult);
    });
  });
}

/**
 * A fresh temp dir for each test and the stacks a test opens, closed (then mocks restored and
 * the dir removed) after it. Call once at the top of a test file: it registers the hooks.
 */
export function stackScope(prefix: string): { path: (name: string) => string; track: (stack: Stack) => Stack } {
  let dir = '';
  const stacks: Stack[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const s of stacks.splice(0)) await s.close();
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    path: (name) => join(dir, name),
    track: (stack) => {
      stacks.push(stack);
      return stack;
    },
  };
}
