/**
 * Every format against its fixture (issue 10): exact timestamps to the microsecond, levels,
 * line numbers, entry boundaries and bodies, malformed lines counted, detection picking the
 * format, and the same entries whatever chunk cuts the reader makes at entry starts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXPECTED, FIXTURE_MTIME, FIXTURE_TIMEZONE } from '../fixtures/formats/expected.js';
import { builtinFormats, detect, getFormat } from '../../src/parse/formats.js';
import { LEVEL_NAMES } from '../../src/parse/levels.js';
import { metaPrecision, metaTag } from '../../src/parse/meta.js';
import type { ParsedChunk } from '../../src/parse/parsed-chunk.js';

const OPTIONS = { timezone: FIXTURE_TIMEZONE, mtimeMs: FIXTURE_MTIME };

export function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/formats/${name}.log`, import.meta.url));
}

/** Epoch microseconds and fractional digits of an expected ISO string, without the parser under test. */
function expectedUs(iso: string): { us: number; precision: number } {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (m === null) throw new Error(`bad expectation ${iso}`);
  const frac = m[2] ?? '';
  return { us: Date.parse(m[1] + 'Z') * 1000 + Number(frac.padEnd(6, '0') || '0'), precision: frac.length };
}

function tagName(p: ParsedChunk, meta: number): string {
  const t = metaTag(meta);
  return t < 6 ? LEVEL_NAMES[t]! : t === 6 ? 'NONE' : p.customTags[t - 7]!;
}

interface Row { line: number; us: number; precision: number; tag: string; body: string }

function rows(buf: Buffer, p: ParsedChunk, lineBase = 0): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < p.count; i++) {
    out.push({
      line: lineBase + p.line[i]! + 1, us: p.ts[i]!, precision: metaPrecision(p.meta[i]!), tag: tagName(p, p.meta[i]!),
      body: buf.subarray(p.bodyStart[i]!, p.bodyEnd[i]!).toString('utf8'),
    });
    expect(Number.isFinite(p.ts[i])).toBe(true);
  }
  return out;
}

const NAMES = Object.keys(EXPECTED);

describe('format fixtures', () => {
  it('every built-in format has a fixture and an expectation', () => {
    expect(NAMES.sort()).toEqual(builtinFormats().map((f) => f.name).sort());
    expect(NAMES.length).toBeGreaterThanOrEqual(25);
  });

  for (const name of NAMES) {
    describe(name, () => {
      const buf = fixture(name);
      const format = getFormat(name)!;
      const want = EXPECTED[name]!;

      it('parses to the expected entries, timestamps to the microsecond', () => {
        const p = format.parseChunk(buf, OPTIONS);
        const got = rows(buf, p);
        const expected = want.entries.map(([line, ts, tag, body]) => ({ line, ...expectedUs(ts), tag, body }));
        expect(got).toEqual(expected);
        expect(p.errorSamples.map((e) => e.line + 1)).toEqual(want.errors);
        expect(p.errors).toBe(want.errors.length);
        expect(p.lines).toBe(buf.toString('latin1').split('\n').length - 1);
      });

      it('is the format detection picks', () => {
        expect(detect(buf)?.format.name).toBe(name);
      });

      it('gives the same entries when the reader cuts the file at any entry start', () => {
        const whole = rows(buf, format.parseChunk(buf, OPTIONS));
        const starts: number[] = [];
        for (let pos = 0; pos < buf.length; pos = buf.indexOf(10, pos) + 1) {
          if (pos > 0 && format.isEntryStart(buf, pos, buf.length) === true) starts.push(pos);
          if (buf.indexOf(10, pos) < 0) break;
        }
        expect(starts.length).toBe(whole.length - (format.isEntryStart(buf, 0, buf.length) === true ? 1 : 0));
        const pieces: Row[] = [];
        let from = 0;
        let line = 0;
        for (const cut of [...starts, buf.length]) {
          const piece = buf.subarray(from, cut);
          const p = format.parseChunk(piece, OPTIONS);
          pieces.push(...rows(piece, p, line));
          line += p.lines;
          from = cut;
        }
        expect(pieces).toEqual(whole);
      });
    });
  }
});
