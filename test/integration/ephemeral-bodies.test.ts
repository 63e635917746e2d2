/**
 * --ephemeral reads bodies back from the source files (src/store/file-body-store.ts): over
 * real files and the real ingestion stack, every body equals the file's line, through a rename
 * rotation and a deletion, a gzip file and an over-long line (both kept in memory), and a file
 * rewritten in place answers its old bodies from the copy or as gone, never with other bytes.
 */
import { appendFileSync, copyFileSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { poisonFreedChunks, reusedChunks } from '../../src/ingest/chunk-pool.js';
import type { IngestBatch, IngestSink } from '../../src/ingest/index.js';
import { INLINE_PARSE_BYTES } from '../../src/ingest/parse-pool.js';
import type { EntryView } from '../../src/store/store.js';
import { connectStdio, waitLive } from '../helpers/cli.js';
import { type Stack, allEntries, countAll, expectExactlyOnce, openStack, stackScope, waitFor } from '../helpers/ingest-stack.js';
import { BASE_MS, entryBody, entryLines } from '../helpers/seq-writer.mjs';

const scope = stackScope('ltm-ephem-bodies-');

/** The file text of entries [from, from + count). */
function seqText(from: number, count: number, line: (seq: number) => string[] = entryLines): string {
  let s = '';
  for (let seq = from; seq < from + count; seq++) s += line(seq).join('\n') + '\n';
  return s;
}

async function open(path: string, extra: { maxLineBytes?: number } = {}): Promise<Stack> {
  // Small chunks: many batches, so ranges of one file span many runs and reads.
  const stack = scope.track(await openStack([{ name: 'app', path }], { sink: 'memory', chunkBytes: 16 * 1024, ...extra }));
  stack.ingestor.start();
  return stack;
}

async function settle(stack: Stack, total: number): Promise<void> {
  await waitFor(
    async () => (await countAll(stack.store)) >= total && stack.status().pendingBytes === 0 && stack.status().state === 'live',
    undefined,
    () => stack.status(),
  );
}

const seqAt = (e: EntryView): number => e.ts / 1000 - BASE_MS;

async function nearestContaining(stack: Stack, needle: string, seq: number): Promise<string[]> {
  const answer = await stack.store.findNearest({
    t: (BASE_MS + seq) * 1000, tags: null, count: 3, direction: 'nearest', context: 0, bodyCap: 4096, text: { contains: [needle], caseSensitive: true },
  });
  return answer.entries.map((e) => e.body);
}

describe('--ephemeral bodies read back from the source file', () => {
  it('equal the file lines, none kept in memory; a text search reads them', async () => {
    const path = scope.path('app.log');
    writeFileSync(path, seqText(0, 3000));
    const stack = await open(path);
    await settle(stack, 3000);
    expectExactlyOnce(await allEntries(stack.store), 3000, { source: 'app' });
    expect(stack.bodyStore!.bytes).toBe(0);
    expect(stack.bodyStore!.fileBytes).toBe(statSync(path).size);
    expect(await nearestContaining(stack, 'seq=2345 ', 100)).toEqual([entryBody(2345)]);
  });

  it('a renamed file, then deleted, still answers through the store descriptor', async () => {
    const path = scope.path('app.log');
    writeFileSync(path, seqText(0, 1000));
    const stack = await open(path);
    await settle(stack, 1000);
    renameSync(path, `${path}.1`);
    writeFileSync(path, seqText(1000, 1000));
    await settle(stack, 2000);
    unlinkSync(`${path}.1`);
    expectExactlyOnce(await allEntries(stack.store), 2000, { source: 'app' });
    expect(stack.bodyStore!.bytes).toBe(0);
    expect(await nearestContaining(stack, 'seq=123 ', 1500)).toEqual([entryBody(123)]);
  });

  it('a gzip file is kept in memory', async () => {
    const path = scope.path('app.log');
    writeFileSync(path, seqText(0, 500));
    const stack = await open(path);
    await settle(stack, 500);
    const gz = seqText(500, 500);
    writeFileSync(`${path}.1.gz`, gzipSync(gz));
    await settle(stack, 1000);
    expectExactlyOnce(await allEntries(stack.store), 1000, { source: 'app' });
    expect(stack.bodyStore!.bytes).toBe(Buffer.byteLength(gz));
    expect(await nearestContaining(stack, 'seq=777 ', 0)).toEqual([entryBody(777)]);
  });

  it('a chunk with an over-long line cut is kept in memory, the others read from the file', async () => {
    const path = scope.path('app.log');
    const long = (seq: number): string[] => (seq === 600 ? [`${new Date(BASE_MS + seq).toISOString()} [INFO] seq=600 long ${'y'.repeat(20_000)}`] : entryLines(seq));
    writeFileSync(path, seqText(0, 1200, long));
    const stack = await open(path, { maxLineBytes: 4096 });
    await settle(stack, 1200);
    const entries = await allEntries(stack.store);
    expect(entries).toHaveLength(1200);
    const wrong = entries.filter((e) => seqAt(e) !== 600 && e.body !== entryBody(seqAt(e))).map(seqAt);
    expect(wrong).toEqual([]);
    const cut = entries.find((e) => seqAt(e) === 600)!;
    expect(cut.body.startsWith('seq=600 long yyyy')).toBe(true);
    expect(cut.body.length).toBeLessThan(4096);
    expect(stack.bodyStore!.bytes).toBeGreaterThan(0);
    expect(stack.bodyStore!.fileBytes).toBeGreaterThan(0);
  });
});

describe('--ephemeral with recycled chunk buffers (src/ingest/chunk-pool.ts)', () => {
  beforeEach(() => {
    poisonFreedChunks(true);
  });
  afterEach(() => {
    poisonFreedChunks(false);
  });

  /** Each batch waits a few ms before the sink gets it: the reader runs ahead by the whole pipeline. */
  const heldBack = (sink: IngestSink): IngestSink => ({
    apply: async (batch: IngestBatch) => {
      await new Promise((resolve) => setTimeout(resolve, 3));
      return sink.apply(batch);
    },
    files: (source, files) => sink.files!(source, files),
  });

  it.each([
    ['as fast as it is', undefined],
    ['held back per batch', heldBack],
  ] as const)('every body equals the file with the sink %s, though each buffer is released (poisoned) once indexed', async (_name, wrapSink) => {
    const path = scope.path('app.log');
    writeFileSync(path, seqText(0, 40_000));
    const reusedBefore = reusedChunks();
    // Chunks at the inline threshold are pooled; a worker thread parses them, as in a catch-up.
    const stack = scope.track(await openStack([{ name: 'app', path }], {
      sink: 'memory', threads: 1, chunkBytes: INLINE_PARSE_BYTES, ...(wrapSink === undefined ? {} : { wrapSink }),
    }));
    stack.ingestor.start();
    await settle(stack, 40_000);
    // The pool did recycle (else this test proves nothing).
    expect(reusedChunks() - reusedBefore).toBeGreaterThan(5);
    expectExactlyOnce(await allEntries(stack.store), 40_000, { source: 'app' });
    expect(stack.bodyStore!.bytes).toBe(0);
  });
});

describe('--ephemeral bodies of a file rewritten in place', () => {
  /** Every body is the line's own, or gone (empty, marked): never another line's bytes. */
  function ownOrGone(entries: readonly EntryView[]): { gone: number; wrong: string[] } {
    let gone = 0;
    const wrong: string[] = [];
    for (const e of entries) {
      if (e.bodyGone === true && e.body === '') gone++;
      else if (e.body !== entryBody(seqAt(e))) wrong.push(`${seqAt(e)}: ${e.body.slice(0, 60)}`);
    }
    return { gone, wrong };
  }

  it('copytruncate: the old bodies are read from the copy the follower took over', async () => {
    const path = scope.path('app.log');
    writeFileSync(path, seqText(0, 1000));
    const stack = await open(path);
    await settle(stack, 1000);
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, seqText(1000, 1000));
    await settle(stack, 2000);
    expectExactlyOnce(await allEntries(stack.store), 2000, { source: 'app' });
    expect(stack.bodyStore!.bytes).toBe(0);
  });

  it('truncated without a copy: the old bodies are gone, the new ones right', async () => {
    const path = scope.path('app.log');
    writeFileSync(path, seqText(0, 1000));
    const stack = await open(path);
    await settle(stack, 1000);
    truncateSync(path, 0);
    appendFileSync(path, seqText(1000, 1000));
    await settle(stack, 2000);
    const entries = await allEntries(stack.store);
    expect(entries).toHaveLength(2000);
    const { gone, wrong } = ownOrGone(entries);
    expect(wrong).toEqual([]);
    expect(gone).toBe(1000);
    expect(entries.filter((e) => seqAt(e) >= 1000 && e.bodyGone === true)).toEqual([]);
  });

  it('rewritten behind a stopped follower, same length: every read checks, no other bytes come back', async () => {
    const path = scope.path('app.log');
    writeFileSync(path, seqText(0, 1000));
    const stack = await open(path);
    await settle(stack, 1000);
    // The follower does not see it: only the read-time check stands between the index and the
    // new bytes, which sit at the very same offsets (same length, other text).
    await stack.ingestor.stop();
    const text = readFileSync(path, 'latin1');
    truncateSync(path, 0);
    appendFileSync(path, text.replaceAll('payload', 'REWROTE'), 'latin1');
    const { gone, wrong } = ownOrGone(await allEntries(stack.store));
    expect(wrong).toEqual([]);
    expect(gone).toBe(1000);
    expect(await nearestContaining(stack, 'REWROTE', 500)).toEqual([]);
  });
});

describe('serve --ephemeral (a real process) reads bodies back from the file', () => {
  interface Answer { entries: { body: string; truncated: boolean; line: number }[]; notes?: string[] }
  it('find_nearest_log and a text search answer the file lines; after a truncation without a copy the old bodies come back empty, and the answer says why', async () => {
    const path = scope.path('app.log');
    writeFileSync(path, seqText(0, 1000));
    const { client, close } = await connectStdio(['--source', `app=${path}`, '--ephemeral']);
    try {
      await waitLive(client);
      const at = (seq: number, extra: Record<string, unknown> = {}) =>
        client.callTool({ name: 'find_nearest_log', arguments: { timestamp: new Date(BASE_MS + seq).toISOString(), count: 1, ...extra } }).then((r) => r.structuredContent as Answer);
      // Seqs without trace lines: the tool escapes a body's line ends.
      expect((await at(501)).entries.map((e) => e.body)).toEqual([entryBody(501)]);
      expect((await at(0, { contains: 'seq=777 ' })).entries.map((e) => e.body)).toEqual([entryBody(777)]);
      truncateSync(path, 0);
      appendFileSync(path, seqText(1000, 1000));
      await waitFor(async () => (await at(1999)).entries[0]?.body === entryBody(1999));
      const old = await at(501);
      expect(old.entries.map((e) => [e.body, e.truncated])).toEqual([['', true]]);
      expect(old.notes?.some((n) => n.includes('could not be read back from its source file'))).toBe(true);
      expect((await at(1500)).entries.map((e) => e.body)).toEqual([entryBody(1500)]);
    } finally {
      await close();
    }
  });
});
