/**
 * Issue 16: `fields` and related_log (anyId) searches skip blocks by the trigrams of their
 * values (src/text/ngram-filter.ts) and search block bodies for them. No block holding a match
 * may be skipped: over several sources whose bodies are full of ids (most trigrams of an id
 * are in most blocks, so the skipping is at its most delicate), the scan's hits are those of test() run on
 * every body, for values with punctuation, case changes, values split across tokens, quoted
 * and unquoted JSON values, nested JSON, key=value pairs in text bodies, traceparents and
 * near misses; and a scan stopped by its budget reports a window inside which nothing was missed.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Direction } from '../../src/index/index.js';
import { scanNearest, type ScanBudget } from '../../src/index/text-scan.js';
import { compileText, type TextFilterSpec } from '../../src/text/text-query.js';
import { bruteForce } from '../helpers/brute-force.js';
import { type TextRow, buildTextIndex, timelineRows } from '../helpers/text-index.js';

/** Id-like values: digits, hex, '-', '_', and punctuation or spaces that cut them into windows. */
const VALUES = ['u-48213', '4f2a9c1b', '4F2A9C1B', 'req_77-ab.c9', 'ab 12345 cd', '98765', 'x:y=z-0042', '0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', 'r1'];
const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** Bodies that hold a value v under key k, or nearly (a longer id, another key, split, escaped). */
const TEMPLATES: ((k: string, v: string) => string)[] = [
  (k, v) => `GET /api/v1/items/7 200 12ms ${k}=${v} bytes=88`,
  (k, v) => `level=info msg="a b" ${k}="${v}"`,
  (k, v) => `${k}='${v}' done`,
  (k, v) => `retry (${k}=${v}), attempt=2`,
  (k, v) => `${k}:${v}`,
  (k, v) => JSON.stringify({ [k]: v, msg: 'hello' }),
  (k, v) => `{"msg": "x", "${k}" : "${v}"}`,
  (k, v) => JSON.stringify({ ctx: { [k]: v }, level: 'info' }),
  (k, v) => (/^\d+$/.test(v) ? `{"${k}": ${v}}` : `{"${k}": "${v}"}`),
  (k, v) => `${k}=${v.toUpperCase()} upper`,
  (k, v) => `${k}=${v}9 longer id`,
  (k, v) => `other=${v} ${k}=zz`,
  (k, v) => `${k}=${v.slice(0, 3)} ${v.slice(3)} split`,
  (k, v) => `{"${k}":"${v.slice(0, 2)}\\u00${v.charCodeAt(2).toString(16)}${v.slice(3)}"}`,
  (k, v) => `{"${k}":"${v.slice(0, 2)}\\u00${v.charCodeAt(2).toString(16)}${v.slice(3)}","note":"${v}"}`,
  (k, v) => `{"${k}":"${v.slice(0, 2)}\\u00${v.charCodeAt(2).toString(16)}${v.slice(3)}","note":"${v.toUpperCase()}"}`,
  (k, v) => `POST /pay 500 ${k}=${v} user=u-48213 req=4f2a9c1b`,
  () => `traceparent=${TRACE} span start`,
  () => JSON.stringify({ traceparent: TRACE.toUpperCase() }),
];
const KEYS = ['user', 'req', 'request_id', 'trace_id'];


/** Filler: access lines full of ids, so every digit and hex trigram is in every block. */
const filler = fc
  .record({ user: fc.integer({ min: 10000, max: 99999 }), req: fc.integer({ min: 0, max: 0xffffffff }), ms: fc.integer({ min: 0, max: 999 }) })
  .map((f) => `GET /api/v1/orders/${f.ms} 200 ${f.ms}ms user=u-${f.user} req=${f.req.toString(16).padStart(8, '0')}`);

/** A body holding one of the values, under `key` most of the time (so a query on it has answers), else another key. */
const planted = (key: string): fc.Arbitrary<string> =>
  fc
    .record({ t: fc.integer({ min: 0, max: TEMPLATES.length - 1 }), k: fc.oneof({ weight: 7, arbitrary: fc.constant(key) }, { weight: 3, arbitrary: fc.constantFrom(...KEYS) }), v: fc.constantFrom(...VALUES) })
    .map((p) => TEMPLATES[p.t]!(p.k, p.v));

const sourceRows = (rank: number, maxLength: number, rare: number, key: string): fc.Arbitrary<TextRow[]> =>
  timelineRows(rank, maxLength, fc.oneof({ weight: rare, arbitrary: filler }, { weight: 1, arbitrary: planted(key) }));

/** The key a spec asks about (the last dotted part of a `fields` key, the first id name), which most planted bodies use. */
const keyOf = (spec: TextFilterSpec): string => (spec.fields !== undefined ? Object.keys(spec.fields)[0]!.split('.').pop()! : spec.anyId!.names[spec.anyId!.names.length - 1]!);

const fieldsSpec: fc.Arbitrary<TextFilterSpec> = fc.record({
  fields: fc.oneof(
    { weight: 4, arbitrary: fc.record({ k: fc.constantFrom(...KEYS, 'ctx.request_id', 'ctx.user'), v: fc.constantFrom(...VALUES, 'U-48213', 'u-4821', '4f2a9c1b9') }).map((f) => ({ [f.k]: f.v })) },
    { weight: 1, arbitrary: fc.constant({ user: 'u-48213', req: '4f2a9c1b' }) },
  ),
  caseSensitive: fc.boolean(),
});

const anyIdSpec: fc.Arbitrary<TextFilterSpec> = fc.record({
  anyId: fc.record({
    names: fc.constantFrom(['request_id', 'req'], ['traceparent', 'span_id', 'trace_id'], ['traceparent', ...KEYS]),
    values: fc.uniqueArray(fc.constantFrom(...VALUES, '0AF7651916CD43DD8448EB211C80319C', 'feedbeef'), { minLength: 1, maxLength: 3 }),
  }),
  caseSensitive: fc.boolean(),
});

const stats = { runs: 0, hits: 0, skipped: 0, stopped: 0 };
const reset = (): void => {
  stats.runs = stats.hits = stats.skipped = stats.stopped = 0;
};
const key = (h: { ts: number; line: number }, rank: number): string => `${rank}:${h.line}@${h.ts}`;

function check(bySource: TextRow[][], capacity: number, batch: number, unfiltered: number, spec: TextFilterSpec, tPick: number, count: number, direction: Direction, budget: ScanBudget): void {
  const { sources, bodies } = buildTextIndex(bySource, capacity, batch, unfiltered);
  const all = bySource.flat();
  const t = all.length === 0 ? 1000 : all[tPick % all.length]!.ts;
  const text = compileText(spec);
  const { hits, searched } = scanNearest(sources, { t, tags: null, count, direction, maxDistance: Infinity, text, budget }, bodies);
  // The reference: test() on every body, no filter, no block search.
  const matching = all.filter((r) => text.test(Buffer.from(r.body)) !== null);
  const full = bruteForce(matching, t, null, count, direction, Infinity);
  const got = hits.map((h) => key(h.hit, h.hit.source.rank));
  stats.runs++;
  if (got.length > 0) stats.hits++;
  if (searched.read < searched.entries) stats.skipped++;
  if (!searched.complete) stats.stopped++;
  if (searched.complete) {
    expect(got).toEqual(full.map((r) => key(r, r.rank)));
  } else {
    expect(got).toEqual(full.slice(0, got.length).map((r) => key(r, r.rank)));
    expect(searched.read).toBe(budget.entries);
    const inside = full.filter((r) => (r.ts > searched.from && r.ts < searched.to) || (direction === 'before' && r.ts === t && r.ts > searched.from) || (direction === 'after' && r.ts === t && r.ts < searched.to));
    expect(got.length).toBeGreaterThanOrEqual(inside.length);
  }
  for (const h of hits) {
    const row = bySource[h.hit.source.rank]!.find((r) => r.line === h.hit.line)!;
    expect(h.highlights).toEqual(text.test(Buffer.from(row.body)));
  }
}

describe('fields and related_log searches agree with test() on every body', () => {
  beforeEach(reset);

  it.each([
    ['fields', fieldsSpec],
    ['anyId', anyIdSpec],
  ] as const)('%s: blocks of id-filled bodies skipped, none holding a match', (_name, specArb) => {
    fc.assert(
      fc.property(
        specArb.chain((spec) => fc.tuple(fc.constant(spec), sourceRows(0, 4000, 150, keyOf(spec)), sourceRows(1, 2500, 150, keyOf(spec)), sourceRows(2, 1200, 40, keyOf(spec)))),
        fc.constantFrom(2048, 65536),
        fc.integer({ min: 100, max: 3000 }),
        fc.integer({ min: 0, max: 4 }),
        fc.nat(),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom<Direction>('nearest', 'before', 'after'),
        ([spec, a, b, c], capacity, batch, unfiltered, tPick, count, direction) => {
          check([a, b, c], capacity, batch, unfiltered, spec, tPick, count, direction, { entries: 1e9, ms: 1e9 });
        },
      ),
      { numRuns: 60, endOnFailure: true },
    );
    // The property is not vacuous: some searches found a match, some ruled blocks out unread.
    // Over 12 seeds of 60 runs: fields found a match in 14-26, anyId in 39-47; blocks were
    // ruled out in 17-37. A quarter (15) failed about one seed in eight: a tenth cannot.
    expect(stats.hits).toBeGreaterThan(stats.runs / 10);
    expect(stats.skipped).toBeGreaterThan(stats.runs / 10);
  });

  it('a search stopped by its entry budget reports a window in which nothing was missed', () => {
    fc.assert(
      fc.property(
        fc.oneof(fieldsSpec, anyIdSpec).chain((spec) => fc.tuple(fc.constant(spec), sourceRows(0, 3000, 100, keyOf(spec)), sourceRows(1, 2000, 100, keyOf(spec)))),
        fc.nat(),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom<Direction>('nearest', 'before', 'after'),
        fc.integer({ min: 1, max: 3000 }),
        ([spec, a, b], tPick, count, direction, budget) => {
          check([a, b], 65536, 1000, 9, spec, tPick, count, direction, { entries: budget, ms: 1e9 });
        },
      ),
      { numRuns: 60, endOnFailure: true },
    );
    expect(stats.stopped).toBeGreaterThan(stats.runs / 5);
  });

  // One planted match in the middle block of 3,072 id-filled entries: the match is found, and
  // where the value has a trigram no other block holds (all but u-48213, whose trigrams are in
  // every block), the blocks around it are ruled out unread. (Per-block 5-byte id windows in the
  // same filter skipped those too, but made the filter so full that a rare 4-byte `contains`
  // needle read 15 % of blocks instead of none; README, text search.)
  it.each([
    [{ fields: { user: 'u-48213' }, caseSensitive: false }, 'user=U-48213'],
    [{ fields: { req: '4f2a9c1b' }, caseSensitive: false }, '{"req": "4F2A9C1B"}'],
    [{ fields: { request_id: 'req_77-ab.c9' }, caseSensitive: true }, 'level=warn request_id="req_77-ab.c9"'],
    [{ anyId: { names: ['traceparent', 'trace_id'], values: ['0af7651916cd43dd8448eb211c80319c'] }, caseSensitive: false }, `traceparent=${TRACE}`],
    [{ anyId: { names: ['req'], values: ['feedbeef', '4f2a9c1b'] }, caseSensitive: false }, 'POST /x 500 req=4f2a9c1b'],
    // Case-sensitive, with the value escaped in its field and verbatim only in another case:
    // test() finds the value folded and the traceparent's ids lower case, so must the scan.
    [{ fields: { user: 'u-48213' }, caseSensitive: true }, '{"user":"u-\\u00348213","note":"U-48213"}'],
    [{ anyId: { names: ['traceparent'], values: ['0af7651916cd43dd8448eb211c80319c'] }, caseSensitive: true }, JSON.stringify({ traceparent: TRACE.toUpperCase() })],
  ] as const)('%j finds the one match among id-filled blocks', (spec, body) => {
    const rows: TextRow[] = Array.from({ length: 3072 }, (_, i) => ({
      ts: 1_000 + i, tag: 0, line: i + 1, rank: 0, bodyPos: 0,
      body: i === 1500 ? body : `GET /o/${i % 997} 200 ${i % 89}ms user=u-${10000 + ((i * 7919) % 89999)} req=${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}`,
    }));
    const { sources, bodies } = buildTextIndex([rows], 65536, 3072, 9);
    const text = compileText(spec as TextFilterSpec);
    for (const [from, direction] of [[0, 'after'], [3071, 'before'], [10, 'nearest']] as const) {
      const { hits, searched } = scanNearest(sources, { t: rows[from]!.ts, tags: null, count: 1, direction, maxDistance: Infinity, text, budget: { entries: 1e9, ms: 1e9 } }, bodies);
      expect(hits.map((h) => h.hit.line)).toEqual([1501]);
      // Blocks other than the match's were ruled out unread (not for u-48213: see above).
      if (!JSON.stringify(spec).includes('u-48213')) expect(searched.read).toBeLessThan(1024 + 1);
    }
  });
});
