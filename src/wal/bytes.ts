/**
 * Little helpers for the on-disk integers. Columns go to disk as views of the caller's typed
 * arrays, which are in the machine's byte order, so the format (little-endian) can only be
 * written without a byte swap on a little-endian machine: every platform Node supports
 * today. A big-endian machine is refused at load rather than writing a different format.
 */

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('log-triage-mcp WAL: big-endian machines are not supported (the on-disk format is little-endian)');
}

const TWO_32 = 0x1_0000_0000;
/** Largest high word of a u64 that still fits in a JavaScript number exactly (2^53). */
const MAX_HI = 0x1f_ffff;

export function setU64(dv: DataView, off: number, n: number): void {
  dv.setUint32(off, n % TWO_32, true);
  dv.setUint32(off + 4, Math.floor(n / TWO_32), true);
}

/** Reads a u64; NaN when it does not fit in 53 bits (callers treat that as corruption). */
export function getU64(dv: DataView, off: number): number {
  const hi = dv.getUint32(off + 4, true);
  if (hi > MAX_HI) return Number.NaN;
  return hi * TWO_32 + dv.getUint32(off, true);
}

export function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < TWO_32;
}

export function isU53(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

export function align(n: number, to: number): number {
  const r = n % to;
  return r === 0 ? n : n + to - r;
}

/** Zero bytes for padding; never written to. */
export const ZEROS: Uint8Array = new Uint8Array(64);

/** The bytes of a typed array (or its first `bytes` bytes) as a Uint8Array view, no copy. */
export function bytesOf(a: ArrayBufferView, bytes: number = a.byteLength): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, bytes);
}

export function dataView(b: Uint8Array, off = 0, len = b.length - off): DataView {
  return new DataView(b.buffer, b.byteOffset + off, len);
}

export const utf8Encoder = new TextEncoder();
export const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
