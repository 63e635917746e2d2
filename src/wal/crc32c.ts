/**
 * CRC32C (Castagnoli), the checksum of every frame, column block, raw chunk and checkpoint
 * section (FORMAT.md). `crc32c(b, prev)` continues a running checksum: crc32c(b, crc32c(a))
 * equals crc32c(a + b).
 *
 * Pure JavaScript (crc-32's slicing-by-16), not the native @node-rs/crc32 binding it replaces:
 * a native binding ships one binary per platform as optional packages, so a package or an
 * MCP Bundle assembled on Linux would carry only the Linux binary. Measured here on the 2-core
 * VM (shared with other jobs, best of 5; node 20.20.2), per call:
 *
 *   bytes   | @node-rs/crc32 (native) | crc-32 (pure JS) | hash-wasm (WASM)
 *   28      | 230 ns                  | 41 ns            | 225 ns
 *   4 KiB   | 1.6 us                  | 3.5 us           | 4.1 us
 *   64 KiB  | 18 us                   | 107 us           | 52 us
 *   4 MiB   | 0.86 ms (4.9 GB/s)      | 2.9 ms (1.4 GB/s)| 2.4 ms (1.7 GB/s)
 *
 * Frame heads (28 bytes, checked for every record and at every resync candidate) get faster;
 * a 4 MiB catch-up chunk costs ~2 ms more, ~0.5 s of CPU per GB written to the WAL or read
 * back from a checkpoint. hash-wasm is a little faster on big buffers but needs an async
 * start and cannot continue a running checksum from a value, which the record encoder does.
 */
import CRC32C from 'crc-32/crc32c.js';

/** CRC32C of `data`, continuing from `prev` (the CRC of the bytes before it), unsigned. */
export function crc32c(data: Uint8Array, prev = 0): number {
  return CRC32C.buf(data, prev) >>> 0;
}
