/**
 * The per-entry meta byte: tag id in the low 5 bits, timestamp precision (fractional digits
 * 0..6) in the high 3 bits. One byte instead of two keeps the index under 24 bytes/entry.
 */

export const TAG_MASK = 0x1f;

export function packMeta(tag: number, precision: number): number {
  return (precision << 5) | tag;
}

export function metaTag(meta: number): number {
  return meta & TAG_MASK;
}

export function metaPrecision(meta: number): number {
  return meta >>> 5;
}
