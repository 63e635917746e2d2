/**
 * Segment files: the 64-byte header, names that sort in log order, and creating a segment
 * so that it appears under its final name only once complete (FORMAT.md, "Cutting").
 */
import { crc32c } from './crc32c.js';
import { join } from 'node:path';
import { dataView, getU64, setU64 } from './bytes.js';
import { corrupt, ioError, WalError } from './errors.js';
import { type WalIo, writeFully } from './io.js';
import type { EncodedRecord } from './record-codec.js';

export const WAL_FORMAT_VERSION = 2;
/** The oldest segment version this build reads (FORMAT.md, "Versions"). */
export const OLDEST_WAL_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 64;
/** "LTWAL\r\n\x1a": the \r\n and \x1a catch text-mode mangling, as PNG's magic does. */
export const SEGMENT_MAGIC = Uint8Array.of(0x4c, 0x54, 0x57, 0x41, 0x4c, 0x0d, 0x0a, 0x1a);

const NAME_RE = /^([0-9a-f]{16})\.wal$/;
export const TMP_SUFFIX = '.tmp';

export function segmentName(start: number): string {
  return `${start.toString(16).padStart(16, '0')}.wal`;
}

/** Start position spelled in a segment's name, or null for any other file. */
export function parseSegmentName(name: string): number | null {
  const m = NAME_RE.exec(name);
  return m === null ? null : Number.parseInt(m[1]!, 16);
}

export interface SegmentHeader {
  version: number;
  start: number;
  createdAt: number;
  targetBytes: number;
}

export function encodeHeader(h: Omit<SegmentHeader, 'version'>): Uint8Array {
  const buf = new Uint8Array(SEGMENT_HEADER_BYTES);
  buf.set(SEGMENT_MAGIC, 0);
  const dv = dataView(buf);
  dv.setUint32(8, WAL_FORMAT_VERSION, true);
  dv.setUint32(12, SEGMENT_HEADER_BYTES, true);
  setU64(dv, 16, h.start);
  setU64(dv, 24, h.createdAt);
  setU64(dv, 32, h.targetBytes);
  dv.setUint32(60, crc32c(buf.subarray(0, 60)), true);
  return buf;
}

/**
 * Validates a header read from `file`. The magic, the version and the CRC of bytes [0, 60)
 * at 60 keep their places in every version, so a header that verifies and carries a newer
 * version is refused as newer (never misread), while a flipped bit is reported as damage.
 */
export function decodeHeader(buf: Uint8Array, file: string): SegmentHeader {
  if (buf.length < SEGMENT_HEADER_BYTES) throw corrupt(`segment header is short (${buf.length} of ${SEGMENT_HEADER_BYTES} bytes)`, file, 0);
  for (let i = 0; i < SEGMENT_MAGIC.length; i++) {
    if (buf[i] !== SEGMENT_MAGIC[i]) throw corrupt('not a WAL segment (bad magic)', file, 0);
  }
  const dv = dataView(buf, 0, SEGMENT_HEADER_BYTES);
  const version = dv.getUint32(8, true);
  if (dv.getUint32(60, true) !== crc32c(buf.subarray(0, 60))) throw corrupt(`segment header CRC mismatch (version field reads ${version})`, file, 60);
  if (version > WAL_FORMAT_VERSION) {
    throw new WalError(
      'WAL_VERSION',
      `WAL segment ${file} has format version ${version}, newer than version ${WAL_FORMAT_VERSION} that this build reads; ` +
        'upgrade log-triage-mcp or point --data-dir elsewhere',
      file,
      8,
    );
  }
  if (version < OLDEST_WAL_VERSION || dv.getUint32(12, true) !== SEGMENT_HEADER_BYTES) {
    throw corrupt(`unsupported segment version ${version} or header length`, file, 8);
  }
  const start = getU64(dv, 16);
  if (Number.isNaN(start)) throw corrupt('segment start does not fit in 53 bits', file, 16);
  return { version, start, createdAt: getU64(dv, 24), targetBytes: getU64(dv, 32) };
}

/**
 * Creates `<dir>/<start>.wal` holding the header and `preamble`: written under a temp name,
 * fsynced, renamed, then the directory fsynced. Returns the open descriptor (read-write)
 * and the file size. On failure nothing is left under the final name.
 */
export async function createSegment(
  io: WalIo,
  dir: string,
  start: number,
  createdAt: number,
  targetBytes: number,
  preamble: readonly EncodedRecord[],
): Promise<{ fd: number; path: string; size: number }> {
  const path = join(dir, segmentName(start));
  const tmp = path + TMP_SUFFIX;
  let fd = -1;
  let size = SEGMENT_HEADER_BYTES;
  try {
    fd = await io.open(tmp, 'w+');
    const parts: Uint8Array[] = [encodeHeader({ start, createdAt, targetBytes })];
    for (const r of preamble) {
      parts.push(...r.parts);
      size += r.bytes;
    }
    await writeFully(io, fd, parts, 0);
    await io.fsync(fd);
    await io.rename(tmp, path);
  } catch (err) {
    if (fd >= 0) await io.close(fd).catch(() => undefined);
    await io.unlink(tmp).catch(() => undefined);
    throw ioError(err, 'creating segment', tmp, 0);
  }
  try {
    await io.syncDir(dir);
  } catch (err) {
    // The rename may not be durable. Take the segment back out: the caller keeps appending
    // to the old segment, and a stale empty segment starting inside it would confuse the
    // position order on the next open.
    await io.close(fd).catch(() => undefined);
    await io.unlink(path).catch(() => undefined);
    throw ioError(err, 'fsync of the WAL directory', dir, -1);
  }
  return { fd, path, size };
}
