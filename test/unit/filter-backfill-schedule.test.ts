/**
 * When the text-filter backfill runs (src/index/filter-backfill.ts): queries go first. With
 * `quietMs`, no block is filled while a source is catching up, nor until that long has passed
 * with no query; under a steady stream of queries one turn still runs every second, so the
 * filters do get built. Timers and the clock are fake: the test steps through time itself.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FilterBackfill } from '../../src/index/filter-backfill.js';
import { SourceIndex } from '../../src/index/index.js';
import { packMeta } from '../../src/parse/meta.js';
import { FileBodyStore } from '../../src/store/file-body-store.js';
import { FILTER_BLOCK } from '../../src/text/ngram-filter.js';

/** A source of `blocks` full blocks of entries, indexed without filters (as ingestion does). */
function unfiltered(blocks: number): { index: SourceIndex; bodies: FileBodyStore } {
  const bodies = new FileBodyStore();
  const index = new SourceIndex('s0', 0, 65_536);
  const n = blocks * FILTER_BLOCK;
  const text = Array.from({ length: n }, (_, i) => `request ${i} ok`);
  const raw = Buffer.from(text.join('\n'));
  const cols = { ts: new Float64Array(n), meta: new Uint8Array(n), line: new Uint32Array(n), bodyStart: new Uint32Array(n), bodyEnd: new Uint32Array(n) };
  let at = 0;
  for (let i = 0; i < n; i++) {
    cols.ts[i] = 1_000 + i;
    cols.meta[i] = packMeta(1, 3);
    cols.line[i] = i;
    cols.bodyStart[i] = at;
    at += text[i]!.length;
    cols.bodyEnd[i] = at;
    at += 1;
  }
  const base = bodies.appendBytes(raw);
  index.appendBatch({ count: n, ...cols, lineAdd: 1, bodyAdd: base, filters: null });
  return { index, bodies };
}

describe('filter backfill scheduling', () => {
  let clock = 0;
  beforeEach(() => {
    clock = 0;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
  });
  afterEach(() => vi.useRealTimers());

  /** Moves the fake clock and the fake timers together, `ms` at a time in 1 ms steps. */
  async function advance(ms: number): Promise<void> {
    for (let k = 0; k < ms; k++) {
      clock += 1;
      await vi.advanceTimersByTimeAsync(1);
    }
  }

  it('waits for quiet after catch-up and between queries, and fills everything once quiet', async () => {
    const { index, bodies } = unfiltered(8);
    let busy = true;
    let queries = 0;
    const backfill = new FilterBackfill([index], bodies, { isBusy: () => busy, activity: () => queries, quietMs: 200, now: () => clock });
    expect(backfill.pending()).toBe(8);
    backfill.kick();
    await advance(500);
    expect(backfill.pending()).toBe(8); // catching up: nothing built

    busy = false;
    await advance(150);
    expect(backfill.pending()).toBe(8); // caught up, but not yet quiet for 200 ms
    // A query every 50 ms keeps it waiting: 800 ms after catch-up, under the one-second floor counted from there.
    for (let k = 0; k < 13; k++) {
      queries++;
      await advance(50);
    }
    expect(clock - 500).toBe(800);
    expect(backfill.pending()).toBe(8);

    await advance(260); // quiet: every block gets its filter
    await vi.runAllTimersAsync();
    expect(backfill.pending()).toBe(0);
  });

  it('under a steady stream of queries still runs a turn every second', async () => {
    const { index, bodies } = unfiltered(4);
    let queries = 0;
    const backfill = new FilterBackfill([index], bodies, { activity: () => queries, quietMs: 200, now: () => clock });
    backfill.kick();
    const seen: number[] = [];
    for (let k = 0; k < 180; k++) {
      queries++;
      await advance(25);
      seen.push(backfill.pending());
    }
    // 4.5 s of queries every 25 ms: never 200 ms of quiet, yet turns ran at the floor.
    expect(seen[0]).toBe(4);
    expect(seen.at(-1)).toBeLessThan(4);
    // Not a turn per timer tick either: at most one turn (one block on this fake clock) a second.
    const fills = seen.filter((p, k) => k > 0 && p < seen[k - 1]!).length;
    expect(fills).toBeGreaterThanOrEqual(1);
    expect(fills).toBeLessThanOrEqual(5);
  });

  it('without quietMs, fills as soon as no source is catching up', async () => {
    const { index, bodies } = unfiltered(3);
    let queries = 0;
    const backfill = new FilterBackfill([index], bodies, { activity: () => queries, now: () => clock });
    backfill.kick();
    queries++;
    await vi.runAllTimersAsync();
    expect(backfill.pending()).toBe(0);
  });
});
