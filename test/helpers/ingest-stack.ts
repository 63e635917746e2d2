/**
 * The real ingestion stack in-process (Ingestor -> parse pool -> EphemeralSink -> EmbeddedStore)
 * with fast poll/quiet settings, plus the checks the ingestion tests share: waiting on a
 * condition with a deadline, running the seq writer as a process, and "every entry the writer
 * wrote is indexed exactly once, with the right body, timestamp, tag and line".
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { expect } from 'vitest';
import type { SourceSpec } from '../../src/config.js';
import { Ingestor } from '../../src/ingest/ingestor.js';
import { ParsePool } from '../../src/ingest/parse-pool.js';
import type { IngestSink } from '../../src/ingest/source-pipeline.js';
import { MemoryBodyStore } from '../../src/store/body-store.js';
import { EmbeddedStore, type IngestStatus } from '../../src/store/embedded-store.js';
import { EphemeralSink } from '../../src/store/ephemeral-sink.js';
import type { EntryView } from '../../src/store/store.js';
import { BASE_MS, entryBody, entryLines, entryTag, entryUs, seqOf } from './seq-writer.mjs';

export const WRITER = fileURLToPath(new URL('./seq-writer.mjs', import.meta.url));

export interface StackOptions {
  threads?: number;
  pollMs?: number;
  quietMs?: number;
  chunkBytes?: number;
  timezone?: string;
  /** Wraps the real sink (to slow it down or count batches). */
  wrapSink?: (sink: IngestSink) => IngestSink;
  pool?: ParsePool;
}

export interface Stack {
  store: EmbeddedStore;
  ingestor: Ingestor;
  pool: ParsePool;
  /** Warnings and errors the ingestion layer logged (a test expects none unless it says so). */
  warnings: string[];
  status(name?: string): IngestStatus;
  close(): Promise<void>;
}

export function openStack(sources: SourceSpec[], options: StackOptions = {}): Stack {
  const pool = options.pool ?? new ParsePool({ threads: options.threads ?? 0 });
  const bodies = new MemoryBodyStore();
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
  let ingestor: Ingestor | null = null;
  const store = new EmbeddedStore({ sources: sources.map((s) => s.name), bodies, ingestStatus: () => ingestor?.statuses() ?? [] });
  const sink = new EphemeralSink(store, bodies);
  ingestor = new Ingestor({
    sources,
    format: 'auto',
    timezone: options.timezone ?? 'UTC',
    pool,
    sink: options.wrapSink ? options.wrapSink(sink) : sink,
    logger,
    pollMs: options.pollMs ?? 20,
    quietMs: options.quietMs ?? 30,
    ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }),
  });
  const ing = ingestor;
  return {
    store,
    ingestor: ing,
    pool,
    warnings,
    status(name) {
      const all = ing.statuses();
      const s = name === undefined ? all[0] : all.find((x) => x.name === name);
      if (s === undefined) throw new Error(`no source ${name ?? '#0'}`);
      return s;
    },
    async close() {
      await ing.stop();
      if (options.pool === undefined) await pool.close();
      await store.close();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 10 ms until it returns true; fails with `describe()` after the deadline. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => unknown = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(describe())}`);
    await sleep(10);
  }
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
