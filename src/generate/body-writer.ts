/**
 * The byte-level writer every line template draws on: a cursor into a caller-owned buffer
 * plus the PRNG, with helpers that write literals, numbers, hex ids and UUIDs straight into
 * the buffer. No strings are built on the hot path.
 *
 * Bounds: single-byte writes past the end of a typed array are silently dropped (and `set`
 * throws), so callers reserve MAX_ENTRY_BYTES before each entry and check `pos` afterwards
 * (see generator.ts).
 */
import type { Prng } from './prng.js';

/** Pre-encoded text: templates hold their literal parts as bytes, encoded once at load. */
export function enc(text: string): Uint8Array {
  // Uint8Array.from copies: a Buffer.from slice would pin an 8 KiB pool slab per literal.
  return Uint8Array.from(Buffer.from(text, 'latin1'));
}

export function encAll(list: readonly string[]): Uint8Array[] {
  return list.map(enc);
}

const HEX = enc('0123456789abcdef');
const EMPTY = new Uint8Array(0);

export class BodyWriter {
  buf: Uint8Array = EMPTY;
  pos = 0;

  constructor(readonly rng: Prng) {}

  /** Copies a literal: a byte loop for short ones, TypedArray.set above 12 bytes (A/B on
   * 6M lines: 2.55M -> 2.8M lines per CPU-second; set at every length or only above 24 was slower). */
  lit(b: Uint8Array): void {
    const n = b.length;
    if (n > 12) {
      this.buf.set(b, this.pos);
      this.pos += n;
      return;
    }
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = b[i]!;
    this.pos = p;
  }

  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  /** One element of a list of literals, uniformly. */
  pick(list: readonly Uint8Array[]): void {
    this.lit(list[this.rng.below(list.length)]!);
  }

  /** A non-negative integer in decimal. */
  uint(n: number): void {
    const buf = this.buf;
    if (n < 10) {
      buf[this.pos++] = 48 + n;
      return;
    }
    if (n > 0x7fffffff) {
      // Past int32 (large seq numbers): the slow, general path.
      this.lit(enc(String(n)));
      return;
    }
    // Digit count by comparison and int32 division instead of two Math.floor loops:
    // generation 2.9M -> 3.25M lines per CPU-second (A/B, 6M lines, 3 runs each).
    const digits = n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
    let p = this.pos + digits;
    this.pos = p;
    let k = n | 0;
    while (k >= 10) {
      const q = (k / 10) | 0;
      buf[--p] = 48 + k - q * 10;
      k = q;
    }
    buf[--p] = 48 + k;
  }

  /** A uniform integer in [lo, hi]. */
  int(lo: number, hi: number): void {
    this.uint(this.rng.range(lo, hi));
  }

  /** An integer zero-padded to `width` digits (n must fit, and be below 2^31). */
  padded(n: number, width: number): void {
    const buf = this.buf;
    let p = this.pos + width;
    this.pos = p;
    let k = n | 0;
    for (let i = 0; i < width; i++) {
      const q = (k / 10) | 0;
      buf[--p] = 48 + k - q * 10;
      k = q;
    }
  }

  /** A uniform decimal in [lo, hi] with one fractional digit, e.g. 12.4. */
  dec1(lo: number, hi: number): void {
    const tenths = this.rng.range(lo * 10, hi * 10);
    const whole = Math.floor(tenths / 10);
    this.uint(whole);
    this.buf[this.pos++] = 46;
    this.buf[this.pos++] = 48 + (tenths - whole * 10);
  }

  /** A roughly log-uniform integer in [1, max]: latencies and sizes look like this in real logs. */
  skewed(max: number): void {
    const f = this.rng.float();
    this.uint(1 + Math.floor(f * f * f * (max - 1)));
  }

  /** `digits` random lowercase hex digits. */
  hex(digits: number): void {
    const buf = this.buf;
    let p = this.pos;
    let r = 0;
    for (let i = 0; i < digits; i++) {
      if ((i & 7) === 0) r = this.rng.next();
      buf[p++] = HEX[r & 15]!;
      r >>>= 4;
    }
    this.pos = p;
  }

  /** A random version-4-shaped UUID. */
  uuid(): void {
    this.hex(8);
    this.byte(45);
    this.hex(4);
    this.byte(45);
    this.byte(52); // '4'
    this.hex(3);
    this.byte(45);
    this.byte(HEX[8 + this.rng.below(4)]!);
    this.hex(3);
    this.byte(45);
    this.hex(12);
  }

  /** A private address, 10.x.y.z. */
  ip(): void {
    this.byte(49);
    this.byte(48);
    this.byte(46);
    this.int(0, 15);
    this.byte(46);
    this.int(0, 255);
    this.byte(46);
    this.int(1, 254);
  }
}
