/**
 * The layout a JSON line was read with, kept as a guess for the next line (json.ts): the
 * members read forwards (`layout`: bytes up to each value, or the whole member when its value
 * was not wanted) and those read backwards from the end (`tail`: bytes with a hole for a wanted
 * string). A guess is used only where the line holds the same bytes, and json-scan reads a
 * member from those bytes alone, so a replayed member is read exactly as the walk reads it;
 * test/property/json-layout.property.test.ts holds the two side by side.
 */
import { JSON_LITERAL, JSON_NUMBER, JSON_STRING, member, readMemberBack } from '../json-scan.js';

/**
 * The members the last walk read, in order, as a guess at the next line's layout: most loggers
 * write the same keys in the same order, often with the same values in front (bunyan's name,
 * hostname, pid). Slot i holds member i's bytes from its leading `,` up to its value (`gap`),
 * or up to its end (`whole`) when its value was not wanted. A member is replayed only when the
 * line holds exactly those bytes at that place, and readMember would read exactly the same
 * from them, so the replay is the walk, minus the key scan and the key lookup; at the first
 * difference the walk goes on the ordinary way from there and the slots are rewritten.
 *
 * Members the walk passes over whole (no role, no read backwards before them) share a slot
 * with the member after them: bunyan's `"name":..,"hostname":..,"pid":..,"level":` is one
 * slot of 54 bytes, compared in one run. The walk would read them one by one and take nothing
 * from them, so matching them together reads the same.
 */
const SLOTS = 16;
const SLOT_BYTES = 128;
export const layout = {
  n: 0,
  bytes: new Uint8Array(SLOTS * SLOT_BYTES),
  /** Bytes from the slot's start to its (last member's) value's first byte. */
  gap: new Uint8Array(SLOTS),
  /** Bytes that, all equal, fix the slot's end too (0: the value must be read). */
  whole: new Uint8Array(SLOTS),
  /** Bytes from the slot's start to its end, for a whole match. */
  size: new Uint8Array(SLOTS),
  /** The role of the slot's last member (its first ones have none). */
  role: new Uint8Array(SLOTS),
  /** 1: the walk reads the record backwards before this slot's first member (messageNext held). */
  back: new Uint8Array(SLOTS),
  /**
   * Where slot n - 1 starts in the line being read, when it is a whole slot (no role) that
   * the line holds in full, so a member after it can join it; -1 otherwise. json.ts sets it
   * as it replays, record() as it records.
   */
  run: -1,
};

/** Forgets the layout, so the next line is walked the ordinary way (tests compare the two). */
export function forgetJsonLayout(): void {
  layout.n = 0;
  tail.n = 0;
}

/** Members the layout holds (tests check that lines are replayed at all). */
export function jsonLayoutSize(): number {
  return layout.n;
}

/** 32-bit reads of the line's bytes and of the slots, for matching() and tailMatch(). */
const slotView = new DataView(layout.bytes.buffer);
let lineBuf: Uint8Array | null = null;
let lineView: DataView<ArrayBufferLike> = slotView;

/** A DataView over buf, kept while the same chunk is parsed. */
function viewOf(buf: Uint8Array): DataView<ArrayBufferLike> {
  if (buf !== lineBuf) {
    lineBuf = buf;
    lineView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return lineView;
}

/**
 * Length of the common prefix of buf[p..] and slot i's first n bytes (callers keep p + n <= end).
 * Four bytes a turn: a byte loop was a sixth of bunyan's parse (2026-12-02 profile).
 */
export function matching(buf: Uint8Array, p: number, i: number, n: number): number {
  const line = viewOf(buf);
  const bytes = layout.bytes;
  const at = i * SLOT_BYTES;
  let k = 0;
  while (k + 4 <= n && line.getUint32(p + k) === slotView.getUint32(at + k)) k += 4;
  while (k < n && buf[p + k] === bytes[at + k]) k++;
  return k;
}

/** Whether line[p, p + n) equals slot[at, at + n), four bytes a turn. */
function sameBytes(line: DataView<ArrayBufferLike>, p: number, slot: DataView, at: number, n: number): boolean {
  let k = 0;
  for (; k + 4 <= n; k += 4) if (line.getUint32(p + k) !== slot.getUint32(at + k)) return false;
  for (; k < n; k++) if (line.getUint8(p + k) !== slot.getUint8(at + k)) return false;
  return true;
}

/**
 * Whether line[p, p + n) holds a quote (0x22), four bytes a turn: a word XORed with four quotes
 * has a zero byte exactly where a quote was, and (x - 0x01010101) & ~x & 0x80808080 is nonzero
 * exactly when x has a zero byte. The byte loop over bunyan's 24-byte time was the tail's
 * largest line in a profile (2026-12-02).
 */
function hasQuote(line: DataView<ArrayBufferLike>, p: number, n: number): boolean {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const x = line.getUint32(p + k) ^ 0x22222222;
    if (((x - 0x01010101) & ~x & 0x80808080) !== 0) return true;
  }
  for (; k < n; k++) if (line.getUint8(p + k) === 34) return true;
  return false;
}

/**
 * Records member i of the walk (read by readMember from p, now in `member`, ending at next)
 * and returns the slot the next member goes in: i + 1, or i when the member joined slot i - 1
 * (see `layout`; the caller's slot i - 1 is the last one, layout.run says where it starts).
 */
export function record(buf: Uint8Array, i: number, p: number, next: number, role: number, back: boolean, end: number): number {
  const run = layout.run;
  layout.run = -1;
  if (i >= SLOTS) return i + 1;
  layout.n = i;
  const valueAt = member.kind === JSON_STRING ? member.valStart - 1 : member.valStart;
  let gap = valueAt - p;
  if (gap <= 0 || gap >= SLOT_BYTES) return i + 1;
  // A number or literal ends where a delimiter follows: the delimiter must match too.
  let size = next - p;
  let whole = role !== 0 ? 0 : member.kind === JSON_NUMBER || member.kind === JSON_LITERAL ? size + 1 : size;
  if (whole > SLOT_BYTES || p + whole > end) whole = 0;
  let slot = i;
  let from = p;
  if (run >= 0 && !back && i > 0 && p - run + Math.max(gap, whole) <= SLOT_BYTES) {
    // Joins the whole slot before it, which the line holds in full from `run` to p.
    slot = i - 1;
    from = run;
    gap += p - run;
    size += p - run;
    if (whole !== 0) whole += p - run;
  }
  store(buf, slot, from, gap, whole, size, role, slot === i ? (back ? 1 : 0) : layout.back[slot]!);
  if (whole !== 0) layout.run = from;
  return slot + 1;
}

/**
 * Records member i as a message key the walk read backwards before (json.ts, messageNext held
 * at p, the key closing at keyEnd) and did not read on, both fields found: its bytes up to its
 * value, as record() keeps a member whose value must be read. Nothing when the colon is not
 * there (readMember would stop at it).
 */
export function recordKey(buf: Uint8Array, i: number, p: number, keyEnd: number, role: number, end: number): void {
  layout.run = -1;
  if (i >= SLOTS) return;
  layout.n = i;
  let v = keyEnd + 1;
  while (buf[v] === 32 || buf[v] === 9) v++;
  if (buf[v] !== 58) return;
  v++;
  while (buf[v] === 32 || buf[v] === 9) v++;
  const gap = v - p;
  if (v >= end || gap >= SLOT_BYTES) return;
  store(buf, i, p, gap, 0, 0, role, 1);
}

function store(buf: Uint8Array, i: number, p: number, gap: number, whole: number, size: number, role: number, back: number): void {
  const n = Math.max(gap, whole);
  const at = i * SLOT_BYTES;
  for (let k = 0; k < n; k++) layout.bytes[at + k] = buf[p + k]!;
  layout.gap[i] = gap;
  layout.whole[i] = whole;
  layout.size[i] = size;
  layout.role[i] = role;
  layout.back[i] = back;
  layout.n = i + 1;
}

/**
 * The members the last backward read took, from the end (bunyan's `"v":0` then its time), as
 * `layout` holds the forward ones: slot j holds member j's bytes from the `,` before it to
 * where the read started, with a hole for a wanted string value (a time: same length, other
 * digits). readMemberBack reads a member from those bytes alone, so equal bytes and a hole
 * without a quote read the same; at the first difference the ordinary backward read goes on.
 */
const TAIL_SLOTS = 4;
export function newTail() {
  const bytes = new Uint8Array(TAIL_SLOTS * SLOT_BYTES);
  return {
    n: 0,
    bytes,
    view: new DataView(bytes.buffer),
    size: new Uint8Array(TAIL_SLOTS),
    /** The string value's content [holeStart, holeEnd) from the member's start; equal: no hole. */
    holeStart: new Uint8Array(TAIL_SLOTS),
    holeEnd: new Uint8Array(TAIL_SLOTS),
    role: new Uint8Array(TAIL_SLOTS),
  };
}
export type Tail = ReturnType<typeof newTail>;

/** The JSON formats' tail (json.ts); Docker's json-file keeps its own (wrapped.ts). */
export const tail = newTail();

export function recordTail(tail: Tail, buf: Uint8Array, j: number, r: number, q: number, role: number): void {
  if (j >= TAIL_SLOTS) return;
  tail.n = j;
  const size = q - r;
  if (size >= SLOT_BYTES) return;
  for (let k = 0; k < size; k++) tail.bytes[j * SLOT_BYTES + k] = buf[r + k]!;
  tail.size[j] = size;
  const hole = role !== 0 && member.kind === JSON_STRING;
  tail.holeStart[j] = hole ? member.valStart - r : 0;
  tail.holeEnd[j] = hole ? member.valEnd - r : 0;
  tail.role[j] = role;
  tail.n = j + 1;
}

/**
 * Replays tail slot j on the member ending at q: fills `member` (value fields) and returns the
 * index of the `,` or `{` before it, as readMemberBack would; -1 when the bytes differ.
 */
export function tailMatch(tail: Tail, buf: Uint8Array, lo: number, q: number, j: number): number {
  const size = tail.size[j]!;
  const r = q - size;
  if (r <= lo) return -1;
  const line = viewOf(buf);
  const at = j * SLOT_BYTES;
  const hs = tail.holeStart[j]!;
  const he = tail.holeEnd[j]!;
  // The hole: any bytes but a quote (the one closing the value must be where it was).
  if (!sameBytes(line, r, tail.view, at, hs) || hasQuote(line, r + hs, he - hs) || !sameBytes(line, r + he, tail.view, at + he, size - he)) {
    return -1;
  }
  if (he > hs) {
    member.kind = JSON_STRING;
    member.valStart = r + hs;
    member.valEnd = r + he;
  } else if (tail.role[j] !== 0) {
    // A wanted value without a hole (a number): the bytes are the recorded ones; read it again.
    if (readMemberBack(buf, lo, q) !== r) return -1;
  }
  return r;
}
