/**
 * CRC32C (Castagnoli), the checksum of every frame, column block, raw chunk and checkpoint
 * header (FORMAT.md); checkpoint sections of format 1 too (format 2's use crc32 below).
 * `crc32c(b, prev)` continues a running checksum: crc32c(b, crc32c(a)) equals crc32c(a + b).
 *
 * Two implementations giving the same values: @node-rs/crc32, a native binding using the
 * CPU's CRC32C instruction, for buffers of 1 KiB and more, and crc-32's pure-JS slicing-by-16
 * for smaller ones and wherever the binding cannot load. The binding ships one prebuilt binary
 * per platform as optional packages; npm installs the user's, and the MCP Bundle carries the
 * macOS, Windows and Linux ones (tools/build/mcpb.ts), so no build of this package is tied to
 * the machine it was made on. Measured on the 2-core VM (shared with other jobs, best of 5;
 * node 20.20.2), per call:
 *
 *   bytes   | @node-rs/crc32 (native) | crc-32 (pure JS)  | hash-wasm (WASM)
 *   28      | 230 ns                  | 41 ns             | 225 ns
 *   1 KiB   | 1.6 us                  | 2.8 us            | 2.7 us
 *   4 KiB   | 1.6 us                  | 3.5 us            | 4.1 us
 *   64 KiB  | 18 us                   | 107 us            | 52 us
 *   4 MiB   | 0.86 ms (4.9 GB/s)      | 2.9 ms (1.4 GB/s) | 2.4 ms (1.7 GB/s)
 *
 * Pure JS alone would have cost ~0.5 s of CPU per GB written to the WAL, and 0.6-0.7 s more
 * at every restart with 10M entries (the checkpoint's 340 MB are verified on load: 725 ms of
 * CPU in a profile of that restart). The binding is loaded on first use by a big buffer: a
 * start that checksums only small records never pays its dlopen (up to 45 ms seen here).
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import CRC32 from 'crc-32';
import CRC32C from 'crc-32/crc32c.js';

/** From this size the native call's overhead is repaid (crossover measured at 512 B-1 KiB). */
const NATIVE_MIN_BYTES = 1024;

type Crc = (data: Uint8Array, prev: number) => number;

/** undefined: not tried yet; null: not available on this platform. */
let native: Crc | null | undefined;
let nativeIeee: Crc | null | undefined;

function loadNative(): void {
  try {
    const binding = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c: Crc; crc32: Crc };
    native = binding.crc32c;
    nativeIeee = binding.crc32;
  } catch {
    native = nativeIeee = null; // no binary for this platform: the pure-JS path gives the same values
  }
}

/** CRC32C of `data`, continuing from `prev` (the CRC of the bytes before it), unsigned. */
export function crc32c(data: Uint8Array, prev = 0): number {
  if (data.length >= NATIVE_MIN_BYTES) {
    if (native === undefined) loadNative();
    if (native !== null) return native!(data, prev) >>> 0;
  }
  return crc32cPure(data, prev);
}

/** The pure-JS path alone (tests check the two agree). */
export function crc32cPure(data: Uint8Array, prev = 0): number {
  return CRC32C.buf(data, prev) >>> 0;
}

/** Whether the native binding loaded here (tests; it is not required anywhere). */
export function crc32cNativeLoaded(): boolean {
  if (native === undefined) loadNative();
  return native !== null;
}

/** zlib's CRC32 (node 20.15+; undefined before): the same values as crc32 below. */
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, prev: number) => number }).crc32;

/**
 * CRC32 (IEEE 802.3, zlib's), the checksum of checkpoint sections from checkpoint format 2 on
 * (FORMAT.md). Not the WAL's polynomial: on this VM the binding's CRC32 ran at 13 GB/s over a
 * 256 MB checkpoint (20-26 ms) where its CRC32C ran at 5-7 GB/s (41-57 ms) and zlib.crc32 at
 * ~5 GB/s (49-55 ms; node 20.20, best of 3 each). Same fallbacks as crc32c: zlib's, then pure JS.
 */
export function crc32(data: Uint8Array, prev = 0): number {
  if (data.length >= NATIVE_MIN_BYTES) {
    if (nativeIeee === undefined) loadNative();
    if (nativeIeee !== null) return nativeIeee!(data, prev) >>> 0;
    if (zlibCrc32 !== undefined) return zlibCrc32(data, prev) >>> 0;
  }
  return crc32Pure(data, prev);
}

/** The pure-JS CRC32 alone (tests check it agrees with the others). */
export function crc32Pure(data: Uint8Array, prev = 0): number {
  return CRC32.buf(data, prev) >>> 0;
}

/** zlib's CRC32 where this node has it (tests), else undefined. */
export function crc32Zlib(data: Uint8Array, prev = 0): number | undefined {
  return zlibCrc32 === undefined ? undefined : zlibCrc32(data, prev) >>> 0;
}
