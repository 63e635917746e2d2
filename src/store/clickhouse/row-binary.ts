/**
 * RowBinary rows of log_entries (SCHEMA.md column order) written straight from a WAL batch
 * record's columns and raw block: no per-row object, no string for the body (its bytes are
 * copied from the raw block). Strings are a LEB128 length and the bytes; integers little-endian.
 */
import { FIRST_CUSTOM_TAG, LEVEL_NAMES, TAG_NONE, TAG_OTHER, TAG_MASK, metaPrecision } from '../../parse/index.js';
import type { BatchRecord } from '../../wal/index.js';

const TWO_32 = 4294967296;

export class RowBinaryWriter {
  private buf: Buffer;
  private pos = 0;
  rows = 0;

  constructor(capacity = 1 << 20) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  get length(): number {
    return this.pos;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  /** A string column from bytes. */
  bytes(b: Uint8Array, start = 0, end = b.length): void {
    this.room(10 + end - start);
    this.varint(end - start);
    this.buf.set(b.subarray(start, end), this.pos);
    this.pos += end - start;
  }

  /** Int64 / UInt64 from a safe integer (two 32-bit halves: BigInt costs ~4x here). */
  int64(n: number): void {
    this.room(8);
    if (n >= 0) {
      const lo = n % TWO_32;
      this.buf.writeUInt32LE(lo, this.pos);
      this.buf.writeUInt32LE((n - lo) / TWO_32, this.pos + 4);
    } else {
      this.buf.writeBigInt64LE(BigInt(n), this.pos);
    }
    this.pos += 8;
  }

  uint8(n: number): void {
    this.room(1);
    this.buf[this.pos++] = n;
  }

  /** The rows written so far (a view: copy it before writing more). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
    this.rows = 0;
  }
}

const LEVEL_BYTES = [...LEVEL_NAMES, 'NONE'].map((n) => Buffer.from(n));
const OTHER_BYTES = Buffer.from('OTHER');

/** Tag names of a record's chunk-local tag ids, as stored (upper-cased). */
function tagBytes(rec: BatchRecord): (id: number) => Buffer {
  const custom = rec.customTags.map((t) => Buffer.from(t.toUpperCase()));
  return (id) => (id <= TAG_NONE ? LEVEL_BYTES[id]! : id >= FIRST_CUSTOM_TAG && id < TAG_OTHER ? custom[id - FIRST_CUSTOM_TAG] ?? OTHER_BYTES : OTHER_BYTES);
}

/**
 * Appends a batch record's entries. seq of an entry = seqBase + the WAL position of its body,
 * so a batch's entries fill [seqBase + rawPos, seqBase + rawPos + rawLen).
 */
export function writeBatch(w: RowBinaryWriter, rec: BatchRecord, source: Buffer, seqBase: number): void {
  const raw = rec.raw!;
  const tag = tagBytes(rec);
  for (let i = 0; i < rec.count; i++) {
    const meta = rec.meta[i]!;
    const start = rec.bodyStart[i]!;
    w.bytes(source);
    w.int64(rec.ts[i]!);
    w.int64(seqBase + rec.rawPos + start);
    w.int64(rec.firstLine + rec.line[i]!);
    w.bytes(tag(meta & TAG_MASK));
    w.uint8(metaPrecision(meta));
    w.bytes(raw, start, rec.bodyEnd[i]!);
  }
  w.rows += rec.count;
}

/** Custom tag names a record carries (upper-cased), for the watermark's tag list. */
export function customTagsOf(rec: BatchRecord): string[] {
  return rec.customTags.map((t) => t.toUpperCase());
}
