/**
 * Issue 16: text search near a moment agrees with a brute-force scan of every body, for
 * every filter combination (contains, case, pattern, fields, tags, direction, count,
 * max_distance), over several sources with ties, gaps and late lines, with blocks whose
 * trigram filters were built in pieces (as parse workers do) or not at all; and a search
 * stopped by its budget reports a window inside which nothing was missed.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Direction } from '../../src/index/index.js';
import { scanNearest, type ScanBudget } from '../../src/index/text-scan.js';
import { compileText, type TextFilterSpec } from '../../src/text/text-query.js';
import { bruteForce } from '../helpers/brute-force.js';
import { type TextRow, buildTextIndex, timelineRows } from '../helpers/text-index.js';

const BODIES = [
  'alpha beta', 'Alpha order 8812 done', 'beta gamma', 'connection refused by db-1', 'CONNECTION REFUSED',
  'user=u-1 req=r1 status=503', 'user=u-2 req=r2 status=200', '{"request_id":"r1","msg":"alpha"}', '{"request_id":"r2","status":503}',
  'reorder 88123', 'ORDER 8812 by REQ=R1', 'x', '', 'gamma delta epsilon', 'Ünïcode beta ÄLPHA', 'level=info msg="alpha beta" request_id=r1',
];
const NEEDLES = ['alpha', 'ALPHA', 'beta', 'order 8812', '8812', 'refused', 'connection refused', 'req=r1', 'zzz-absent', 'a', 'ünïcode', 'ÄLPHA', 'delta eps'];
const PATTERNS = ['al.ha', '^beta', 'r[0-9]', 'status=5\\d\\d', 'refused$'];
const FIELDS: Record<string, string>[] = [{ request_id: 'r1' }, { req: 'r2' }, { status: '503' }, { msg: 'alpha beta' }, { request_id: 'r9' }];

const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** The reference: every body checked, no filters, no scan. */
function refMatch(body: string, spec: TextFilterSpec): boolean {
  const fold = !spec.caseSensitive;
  for (const n of spec.contains ?? []) {
    if (!(fold ? asciiLower(body).includes(asciiLower(n)) : body.includes(n))) return false;
  }
  if (spec.pattern !== undefined && !new RegExp(spec.pattern, fold ? 'i' : '').test(body)) return false;
  // Id field names compare without case (X-Request-Id and x-request-id are one header).
  const fieldOf = (k: string): string | undefined => {
    if (body.startsWith('{')) {
      const obj = JSON.parse(body) as Record<string, unknown>;
      const key = Object.keys(obj).find((x) => x.toLowerCase() === k.toLowerCase());
      return key === undefined ? undefined : String(obj[key]);
    }
    const anyCase = k.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
    const m = new RegExp(`(?:^|\\s)${anyCase}=(?:"([^"]*)"|(\\S+))`).exec(body);
    return m === null ? undefined : (m[1] ?? m[2]);
  };
  if (spec.anyId !== undefined) {
    const values = spec.anyId.values.map((v) => (fold ? v.toLowerCase() : v));
    const hit = spec.anyId.names.some((n) => {
      const v = fieldOf(n);
      return v !== undefined && values.includes(fold ? v.toLowerCase() : v);
    });
    if (!hit) return false;
  }
  for (const [k, v] of Object.entries(spec.fields ?? {})) {
    let value: string | undefined;
    if (body.startsWith('{')) {
      const obj = JSON.parse(body) as Record<string, unknown>;
      value = obj[k] === undefined ? undefined : String(obj[k]);
    } else {
      const m = new RegExp(`(?:^|\\s)${k}=(?:"([^"]*)"|(\\S+))`).exec(body);
      value = m === null ? undefined : (m[1] ?? m[2]);
    }
    if (value === undefined || (fold ? value.toLowerCase() !== v.toLowerCase() : value !== v)) return false;
  }
  return true;
}

/** Filler bodies share no trigram with the vocabulary's letters, so blocks without a rare body fail their filter. */
const filler = fc.integer({ min: 0, max: 9999 }).map((n) => `q${n} zz`);

const sourceRows = (rank: number, maxLength: number, rare: number): fc.Arbitrary<TextRow[]> =>
  timelineRows(rank, maxLength, fc.oneof({ weight: rare, arbitrary: filler }, { weight: 1, arbitrary: fc.constantFrom(...BODIES) }), fc.integer({ min: 0, max: 5 }));

/** How often the properties reached what they are about (asserted after each property). */
const stats = { runs: 0, hits: 0, skipped: 0, stopped: 0 };
const reset = (): void => {
  stats.runs = stats.hits = stats.skipped = stats.stopped = 0;
};

const key = (h: { ts: number; line: number }, rank: number): string => `${rank}:${h.line}@${h.ts}`;

const combined: fc.Arbitrary<TextFilterSpec> = fc
  .record({
    contains: fc.option(fc.uniqueArray(fc.constantFrom(...NEEDLES), { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 2 }),
    pattern: fc.option(fc.constantFrom(...PATTERNS), { nil: undefined, freq: 2 }),
    fields: fc.option(fc.constantFrom(...FIELDS), { nil: undefined, freq: 2 }),
    caseSensitive: fc.boolean(),
  })
  .filter((s) => s.contains !== undefined || s.pattern !== undefined || s.fields !== undefined)
  .map((s) => {
    const spec: TextFilterSpec = { caseSensitive: s.caseSensitive };
    if (s.contains !== undefined) spec.contains = s.contains;
    if (s.pattern !== undefined) spec.pattern = s.pattern;
    if (s.fields !== undefined) spec.fields = s.fields;
    return spec;
  });

/** Single filters most of the time (they match often enough to test order), combinations too. */
const specArb: fc.Arbitrary<TextFilterSpec> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ contains: fc.uniqueArray(fc.constantFrom(...NEEDLES), { minLength: 1, maxLength: 2 }), caseSensitive: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ pattern: fc.constantFrom(...PATTERNS), caseSensitive: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ fields: fc.constantFrom(...FIELDS), caseSensitive: fc.boolean() }) },
  // related_log's filter: an id field holding one of the values.
  {
    weight: 1,
    arbitrary: fc.record({
      anyId: fc.record({ names: fc.constantFrom(['request_id', 'req'], ['req']), values: fc.uniqueArray(fc.constantFrom('r1', 'r2', 'R1', 'r9'), { minLength: 1, maxLength: 2 }) }),
      caseSensitive: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: combined },
);

function check(
  bySource: TextRow[][], capacity: number, batch: number, unfiltered: number, spec: TextFilterSpec, tPick: number, tOffset: number,
  tags: number[] | null, count: number, direction: Direction, maxDistance: number | null, budget: ScanBudget,
): void {
  const { sources, bodies } = buildTextIndex(bySource, capacity, batch, unfiltered);
  const all = bySource.flat();
  // Query times drawn from the data (ties, exact hits) or just beside it.
  const t = all.length === 0 ? 1000 : all[tPick % all.length]!.ts + tOffset;
  const text = compileText(spec);
  const { hits, searched } = scanNearest(sources, { t, tags, count, direction, maxDistance: maxDistance ?? Infinity, text, budget }, bodies);
  const matching = all.filter((r) => refMatch(r.body, spec));
  const full = bruteForce(matching, t, tags, count, direction, maxDistance ?? Infinity);
  const got = hits.map((h) => key(h.hit, h.hit.source.rank));
  stats.runs++;
  if (got.length > 0) stats.hits++;
  if (searched.read < searched.entries) stats.skipped++;
  if (!searched.complete) stats.stopped++;
  if (searched.complete) {
    expect(got).toEqual(full.map((r) => key(r, r.rank)));
  } else {
    // Stopped by the budget: what it found is the start of the true answer, and nothing
    // strictly inside the reported window was missed.
    expect(got).toEqual(full.slice(0, got.length).map((r) => key(r, r.rank)));
    expect(got.length).toBeLessThan(count);
    expect(searched.read).toBe(budget.entries);
    const inside = full.filter((r) => r.ts > searched.from && r.ts < searched.to || (direction === 'before' && r.ts === t && r.ts > searched.from) || (direction === 'after' && r.ts === t && r.ts < searched.to));
    expect(got.length).toBeGreaterThanOrEqual(inside.length);
  }
  expect(searched.from).toBeLessThanOrEqual(searched.to);
  // `entries` counts every entry of the window, of any tag and text: the closed window when
  // finished; when stopped, the entries strictly closer than the stop (and T for before/after).
  const inWindow = (ts: number): boolean =>
    searched.complete ? ts >= searched.from && ts <= searched.to
    : direction === 'after' ? ts >= t && ts < searched.to
    : direction === 'before' ? ts > searched.from && ts <= t
    : ts > searched.from && ts < searched.to;
  expect(searched.entries).toBe(all.filter((r) => inWindow(r.ts)).length);
  for (const h of hits) {
    const row = bySource[h.hit.source.rank]!.find((r) => r.line === h.hit.line)!;
    expect(refMatch(row.body, spec)).toBe(true);
    expect(h.highlights.length).toBeGreaterThan(0);
    // The scan's highlights are test()'s on the body, whichever path decided it (a
    // `contains`-only filter is decided by the byte loop: same leftmost occurrences).
    expect(h.highlights).toEqual(text.test(Buffer.from(row.body)));
    for (const mark of h.highlights) {
      if (mark.filter === 'contains') {
        const seen = row.body.slice(mark.start, mark.end);
        expect(spec.caseSensitive ? seen : asciiLower(seen)).toBe(spec.caseSensitive ? mark.term : asciiLower(mark.term));
      }
    }
  }
}

describe('scanNearest agrees with a brute-force scan of every body', () => {
  beforeEach(reset);

  it('small sources, every filter combination, direction, tag, count and distance', () => {
    fc.assert(
      fc.property(
        fc.tuple(sourceRows(0, 200, 3), sourceRows(1, 200, 3)),
        fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 64, max: 100 }), fc.constant(4096)),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 4 }),
        specArb,
        fc.nat(), fc.integer({ min: -3, max: 3 }),
        fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 4 }), { nil: null, freq: 2 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom<Direction>('nearest', 'before', 'after'),
        fc.option(fc.oneof(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 20000 })), { nil: null, freq: 2 }),
        fc.boolean(),
        ([a, b], capacity, batch, unfiltered, spec, tPick, tOffset, tags, count, direction, maxDistance, oneSource) => {
          check(oneSource ? [a] : [a, b], capacity, batch, unfiltered, spec, tPick, tOffset, tags, count, direction, maxDistance, { entries: 1e9, ms: 1e9 });
        },
      ),
      { numRuns: 500 },
    );
    expect(stats.hits).toBeGreaterThan(stats.runs / 5);
    expect(stats.skipped).toBeGreaterThan(stats.runs / 5);
  });

  it('sources spanning many filter blocks (blocks skipped by their filters), rare text', () => {
    fc.assert(
      fc.property(
        fc.tuple(sourceRows(0, 5000, 1500), sourceRows(1, 3000, 1500)),
        fc.constantFrom(2048, 65536),
        fc.integer({ min: 100, max: 3000 }),
        fc.integer({ min: 0, max: 4 }),
        specArb,
        fc.nat(), fc.integer({ min: -3, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom<Direction>('nearest', 'before', 'after'),
        ([a, b], capacity, batch, unfiltered, spec, tPick, tOffset, count, direction) => {
          check([a, b], capacity, batch, unfiltered, spec, tPick, tOffset, null, count, direction, null, { entries: 1e9, ms: 1e9 });
        },
      ),
      // 80 runs skipped blocks in 21-33 of them (8 seeds): the floor of a fifth (16) failed about
      // 1 run in 15. At 240 runs the floors sit 3.5-4.5 standard deviations under the mean.
      // endOnFailure: shrinking inputs of 8,000 rows (two scans and a brute force each) ran past
      // 15 minutes in a mutation run; the failing input and seed are still reported.
      { numRuns: 240, endOnFailure: true },
    );
    expect(stats.hits).toBeGreaterThan(stats.runs / 25);
    expect(stats.skipped).toBeGreaterThan(stats.runs / 5);
  });

  // A ruled-out block is passed over to exactly the next block's first entry (forward) or the
  // block before's last entry (backward). Random inputs rarely put the only answer there: a
  // skip landing one entry late survived them (a mutation run), so these inputs always do.
  it.each([
    ['after', 1024, 0],
    ['before', 2047, 3071],
    ['nearest', 1024, 0],
    ['nearest', 2047, 3071],
  ] as const)("a ruled-out block is skipped to its neighbour's edge entry (%s, answer at %i)", (direction, at, from) => {
    for (const capacity of [1024, 2048, 65536]) {
      const rows: TextRow[] = Array.from({ length: 3072 }, (_, i) => ({ ts: 1_000 + i, tag: 0, line: i + 1, rank: 0, bodyPos: 0, body: i === at ? 'alpha beta' : `q${i} zz` }));
      const { sources, bodies } = buildTextIndex([rows], capacity, 3072, 4);
      const text = compileText({ contains: ['alpha'], caseSensitive: false });
      const { hits, searched } = scanNearest(sources, { t: rows[from]!.ts, tags: null, count: 1, direction, maxDistance: Infinity, text, budget: { entries: 1e9, ms: 1e9 } }, bodies);
      expect(hits.map((h) => h.hit.line)).toEqual([at + 1]);
      // The filters did rule blocks out (else the case is not reached).
      expect(searched.read).toBeLessThan(searched.entries);
    }
  });

  // bodies_read is part of the answer: the entries of blocks the filter let through, taken in
  // order up to the last hit, and none of a ruled-out block (the scan's step within a block
  // must not walk into the next one unchecked). Matches at 1020 and 2100; block 1 has none.
  it.each([
    ['after', 1020, 1 + 3 + 53],
    ['before', 2100, 1 + 52 + 4],
    ['nearest', 1020, 1 + 3 + 53 + 1020],
  ] as const)('bodies read are exactly the candidates examined (%s from %i)', (direction, from, read) => {
    const rows: TextRow[] = Array.from({ length: 3072 }, (_, i) => ({ ts: 1_000 + i, tag: 0, line: i + 1, rank: 0, bodyPos: 0, body: i === 1020 || i === 2100 ? 'alpha beta' : `q${i} zz` }));
    const { sources, bodies } = buildTextIndex([rows], 65536, 3072, 4);
    const text = compileText({ contains: ['alpha'], caseSensitive: false });
    const { hits, searched } = scanNearest(sources, { t: rows[from]!.ts, tags: null, count: 2, direction, maxDistance: Infinity, text, budget: { entries: 1e9, ms: 1e9 } }, bodies);
    expect(hits.map((h) => h.hit.line)).toEqual(direction === 'before' ? [2101, 1021] : [1021, 2101]);
    expect(searched.read).toBe(read);
  });

  // With the WAL every range of bodies is a pread: a nearest search reads the first bodies of
  // both directions in one range (the readers share it), not one range each.
  it('a nearest search reads both directions\' first bodies in one range', () => {
    const rows: TextRow[] = Array.from({ length: 3072 }, (_, i) => ({ ts: 1_000 + i, tag: 0, line: i + 1, rank: 0, bodyPos: 0, body: i === 1500 || i === 1512 ? 'alpha beta' : `q${i} zz` }));
    const { sources, bodies } = buildTextIndex([rows], 65536, 3072, 4);
    let reads = 0;
    const counted = { firstPos: bodies.firstPos, bytes: bodies.bytes, read: (pos: number, len: number, max: number) => (reads++, bodies.read(pos, len, max)) };
    const text = compileText({ contains: ['alpha'], caseSensitive: false });
    for (const [from, line] of [[1507, 1513], [1505, 1501]] as const) {
      reads = 0;
      const { hits } = scanNearest(sources, { t: rows[from]!.ts, tags: null, count: 1, direction: 'nearest', maxDistance: Infinity, text, budget: { entries: 1e9, ms: 1e9 } }, counted);
      expect(hits.map((h) => h.hit.line)).toEqual([line]);
      expect(reads).toBe(1);
    }
  });

  it('a search stopped by its entry budget reports a window in which nothing was missed', () => {
    fc.assert(
      fc.property(
        fc.tuple(sourceRows(0, 300, 3), sourceRows(1, 300, 3)),
        fc.integer({ min: 1, max: 100 }),
        specArb,
        fc.nat(), fc.integer({ min: -3, max: 3 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom<Direction>('nearest', 'before', 'after'),
        fc.integer({ min: 1, max: 40 }),
        ([a, b], capacity, spec, tPick, tOffset, count, direction, budget) => {
          check([a, b], capacity, 64, 9, spec, tPick, tOffset, null, count, direction, null, { entries: budget, ms: 1e9 });
        },
      ),
      { numRuns: 400 },
    );
    expect(stats.stopped).toBeGreaterThan(stats.runs / 5);
  });
});
