import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAME_BYTES, readFrame, TYPE_BATCH } from '../../src/wal/frame.js';
import { decodeBatch, decodeSeal, decodeSource, encodeBatch, encodeSeal, encodeSource } from '../../src/wal/record-codec.js';
import type { SourceFields, WalBatch } from '../../src/wal/types.js';
import { expected, makeBatch, plain, strip } from '../helpers/wal.js';

/** Concatenates a record's parts the way writev lays them out, in a fresh aligned buffer. */
function bytesOf(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(new ArrayBuffer(total));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const u53 = fc.maxSafeNat();
const u32 = fc.nat({ max: 0xffff_ffff });

const batchArb: fc.Arbitrary<WalBatch> = fc
  .record({
    raw: fc.uint8Array({ maxLength: 600 }),
    n: fc.nat({ max: 40 }),
    sourceId: u32,
    dev: u53, ino: u53, byteStart: u53, firstLine: u53,
    lines: u32, parseErrors: u32,
    tags: fc.array(fc.string({ maxLength: 12, unit: 'grapheme' }), { maxLength: 4 }),
    at: fc.array(u32, { maxLength: 6 }),
    seed: fc.nat(),
  })
  .chain((r) =>
    fc.record({
      ts: fc.array(fc.double({ noNaN: true }), { minLength: r.n, maxLength: r.n }),
      meta: fc.uint8Array({ minLength: r.n, maxLength: r.n }),
      line: fc.array(u32, { minLength: r.n, maxLength: r.n }),
      bodies: fc.array(fc.tuple(fc.nat({ max: r.raw.length }), fc.nat({ max: r.raw.length })), { minLength: r.n, maxLength: r.n }),
    }).map((c): WalBatch => ({
      sourceId: r.sourceId,
      file: { dev: r.dev, ino: r.ino },
      byteStart: r.byteStart,
      byteEnd: Math.min(Number.MAX_SAFE_INTEGER, r.byteStart + r.raw.length),
      firstLine: r.firstLine,
      lines: r.lines,
      parseErrors: r.parseErrors,
      count: r.n,
      ts: Float64Array.from(c.ts),
      meta: c.meta,
      line: Uint32Array.from(c.line),
      bodyStart: Uint32Array.from(c.bodies.map(([a, b]) => Math.min(a, b))),
      bodyEnd: Uint32Array.from(c.bodies.map(([a, b]) => Math.max(a, b))),
      customTags: r.tags,
      customTagAt: r.at,
      raw: r.raw,
    })),
  );

describe('record codec', () => {
  it('decode(encode(batch)) gives the batch back, for random batches', () => {
    fc.assert(
      fc.property(batchArb, fc.nat({ max: 2 ** 40 }), (batch, pos) => {
        const enc = encodeBatch(batch);
        const bytes = bytesOf(enc.parts);
        expect(bytes.length).toBe(enc.bytes);
        expect(bytes.length % 8).toBe(0);
        const frame = readFrame(bytes, 0)!;
        expect(frame).not.toBeNull();
        expect(frame.type).toBe(TYPE_BATCH);
        expect(frame.recordBytes).toBe(bytes.length);
        const meta = bytes.subarray(FRAME_BYTES, FRAME_BYTES + frame.metaLen);
        const raw = bytes.subarray(FRAME_BYTES + frame.metaLen, FRAME_BYTES + frame.metaLen + frame.rawLen);
        const rec = decodeBatch(meta, frame, pos, raw);
        expect(rec.rawPos).toBe(pos + FRAME_BYTES + enc.metaLen);
        expect(rec.end).toBe(pos + enc.bytes);
        expect(strip(plain(rec))).toEqual(expected(batch));
        expect(Buffer.from(rec.raw!).equals(Buffer.from(batch.raw))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('decode(encode(source)) gives the source record back', () => {
    const arb = fc.record({
      sourceId: u32,
      reason: fc.constantFrom('register', 'preamble', 'rotated', 'truncated', 'files' as const),
      name: fc.string({ unit: 'grapheme', maxLength: 30 }),
      path: fc.string({ unit: 'grapheme', maxLength: 80 }),
      position: fc.option(fc.record({ file: fc.record({ dev: u53, ino: u53 }), offset: u53, nextLine: u53 }), { nil: null }),
      // null: a record without a list (version 1); [] and longer lists: version 2.
      files: fc.option(
        fc.array(
          fc.record({
            file: fc.record({ dev: u53, ino: u53 }), offset: u53, nextLine: u53, size: u53, headLen: u32, headCrc: u32,
            gzip: fc.boolean(), done: fc.boolean(),
          }),
          { maxLength: 6 },
        ),
        { nil: null },
      ),
      registeredAt: u53,
    });
    fc.assert(
      fc.property(arb, (s: SourceFields) => {
        const bytes = bytesOf(encodeSource(s).parts);
        const frame = readFrame(bytes, 0)!;
        const rec = decodeSource(bytes.subarray(FRAME_BYTES, FRAME_BYTES + frame.metaLen), frame, 64);
        expect({ ...rec }).toEqual({ ...s, type: 'source', pos: 64, end: 64 + bytes.length });
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips seal trailers', () => {
    const seal = { records: 7, corrupt: 1, entries: 12_345, minTs: 1.5, maxTs: 1e15 + 3, end: 2 ** 40 + 96 };
    const bytes = bytesOf(encodeSeal(seal).parts);
    expect(bytes.length).toBe(96);
    expect(decodeSeal(bytes.subarray(FRAME_BYTES))).toEqual(seal);
  });

  it('rejects a batch whose body lies outside the raw chunk', () => {
    const b = makeBatch({ entries: 3 });
    b.bodyEnd[1] = b.raw.length + 1;
    expect(() => encodeBatch(b)).toThrow(expect.objectContaining({ code: 'WAL_BAD_BATCH' }));
    const c = makeBatch({ entries: 3 });
    c.bodyStart[2] = c.bodyEnd[2]! + 1;
    expect(() => encodeBatch(c)).toThrow(/entry 2/);
  });

  it('writes columns as views of the caller arrays, not copies', () => {
    const b = makeBatch({ entries: 5 });
    const parts = encodeBatch(b).parts;
    expect(parts.some((p) => p.buffer === b.ts.buffer)).toBe(true);
    expect(parts.some((p) => p.buffer === b.raw.buffer && p.length === b.raw.length)).toBe(true);
  });

  it('a frame with any single flipped bit is not trusted', () => {
    const bytes = bytesOf(encodeBatch(makeBatch({ entries: 2 })).parts);
    for (let bit = 0; bit < FRAME_BYTES * 8; bit++) {
      const copy = bytes.slice();
      copy[bit >> 3]! ^= 1 << (bit & 7);
      expect(readFrame(copy, 0), `bit ${bit}`).toBeNull();
    }
  });
});
