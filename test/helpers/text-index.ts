/**
 * Text-search index data for the property tests (issue 16): timelines of rows with bodies
 * (ties, gaps, late lines) and an index over them built as ingestion builds it, in batches
 * with the parse workers' group filters, some batches without any.
 */
import fc from 'fast-check';
import { SourceIndex } from '../../src/index/index.js';
import { packMeta } from '../../src/parse/meta.js';
import { FileBodyStore } from '../../src/store/file-body-store.js';
import { FILTER_GROUP, FILTER_WORDS, buildGroupFilters } from '../../src/text/ngram-filter.js';
import type { Row } from './brute-force.js';

export interface TextRow extends Row {
  body: string;
}

/**
 * One source's rows in file order: steps of 0 (ties), small and large (gaps), a fifth of them
 * stamped up to 40 units late, each with a body and a tag drawn from the given arbitraries.
 */
export const timelineRows = (rank: number, maxLength: number, body: fc.Arbitrary<string>, tag: fc.Arbitrary<number> = fc.constant(0)): fc.Arbitrary<TextRow[]> =>
  fc
    .array(
      fc.record({
        step: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 1000 })),
        late: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 }) }),
        tag,
        body,
      }),
      // size 'max': fast-check's default sizes stop near ten rows, which never fill a block.
      { maxLength, size: 'max' },
    )
    .map((steps) => {
      let clock = 1_000;
      return steps.map((s, i) => {
        clock += s.step;
        return { ts: clock - s.late, tag: s.tag, line: i + 1, rank, bodyPos: 0, body: s.body };
      });
    });

/**
 * Indexes rows in batches (as parse results arrive), each batch's bodies in one raw buffer
 * with group filters built by the same function the parse workers use; every fourth batch,
 * from `unfiltered`, comes without filters, as WAL replay of an old checkpoint would.
 */
export function buildTextIndex(bySource: TextRow[][], capacity: number, batch: number, unfiltered: number): { sources: SourceIndex[]; bodies: FileBodyStore } {
  const bodies = new FileBodyStore();
  const sources = bySource.map((rows, rank) => {
    const index = new SourceIndex(`s${rank}`, rank, capacity);
    for (let from = 0, b = 0; from < rows.length; from += batch, b++) {
      const part = rows.slice(from, from + batch);
      const raw = Buffer.from(part.map((r) => r.body).join('\n'));
      const starts: number[] = [];
      const ends: number[] = [];
      let at = 0;
      for (const r of part) {
        starts.push(at);
        at += Buffer.byteLength(r.body);
        ends.push(at);
        at += 1;
      }
      const filters = b % 4 === unfiltered ? null : buildGroupFilters(raw, part.length, starts, ends);
      const base = bodies.appendBytes(raw);
      part.forEach((r, k) => {
        r.bodyPos = base + starts[k]!;
        index.append(r.ts, packMeta(r.tag, 3), r.line, r.bodyPos, ends[k]! - starts[k]!, filters, ((k / FILTER_GROUP) | 0) * FILTER_WORDS);
      });
    }
    return index;
  });
  return { sources, bodies };
}
