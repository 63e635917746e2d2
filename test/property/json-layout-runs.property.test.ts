/**
 * Bunyan-shaped records (fields in front, the message, the time and more after it) through the
 * JSON layout replay (json-layout.ts): members passed over whole share a slot with the member
 * after them, a message key read past is recorded and replays the read backwards, the tail is
 * replayed with a hole for the time, and ISO times reuse their cached second (time-value.ts).
 * Every line must read exactly as the ordinary walk reads it with nothing remembered, on
 * records whose values change line by line (a pid one digit longer, the level, the time within
 * its second or across it, zones), whose fields change order, repeat after the message (the
 * backward read takes the last one), or are broken.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT } from '../../src/parse/context.js';
import { ENTRY, newLineOut } from '../../src/parse/format.js';
import { jsonFormats } from '../../src/parse/formats/json.js';
import { forgetJsonLayout, jsonLayoutSize } from '../../src/parse/formats/json-layout.js';
import { forgetTimeCache } from '../../src/parse/formats/time-value.js';
import { joinedRanges, type LineResult, readLines } from '../helpers/line-results.js';

const bunyan = jsonFormats.find((f) => f.name === 'bunyan')!;

/** Members in front of the message: values that start like each other, and a level. */
const FRONT: Record<string, unknown[]> = {
  name: ['orders', 'order', 'ordersx'],
  hostname: ['web-1', 'web-12'],
  pid: [4, 42, 4242],
  level: [10, 30, 50, 'error', 3],
  req_id: ['r-1', 'r-1"', 'r\\'],
  lvl: ['warn'],
};
const TIMES = [
  '2024-01-15T10:30:45.123Z', '2024-01-15T10:30:45.124Z', '2024-01-15T10:30:45.999Z', '2024-01-15T10:30:46.000Z',
  '2024-01-15T10:30:45.123+02:00', '2024-01-15T10:30:45.123', '2024-01-15T10:30:45"123Z', '2024-02-30T10:30:45.000Z', '1705314645123',
];
/** Members after the message: the time (twice sometimes), `v`, a level, a nested object. */
const BACK: Record<string, unknown[]> = {
  time: TIMES,
  time2: TIMES,
  v: [0, 1],
  level: [50, 'info'],
  src: [{ file: 'a.js', line: 3 }],
};
const MESSAGES = ['request failed', 'a "quoted" word', 'x\\', '"time":"2024-01-15T10:30:45Z"', ''];

const LINE = fc.record({
  front: fc.shuffledSubarray(Object.keys(FRONT), { minLength: 0, maxLength: 5 }),
  back: fc.shuffledSubarray(Object.keys(BACK), { minLength: 1, maxLength: 4 }),
  values: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
  msgKey: fc.constantFrom('msg', 'msg', 'msg', 'message', '@m'),
  blank: fc.constantFrom('', '', '', ' '),
  mutation: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom(...'",:{}\\ 0'.split(''))) }),
});
type Line = typeof LINE extends fc.Arbitrary<infer T> ? T : never;

/** Renders a line; `keep` holds the line before's layout when this one only changes values. */
function render(spec: Line, layout: Line): string {
  const pick = (pool: unknown[], k: number): unknown => pool[spec.values[k % spec.values.length]! % pool.length];
  const members = [
    ...layout.front.map((k, i) => [k, pick(FRONT[k]!, i)] as const),
    [layout.msgKey, pick(MESSAGES, 6)] as const,
    ...layout.back.map((k, i) => [k === 'time2' ? 'time' : k, pick(BACK[k]!, 7 + i)] as const),
  ];
  let line = '{' + members.map(([k, v]) => `${JSON.stringify(k)}:${spec.blank}${JSON.stringify(v)}`).join(',') + '}';
  // A time written with a bare quote inside it is broken JSON, read as the walk reads it.
  line = line.replace('\\"123Z', '"123Z');
  if (spec.mutation !== null) {
    const i = spec.mutation[0] % line.length;
    line = line.slice(0, i) + spec.mutation[1] + line.slice(i + 1);
  }
  return line;
}

type Result = LineResult;

const forgetCaches = (): void => {
  forgetJsonLayout();
  forgetTimeCache();
};

describe('JSON layout replay on bunyan-shaped records', () => {
  it('reads every line exactly as the ordinary walk does', () => {
    let replayed = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(LINE, fc.nat(5)), { minLength: 2, maxLength: 16 }), (specs) => {
        // Mostly the layout of the line before with new values, as a logger writes them.
        let layout = specs[0]![0];
        const lines = specs.map(([spec, change]) => {
          if (change === 0) layout = spec;
          return render(spec, layout);
        });
        const buf = Buffer.from(lines.join('\n'));
        const ranges = joinedRanges(lines);
        const read = (replay: boolean): Result[] => readLines(ranges, (s, e, out) => bunyan.parseLine(buf, s, e, out, DEFAULT_CONTEXT), forgetCaches, replay);
        const fast = read(true);
        if (jsonLayoutSize() > 0) replayed++;
        expect(fast).toEqual(read(false));
      }),
      { numRuns: 1500 },
    );
    expect(replayed).toBeGreaterThan(1000);
  });

  it('keeps the members in front of the level in one slot, and the message key in the next', () => {
    const line = '{"name":"orders","hostname":"web-1","pid":4242,"level":50,"msg":"failed","time":"2024-01-15T10:30:45.123Z","v":0}';
    const buf = Buffer.from(`${line}\n${line.replace('"level":50', '"level":30').replace('45.123Z', '45.124Z')}`);
    const out = newLineOut();
    forgetJsonLayout();
    expect(bunyan.parseLine(buf, 0, line.length, out, DEFAULT_CONTEXT)).toBe(ENTRY);
    // name, hostname, pid and the level's key: one slot; the message's key: another.
    expect(jsonLayoutSize()).toBe(2);
    expect(bunyan.parseLine(buf, line.length + 1, buf.length, out, DEFAULT_CONTEXT)).toBe(ENTRY);
    expect(jsonLayoutSize()).toBe(2);
    expect([out.us, out.tag]).toEqual([Date.parse('2024-01-15T10:30:45.124Z') * 1000, 2]);
  });
});
