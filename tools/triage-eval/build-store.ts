/**
 * An in-memory EmbeddedStore filled from the project's LogGenerator: the same parser and index
 * the server uses, without files, the WAL or the parse pool, so one scenario (tens of minutes
 * of log time) builds in tens of milliseconds.
 */
import { type GeneratorOptions, LogGenerator } from '../../src/generate/index.js';
import { parseIsoBracketChunk } from '../../src/parse/iso-bracket.js';
import { FileBodyStore } from '../../src/store/file-body-store.js';
import { EmbeddedStore } from '../../src/store/embedded-store.js';

export const EVAL_SOURCE = 'app';
/** Entries generated per chunk: whole entries, so no stack trace is cut between chunks. */
const CHUNK_ENTRIES = 50_000;

export interface BuiltStore {
  store: EmbeddedStore;
  /** Entries and physical lines indexed. */
  entries: number;
  lines: number;
  /** Latest timestamp written, epoch ms (late lines aside, the last entry's). */
  lastEpochMs: number;
}

/**
 * Generates [options.start, untilEpochMs] and indexes it under source 'app'. `now` is pinned to
 * the end of the data so lag figures are about the log, not the wall clock.
 */
export function buildStore(options: GeneratorOptions, untilEpochMs: number): BuiltStore {
  const gen = new LogGenerator(options);
  const bodies = new FileBodyStore();
  let lastEpochMs = NaN;
  const store = new EmbeddedStore({ sources: [EVAL_SOURCE], bodies, now: () => (Number.isNaN(lastEpochMs) ? Date.now() : lastEpochMs) });
  let line = 1;
  for (;;) {
    const batch = gen.nextBatch(CHUNK_ENTRIES, untilEpochMs);
    if (batch.entries === 0) break;
    const parsed = parseIsoBracketChunk(batch.text, { timezone: 'UTC' });
    store.indexChunk(EVAL_SOURCE, parsed, line, bodies.appendBytes(batch.text));
    line += batch.lines;
    if (!(batch.lastEpochMs <= lastEpochMs)) lastEpochMs = batch.lastEpochMs;
  }
  return { store, entries: gen.entries, lines: gen.lines, lastEpochMs };
}
