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
 */
const SLOTS = 16;
const SLOT_BYTES = 64;
export const layout = {
  n: 0,
  bytes: new Uint8Array(SLOTS * SLOT_BYTES),
  /** Bytes from the member's start to its value's first byte. */
  gap: new Uint8Array(SLOTS),
  /** Bytes that, all equal, fix the member's end too (0: the value must be read). */
  whole: new Uint8Array(SLOTS),
  /** Bytes from the member's start to its end, for a whole match. */
  size: new Uint8Array(SLOTS),
  role: new Uint8Array(SLOTS),
  /** 1: the walk reads the record backwards before this member (messageNext held). */
  back: new Uint8Array(SLOTS),
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

/** 32-bit reads of the line's bytes and of the slots, for matching(). */
const slotView = new DataView(layout.bytes.buffer);
let lineBuf: Uint8Array | null = null;
let lineView: DataView<ArrayBufferLike> = slotView;

/**
 * Length of the common prefix of buf[p..] and slot i's first n bytes (callers keep p + n <= end).
 * Four bytes a turn: a byte loop was a sixth of bunyan's parse (2026-12-02 profile).
 */
export function matching(buf: Uint8Array, p: number, i: number, n: number): number {
  if (buf !== lineBuf) {
    lineBuf = buf;
    lineView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  const bytes = layout.bytes;
  const at = i * SLOT_BYTES;
  let k = 0;
  while (k + 4 <= n && lineView.getUint32(p + k) === slotView.getUint32(at + k)) k += 4;
  while (k < n && buf[p + k] === bytes[at + k]) k++;
  return k;
}

/** Records member i of the walk (read by readMember from p, now in `member`, ending at next). */
export function record(buf: Uint8Array, i: number, p: number, next: number, role: number, back: boolean, end: number): void {
  if (i >= SLOTS) return;
  layout.n = i;
  const valueAt = member.kind === JSON_STRING ? member.valStart - 1 : member.valStart;
  const gap = valueAt - p;
  if (gap <= 0 || gap >= SLOT_BYTES) return;
  // A number or literal ends where a delimiter follows: the delimiter must match too.
  const size = next - p;
  let whole = role !== 0 ? 0 : member.kind === JSON_NUMBER || member.kind === JSON_LITERAL ? size + 1 : size;
  if (whole > SLOT_BYTES || p + whole > end) whole = 0;
  const n = Math.max(gap, whole);
  const at = i * SLOT_BYTES;
  for (let k = 0; k < n; k++) layout.bytes[at + k] = buf[p + k]!;
  layout.gap[i] = gap;
  layout.whole[i] = whole;
  layout.size[i] = size;
  layout.role[i] = role;
  layout.back[i] = back ? 1 : 0;
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
  return {
    n: 0,
    bytes: new Uint8Array(TAIL_SLOTS * SLOT_BYTES),
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
  const at = j * SLOT_BYTES;
  const hs = tail.holeStart[j]!;
  const he = tail.holeEnd[j]!;
  const bytes = tail.bytes;
  let k = 0;
  for (; k < hs; k++) if (buf[r + k] !== bytes[at + k]) return -1;
  // The hole: any bytes but a quote (the one closing the value must be where it was).
  for (; k < he; k++) if (buf[r + k] === 34) return -1;
  for (; k < size; k++) if (buf[r + k] !== bytes[at + k]) return -1;
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
