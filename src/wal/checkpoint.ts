/**
 * Checkpoint files: a versioned container of named typed-array sections plus JSON meta,
 * written atomically and read back with one read into one buffer whose sections are
 * returned as typed-array views, no copy (FORMAT.md, "Checkpoint file"). The index decides
 * what the sections hold.
 */
import { crc32, crc32c } from './crc32c.js';
import { join } from 'node:path';
import { align, bytesOf, dataView, getU64, setU64, utf8Decoder, utf8Encoder, ZEROS } from './bytes.js';
import { ioError, silentWalLogger, WalError, type WalLogger } from './errors.js';
import { nodeIo, readFully, type WalIo, writeFully } from './io.js';

/**
 * 2: section CRCs are CRC32 (IEEE), ~2x faster to verify than CRC32C here (crc32c.ts), which
 * 1 used; everything else is the same. Both are read; 2 is written (FORMAT.md).
 */
export const CHECKPOINT_FORMAT_VERSION = 2;
/** The section checksum of each format version this build reads. */
const SECTION_CRC: Record<number, (data: Uint8Array) => number> = { 1: crc32c, 2: crc32 };
const MAGIC = Uint8Array.of(0x4c, 0x54, 0x43, 0x4b, 0x50, 0x54, 0x0d, 0x0a); // "LTCKPT\r\n"
const HEADER_BYTES = 64;
const ENTRY_BYTES = 64;
const MAX_NAME_BYTES = 40;
const SECTION_ALIGN = 64;
const TMP_MARK = '.tmp-';

export type CheckpointArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigUint64Array | BigInt64Array;

type ArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): CheckpointArray; BYTES_PER_ELEMENT: number };

/** Element type codes, in FORMAT.md order (index + 1). */
const DTYPES: readonly ArrayCtor[] = [
  Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array, BigUint64Array, BigInt64Array,
];

export interface CheckpointInput {
  /** Anything JSON.stringify accepts. */
  meta: unknown;
  sections: Record<string, ArrayBufferView>;
}

export interface Checkpoint {
  name: string;
  path: string;
  meta: unknown;
  /** Views of one buffer holding the whole file. */
  sections: Record<string, CheckpointArray>;
  createdAt: number;
  bytes: number;
}

export interface CheckpointOptions {
  io?: WalIo;
  /** Format version to write (tests write the older one); CHECKPOINT_FORMAT_VERSION by default. */
  formatVersion?: 1 | 2;
  now?: () => number;
  logger?: WalLogger;
}

let tmpCounter = 0;

function checkName(name: string): void {
  if (name === '' || name.includes('/') || name.includes('\\') || name.includes(TMP_MARK) || name === '.' || name === '..') {
    throw new WalError('WAL_OPTION', `checkpoint name must be a plain file name without '${TMP_MARK}', got ${JSON.stringify(name)}`, '', -1);
  }
}

function dtypeOf(view: ArrayBufferView): number {
  for (let i = 0; i < DTYPES.length; i++) if (view instanceof DTYPES[i]!) return i + 1;
  return 1; // DataView, Uint8ClampedArray: stored as bytes
}

/** Writes `<dir>/<name>` atomically; an earlier file of that name survives any failure. */
export async function writeCheckpoint(dir: string, name: string, data: CheckpointInput, opts: CheckpointOptions = {}): Promise<{ path: string; bytes: number }> {
  checkName(name);
  const io = opts.io ?? nodeIo;
  const version = opts.formatVersion ?? CHECKPOINT_FORMAT_VERSION;
  const sectionCrc = SECTION_CRC[version]!;
  const entries = Object.entries(data.sections);
  const metaBytes = utf8Encoder.encode(JSON.stringify(data.meta ?? null));
  const tableEnd = HEADER_BYTES + ENTRY_BYTES * entries.length;
  const head = new Uint8Array(align(tableEnd + metaBytes.length, SECTION_ALIGN));
  const parts: Uint8Array[] = [head];
  let off = head.length;
  entries.forEach(([secName, view], i) => {
    const nameBytes = utf8Encoder.encode(secName);
    if (nameBytes.length === 0 || nameBytes.length > MAX_NAME_BYTES) {
      throw new WalError('WAL_OPTION', `checkpoint section name must be 1..${MAX_NAME_BYTES} bytes, got ${JSON.stringify(secName)}`, '', -1);
    }
    const bytes = bytesOf(view);
    const e = dataView(head, HEADER_BYTES + i * ENTRY_BYTES, ENTRY_BYTES);
    e.setUint8(0, nameBytes.length);
    e.setUint8(1, dtypeOf(view));
    e.setUint32(4, sectionCrc(bytes), true);
    setU64(e, 8, off);
    setU64(e, 16, bytes.length);
    head.set(nameBytes, HEADER_BYTES + i * ENTRY_BYTES + 24);
    const padded = align(bytes.length, SECTION_ALIGN);
    parts.push(bytes, ZEROS.subarray(0, padded - bytes.length));
    off += padded;
  });
  head.set(metaBytes, tableEnd);
  head.set(MAGIC, 0);
  const dv = dataView(head, 0, HEADER_BYTES);
  dv.setUint32(8, version, true);
  dv.setUint32(12, entries.length, true);
  dv.setUint32(16, metaBytes.length, true);
  dv.setUint32(20, crc32c(head.subarray(HEADER_BYTES, tableEnd + metaBytes.length)), true);
  setU64(dv, 24, off);
  setU64(dv, 32, (opts.now ?? Date.now)());
  dv.setUint32(60, crc32c(head.subarray(0, 60)), true);

  const path = join(dir, name);
  const tmp = join(dir, `${name}${TMP_MARK}${process.pid}-${++tmpCounter}`);
  let fd = -1;
  try {
    await io.mkdirp(dir);
    fd = await io.open(tmp, 'wx');
    await writeFully(io, fd, parts, 0);
    await io.fsync(fd);
    await io.close(fd);
    fd = -1;
    await io.rename(tmp, path);
    await io.syncDir(dir);
  } catch (err) {
    if (fd >= 0) await io.close(fd).catch(() => undefined);
    await io.unlink(tmp).catch(() => undefined);
    throw ioError(err, 'writing a checkpoint', tmp, -1);
  }
  return { path, bytes: off };
}

function bad(message: string, file: string, offset: number): WalError {
  return new WalError('CHECKPOINT_CORRUPT', `checkpoint rejected: ${message}`, file, offset);
}

interface SectionEntry {
  name: string;
  Ctor: ArrayCtor;
  off: number;
  len: number;
  crc: number;
}

/** Reads and fully validates `<dir>/<name>`. Throws CHECKPOINT_CORRUPT / CHECKPOINT_VERSION. */
export async function readCheckpoint(dir: string, name: string, opts: CheckpointOptions = {}): Promise<Checkpoint> {
  checkName(name);
  const io = opts.io ?? nodeIo;
  const path = join(dir, name);
  let fd = -1;
  let buf: Buffer;
  try {
    fd = await io.open(path, 'r');
    const size = await io.fileSize(fd);
    // One read into one dedicated SharedArrayBuffer (offset 0): 64-aligned sections view in place.
    // 200 MiB (10M entries of columns) loads in ~150 ms warm: ~110 ms read, ~40 ms CRC32C
    // (format 1; format 2's CRC32 ~20-25 ms).
    // Overlapping the CRC of one 4-64 MiB piece with the read of the next measured no
    // better on this 2-core machine (the read is bound by page faults on the fresh buffer).
    // Shared, so V8 does not count it as external memory (checkpoint-prefetch.ts says why).
    buf = Buffer.from(new SharedArrayBuffer(size));
    const got = await readFully(io, fd, buf, 0, size, 0);
    if (got !== size) throw bad(`short read (${got} of ${size} bytes)`, path, got);
  } catch (err) {
    throw ioError(err, 'reading a checkpoint', path, -1);
  } finally {
    if (fd >= 0) await io.close(fd).catch(() => undefined);
  }
  return parseCheckpoint(buf, path, name);
}

/**
 * Validates a checkpoint already read into memory (a caller may read it early, e.g. while
 * modules load at start-up) and returns views of its sections. Throws like readCheckpoint.
 * `buf` must start at offset 0 of its ArrayBuffer so 64-aligned sections view in place.
 */
export function parseCheckpoint(buf: Buffer, path: string, name: string): Checkpoint {
  const head = parseHead(buf, buf.length, buf.length, path);
  const { meta, entries } = parseTable(buf, head.count, head.tableEnd, head.metaLen, path);
  const sections: Record<string, CheckpointArray> = {};
  const sectionCrc = SECTION_CRC[head.version]!;
  for (const e of entries) {
    if (sectionCrc(buf.subarray(e.off, e.off + e.len)) !== e.crc) throw bad(`section ${JSON.stringify(e.name)} CRC mismatch`, path, e.off);
    sections[e.name] = new e.Ctor(buf.buffer, buf.byteOffset + e.off, e.len / e.Ctor.BYTES_PER_ELEMENT);
  }
  return { name, path, meta, sections, createdAt: head.createdAt, bytes: buf.length };
}

function parseHead(buf: Buffer, have: number, size: number, path: string): { version: number; count: number; metaLen: number; tableEnd: number; createdAt: number } {
  if (have < HEADER_BYTES) throw bad('shorter than its header', path, 0);
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) throw bad('not a checkpoint (bad magic)', path, 0);
  const dv = dataView(buf, 0, HEADER_BYTES);
  const version = dv.getUint32(8, true);
  // As in segments, magic, version and the header CRC never move: a verified newer header
  // is refused as newer, a damaged one is rejected as corrupt (the caller falls back).
  if (dv.getUint32(60, true) !== crc32c(buf.subarray(0, 60))) throw bad('header CRC mismatch', path, 60);
  if (version > CHECKPOINT_FORMAT_VERSION) {
    throw new WalError('CHECKPOINT_VERSION', `checkpoint ${path} has format version ${version}, newer than version ${CHECKPOINT_FORMAT_VERSION} that this build reads`, path, 8);
  }
  if (SECTION_CRC[version] === undefined) throw bad(`unsupported version ${version}`, path, 8);
  const count = dv.getUint32(12, true);
  const metaLen = dv.getUint32(16, true);
  const fileLen = getU64(dv, 24);
  if (fileLen !== size) throw bad(`file is ${size} bytes, header says ${fileLen}`, path, 24);
  const tableEnd = HEADER_BYTES + ENTRY_BYTES * count;
  if (tableEnd + metaLen > size) throw bad('section table overruns the file', path, HEADER_BYTES);
  return { version, count, metaLen, tableEnd, createdAt: getU64(dv, 32) };
}

function parseTable(buf: Buffer, count: number, tableEnd: number, metaLen: number, path: string): { meta: unknown; entries: SectionEntry[] } {
  if (dataView(buf, 0, HEADER_BYTES).getUint32(20, true) !== crc32c(buf.subarray(HEADER_BYTES, tableEnd + metaLen))) {
    throw bad('table/meta CRC mismatch', path, HEADER_BYTES);
  }
  let meta: unknown;
  try {
    meta = JSON.parse(utf8Decoder.decode(buf.subarray(tableEnd, tableEnd + metaLen)));
  } catch {
    throw bad('meta is not valid JSON', path, tableEnd);
  }
  const entries: SectionEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER_BYTES + i * ENTRY_BYTES;
    const e = dataView(buf, at, ENTRY_BYTES);
    const nameLen = e.getUint8(0);
    const Ctor = DTYPES[e.getUint8(1) - 1];
    const off = getU64(e, 8);
    const len = getU64(e, 16);
    if (Ctor === undefined || nameLen === 0 || nameLen > MAX_NAME_BYTES) throw bad(`section ${i}: bad type or name`, path, at);
    if (!(off % SECTION_ALIGN === 0 && off >= tableEnd + metaLen && off + len <= buf.length && len % Ctor.BYTES_PER_ELEMENT === 0)) {
      throw bad(`section ${i}: bad offset or length`, path, at + 8);
    }
    const name = utf8Decoder.decode(buf.subarray(at + 24, at + 24 + nameLen));
    entries.push({ name, Ctor, off, len, crc: e.getUint32(4, true) });
  }
  return { meta, entries };
}

/** A section as the expected typed array; CHECKPOINT_SECTION when missing or of another type. */
export function checkpointSection<T extends CheckpointArray>(cp: Checkpoint, name: string, ctor: { new (...args: never[]): T }): T {
  const s = cp.sections[name];
  if (!(s instanceof ctor)) {
    throw new WalError('CHECKPOINT_SECTION', `checkpoint section ${JSON.stringify(name)} is ${s === undefined ? 'missing' : `a ${s.constructor.name}`}, expected a ${ctor.name}`, cp.path, -1);
  }
  return s;
}

/** Checkpoint names in dir starting with prefix, newest (greatest name) first. */
export async function listCheckpoints(dir: string, prefix: string, opts: CheckpointOptions = {}): Promise<string[]> {
  const io = opts.io ?? nodeIo;
  let names: string[];
  try {
    names = await io.readdir(dir);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return [];
    throw ioError(err, 'listing checkpoints', dir, -1);
  }
  return names.filter((n) => n.startsWith(prefix) && !n.includes(TMP_MARK)).sort().reverse();
}

/**
 * The newest checkpoint that validates, or null: a damaged one is logged and skipped so the
 * caller falls back to an older one (or to a full replay). A newer format is not skipped.
 */
export async function loadLatestCheckpoint(dir: string, prefix: string, opts: CheckpointOptions = {}): Promise<Checkpoint | null> {
  const logger = opts.logger ?? silentWalLogger;
  for (const name of await listCheckpoints(dir, prefix, opts)) {
    try {
      return await readCheckpoint(dir, name, opts);
    } catch (err) {
      if (err instanceof WalError && err.code === 'CHECKPOINT_VERSION') throw err;
      logger.warn({ err, file: join(dir, name) }, 'checkpoint unusable, trying an older one');
    }
  }
  return null;
}

/** Deletes all but the `keep` newest checkpoints with prefix, and leftover temp files. */
export async function pruneCheckpoints(dir: string, prefix: string, keep: number, opts: CheckpointOptions = {}): Promise<string[]> {
  const io = opts.io ?? nodeIo;
  const names = await io.readdir(dir).catch(() => [] as string[]);
  const mine = `${TMP_MARK}${process.pid}-`;
  // Temp files of other live processes cannot exist (one server per data dir); ours are in use.
  const stale = names.filter((n) => n.startsWith(prefix) && n.includes(TMP_MARK) && !n.includes(mine));
  const victims = [...(await listCheckpoints(dir, prefix, opts)).slice(Math.max(0, keep)), ...stale];
  for (const n of victims) await io.unlink(join(dir, n)).catch(() => undefined);
  if (victims.length > 0) await io.syncDir(dir).catch(() => undefined);
  return victims;
}
