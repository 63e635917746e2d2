/**
 * Issue 12 (catch-up memory): chunk buffers are recycled (src/ingest/chunk-pool.ts) once the
 * entry reader no longer holds bytes in them and the WAL sink knows their record is written.
 * A buffer released too early is overwritten while its bytes are still owed to the WAL, queued
 * in the pipeline or held by the reader: here every buffer returned to the free list is
 * poisoned (0xEE), and every body read back (from the WAL, then after a restart from its
 * segments alone) must equal the file's entry.
 *
 * Two timings: the sink as fast as it is (the reader is then ahead of it by the pipeline's
 * few chunks), and a sink held back a little per batch (the reader then runs ahead by the
 * whole pipeline). Some entries are bigger than a chunk, so a read can hand out nothing and
 * keep its whole buffer as the held tail.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { poisonFreedChunks, reusedChunks } from '../../src/ingest/chunk-pool.js';
import type { IngestBatch, IngestSink } from '../../src/ingest/index.js';
import { INLINE_PARSE_BYTES } from '../../src/ingest/parse-pool.js';
import type { EmbeddedStore } from '../../src/store/embedded-store.js';
import { ALL, countAll, openStack, stackScope, waitFor } from '../helpers/ingest-stack.js';
import { entryLines, seqOf } from '../helpers/seq-writer.mjs';

const scope = stackScope('ltm-chunk-pool-');
/** About 7 MB: some 30 chunks of INLINE_PARSE_BYTES, each cut with a held tail, most of them reused. */
const TOTAL = 100_000;
/**
 * Every BIG_EVERY-th entry, and the last one (handed out from the held tail when the file is
 * done, flushHeld), get ~330 KB of continuation lines: more than a chunk.
 */
const BIG_EVERY = 20_000;
const BIG_LINES = 4000;

function lines(seq: number): string[] {
  const out = entryLines(seq);
  if (seq % BIG_EVERY === 11 || seq === TOTAL - 1) for (let k = 0; k < BIG_LINES; k++) out.push(`    at big${seq}.${k} ${'y'.repeat(70)}`);
  return out;
}

function body(seq: number): string {
  const [head, ...rest] = lines(seq);
  return [head!.slice(head!.indexOf('] ') + 2), ...rest].join('\n');
}

/** Entries whose body differs from the file's, or that are missing or repeated. */
async function wrongBodies(store: EmbeddedStore): Promise<string[]> {
  const entries = await store.entriesInRange(ALL, 10_000_000, 1 << 20);
  const wrong: string[] = [];
  const seen = new Set<number>();
  for (const e of entries) {
    const seq = seqOf(e.body);
    const want = body(seq);
    // The index keeps a body's first 64 KiB (MAX_BODY_LEN, src/index/time-chunk.ts): the big ones are cut there.
    const same = e.body === want || (e.body.length === 0xffff && want.startsWith(e.body));
    if (seq < 0 || seen.has(seq) || !same) {
      let d = 0;
      while (d < e.body.length && e.body[d] === want[d]) d++;
      wrong.push(`seq ${seq}: ${e.body.length} of ${want.length} chars, first difference at ${d}: ${JSON.stringify(e.body.slice(d, d + 40))}`);
    }
    seen.add(seq);
  }
  if (seen.size !== TOTAL) wrong.push(`${seen.size} distinct entries`);
  return wrong.slice(0, 10);
}

/** Each batch waits a few ms before the real sink gets it: the reader runs ahead by the whole pipeline. */
function held(sink: IngestSink): IngestSink {
  return {
    apply: async (batch: IngestBatch) => {
      await new Promise((resolve) => setTimeout(resolve, 3));
      return sink.apply(batch);
    },
    files: (source, files) => sink.files!(source, files),
  };
}

beforeEach(() => {
  poisonFreedChunks(true);
});
afterEach(() => {
  poisonFreedChunks(false);
});

describe('recycled chunk buffers with the WAL on', () => {
  it.each([
    ['as fast as it is', undefined],
    ['held back per batch', held],
  ] as const)('leave every body equal to the file with the sink %s, read from the WAL and after a restart', async (_name, wrapSink) => {
    const path = scope.path('app.log');
    const text: string[] = [];
    for (let seq = 0; seq < TOTAL; seq++) text.push(...lines(seq));
    writeFileSync(path, text.join('\n') + '\n');
    const reusedBefore = reusedChunks();

    // Chunks at the inline threshold are pooled; a worker thread parses them, as in a catch-up.
    let stack = await openStack([{ name: 'app', path }], {
      sink: 'wal', threads: 1, chunkBytes: INLINE_PARSE_BYTES, ...(wrapSink === undefined ? {} : { wrapSink }),
    });
    try {
      stack.ingestor.start();
      await stack.ingestor.caughtUp();
      const first = stack;
      await waitFor(async () => (await countAll(first.store)) >= TOTAL, undefined, () => first.status());
      // The pool did recycle (else this test proves nothing).
      expect(reusedChunks() - reusedBefore).toBeGreaterThan(10);
      expect(await wrongBodies(stack.store)).toEqual([]);
      expect(stack.status().parseErrors).toBe(0);
      expect(stack.warnings).toEqual([]);

      // Bodies from the WAL segments on disk only.
      stack = await stack.restart();
      expect(await wrongBodies(stack.store)).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});
