/** What a query finds: a position in the index, resolved to columns and a body later. */
import type { Segment } from './segment.js';
import type { SourceIndex } from './source-index.js';

/**
 * One entry found: enough to read its columns and body. The line is read on demand: the
 * line column is one more cache miss per query (about 70 ns at 1M entries), and a query's
 * cost should not include fetching what only the answer's rendering needs.
 */
export class Hit {
  constructor(
    readonly source: SourceIndex,
    readonly seg: Segment,
    readonly i: number,
    readonly ts: number,
  ) {}

  get line(): number {
    return this.seg.lineAt(this.i);
  }
}
