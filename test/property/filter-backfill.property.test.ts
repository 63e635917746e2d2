/**
 * Issue 12 (catch-up): ingestion builds no text filters; they are filled in afterwards, block by
 * block (src/index/filter-backfill.ts). A text search must answer exactly as a brute-force
 * scan of every body at every moment: before any filter exists, after any number of fill
 * steps (a sealed chunk half filled in its copy, the growing chunk's full blocks filled in
 * place), while ingestion goes on (late entries moving through filled blocks), after a
 * checkpoint taken mid-fill and restored, and once everything is filled; and filters do end up
 * present (blocks are skipped again).
 *
 * Distinctive bodies are planted at block boundaries (first, second, last and next-to-last
 * entry of a block), where a filter that leaves out an edge entry would hide a match.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FilterBackfill } from '../../src/index/filter-backfill.js';
import { type Direction, SourceIndex } from '../../src/index/index.js';
import { restoreIndex, snapshotIndex } from '../../src/index/persist.js';
import { scanNearest } from '../../src/index/text-scan.js';
import { packMeta } from '../../src/parse/meta.js';
import { FileBodyStore } from '../../src/store/file-body-store.js';
import { FILTER_BLOCK } from '../../src/text/ngram-filter.js';
import { compileText } from '../../src/text/text-query.js';
import { type Row, bruteForce } from '../helpers/brute-force.js';

interface TextRow extends Row {
  body: string;
}

/** Planted bodies: trigrams that the filler bodies ("q<digits> zz") never hold. */
const PLANTED = ['alpha one', 'Beta two', 'ALPHA beta', 'gamma-7 delta', 'order 8812'];
const NEEDLES = ['alpha', 'beta', 'gamma-7', 'order 88', 'delta', 'absent-xyz'];
const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

interface Input {
  rows: TextRow[];
  capacity: number;
  batch: number;
  /** Rows indexed before the first fill steps; the rest arrive after them. */
  split: number;
  steps1: number;
  steps2: number;
  queries: { pick: number; needle: string; caseSensitive: boolean; direction: Direction; count: number }[];
}

const inputArb: fc.Arbitrary<Input> = fc
  .record({
    n: fc.integer({ min: 1200, max: 6000 }),
    // Block-edge offsets in the order of arrival: first, second, next-to-last, last, anywhere.
    plants: fc.array(fc.record({ block: fc.nat(6), edge: fc.constantFrom(0, 1, FILTER_BLOCK - 2, FILTER_BLOCK - 1, 517), body: fc.nat(PLANTED.length - 1) }), { minLength: 1, maxLength: 12 }),
    lateEvery: fc.constantFrom(0, 97, 331),
    seed: fc.nat(),
    capacity: fc.constantFrom(2048, 3072, 65536),
    batch: fc.integer({ min: 50, max: 2500 }),
    splitShare: fc.double({ min: 0.3, max: 1, noNaN: true }),
    steps1: fc.nat(12),
    steps2: fc.nat(12),
    queries: fc.array(
      fc.record({
        pick: fc.nat(),
        needle: fc.constantFrom(...NEEDLES),
        caseSensitive: fc.boolean(),
        direction: fc.constantFrom<Direction>('nearest', 'before', 'after'),
        count: fc.integer({ min: 1, max: 3 }),
      }),
      { minLength: 3, maxLength: 6 },
    ),
  })
  .map((r) => {
    const planted = new Map<number, string>();
    for (const p of r.plants) planted.set(p.block * FILTER_BLOCK + p.edge, PLANTED[p.body]!);
    let x = r.seed;
    const rows: TextRow[] = [];
    let clock = 1_000;
    for (let i = 0; i < r.n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      clock += x % 3;
      // Now and then a late entry: a few steps back, so it is inserted into a (possibly filled) block.
      const late = r.lateEvery > 0 && i % r.lateEvery === r.lateEvery - 1 ? 1 + (x % 7) : 0;
      rows.push({ ts: clock - late, tag: 1, line: i + 1, rank: 0, bodyPos: 0, body: planted.get(i) ?? `q${x % 10_000} zz` });
    }
    return { rows, capacity: r.capacity, batch: r.batch, split: Math.floor(r.n * r.splitShare), steps1: r.steps1, steps2: r.steps2, queries: r.queries };
  });

/** Indexes rows as ingestion does now: parsed batches, bodies in one raw buffer each, no filters. */
function ingest(index: SourceIndex, bodies: FileBodyStore, rows: TextRow[], batch: number): void {
  for (let from = 0; from < rows.length; from += batch) {
    const part = rows.slice(from, from + batch);
    const raw = Buffer.from(part.map((r) => r.body).join('\n'));
    const n = part.length;
    const cols = { ts: new Float64Array(n), meta: new Uint8Array(n), line: new Uint32Array(n), bodyStart: new Uint32Array(n), bodyEnd: new Uint32Array(n) };
    let at = 0;
    part.forEach((r, k) => {
      cols.ts[k] = r.ts;
      cols.meta[k] = packMeta(r.tag, 3);
      cols.line[k] = r.line - 1;
      cols.bodyStart[k] = at;
      at += Buffer.byteLength(r.body);
      cols.bodyEnd[k] = at;
      at += 1;
    });
    const base = bodies.appendBytes(raw);
    part.forEach((r, k) => (r.bodyPos = base + cols.bodyStart[k]!));
    index.appendBatch({ count: n, ...cols, lineAdd: 1, bodyAdd: base, filters: null });
  }
}

const stats = { queries: 0, hits: 0, skippedBeforeFill: 0, skippedAfterFill: 0, afterFill: 0, midStaged: 0 };

/** Every query answers as the brute-force scan; returns how many read fewer bodies than their window held. */
function checkAll(sources: SourceIndex[], bodies: FileBodyStore, rows: TextRow[], queries: Input['queries']): number {
  let skipped = 0;
  for (const q of queries) {
    const t = rows[q.pick % rows.length]!.ts;
    const spec = { contains: [q.needle], caseSensitive: q.caseSensitive };
    const { hits, searched } = scanNearest(sources, { t, tags: null, count: q.count, direction: q.direction, maxDistance: Infinity, text: compileText(spec), budget: { entries: 1e9, ms: 1e9 } }, bodies);
    const matching = rows.filter((r) => (q.caseSensitive ? r.body.includes(q.needle) : asciiLower(r.body).includes(asciiLower(q.needle))));
    const want = bruteForce(matching, t, null, q.count, q.direction, Infinity).map((r) => `${r.line}@${r.ts}`);
    expect(hits.map((h) => `${h.hit.line}@${h.hit.ts}`)).toEqual(want);
    expect(searched.complete).toBe(true);
    stats.queries++;
    if (want.length > 0) stats.hits++;
    if (searched.read < searched.entries) skipped++;
  }
  return skipped;
}

/** Blocks of the main run that hold a complete filter. */
function filteredBlocks(index: SourceIndex): number {
  let n = 0;
  for (const chunk of index.main.liveChunks()) for (let b = 0; b * FILTER_BLOCK < chunk.count; b++) if (chunk.blockFilter(b) >= 0) n++;
  return n;
}

describe('text filters built after ingestion', () => {
  it('text answers equal a brute-force scan before, during and after filling, across a checkpoint, and filters end up present', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { rows, capacity, batch, split, queries } = input;
        const bodies = new FileBodyStore();
        const index = new SourceIndex('s0', 0, capacity);
        const first = rows.slice(0, split);
        ingest(index, bodies, first, batch);
        const backfill = new FilterBackfill([index], bodies);
        // Nothing filtered at ingestion: every body of every window is read.
        expect(filteredBlocks(index)).toBe(0);
        stats.skippedBeforeFill += checkAll([index], bodies, first, queries);
        for (let k = 0; k < input.steps1; k++) backfill.step();
        checkAll([index], bodies, first, queries);
        // A checkpoint taken now (a sealed chunk may be half filled in its copy) restores to the same answers.
        const snap = snapshotIndex([index]);
        const restored = restoreIndex(snap.sources, (name) => snap.sections[name] as never, ['s0'], capacity);
        checkAll(restored, bodies, first, queries);
        const restoredFill = new FilterBackfill(restored, bodies);
        if (restoredFill.pending() > 0 && input.steps1 > 0) stats.midStaged++;
        restoredFill.fillAll();
        expect(restoredFill.pending()).toBe(0);
        checkAll(restored, bodies, first, queries);
        // Ingestion goes on (late entries move through filled blocks), filling too.
        ingest(index, bodies, rows.slice(split), batch);
        checkAll([index], bodies, rows, queries);
        for (let k = 0; k < input.steps2; k++) backfill.step();
        checkAll([index], bodies, rows, queries);
        backfill.fillAll();
        expect(backfill.pending()).toBe(0);
        // Every block of a sealed chunk and every full block of the growing one has its filter.
        let fillable = 0;
        for (const chunk of index.main.liveChunks()) fillable += chunk.fillableBlocks;
        expect(filteredBlocks(index)).toBeGreaterThanOrEqual(fillable);
        stats.skippedAfterFill += checkAll([index], bodies, rows, queries);
        stats.afterFill += queries.length;
      }),
      { numRuns: 60, endOnFailure: true },
    );
    // Filters do their job once built: searches for planted text read fewer bodies than their
    // window holds far more often than before any filter existed.
    expect(stats.skippedAfterFill).toBeGreaterThan(stats.skippedBeforeFill + stats.afterFill / 3);
    expect(stats.hits).toBeGreaterThan(stats.queries / 10);
    expect(stats.midStaged).toBeGreaterThan(0);
  });
});
