/**
 * Issue 14: the incident view's pure parts. inert() leaves no invisible or reordering
 * character in what it returns; the histogram plan always fits log_histogram's limits and
 * covers the incident window; bucket arithmetic agrees with the tool's bucket starts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inert } from '../../src/view/inert.js';
import { bucketMiddleMs, bucketOf, type HistogramResult, parseMoment, planHistogram, WINDOW_AFTER_S } from '../../src/view/model.js';

const HIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\u{e0000}-\u{e007f}]/u;

describe('inert', () => {
  it('turns control, bidi, zero-width and tag characters into visible escapes', () => {
    expect(inert('a\u202eb\u2066c\u2069\u200bd\u001b[31m\ttab')).toBe('a\\u202eb\\u2066c\\u2069\\u200bd\\u001b[31m\ttab');
    expect(inert('x\u{e0041}y')).toBe('x\\u{e0041}y');
    expect(inert('<script>alert(1)</script> ünïcødé 日本 🙂')).toBe('<script>alert(1)</script> ünïcødé 日本 🙂');
  });

  it('never returns a hidden character, and changes nothing else', () => {
    // Any code point (surrogates excluded), with the dangerous ones drawn often.
    const anyChar = fc.integer({ min: 0, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCodePoint(c));
    const ch = fc.oneof(fc.constantFrom('\u202e', '\u2066', '\u200b', '\u001b', '\n', '\u2028', '\ufeff', '\u{e0020}', '\t', 'a', '\\'), anyChar);
    fc.assert(
      fc.property(fc.array(ch, { maxLength: 40 }), (parts) => {
        const s = parts.join('');
        const out = inert(s);
        expect(HIDDEN.test(out)).toBe(false);
        if (!HIDDEN.test(s)) expect(out).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});

describe('histogram plan', () => {
  it('fits the 240-bucket limit and shows the whole window with as much again before it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 21_600 }), (windowS) => {
        const p = planHistogram(windowS);
        expect(p.buckets_before + p.buckets_after + 1).toBeLessThanOrEqual(240);
        expect(p.buckets_before * p.bucket_s).toBeGreaterThanOrEqual(windowS);
        expect((p.buckets_after + 1) * p.bucket_s).toBeGreaterThanOrEqual(WINDOW_AFTER_S);
        expect(p.bucket_s).toBeGreaterThanOrEqual(1);
        expect(p.bucket_s).toBeLessThanOrEqual(86_400);
      }),
    );
  });

  it('maps a moment to its bucket and a bucket to its middle', () => {
    const h = { bucket_s: 15, buckets: [0, 1, 2, 3].map((i) => ({ start: new Date(Date.UTC(2024, 0, 15, 10, 0, i * 15)).toISOString(), total: 0 })) } as HistogramResult;
    const t0 = Date.UTC(2024, 0, 15, 10, 0, 0);
    expect(bucketOf(h, t0)).toBe(0);
    expect(bucketOf(h, t0 + 14_999)).toBe(0);
    expect(bucketOf(h, t0 + 15_000)).toBe(1);
    expect(bucketOf(h, t0 + 60_000)).toBe(-1);
    expect(bucketOf(h, t0 - 1)).toBe(-1);
    expect(bucketMiddleMs(h, 2)).toBe(t0 + 37_500);
  });

  it('reads T as ISO 8601 with a zone or epoch ms, and refuses a time without a zone', () => {
    expect(parseMoment('2024-01-15T10:30:40Z')).toBe(Date.UTC(2024, 0, 15, 10, 30, 40));
    expect(parseMoment('2024-01-15T12:30:40+02:00')).toBe(Date.UTC(2024, 0, 15, 10, 30, 40));
    expect(parseMoment('1705314640000')).toBe(1705314640000);
    expect(parseMoment('2024-01-15T10:30:40')).toBeNull();
    expect(parseMoment('soon')).toBeNull();
  });
});
