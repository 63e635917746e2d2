/**
 * The agent's RowBinary encoder (src/store/clickhouse/row-binary.ts) against an independent
 * reader: LEB128 lengths, Int64/UInt64 read back through BigInt (negative timestamps, values
 * past 2^32 and up to 2^53), bodies on both sides of the short-copy threshold, every tag id,
 * several records into one writer that starts too small to hold them (growth keeps the rows).
 * ClickHouse's own reading of these bytes is checked by the equality tests (integration).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIRST_CUSTOM_TAG, LEVEL_NAMES, TAG_NONE, TAG_OTHER } from '../../src/parse/levels.js';
import { encodedString, RowBinaryWriter, writeBatch } from '../../src/store/clickhouse/row-binary.js';
import type { BatchRecord } from '../../src/wal/types.js';

interface Row {
  source: string;
  ts: bigint;
  seq: bigint;
  line: bigint;
  tag: string;
  precision: number;
  body: string;
}

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let n = 0;
    let shift = 1;
    for (;;) {
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * shift;
      if (b < 0x80) return n;
      shift *= 128;
    }
  }
  string(): string {
    const n = this.varint();
    const s = Buffer.from(this.buf.subarray(this.pos, this.pos + n)).toString('latin1');
    this.pos += n;
    return s;
  }
  int64(): bigint {
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }
  uint64(): bigint {
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  row(): Row {
    return { source: this.string(), ts: this.int64(), seq: this.uint64(), line: this.uint64(), tag: this.string(), precision: this.buf[this.pos++]!, body: this.string() };
  }
}

const safeInt = fc.oneof(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(-1, 0, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53) + 1));

const recordArb = fc
  .record({
    bodies: fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 0, maxLength: 30 }),
    customTags: fc.array(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 3 }),
    rawPos: fc.nat({ max: 2 ** 40 }),
    firstLine: fc.nat({ max: 2 ** 40 }),
  })
  .chain((r) =>
    fc.record({
      ts: fc.array(safeInt, { minLength: r.bodies.length, maxLength: r.bodies.length }),
      meta: fc.array(fc.nat({ max: 255 }), { minLength: r.bodies.length, maxLength: r.bodies.length }),
      line: fc.array(fc.nat({ max: 0xffff_ffff }), { minLength: r.bodies.length, maxLength: r.bodies.length }),
      gaps: fc.array(fc.nat({ max: 3 }), { minLength: r.bodies.length, maxLength: r.bodies.length }),
    }).map((c) => {
      // Bodies laid out in one raw block with gaps (newlines, cut text) between them.
      const parts: Uint8Array[] = [];
      const bodyStart: number[] = [];
      const bodyEnd: number[] = [];
      let pos = 0;
      r.bodies.forEach((b, i) => {
        parts.push(new Uint8Array(c.gaps[i]!).fill(10));
        pos += c.gaps[i]!;
        bodyStart.push(pos);
        parts.push(b);
        pos += b.length;
        bodyEnd.push(pos);
      });
      const raw = Buffer.concat(parts);
      const rec = {
        type: 'batch', pos: 0, end: 0, rawPos: r.rawPos, rawLen: raw.length, sourceId: 1, file: { dev: 0, ino: 0 },
        byteStart: 0, byteEnd: raw.length, firstLine: r.firstLine, lines: r.bodies.length, count: r.bodies.length, parseErrors: 0,
        ts: Float64Array.from(c.ts), meta: Uint8Array.from(c.meta), line: Uint32Array.from(c.line),
        bodyStart: Uint32Array.from(bodyStart), bodyEnd: Uint32Array.from(bodyEnd),
        customTags: r.customTags, customTagAt: [], raw: new Uint8Array(raw),
      } as unknown as BatchRecord;
      return rec;
    }),
  );

function tagName(rec: BatchRecord, id: number): string {
  if (id < LEVEL_NAMES.length) return LEVEL_NAMES[id]!;
  if (id === TAG_NONE) return 'NONE';
  if (id >= FIRST_CUSTOM_TAG && id < TAG_OTHER && rec.customTags[id - FIRST_CUSTOM_TAG] !== undefined) return rec.customTags[id - FIRST_CUSTOM_TAG]!.toUpperCase();
  return 'OTHER';
}

describe('RowBinary encoder', () => {
  it('writes every column of every row as an independent reader reads it back', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 4 }), fc.string({ maxLength: 40 }), fc.nat({ max: 2 ** 45 }), (recs, source, seqBase) => {
        const w = new RowBinaryWriter(16);
        const expected: Row[] = [];
        for (const rec of recs) {
          writeBatch(w, rec, encodedString(source), seqBase);
          for (let i = 0; i < rec.count; i++) {
            expected.push({
              source: Buffer.from(source).toString('latin1'),
              ts: BigInt(rec.ts[i]!),
              seq: BigInt(seqBase + rec.rawPos + rec.bodyStart[i]!),
              line: BigInt(rec.firstLine + rec.line[i]!),
              tag: Buffer.from(tagName(rec, rec.meta[i]! & 0x1f)).toString('latin1'),
              precision: rec.meta[i]! >>> 5,
              body: Buffer.from(rec.raw!.subarray(rec.bodyStart[i]!, rec.bodyEnd[i]!)).toString('latin1'),
            });
          }
        }
        const r = new Reader(w.view());
        const got: Row[] = [];
        while (!r.done) got.push(r.row());
        expect(r.pos).toBe(w.length);
        expect(w.rows).toBe(expected.length);
        expect(got).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('reaches the long-body path and two-byte lengths', () => {
    // The generator's bodies go to 300 bytes; make sure the native-copy branch (>= 48 bytes)
    // and a two-byte LEB128 length (>= 128) are exercised by a fixed case too.
    const body = Buffer.alloc(200, 0x61);
    const rec = {
      type: 'batch', pos: 0, end: 0, rawPos: 5, rawLen: 200, sourceId: 1, file: { dev: 0, ino: 0 }, byteStart: 0, byteEnd: 200,
      firstLine: 1, lines: 1, count: 1, parseErrors: 0, ts: Float64Array.of(-5), meta: Uint8Array.of((3 << 5) | 4), line: Uint32Array.of(0),
      bodyStart: Uint32Array.of(0), bodyEnd: Uint32Array.of(200), customTags: [], customTagAt: [], raw: new Uint8Array(body),
    } as unknown as BatchRecord;
    const w = new RowBinaryWriter(1);
    writeBatch(w, rec, encodedString('a/b'), 10);
    const row = new Reader(w.view()).row();
    expect(row).toEqual({ source: 'a/b', ts: -5n, seq: 15n, line: 1n, tag: 'ERROR', precision: 3, body: body.toString('latin1') });
  });
});
