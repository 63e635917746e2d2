/**
 * The 32-byte record frame (FORMAT.md, "Record framing"): magic, type, lengths and three
 * CRC32Cs. The frame's own CRC covers the lengths, so a reader trusts a length only after it
 * verified; the magic and 8-byte alignment let a reader resynchronize after damage.
 */
import { crc32c } from './crc32c.js';
import { align, dataView } from './bytes.js';

export const FRAME_BYTES = 32;
/** "LREC" read as a little-endian u32. */
export const RECORD_MAGIC = 0x4345524c;
export const RECORD_ALIGN = 8;
export const MAX_META_BYTES = 1 << 30;
export const MAX_RAW_BYTES = 0x7fff_ffff;

export const TYPE_BATCH = 1;
export const TYPE_SOURCE = 2;
export const TYPE_SEAL = 3;

export interface Frame {
  type: number;
  metaLen: number;
  rawLen: number;
  metaCrc: number;
  rawCrc: number;
  /** Frame + meta + raw + padding. */
  recordBytes: number;
}

export function recordBytes(metaLen: number, rawLen: number): number {
  return align(FRAME_BYTES + metaLen + rawLen, RECORD_ALIGN);
}

/** Fills bytes [0, 32) of `head` with a frame. */
export function writeFrame(head: Uint8Array, type: number, metaLen: number, rawLen: number, metaCrc: number, rawCrc: number): void {
  const dv = dataView(head, 0, FRAME_BYTES);
  dv.setUint32(0, RECORD_MAGIC, true);
  dv.setUint8(4, type);
  dv.setUint8(5, 0);
  dv.setUint16(6, 0, true);
  dv.setUint32(8, metaLen, true);
  dv.setUint32(12, rawLen, true);
  dv.setUint32(16, metaCrc, true);
  dv.setUint32(20, rawCrc, true);
  dv.setUint32(24, 0, true);
  dv.setUint32(28, crc32c(head.subarray(0, 28)), true);
}

/** Cheap pre-check used while resynchronizing: does a record magic start at b[off]? */
export function hasMagic(b: Uint8Array, off: number): boolean {
  return b[off] === 0x4c && b[off + 1] === 0x52 && b[off + 2] === 0x45 && b[off + 3] === 0x43;
}

/**
 * Decodes the frame at b[off, off + 32); null when the magic, the frame CRC or the limits do
 * not hold (the frame cannot be trusted).
 */
export function readFrame(b: Uint8Array, off: number): Frame | null {
  if (off + FRAME_BYTES > b.length || !hasMagic(b, off)) return null;
  const dv = dataView(b, off, FRAME_BYTES);
  if (dv.getUint32(28, true) !== crc32c(b.subarray(off, off + 28))) return null;
  const type = dv.getUint8(4);
  const metaLen = dv.getUint32(8, true);
  const rawLen = dv.getUint32(12, true);
  if (type === 0 || metaLen % RECORD_ALIGN !== 0 || metaLen > MAX_META_BYTES || rawLen > MAX_RAW_BYTES) return null;
  return {
    type,
    metaLen,
    rawLen,
    metaCrc: dv.getUint32(16, true),
    rawCrc: dv.getUint32(20, true),
    recordBytes: recordBytes(metaLen, rawLen),
  };
}
