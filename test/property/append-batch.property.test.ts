/**
 * SourceIndex.appendBatch (the column-by-column path catch-up uses, issue 12 item 4) builds
 * exactly the index that appending the same entries one by one builds: same chunks and
 * chunk boundaries, columns, tag lists and per-tag chunk lists, late entries in the same
 * place (in the unsealed chunk or the late store), and the same text filter per block (each
 * batch group's filter OR-ed into every block its entries reach; a batch without filters
 * leaves its blocks unfiltered).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SourceIndex } from '../../src/index/index.js';
import type { ColumnBatch } from '../../src/index/time-chunk.js';
import { packMeta } from '../../src/parse/meta.js';
import { FILTER_BLOCK, FILTER_GROUP, FILTER_WORDS } from '../../src/text/ngram-filter.js';

interface Entry {
  ts: number;
  meta: number;
  line: number;
  bodyStart: number;
  bodyEnd: number;
}

/** The observable state of an index: every chunk's columns and lists, and the late runs. */
function snapshot(index: SourceIndex): unknown {
  const main = index.main;
  const chunks = [];
  for (let s = main.firstSegment; s < main.segmentCount; s++) {
    const c = main.segment(s);
    const rows = [];
    for (let i = 0; i < c.count; i++) rows.push([c.ts[i], c.meta[i], c.lineAt(i), c.bodyPosAt(i), c.bodyLenAt(i)]);
    const tags = [];
    for (let tag = 0; tag < 32; tag++) tags.push([c.tagCount(tag), Array.from(c.tagList(tag)?.subarray(0, c.tagCount(tag)) ?? [])]);
    // Block filters as their set words (a filter is 1,024 words, mostly zero here).
    const filters = [];
    for (let b = 0; b * FILTER_BLOCK < c.count; b++) {
      const at = c.blockFilter(b);
      if (at < 0) {
        filters.push(null);
        continue;
      }
      const set = [];
      for (let w = 0; w < FILTER_WORDS; w++) if (c.filterWordsOf[at + w] !== 0) set.push([w, c.filterWordsOf[at + w]]);
      filters.push(set);
    }
    chunks.push({ rows, tags, filters, sealed: c.sealed, maxBodyPos: c.maxBodyPos, lineBase: c.lineBase, bodyBase: c.bodyBase });
  }
  const tagChunks = [];
  for (let tag = 0; tag < 32; tag++) {
    const list = [];
    for (let s = main.nextWithTag(tag, 0); s >= 0; s = main.nextWithTag(tag, s + 1)) list.push(s);
    tagChunks.push(list);
  }
  const late = index.late.sequences().map((r) => {
    const rows = [];
    for (let i = 0; i < r.count; i++) rows.push([r.ts[i], r.meta[i], r.line[i], r.bodyPos[i], r.bodyLen[i]]);
    return rows;
  });
  return { chunks, tagChunks, late, entries: index.entries, lastTs: main.lastTs };
}

/**
 * Batches as the parser makes them: lines and body offsets growing within a batch, timestamps
 * mostly in order with ties, a few slightly late lines and a few very late ones, bodies long
 * enough to saturate the 16-bit length. Between batches the line numbering may restart (a
 * rotated file), and line numbers and body positions may jump to or past a chunk's 32-bit
 * delta limit (a new chunk must start, also in the middle of a batch).
 */
const batches = fc.array(
  fc.record({
    entries: fc.array(
      fc.record({
        step: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 1000 })),
        late: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 30 }) }, { weight: 1, arbitrary: fc.integer({ min: 500, max: 100_000 }) }),
        tag: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 6 }) }, { weight: 1, arbitrary: fc.integer({ min: 7, max: 31 }) }),
        precision: fc.integer({ min: 0, max: 6 }),
        lineGap: fc.integer({ min: 1, max: 4 }),
        bodyGap: fc.integer({ min: 0, max: 20 }),
        bodyLen: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 65_530, max: 70_000 })),
        // Long in-order runs, so batches cross filter groups (256) and chunk blocks (1,024).
        repeat: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 700 }) }),
      }),
      { maxLength: 60 },
    ),
    // A batch's group filters (null: read back from the WAL without them), one bit per group.
    filterSeed: fc.option(fc.integer({ min: 0, max: FILTER_WORDS * 32 - 1 }), { freq: 4 }),
    restartLines: fc.boolean(),
    // Jumps that land a chunk's 32-bit line or body delta right at its limit inside a batch.
    bodyJump: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(2 ** 32) }, { weight: 1, arbitrary: fc.integer({ min: 2 ** 32 - 3000, max: 2 ** 32 }) }),
    lineJump: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 2 ** 32 - 300, max: 2 ** 32 }) }),
  }),
  { maxLength: 8 },
);

describe('SourceIndex.appendBatch', () => {
  it('builds the same index as appending entry by entry', () => {
    fc.assert(
      fc.property(batches, fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 50, max: 400 }), fc.integer({ min: 1000, max: 3000 })), (spec, capacity) => {
        const byBatch = new SourceIndex('a', 0, capacity);
        const byEntry = new SourceIndex('b', 0, capacity);
        let clock = 1_000_000;
        let firstLine = 1;
        let base = 0;
        for (const b of spec) {
          if (b.restartLines) firstLine = 1;
          firstLine += b.lineJump;
          base += b.bodyJump;
          const rows: Entry[] = [];
          let line = 0;
          let offset = 0;
          for (const e of b.entries) {
            for (let r = 0; r < e.repeat; r++) {
              clock += e.step;
              offset += e.bodyGap;
              rows.push({ ts: clock - e.late, meta: packMeta(e.tag, e.precision), line, bodyStart: offset, bodyEnd: offset + e.bodyLen });
              offset += e.bodyLen;
              line += e.lineGap;
            }
          }
          let filters: Uint32Array | null = null;
          if (b.filterSeed !== null) {
            const groups = Math.ceil(rows.length / FILTER_GROUP);
            filters = new Uint32Array(groups * FILTER_WORDS);
            for (let g = 0; g < groups; g++) {
              const bit = (b.filterSeed + g * 977) % (FILTER_WORDS * 32);
              filters[g * FILTER_WORDS + (bit >>> 5)]! |= 1 << (bit & 31);
            }
          }
          const batch: ColumnBatch = {
            count: rows.length,
            ts: Float64Array.from(rows, (r) => r.ts),
            meta: Uint8Array.from(rows, (r) => r.meta),
            line: Uint32Array.from(rows, (r) => r.line),
            bodyStart: Uint32Array.from(rows, (r) => r.bodyStart),
            bodyEnd: Uint32Array.from(rows, (r) => r.bodyEnd),
            lineAdd: firstLine,
            bodyAdd: base,
            filters,
          };
          byBatch.appendBatch(batch);
          rows.forEach((r, i) => byEntry.append(r.ts, r.meta, firstLine + r.line, base + r.bodyStart, r.bodyEnd - r.bodyStart, filters, ((i / FILTER_GROUP) | 0) * FILTER_WORDS));
          firstLine += line;
          base += offset;
        }
        expect(snapshot(byBatch)).toEqual(snapshot(byEntry));
      }),
      { numRuns: 150 },
    );
  });
});
