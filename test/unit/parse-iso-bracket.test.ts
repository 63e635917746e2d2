/**
 * The byte parser of the original format (issue 2, item 2): bytes in, columns out, never
 * fatal. Each case builds the raw bytes by hand so the exact offsets can be checked.
 */
import { describe, expect, it } from 'vitest';
import { isoBracketFormat, parseIsoBracketChunk } from '../../src/parse/iso-bracket.js';
import {
  FIRST_CUSTOM_TAG, TAG_DEBUG, TAG_ERROR, TAG_FATAL, TAG_INFO, TAG_NONE, TAG_TRACE, TAG_WARN,
} from '../../src/parse/levels.js';
import { metaPrecision, metaTag } from '../../src/parse/meta.js';
import { MAX_ERROR_SAMPLES, type ParsedChunk } from '../../src/parse/parsed-chunk.js';

interface Row {
  us: number;
  tag: number;
  precision: number;
  line: number;
  body: Buffer;
}

function rows(buf: Buffer, p: ParsedChunk): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < p.count; i++) {
    out.push({
      us: p.ts[i]!,
      tag: metaTag(p.meta[i]!),
      precision: metaPrecision(p.meta[i]!),
      line: p.line[i]!,
      body: buf.subarray(p.bodyStart[i]!, p.bodyEnd[i]!),
    });
  }
  return out;
}

function parse(text: string | Buffer, timezone = 'UTC'): { p: ParsedChunk; r: Row[] } {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const p = parseIsoBracketChunk(buf, { timezone });
  return { p, r: rows(buf, p) };
}

/** Epoch microseconds of an ISO string Date.parse understands (ms precision). */
const us = (iso: string): number => Date.parse(iso) * 1000;

describe('parseIsoBracketChunk: bytes that are not clean ASCII', () => {
  it('keeps invalid UTF-8 bytes in the body untouched and does not count them as errors', () => {
    const buf = Buffer.concat([
      Buffer.from('2024-01-15T10:30:45.123Z [ERROR] bad '),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]),
      Buffer.from(' end\n2024-01-15T10:30:46.000Z [INFO] next\n'),
    ]);
    const { p, r } = parse(buf);
    expect(p.count).toBe(2);
    expect(p.errors).toBe(0);
    expect(r[0]!.body).toEqual(Buffer.concat([Buffer.from('bad '), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]), Buffer.from(' end')]));
    expect(r[1]!.body.toString()).toBe('next');
  });

  it('keeps NUL bytes in bodies, and a line of NULs continues the entry above', () => {
    const buf = Buffer.concat([
      Buffer.from('2024-01-15T10:30:45.123Z [WARN] a\0b\n'),
      Buffer.from([0, 0, 0, 10]),
      Buffer.from('2024-01-15T10:30:45.124Z [INFO] c\n'),
    ]);
    const { p, r } = parse(buf);
    expect(p.count).toBe(2);
    expect(p.lines).toBe(3);
    expect(p.errors).toBe(0);
    expect(r[0]!.tag).toBe(TAG_WARN);
    expect(r[0]!.body).toEqual(Buffer.from('a\0b\n\0\0\0'));
    expect(r[1]!.line).toBe(2);
  });

  it('a timestamp glued to a NUL is not an entry start: counted, kept as a continuation', () => {
    const { p, r } = parse('2024-01-15T10:30:45.123Z [INFO] a\n2024-01-15T10:30:46.000Z\0[INFO] b\n');
    expect(p.count).toBe(1);
    expect(p.errors).toBe(1);
    expect(r[0]!.body.toString()).toBe('a\n2024-01-15T10:30:46.000Z\0[INFO] b');
  });

  it('strips CR of CRLF line ends from bodies, also on continuation lines and at end of chunk', () => {
    const { p, r } = parse(
      '2024-01-15T10:30:45.123Z [INFO] one\r\n' +
        '2024-01-15T10:30:46.000Z [ERROR] two\r\n    at x\r\n    at y\r\n' +
        '2024-01-15T10:30:47.000Z [INFO] three\r\n\r\n' +
        '2024-01-15T10:30:48.000Z INFO four\r',
    );
    expect(p.errors).toBe(0);
    expect(p.lines).toBe(7);
    expect(r.map((x) => x.body.toString())).toEqual(['one', 'two\r\n    at x\r\n    at y', 'three', 'four']);
    expect(r.map((x) => x.line)).toEqual([0, 1, 4, 6]);
    for (const x of r) expect(x.body[x.body.length - 1]).not.toBe(13);
  });

  it('parses a 1 MiB line and the lines around it', () => {
    const big = 'x'.repeat(1 << 20);
    const { p, r } = parse(`2024-01-15T10:30:45.000Z [INFO] before\n2024-01-15T10:30:45.500Z [DEBUG] ${big}\n2024-01-15T10:30:46.000Z [INFO] after\n`);
    expect(p.count).toBe(3);
    expect(r[1]!.tag).toBe(TAG_DEBUG);
    expect(r[1]!.body.length).toBe(1 << 20);
    expect(r[1]!.body.every((c) => c === 120)).toBe(true);
    expect(r[2]!.body.toString()).toBe('after');
    expect(r[2]!.line).toBe(2);
  });

  it('a 1 MiB line with no timestamp at the start of a chunk is one error with a short sample', () => {
    const { p } = parse('y'.repeat(1 << 20) + '\n');
    expect(p.count).toBe(0);
    expect(p.errors).toBe(1);
    expect(p.errorSamples[0]!.text.length).toBeLessThanOrEqual(200);
  });
});

describe('parseIsoBracketChunk: structure', () => {
  it('an empty chunk, and a chunk of blank lines, give nothing and no errors', () => {
    const empty = parse(Buffer.alloc(0)).p;
    expect(empty).toMatchObject({ count: 0, lines: 0, errors: 0 });
    expect(empty.ts.length).toBe(0);
    const blank = parse('\n\n\r\n').p;
    expect(blank).toMatchObject({ count: 0, lines: 3, errors: 0 });
  });

  it('continuation lines before the first entry are counted as errors with samples, not fatal', () => {
    const head = Array.from({ length: 8 }, (_, i) => `    at frame${i} (/srv/a.js:${i}:1)`).join('\n');
    const { p, r } = parse(`${head}\n2024-01-15T10:30:45.000Z [INFO] first real entry\n    at tail\n`);
    expect(p.count).toBe(1);
    expect(p.errors).toBe(8);
    expect(p.errorSamples.length).toBe(MAX_ERROR_SAMPLES);
    expect(p.errorSamples[0]).toEqual({ line: 0, reason: 'no timestamp and no entry above it to continue', text: '    at frame0 (/srv/a.js:0:1)' });
    expect(p.errorSamples.map((s) => s.line)).toEqual([0, 1, 2, 3, 4]);
    expect(r[0]!.line).toBe(8);
    expect(r[0]!.body.toString()).toBe('first real entry\n    at tail');
  });

  it('a broken timestamp is counted and its line kept as a continuation of the entry above', () => {
    const { p, r } = parse(
      '2024-01-15T10:30:45.000Z [INFO] ok\n' +
        '2024-13-15T10:30:46.000Z [ERROR] month 13\n' +
        '2024-02-30T10:30:46.000Z [ERROR] no such day\n' +
        '2023-02-29T10:30:46.000Z [ERROR] not a leap year\n' +
        '2024-01-15T25:30:46.000Z [ERROR] hour 25\n' +
        '2024-01-15T10:30:46.0123456789Z [ERROR] ten fractional digits\n' +
        '2024-01-15T10:30:47.000Z [INFO] ok again\n',
    );
    expect(p.count).toBe(2);
    expect(p.errors).toBe(5);
    expect(p.errorSamples[0]).toEqual({
      line: 1, reason: 'invalid timestamp; kept as a continuation of the entry above', text: '2024-13-15T10:30:46.000Z [ERROR] month 13',
    });
    expect(r[0]!.body.toString().split('\n')).toHaveLength(6);
    expect(r[1]!.body.toString()).toBe('ok again');
    // A leap day in a leap year is fine.
    expect(parse('2024-02-29T00:00:00Z [INFO] leap\n').p.count).toBe(1);
  });

  it('a broken timestamp with no entry above is an error that keeps nothing', () => {
    const { p } = parse('2024-99-15T10:30:46.000Z [ERROR] x\n');
    expect(p.count).toBe(0);
    expect(p.errors).toBe(1);
    expect(p.errorSamples[0]!.reason).toBe('invalid timestamp');
  });

  it('counts a final line without newline as a line', () => {
    const { p, r } = parse('2024-01-15T10:30:45.000Z [INFO] a\n2024-01-15T10:30:46.000Z [INFO] b');
    expect(p.lines).toBe(2);
    expect(r[1]!.body.toString()).toBe('b');
  });
});

describe('parseIsoBracketChunk: timestamps', () => {
  it('accepts 0..9 fractional digits, keeps up to 6 (microseconds) and drops the rest', () => {
    const base = us('2024-01-15T10:30:45Z');
    const digits = '123456789';
    for (let n = 0; n <= 9; n++) {
      const frac = n === 0 ? '' : '.' + digits.slice(0, n);
      const { p, r } = parse(`2024-01-15T10:30:45${frac}Z [INFO] n=${n}\n`);
      expect(p.count, `digits ${n}`).toBe(1);
      const kept = Math.min(n, 6);
      const micros = kept === 0 ? 0 : Number(digits.slice(0, kept).padEnd(6, '0'));
      expect(r[0]!.us, `digits ${n}`).toBe(base + micros);
      expect(r[0]!.precision, `digits ${n}`).toBe(kept);
    }
    // A comma is accepted as the decimal separator too (ISO 8601).
    expect(parse('2024-01-15T10:30:45,5Z [INFO] comma\n').r[0]!.us).toBe(base + 500_000);
    // A dot with no digits is not a timestamp.
    expect(parse('2024-01-15T10:30:45.Z [INFO] x\n').p.count).toBe(0);
  });

  it('applies offsets in every spelling: +02:00, -0530, +05, Z, z, and a space separator', () => {
    const cases: [string, string][] = [
      ['2024-01-15T12:30:45.000+02:00', '2024-01-15T10:30:45.000Z'],
      ['2024-01-15T05:00:45.000-0530', '2024-01-15T10:30:45.000Z'],
      ['2024-01-15T15:30:45.000+05', '2024-01-15T10:30:45.000Z'],
      ['2024-01-15T00:30:45-10:00', '2024-01-15T10:30:45.000Z'],
      ['2024-01-15T10:30:45.000z', '2024-01-15T10:30:45.000Z'],
      ['2024-01-15 10:30:45.000Z', '2024-01-15T10:30:45.000Z'],
      ['2024-01-01T01:00:00+02:00', '2023-12-31T23:00:00.000Z'],
    ];
    for (const [text, utc] of cases) {
      const { p, r } = parse(`${text} [INFO] body\n`);
      expect(p.count, text).toBe(1);
      expect(r[0]!.us, text).toBe(us(utc));
      expect(r[0]!.body.toString(), text).toBe('body');
    }
  });

  it('an explicit offset wins over the timezone option', () => {
    const { r } = parse('2024-07-01T12:00:00+00:00 [INFO] x\n2024-07-01T12:00:00Z [INFO] y\n', 'Europe/Berlin');
    expect(r.map((x) => x.us)).toEqual([us('2024-07-01T12:00:00Z'), us('2024-07-01T12:00:00Z')]);
  });

  it('reads zone-less timestamps in UTC by default', () => {
    expect(parse('2024-07-01T12:00:00.250 [INFO] x\n').r[0]!.us).toBe(us('2024-07-01T12:00:00.250Z'));
  });

  it('reads zone-less timestamps in the configured zone, across both DST changes (Europe/Berlin)', () => {
    const cases: [string, string][] = [
      ['2024-03-31T00:30:00', '2024-03-30T23:30:00Z'], // CET, +1
      ['2024-03-31T01:59:59.999', '2024-03-31T00:59:59.999Z'], // last CET second
      ['2024-03-31T03:00:00', '2024-03-31T01:00:00Z'], // first CEST hour, +2
      ['2024-03-31T03:30:00.123456', '2024-03-31T01:30:00.123Z'],
      ['2024-07-01T12:00:00', '2024-07-01T10:00:00Z'],
      ['2024-10-27T01:30:00', '2024-10-26T23:30:00Z'], // still CEST
      ['2024-10-27T03:00:00', '2024-10-27T02:00:00Z'], // back to CET
      ['2024-10-27T03:30:00', '2024-10-27T02:30:00Z'],
      ['2024-12-31T23:59:59', '2024-12-31T22:59:59Z'],
    ];
    const text = cases.map(([local], i) => `${local} [INFO] case ${i}`).join('\n') + '\n';
    const { p, r } = parse(text, 'Europe/Berlin');
    expect(p.count).toBe(cases.length);
    cases.forEach(([local, utc], i) => {
      const extra = local.endsWith('.123456') ? 456 : 0;
      expect(r[i]!.us, local).toBe(us(utc) + extra);
    });
    // The repeated hour on 27 October is ambiguous; either reading is an hour apart, never more.
    const amb = parse('2024-10-27T02:30:00 [INFO] x\n', 'Europe/Berlin').r[0]!.us;
    expect([us('2024-10-27T00:30:00Z'), us('2024-10-27T01:30:00Z')]).toContain(amb);
  });

  it('reads zone-less timestamps in zones west of UTC and with half-hour offsets', () => {
    const ny = parse('2024-03-10T01:30:00 [INFO] a\n2024-03-10T03:30:00 [INFO] b\n2024-11-03T00:30:00 [INFO] c\n', 'America/New_York').r;
    expect(ny.map((x) => x.us)).toEqual([us('2024-03-10T06:30:00Z'), us('2024-03-10T07:30:00Z'), us('2024-11-03T04:30:00Z')]);
    const kolkata = parse('2024-01-15T16:00:45 [INFO] a\n', 'Asia/Kolkata').r;
    expect(kolkata[0]!.us).toBe(us('2024-01-15T10:30:45Z'));
  });
});

describe('parseIsoBracketChunk: tags', () => {
  it('normalizes level spellings in brackets, any case', () => {
    const spellings: [string, number][] = [
      ['TRACE', TAG_TRACE], ['trace', TAG_TRACE], ['DBG', TAG_DEBUG], ['Debug', TAG_DEBUG], ['INFO', TAG_INFO], ['info', TAG_INFO],
      ['NOTICE', TAG_INFO], ['WARN', TAG_WARN], ['WARNING', TAG_WARN], ['warning', TAG_WARN], ['ERR', TAG_ERROR], ['error', TAG_ERROR],
      ['SEVERE', TAG_ERROR], ['FATAL', TAG_FATAL], ['CRITICAL', TAG_FATAL], ['crit', TAG_FATAL], ['PANIC', TAG_FATAL],
    ];
    const text = spellings.map(([s], i) => `2024-01-15T10:30:45.${String(i).padStart(3, '0')}Z [${s}] body ${i}`).join('\n');
    const { p, r } = parse(text);
    expect(p.count).toBe(spellings.length);
    expect(p.customTags).toEqual([]);
    spellings.forEach(([s, tag], i) => {
      expect(r[i]!.tag, s).toBe(tag);
      expect(r[i]!.body.toString(), s).toBe(`body ${i}`);
    });
  });

  it('accepts a bare level word, with or without a colon, and leaves other words in the body', () => {
    const { r } = parse(
      '2024-01-15T10:30:45.000Z ERROR: disk full\n' +
        '2024-01-15T10:30:45.001Z WARNING low memory\n' +
        '2024-01-15T10:30:45.002Z\tinfo\tstarted\n' +
        '2024-01-15T10:30:45.003Z hello world\n' +
        '2024-01-15T10:30:45.004Z ERRORS: plural is not a level\n' +
        '2024-01-15T10:30:45.005Z\n',
    );
    expect(r.map((x) => [x.tag, x.body.toString()])).toEqual([
      [TAG_ERROR, 'disk full'],
      [TAG_WARN, 'low memory'],
      [TAG_INFO, '\tstarted'],
      [TAG_NONE, 'hello world'],
      [TAG_NONE, 'ERRORS: plural is not a level'],
      [TAG_NONE, ''],
    ]);
  });

  it('keeps custom tags as chunk-local ids with the position of their bracket', () => {
    const text = '2024-01-15T10:30:45.000Z [AUDIT] user login\n2024-01-15T10:30:45.001Z [INFO] x\n2024-01-15T10:30:45.002Z [sql] select 1\n2024-01-15T10:30:45.003Z [Audit] again\n';
    const buf = Buffer.from(text);
    const { p, r } = parse(buf);
    expect(p.customTags).toEqual(['AUDIT', 'SQL']);
    expect(r.map((x) => x.tag)).toEqual([FIRST_CUSTOM_TAG, TAG_INFO, FIRST_CUSTOM_TAG + 1, FIRST_CUSTOM_TAG]);
    expect(r[0]!.body.toString()).toBe('user login');
    const at = p.customTagAt;
    expect(at.length).toBe(6);
    for (let k = 0; k < at.length; k += 2) expect(buf[at[k + 1]!]).toBe(91);
    expect(at.filter((_, k) => k % 2 === 0)).toEqual([0, 2, 3]);
  });

  it('an empty or unclosed bracket is not a tag', () => {
    const { r } = parse('2024-01-15T10:30:45.000Z [] empty\n2024-01-15T10:30:45.001Z [never closed and far too long for a tag\n');
    expect(r.map((x) => [x.tag, x.body.toString()])).toEqual([
      [TAG_NONE, '[] empty'],
      [TAG_NONE, '[never closed and far too long for a tag'],
    ]);
  });
});

describe('isoBracketFormat.isEntryStart and detect', () => {
  it('waits for more bytes on a short unterminated line and decides on a whole one', () => {
    const partial = Buffer.from('2024-01-15T10:30:45.123Z [IN');
    expect(isoBracketFormat.isEntryStart(partial, 0, partial.length)).toBeUndefined();
    const whole = Buffer.from('2024-01-15T10:30:45.123Z [INFO] x\n');
    expect(isoBracketFormat.isEntryStart(whole, 0, whole.length)).toBe(true);
    const cont = Buffer.from('    at foo (/srv/a.js:1:1)\n');
    expect(isoBracketFormat.isEntryStart(cont, 0, cont.length)).toBe(false);
  });

  it('ignores a newline that lies past `end`', () => {
    const buf = Buffer.from('2024-01-15T10:30:45.1\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
    expect(isoBracketFormat.isEntryStart(buf, 0, 18)).toBeUndefined();
  });

  it('recognizes the format on a sample', () => {
    expect(isoBracketFormat.detect(Buffer.from('2024-01-15T10:30:45.123Z [INFO] x\n2024-01-15T10:30:46Z y\n'))).toBe(1);
    expect(isoBracketFormat.detect(Buffer.from('{"a":1}\n'))).toBe(0);
  });
});
