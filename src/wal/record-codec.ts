/**
 * Encoding and decoding of the three record types (FORMAT.md). Encoding returns the record
 * as a list of buffers for one writev: the columns and the raw chunk go out as views of the
 * caller's arrays, never copied into one big buffer. Decoding returns views of the read
 * buffer (ts is 8-aligned in the format, so Float64Array views need no copy).
 */
import { crc32c } from './crc32c.js';
import { align, bytesOf, dataView, getU64, isU32, isU53, setU64, utf8Decoder, utf8Encoder, ZEROS } from './bytes.js';
import { corrupt, WalError } from './errors.js';
import { FRAME_BYTES, type Frame, MAX_RAW_BYTES, recordBytes, TYPE_BATCH, TYPE_SEAL, TYPE_SOURCE, writeFrame } from './frame.js';
import type { BatchRecord, SealFields, SourceFields, SourceFile, SourceReason, SourceRecord, WalBatch } from './types.js';

export const BATCH_HEADER_BYTES = 64;
export const SOURCE_HEADER_BYTES = 64;
/** One file entry of a source record's file list (version 2). */
export const FILE_ENTRY_BYTES = 56;
const FLAG_POSITION = 1;
const FLAG_FILES = 2;
const FILE_GZIP = 1;
const FILE_DONE = 2;
export const SEAL_META_BYTES = 64;
export const SEAL_RECORD_BYTES = FRAME_BYTES + SEAL_META_BYTES;
/** ts 8 + line 4 + bodyStart 4 + bodyEnd 4 + meta 1. */
const COLUMN_BYTES_PER_ENTRY = 21;

export interface EncodedRecord {
  type: number;
  /** Buffers to write in order (frame first); padding included. */
  parts: Uint8Array[];
  /** Total bytes, a multiple of 8. */
  bytes: number;
  metaLen: number;
  rawLen: number;
}

const REASONS: readonly SourceReason[] = ['register', 'preamble', 'rotated', 'truncated', 'files'];

function badBatch(message: string): WalError {
  return new WalError('WAL_BAD_BATCH', message, '', -1);
}

function columnsEnd(count: number): number {
  return align(BATCH_HEADER_BYTES + COLUMN_BYTES_PER_ENTRY * count, 4);
}

export function encodeBatch(b: WalBatch): EncodedRecord {
  const n = b.count;
  const raw = b.raw;
  if (!isU32(b.sourceId)) throw badBatch(`sourceId must be a u32, got ${b.sourceId}`);
  if (!isU32(n) || b.ts.length < n || b.meta.length < n || b.line.length < n || b.bodyStart.length < n || b.bodyEnd.length < n) {
    throw badBatch(`count ${n} exceeds a column's length or is not a u32`);
  }
  for (const [name, v] of [['byteStart', b.byteStart], ['byteEnd', b.byteEnd], ['firstLine', b.firstLine], ['file.dev', b.file.dev], ['file.ino', b.file.ino]] as const) {
    if (!isU53(v)) throw badBatch(`${name} must be a non-negative safe integer, got ${v}`);
  }
  if (!isU32(b.lines) || !isU32(b.parseErrors ?? 0)) throw badBatch('lines and parseErrors must be u32');
  if (raw.length > MAX_RAW_BYTES) throw badBatch(`raw chunk of ${raw.length} bytes exceeds ${MAX_RAW_BYTES}`);
  const bodyStart = b.bodyStart;
  const bodyEnd = b.bodyEnd;
  const rawLen = raw.length;
  for (let i = 0; i < n; i++) {
    const s = bodyStart[i]!;
    const e = bodyEnd[i]!;
    if (s > e || e > rawLen) throw badBatch(`entry ${i}: body [${s}, ${e}) is outside the raw chunk of ${rawLen} bytes`);
  }

  // Custom-tag section: u32 nTags, u32 nAt, u32[nAt], then (u16 len, utf8) per name.
  const tags = b.customTags ?? [];
  const at = b.customTagAt ?? [];
  const names = tags.map((t) => utf8Encoder.encode(t));
  let tagsLen = 8 + 4 * at.length;
  for (const name of names) {
    if (name.length > 0xffff) throw badBatch('a custom tag name exceeds 65,535 bytes');
    tagsLen += 2 + name.length;
  }
  const colsEnd = columnsEnd(n);
  const metaLen = align(colsEnd + tagsLen, 8);

  const head = new Uint8Array(FRAME_BYTES + BATCH_HEADER_BYTES);
  const hv = dataView(head, FRAME_BYTES, BATCH_HEADER_BYTES);
  hv.setUint32(0, b.sourceId, true);
  hv.setUint32(4, n, true);
  setU64(hv, 8, b.file.dev);
  setU64(hv, 16, b.file.ino);
  setU64(hv, 24, b.byteStart);
  setU64(hv, 32, b.byteEnd);
  setU64(hv, 40, b.firstLine);
  hv.setUint32(48, b.lines, true);
  hv.setUint32(52, b.parseErrors ?? 0, true);
  hv.setUint32(56, tagsLen, true);

  const colsRaw = BATCH_HEADER_BYTES + COLUMN_BYTES_PER_ENTRY * n;
  const tail = new Uint8Array(colsEnd - colsRaw + (metaLen - colsEnd));
  const tv = dataView(tail);
  let o = colsEnd - colsRaw;
  tv.setUint32(o, names.length, true);
  tv.setUint32(o + 4, at.length, true);
  o += 8;
  for (const v of at) {
    if (!isU32(v)) throw badBatch(`customTagAt values must be u32, got ${v}`);
    tv.setUint32(o, v, true);
    o += 4;
  }
  for (const name of names) {
    tv.setUint16(o, name.length, true);
    tail.set(name, o + 2);
    o += 2 + name.length;
  }

  const cols = [bytesOf(b.ts, 8 * n), bytesOf(b.line, 4 * n), bytesOf(b.bodyStart, 4 * n), bytesOf(b.bodyEnd, 4 * n), bytesOf(b.meta, n)];
  let metaCrc = crc32c(head.subarray(FRAME_BYTES));
  for (const c of cols) metaCrc = crc32c(c, metaCrc);
  metaCrc = crc32c(tail, metaCrc);
  writeFrame(head, TYPE_BATCH, metaLen, rawLen, metaCrc, crc32c(raw));
  const bytes = recordBytes(metaLen, rawLen);
  const pad = bytes - FRAME_BYTES - metaLen - rawLen;
  return { type: TYPE_BATCH, parts: [head, ...cols, tail, raw, ZEROS.subarray(0, pad)], bytes, metaLen, rawLen };
}

export function encodeSource(s: SourceFields): EncodedRecord {
  if (!isU32(s.sourceId)) throw badBatch(`source id must be a u32, got ${s.sourceId}`);
  const name = utf8Encoder.encode(s.name);
  const path = utf8Encoder.encode(s.path);
  const files = s.files ?? [];
  const listAt = align(SOURCE_HEADER_BYTES + name.length + path.length, 8);
  const metaLen = listAt + FILE_ENTRY_BYTES * files.length;
  const buf = new Uint8Array(FRAME_BYTES + metaLen);
  const dv = dataView(buf, FRAME_BYTES, metaLen);
  dv.setUint32(0, s.sourceId, true);
  dv.setUint32(4, REASONS.indexOf(s.reason) + 1, true);
  const p = s.position;
  let flags = s.files === null ? 0 : FLAG_FILES;
  if (p !== null) {
    for (const v of [p.file.dev, p.file.ino, p.offset, p.nextLine]) {
      if (!isU53(v)) throw badBatch(`source position fields must be non-negative safe integers, got ${v}`);
    }
    flags |= FLAG_POSITION;
    setU64(dv, 16, p.file.dev);
    setU64(dv, 24, p.file.ino);
    setU64(dv, 32, p.offset);
    setU64(dv, 40, p.nextLine);
  }
  dv.setUint32(8, flags, true);
  dv.setUint32(12, files.length, true);
  dv.setUint32(48, name.length, true);
  dv.setUint32(52, path.length, true);
  if (!isU53(s.registeredAt)) throw badBatch(`registeredAt must be a non-negative safe integer, got ${s.registeredAt}`);
  setU64(dv, 56, s.registeredAt);
  buf.set(name, FRAME_BYTES + SOURCE_HEADER_BYTES);
  buf.set(path, FRAME_BYTES + SOURCE_HEADER_BYTES + name.length);
  for (let i = 0; i < files.length; i++) encodeFileEntry(dv, listAt + i * FILE_ENTRY_BYTES, files[i]!);
  writeFrame(buf, TYPE_SOURCE, metaLen, 0, crc32c(buf.subarray(FRAME_BYTES)), 0);
  return { type: TYPE_SOURCE, parts: [buf], bytes: buf.length, metaLen, rawLen: 0 };
}

function encodeFileEntry(dv: DataView, at: number, f: SourceFile): void {
  for (const v of [f.file.dev, f.file.ino, f.offset, f.nextLine, f.size]) {
    if (!isU53(v)) throw badBatch(`file entry fields must be non-negative safe integers, got ${v}`);
  }
  if (!isU32(f.headLen) || !isU32(f.headCrc)) throw badBatch('file entry head length and CRC must be u32');
  setU64(dv, at, f.file.dev);
  setU64(dv, at + 8, f.file.ino);
  setU64(dv, at + 16, f.offset);
  setU64(dv, at + 24, f.nextLine);
  setU64(dv, at + 32, f.size);
  dv.setUint32(at + 40, f.headLen, true);
  dv.setUint32(at + 44, f.headCrc, true);
  dv.setUint32(at + 48, (f.gzip ? FILE_GZIP : 0) | (f.done ? FILE_DONE : 0), true);
}

function decodeFileEntry(dv: DataView, at: number): SourceFile {
  const flags = dv.getUint32(at + 48, true);
  return {
    file: { dev: u64(dv, at, 'dev'), ino: u64(dv, at + 8, 'ino') },
    offset: u64(dv, at + 16, 'offset'),
    nextLine: u64(dv, at + 24, 'nextLine'),
    size: u64(dv, at + 32, 'size'),
    headLen: dv.getUint32(at + 40, true),
    headCrc: dv.getUint32(at + 44, true),
    gzip: (flags & FILE_GZIP) !== 0,
    done: (flags & FILE_DONE) !== 0,
  };
}

export function encodeSeal(s: SealFields): EncodedRecord {
  const buf = new Uint8Array(SEAL_RECORD_BYTES);
  const dv = dataView(buf, FRAME_BYTES, SEAL_META_BYTES);
  dv.setUint32(0, s.records, true);
  dv.setUint32(4, s.corrupt, true);
  setU64(dv, 8, s.entries);
  dv.setFloat64(16, s.minTs, true);
  dv.setFloat64(24, s.maxTs, true);
  setU64(dv, 32, s.end);
  writeFrame(buf, TYPE_SEAL, SEAL_META_BYTES, 0, crc32c(buf.subarray(FRAME_BYTES)), 0);
  return { type: TYPE_SEAL, parts: [buf], bytes: buf.length, metaLen: SEAL_META_BYTES, rawLen: 0 };
}

function u64(dv: DataView, off: number, field: string): number {
  const v = getU64(dv, off);
  if (Number.isNaN(v)) throw corrupt(`${field} does not fit in 53 bits`, '', -1);
  return v;
}

/**
 * Decodes a batch's meta block. `meta` must start at an 8-aligned address for the ts view
 * (the reader guarantees it; otherwise it is copied once). `pos` is the record's position.
 */
export function decodeBatch(meta: Uint8Array, frame: Frame, pos: number, raw: Uint8Array | null): BatchRecord {
  if (meta.byteOffset % 8 !== 0) meta = meta.slice();
  if (meta.length < BATCH_HEADER_BYTES) throw corrupt('batch meta shorter than its header', '', -1);
  const dv = dataView(meta);
  const n = dv.getUint32(4, true);
  const tagsLen = dv.getUint32(56, true);
  const colsEnd = columnsEnd(n);
  if (tagsLen < 8 || align(colsEnd + tagsLen, 8) !== meta.length) {
    throw corrupt(`batch meta length ${meta.length} does not match ${n} entries and ${tagsLen} tag bytes`, '', -1);
  }
  const base = meta.byteOffset;
  const buf = meta.buffer;
  let o = BATCH_HEADER_BYTES;
  const ts = new Float64Array(buf, base + o, n);
  const line = new Uint32Array(buf, base + (o += 8 * n), n);
  const bodyStart = new Uint32Array(buf, base + (o += 4 * n), n);
  const bodyEnd = new Uint32Array(buf, base + (o += 4 * n), n);
  const metaCol = new Uint8Array(buf, base + (o += 4 * n), n);
  const rawLen = frame.rawLen;
  for (let i = 0; i < n; i++) {
    const e = bodyEnd[i]!;
    if (bodyStart[i]! > e || e > rawLen) throw corrupt(`entry ${i}: body outside the raw block`, '', -1);
  }
  o = colsEnd;
  const nTags = dv.getUint32(o, true);
  const nAt = dv.getUint32(o + 4, true);
  if (8 + 4 * nAt + 2 * nTags > tagsLen) throw corrupt('custom-tag section overruns its length', '', -1);
  o += 8;
  const customTagAt: number[] = new Array(nAt);
  for (let i = 0; i < nAt; i++, o += 4) customTagAt[i] = dv.getUint32(o, true);
  const customTags: string[] = new Array(nTags);
  const tagsEnd = colsEnd + tagsLen;
  for (let i = 0; i < nTags; i++) {
    const len = o + 2 <= tagsEnd ? dv.getUint16(o, true) : -1;
    if (len < 0 || o + 2 + len > tagsEnd) throw corrupt('custom tag name overruns the section', '', -1);
    customTags[i] = utf8Decoder.decode(meta.subarray(o + 2, o + 2 + len));
    o += 2 + len;
  }
  const rawPos = pos + FRAME_BYTES + frame.metaLen;
  return {
    type: 'batch',
    pos,
    end: pos + frame.recordBytes,
    rawPos,
    rawLen,
    sourceId: dv.getUint32(0, true),
    file: { dev: u64(dv, 8, 'dev'), ino: u64(dv, 16, 'ino') },
    byteStart: u64(dv, 24, 'byteStart'),
    byteEnd: u64(dv, 32, 'byteEnd'),
    firstLine: u64(dv, 40, 'firstLine'),
    lines: dv.getUint32(48, true),
    count: n,
    parseErrors: dv.getUint32(52, true),
    ts,
    meta: metaCol,
    line,
    bodyStart,
    bodyEnd,
    customTags,
    customTagAt,
    raw,
  };
}

export function decodeSource(meta: Uint8Array, frame: Frame, pos: number): SourceRecord {
  if (meta.length < SOURCE_HEADER_BYTES) throw corrupt('source meta shorter than its header', '', -1);
  const dv = dataView(meta);
  const reason = REASONS[dv.getUint32(4, true) - 1];
  if (reason === undefined) throw corrupt(`unknown source reason ${dv.getUint32(4, true)}`, '', -1);
  const nameLen = dv.getUint32(48, true);
  const pathLen = dv.getUint32(52, true);
  const flags = dv.getUint32(8, true);
  const count = dv.getUint32(12, true);
  const hasList = (flags & FLAG_FILES) !== 0;
  if (!hasList && count !== 0) throw corrupt('source record lists files without its file-list flag', '', -1);
  const listAt = align(SOURCE_HEADER_BYTES + nameLen + pathLen, 8);
  if (listAt + FILE_ENTRY_BYTES * count !== meta.length) throw corrupt('source meta length mismatch', '', -1);
  const known = (flags & FLAG_POSITION) !== 0;
  const nameAt = SOURCE_HEADER_BYTES;
  const files: SourceFile[] | null = hasList ? [] : null;
  for (let i = 0; i < count; i++) files!.push(decodeFileEntry(dv, listAt + i * FILE_ENTRY_BYTES));
  return {
    type: 'source',
    pos,
    end: pos + frame.recordBytes,
    sourceId: dv.getUint32(0, true),
    reason,
    name: utf8Decoder.decode(meta.subarray(nameAt, nameAt + nameLen)),
    path: utf8Decoder.decode(meta.subarray(nameAt + nameLen, nameAt + nameLen + pathLen)),
    position: known
      ? { file: { dev: u64(dv, 16, 'dev'), ino: u64(dv, 24, 'ino') }, offset: u64(dv, 32, 'offset'), nextLine: u64(dv, 40, 'nextLine') }
      : null,
    files,
    registeredAt: u64(dv, 56, 'registeredAt'),
  };
}

export function decodeSeal(meta: Uint8Array): SealFields {
  if (meta.length !== SEAL_META_BYTES) throw corrupt('seal meta has the wrong length', '', -1);
  const dv = dataView(meta);
  return {
    records: dv.getUint32(0, true),
    corrupt: dv.getUint32(4, true),
    entries: u64(dv, 8, 'entries'),
    minTs: dv.getFloat64(16, true),
    maxTs: dv.getFloat64(24, true),
    end: u64(dv, 32, 'end'),
  };
}
