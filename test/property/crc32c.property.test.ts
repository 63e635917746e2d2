/**
 * CRC32C (issue 17): the native binding for big buffers and the pure-JS path for small ones
 * (and for platforms without a binary) must give the same values: the published check value,
 * a bit-at-a-time reference around the 16-byte slicing width and the 1 KiB switch-over, and
 * continuation from a previous value, which the record encoder relies on.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, crc32c, crc32cNativeLoaded, crc32cPure, crc32Pure, crc32Zlib } from '../../src/wal/crc32c.js';

/** The definition: reflected CRC-32C, polynomial 0x82F63B78, init and final xor ~0. */
function reference(data: Uint8Array, prev = 0): number {
  let c = ~prev >>> 0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c', () => {
  it('gives the published check value of "123456789" (0xE3069283) and 0 for no bytes', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('equals the bit-at-a-time definition, unsigned, at every length around the slicing width', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 70 }), (data) => {
        const got = crc32c(data);
        expect(got).toBeGreaterThanOrEqual(0);
        expect(got).toBe(reference(data));
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same values natively (1 KiB and up) and in pure JS, continuing from any value', () => {
    expect(crc32cNativeLoaded()).toBe(true); // Linux x64: npm installed the binding's binary
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 900, maxLength: 5000 }), fc.nat({ max: 0xffff_ffff }), (data, prev) => {
        const got = crc32c(data, prev);
        expect(got).toBe(crc32cPure(data, prev));
        expect(got).toBe(reference(data, prev));
      }),
      { numRuns: 200 },
    );
  });

  it('continues a running checksum: crc32c(b, crc32c(a)) === crc32c(a + b), also on views into a larger buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (data, x, y) => {
        const cut = data.length === 0 ? 0 : x % (data.length + 1);
        const from = Math.min(cut, y % (cut + 1));
        const a = data.subarray(from, cut);
        const b = data.subarray(cut);
        const whole = data.subarray(from);
        expect(crc32c(b, crc32c(a))).toBe(crc32c(whole));
        expect(crc32c(whole)).toBe(reference(whole));
      }),
      { numRuns: 500 },
    );
  });
});

/** CRC32 (IEEE, zlib's): reflected, polynomial 0xEDB88320, init and final xor ~0. */
function referenceIeee(data: Uint8Array, prev = 0): number {
  let c = ~prev >>> 0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32 (checkpoint sections from format 2)', () => {
  it('gives the published check value of "123456789" (0xCBF43926) and 0 for no bytes', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('gives the same values natively, in zlib and in pure JS, below and above 1 KiB, continuing from any value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.nat({ max: 0xffff_ffff }), (data, prev) => {
        const got = crc32(data, prev);
        expect(got).toBe(referenceIeee(data, prev));
        expect(crc32Pure(data, prev)).toBe(got);
        const z = crc32Zlib(data, prev);
        if (z !== undefined) expect(z).toBe(got); // node 20.15+
      }),
      { numRuns: 200 },
    );
  });
});
