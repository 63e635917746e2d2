/**
 * Invariants every format keeps on any input (issue 10 item 7): no throw, no NaN, body ranges
 * inside the chunk and in order, one count per physical line, precision 0..6, a valid tag;
 * on random bytes and on real fixture lines mutated byte by byte. And detection is never
 * confident about random text or binary.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { builtinFormats, detect } from '../../src/parse/formats.js';
import { TAG_COUNT } from '../../src/parse/levels.js';
import { metaPrecision, metaTag } from '../../src/parse/meta.js';

const FORMATS = builtinFormats();
const FIXTURE_LINES: Buffer[] = FORMATS.flatMap((f) => {
  const buf = readFileSync(new URL(`../fixtures/formats/${f.name}.log`, import.meta.url));
  const lines: Buffer[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const nl = buf.indexOf(10, pos);
    const end = nl < 0 ? buf.length : nl + 1;
    lines.push(buf.subarray(pos, end));
    pos = end;
  }
  return lines;
});

function checkInvariants(buf: Buffer): void {
  const lineCount = buf.length === 0 ? 0 : buf.toString('latin1').split('\n').length - (buf[buf.length - 1] === 10 ? 1 : 0);
  for (const format of FORMATS) {
    const p = format.parseChunk(buf, { timezone: 'America/New_York', mtimeMs: 1_735_819_200_000 });
    expect(p.lines, format.name).toBe(lineCount);
    expect(p.count).toBeLessThanOrEqual(p.lines);
    let lastLine = -1;
    for (let i = 0; i < p.count; i++) {
      expect(Number.isFinite(p.ts[i]), `${format.name} ts`).toBe(true);
      expect(p.bodyStart[i]!).toBeLessThanOrEqual(p.bodyEnd[i]!);
      expect(p.bodyEnd[i]!).toBeLessThanOrEqual(buf.length);
      expect(metaPrecision(p.meta[i]!)).toBeLessThanOrEqual(6);
      expect(metaTag(p.meta[i]!)).toBeLessThan(TAG_COUNT);
      expect(p.line[i]!).toBeGreaterThan(lastLine);
      lastLine = p.line[i]!;
    }
    expect(p.errors).toBeGreaterThanOrEqual(p.errorSamples.length);
    // Entry starts agree with the parser: never throw, never claim a start the parser would not make.
    for (let pos = 0; pos < buf.length; ) {
      format.isEntryStart(buf, pos, buf.length);
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      pos = nl + 1;
    }
    format.detect(buf);
  }
}

/** A mutation of real lines: bytes replaced, inserted, deleted, lines cut or swapped. */
const mutated = fc
  .tuple(
    fc.array(fc.constantFrom(...FIXTURE_LINES), { minLength: 1, maxLength: 12 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
  )
  .map(([lines, edits]) => {
    const bytes = [...Buffer.concat(lines)];
    for (const [at, kind, value] of edits) {
      if (bytes.length === 0) break;
      const i = at % bytes.length;
      if (kind === 0) bytes[i] = value;
      else if (kind === 1) bytes.splice(i, 0, value);
      else if (kind === 2) bytes.splice(i, 1);
      else bytes.splice(i, Math.min(8, bytes.length - i));
    }
    return Buffer.from(bytes);
  });

describe('every format on hostile input', () => {
  it('random bytes: no throw, no NaN, ranges inside the chunk', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (a) => checkInvariants(Buffer.from(a))), { numRuns: 300 });
  });

  it('random text made of log-ish pieces: same invariants', () => {
    const piece = fc.constantFrom('2024-01-15', 'T10:30:45', '.123', 'Z', '+01:00', ' [', ']', ' ERROR ', '{"', '":', '"', '}', '\n', '\r\n', ' ', '\t',
      '1705314645', '123', 'Jan 15 ', 'level=', 'time=', '<11>1 ', ' stdout F ', '@4000000065a5095f', '/', ':', '\u001b[31m', 'é', '日本');
    fc.assert(fc.property(fc.array(piece, { maxLength: 60 }), (parts) => checkInvariants(Buffer.from(parts.join('')))), { numRuns: 400 });
  });

  it('real fixture lines mutated byte by byte: same invariants', () => {
    fc.assert(fc.property(mutated, (buf) => checkInvariants(buf)), { numRuns: 400 });
  });
});

describe('detection on what is not a log', () => {
  it('never picks a format for random text', () => {
    const words = fc.array(fc.stringMatching(/^[a-zA-Z,.;:!?'()-]{1,12}$/), { minLength: 1, maxLength: 14 }).map((w) => w.join(' '));
    fc.assert(fc.property(fc.array(words, { minLength: 1, maxLength: 60 }), (lines) => {
      expect(detect(Buffer.from(lines.join('\n') + '\n'))).toBeNull();
    }), { numRuns: 200 });
  });

  it('never picks a format for binary data', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 64, maxLength: 4096 }), fc.nat(), (a, at) => {
      const buf = Buffer.from(a);
      buf[at % buf.length] = 0; // binary: at least one NUL
      expect(detect(buf)).toBeNull();
    }), { numRuns: 200 });
  });

  it('does not pick a format when a log line or two sit in a page of prose', () => {
    const prose = Array.from({ length: 20 }, (_, i) => `This is line ${i} of a README that mentions logs.`);
    prose.splice(5, 0, '2024-01-15T10:30:45.123Z [ERROR] an example line in the docs');
    expect(detect(Buffer.from(prose.join('\n') + '\n'))).toBeNull();
  });
});
