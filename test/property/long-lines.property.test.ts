/**
 * LineLimiter (issue 15, item 1) against a brute-force reference: whatever the line lengths
 * and however the file is cut into reads, what is handed out is every line cut to the limit
 * (its newline kept), and the byte ranges handed out tile the file exactly.
 */
import type { FileHandle } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineLimiter } from '../../src/ingest/long-lines.js';
import { lastLineEnd } from '../../src/ingest/chunk-cut.js';

/** A follower reduced to the limiter's part: read in pieces, hand out complete lines. */
async function follow(file: Buffer, max: number, reads: number[]): Promise<{ out: Buffer; spans: number; longLines: number; skipped: number }> {
  let longLines = 0;
  let skipped = 0;
  const lim = new LineLimiter(max, (bytes, newLine) => {
    if (newLine) longLines++;
    skipped += bytes;
  });
  const fd = { read: async (buf: Buffer, off: number, len: number, pos: number) => ({ bytesRead: file.copy(buf, off, pos, Math.min(file.length, pos + len)) }) } as unknown as FileHandle;
  let position = 0;
  let held = Buffer.alloc(0);
  const out: Buffer[] = [];
  let k = 0;
  const emit = (cut: number): void => {
    out.push(held.subarray(0, cut));
    position += lim.span(cut);
    lim.consume(cut);
    held = held.subarray(cut);
  };
  for (;;) {
    const from = position + held.length + lim.elided;
    if (from >= file.length) break;
    if (lim.skipping) {
      await lim.skipRest(fd, from, Math.min(file.length, from + (reads[k++ % reads.length] ?? 1)));
      continue;
    }
    const want = Math.min(file.length - from, reads[k++ % reads.length] ?? 1);
    const buf = Buffer.alloc(held.length + want);
    held.copy(buf, 0);
    file.copy(buf, held.length, from, from + want);
    const total = lim.trim(buf, lastLineEnd(held, held.length), held.length + want);
    held = buf.subarray(0, total);
    const cut = lastLineEnd(held, held.length);
    if (cut > 0) emit(cut);
  }
  if (held.length > 0) emit(held.length);
  return { out: Buffer.concat(out), spans: position, longLines, skipped };
}

describe('LineLimiter', () => {
  it('hands out every line cut to the limit, and byte ranges that tile the file', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
        async (max, lengths, terminated, reads) => {
          const lines = lengths.map((n, i) => String.fromCharCode(97 + (i % 26)).repeat(n));
          const file = Buffer.from(lines.join('\n') + (terminated ? '\n' : ''));
          const expected = lines.map((l, i) => l.slice(0, max) + (i < lines.length - 1 || terminated ? '\n' : '')).join('');
          const got = await follow(file, max, reads);
          expect(got.out.toString()).toBe(expected);
          expect(got.spans).toBe(file.length);
          expect(got.longLines).toBe(lines.filter((l) => l.length > max).length);
          expect(got.skipped).toBe(lines.reduce((n, l) => n + Math.max(0, l.length - max), 0));
        },
      ),
      { numRuns: 500 },
    );
  });
});
