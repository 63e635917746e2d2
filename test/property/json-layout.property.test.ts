/**
 * The JSON formats replay the previous line's layout (json.ts `layout`) instead of walking
 * each member: the replay must give exactly what the ordinary walk gives, line for line, on
 * lines whose layout changes mid-chunk (keys swapped, dropped, duplicated, values of other
 * kinds), with escaped quotes and backslashes in keys and values, nested objects, and bytes
 * mutated at random (broken JSON included).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT } from '../../src/parse/context.js';
import { ENTRY, newLineOut } from '../../src/parse/format.js';
import { jsonFormats } from '../../src/parse/formats/json.js';
import { dockerFormat, forgetDockerLayout } from '../../src/parse/formats/wrapped.js';
import { forgetJsonLayout, jsonLayoutSize } from '../../src/parse/formats/json-layout.js';
import { forgetTimeCache } from '../../src/parse/formats/time-value.js';
import { TAG_NONE, TAG_WARN } from '../../src/parse/levels.js';
import { joinedRanges, type LineResult, readLines } from '../helpers/line-results.js';

const forgetJson = (): void => {
  forgetJsonLayout();
  forgetTimeCache();
};
const forgetDocker = (): void => {
  forgetDockerLayout();
  forgetTimeCache();
};

const parseLine = jsonFormats.find((f) => f.name === 'json')!.parseLine;

const KEYS = [
  'time', 'ts', '@timestamp', 'timeUnixNano', 'observedTimeUnixNano', '__REALTIME_TIMESTAMP', 'level', 'lvl', 'log.level',
  'severityNumber', 'severityText', 'PRIORITY', 'log', 'msg', 'message', 'MESSAGE', '@m', 'name', 'hostname', 'pid', 'v',
  'm"sg', 'ti\\me', 'mx', '@x',
];
const word = fc.constantFrom('info', 'ERROR', 'warn', 'x', '', 'a"b', 'c\\', '\\"', 'Ünï', 'msg', '"time":1', ',"level":"error"');
const VALUE = fc.oneof(
  fc.constantFrom('2024-01-15T10:30:45.123Z', '2024-01-15T10:30:45.123456+02:00', '2024-01-15 10:30:45', '1705314645123', '1705314645123456789'),
  word,
  fc.integer({ min: -5, max: 1_705_314_645_123 }),
  fc.constantFrom(1705314645.123456, 10, 30, 50, 60, 3, 17, true, null),
  // Numbers that start like each other: a member is replayed whole only up to its delimiter.
  fc.constantFrom(4, 42, 4242, 424242, 1705314645, 17053146451),
  fc.dictionary(fc.constantFrom('level', 'x', 'msg'), word, { maxKeys: 2 }),
  fc.array(word, { maxLength: 2 }),
);
const MEMBER = fc.tuple(fc.constantFrom(...KEYS), VALUE);
// ',,' and ',\r': separators readMember accepts but the message-key peek does not.
const SEPARATORS = fc.constantFrom(',', ', ', ' ,', ',\t', ',,', ', \r');

function render(members: [string, unknown][], sep: string): string {
  return '{' + members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(sep) + '}';
}

/** How a line differs from the one before: mostly not at all, or in its values only. */
const EDIT = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'same' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('value' as const), at: fc.nat(), value: VALUE }) },
  // The same value one character longer: a whole-member replay must see where it really ends.
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('longer' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), to: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), member: MEMBER }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sep' as const), sep: SEPARATORS }) },
  // A bare quote inside the last time's digits: broken JSON, read as the ordinary walk reads it.
  { weight: 1, arbitrary: fc.constant({ kind: 'rawquote' as const }) },
  // A blank after a colon where the line before had none (readMember skips it).
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pad' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), byte: fc.constantFrom(...'"\\,:{}[] 0a\n'.split('')) }),
  },
);

type Result = LineResult;

function parseAll(buf: Buffer, ranges: [number, number][], replay: boolean): Result[] {
  return readLines(ranges, (s, e, out) => parseLine(buf, s, e, out, DEFAULT_CONTEXT), forgetJson, replay);
}

describe('JSON layout replay', () => {
  it('reads every line exactly as the ordinary walk does', () => {
    let replayed = 0;
    fc.assert(
      fc.property(fc.array(MEMBER, { minLength: 1, maxLength: 8 }), SEPARATORS, fc.array(EDIT, { minLength: 1, maxLength: 12 }), (first, sep0, edits) => {
        let members: [string, unknown][] = first;
        let sep = sep0;
        const lines: string[] = [render(members, sep)];
        for (const edit of edits) {
          members = [...members];
          const at = (n: number): number => n % Math.max(1, members.length);
          if (edit.kind === 'value' && members.length > 0) members[at(edit.at)] = [members[at(edit.at)]![0], edit.value];
          else if (edit.kind === 'longer' && members.length > 0) {
            const [k, v] = members[at(edit.at)]!;
            members[at(edit.at)] = [k, typeof v === 'number' ? Number(`${v}7`) : typeof v === 'string' ? `${v}7` : v === true ? 'truer' : v];
          } else if (edit.kind === 'swap' && members.length > 1) [members[at(edit.at)], members[at(edit.to)]] = [members[at(edit.to)]!, members[at(edit.at)]!];
          else if (edit.kind === 'drop' && members.length > 1) members.splice(at(edit.at), 1);
          else if (edit.kind === 'insert') members.splice(edit.at % (members.length + 1), 0, edit.member);
          else if (edit.kind === 'sep') sep = edit.sep;
          let line = render(members, sep);
          if (edit.kind === 'rawquote') {
            const i = line.lastIndexOf('.');
            if (i >= 0) line = line.slice(0, i) + '"' + line.slice(i + 1);
          }
          if (edit.kind === 'pad') {
            const colons = [...line.matchAll(/:/g)].map((m) => m.index);
            const i = colons[edit.at % Math.max(1, colons.length)];
            if (i !== undefined) line = line.slice(0, i + 1) + ' ' + line.slice(i + 1);
          }
          if (edit.kind === 'byte') {
            const i = edit.at % line.length;
            line = line.slice(0, i) + edit.byte + line.slice(i + 1);
          }
          lines.push(...line.split('\n'));
        }
        const buf = Buffer.from(lines.join('\n') + '\n');
        const ranges: [number, number][] = [];
        for (let pos = 0; pos < buf.length; ) {
          const nl = buf.indexOf(10, pos);
          if (nl > pos) ranges.push([pos, nl]);
          pos = nl + 1;
        }
        const fast = parseAll(buf, ranges, true);
        if (jsonLayoutSize() > 0) replayed++;
        expect(fast).toEqual(parseAll(buf, ranges, false));
      }),
      { numRuns: 2000 },
    );
    // The replay ran: most runs ended with a layout learned (a test that never replays proves nothing).
    expect(replayed).toBeGreaterThan(1300);
  });

  it('takes no level from an unnamed field read backwards (issue 10: a trailing "pid":3 was ERROR)', () => {
    const out = newLineOut();
    for (const line of ['{"time":"2024-01-15T10:30:45Z","msg":"x","pid":3}', '{"time":"2024-01-15T10:30:45Z","msg":"x","name":"error"}']) {
      const buf = Buffer.from(line);
      expect(parseLine(buf, 0, buf.length, out, DEFAULT_CONTEXT)).toBe(ENTRY);
      expect(out.tag).toBe(TAG_NONE);
    }
    const buf = Buffer.from('{"msg":"x","pid":3,"level":"warn","time":"2024-01-15T10:30:45Z"}');
    expect(parseLine(buf, 0, buf.length, out, DEFAULT_CONTEXT)).toBe(ENTRY);
    expect(out.tag).toBe(TAG_WARN);
  });
});

describe("Docker json-file tail replay", () => {
  it('reads every record exactly as the ordinary backward read does', () => {
    const TIMES = fc.constantFrom('2024-01-15T10:30:45.123456789Z', '2024-01-15T10:30:46.000000001Z', '2024-01-15T10:30:45.1Z', '2024-01-15T10:30:45"123456789Z', 'x', '');
    const RECORD = fc.tuple(
      fc.constantFrom('[ERROR] failed\\n', 'partial', 'a\\"b\\n', '","stream":"stdout', ''),
      fc.constantFrom('stdout', 'stderr', 'std"ut', 'out'),
      TIMES,
      fc.constantFrom('', ',"attrs":{}', ' '),
      fc.option(fc.tuple(fc.nat(), fc.constantFrom(...'"\\,:{} 0'.split('')))),
    ).map(([log, stream, time, extra, mutation]) => {
      let line = `{"log":"${log}","stream":"${stream}","time":"${time}"${extra}}`;
      if (mutation !== null) {
        const i = mutation[0] % line.length;
        line = line.slice(0, i) + mutation[1] + line.slice(i + 1);
      }
      return line;
    });
    fc.assert(
      fc.property(fc.array(RECORD, { minLength: 1, maxLength: 12 }), (lines) => {
        const buf = Buffer.from(lines.join('\n'));
        const ranges = joinedRanges(lines);
        const read = (replay: boolean): Result[] =>
          readLines(ranges, (a, e, out) => dockerFormat.parseLine(buf, a, e, out, DEFAULT_CONTEXT), forgetDocker, replay, true);
        expect(read(true)).toEqual(read(false));
      }),
      { numRuns: 1500 },
    );
  });
});
