/**
 * Finding fields in a JSON object by scanning its bytes, without JSON.parse: the hot path of
 * every JSON format, and the way a later `fields` search finds request_id and friends in a
 * stored body. Reads one top-level member at a time into a reused slot; string values are
 * reported as the raw (still escaped) bytes between the quotes.
 *
 *   let p = objectStart(buf, start, end);
 *   while ((p = readMember(buf, p, end)) >= 0) { member.keyStart ... member.valEnd }
 *
 * Malformed JSON stops the walk (readMember returns -1) rather than throwing.
 */

export const JSON_STRING = 1;
export const JSON_NUMBER = 2;
export const JSON_OBJECT = 3;
export const JSON_ARRAY = 4;
export const JSON_LITERAL = 5;

/** The member readMember last read. For strings, [valStart, valEnd) excludes the quotes. */
export const member = { keyStart: 0, keyEnd: 0, valStart: 0, valEnd: 0, kind: 0 };

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Index after the `{` opening an object at buf[start] (leading spaces allowed), or -1. */
export function objectStart(buf: Uint8Array, start: number, end: number): number {
  let p = start;
  while (p < end && isSpace(buf[p]!)) p++;
  return p < end && buf[p] === 123 ? p + 1 : -1;
}

/** Index of the quote closing a string whose content starts at i, or -1. */
export function stringEnd(buf: Uint8Array, i: number, end: number): number {
  // A byte loop beats Buffer.indexOf here: the binding costs more per call than the short
  // keys and values take to walk.
  while (i < end) {
    const c = buf[i]!;
    if (c === 34) return i;
    i += c === 92 ? 2 : 1;
  }
  return -1;
}

/** Index after the object or array opening at buf[i], or -1 (nesting capped at 64). */
function skipNested(buf: Uint8Array, i: number, end: number): number {
  let depth = 0;
  while (i < end) {
    const c = buf[i]!;
    if (c === 34) {
      const q = stringEnd(buf, i + 1, end);
      if (q < 0) return -1;
      i = q + 1;
      continue;
    }
    if (c === 123 || c === 91) {
      if (++depth > 64) return -1;
    } else if (c === 125 || c === 93) {
      if (--depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

/**
 * Reads the next member of an object from p (just after `{` or after the previous member).
 * Fills `member` and returns the index after it; -1 at the end of the object or on bad JSON.
 */
export function readMember(buf: Uint8Array, p: number, end: number): number {
  if (p < 0) return -1;
  let c = buf[p];
  // Fast path: compact JSON puts the key's quote right after the comma.
  if (c === 44) c = buf[++p];
  while (c === 32 || c === 9 || c === 10 || c === 13 || c === 44) c = buf[++p];
  if (c !== 34 || p >= end) return -1;
  // The key: keys hold no escapes in practice, but a backslash is still honoured.
  let k = p + 1;
  for (;;) {
    if (k >= end) return -1;
    const d = buf[k]!;
    if (d === 34) break;
    k += d === 92 ? 2 : 1;
  }
  member.keyStart = p + 1;
  member.keyEnd = k;
  p = k + 1;
  c = buf[p];
  if (c !== 58) {
    while (c === 32 || c === 9) c = buf[++p];
    if (c !== 58) return -1;
  }
  c = buf[++p];
  while (c === 32 || c === 9) c = buf[++p];
  return readValue(buf, p, end);
}

/**
 * Reads the value that starts at buf[p] (its first byte, p < end) into `member`'s value fields
 * and returns the index after it; -1 on bad JSON. readMember's second half, also called alone
 * by a reader that already knows the key (json.ts replays a record's layout).
 */
export function readValue(buf: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1;
  const c = buf[p];
  if (c === 34) {
    let q = p + 1;
    for (;;) {
      if (q >= end) return -1;
      const d = buf[q]!;
      if (d === 34) break;
      q += d === 92 ? 2 : 1;
    }
    member.kind = JSON_STRING;
    member.valStart = p + 1;
    member.valEnd = q;
    return q + 1;
  }
  if (c === 123 || c === 91) {
    const after = skipNested(buf, p, end);
    if (after < 0) return -1;
    member.kind = c === 123 ? JSON_OBJECT : JSON_ARRAY;
    member.valStart = p;
    member.valEnd = after;
    return after;
  }
  let q = p;
  while (q < end) {
    const d = buf[q]!;
    if (d === 44 || d === 125 || d === 93 || d === 32 || d === 9 || d === 10 || d === 13) break;
    q++;
  }
  if (q === p) return -1;
  member.kind = (c! >= 48 && c! <= 57) || c === 45 ? JSON_NUMBER : JSON_LITERAL;
  member.valStart = p;
  member.valEnd = q;
  return q;
}

/** Whether buf[start, end) equals `key` (pre-encoded bytes). */
export function bytesEqual(buf: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  if (end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (buf[start + i] !== key[i]) return false;
  return true;
}

/** Pre-encoded ASCII. */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

/**
 * The value range of top-level key `key` in the object at buf[start, end), in `member`;
 * false when absent. For a later `fields` search and for tests; the formats use readMember
 * with their own key tables.
 */
export function findMember(buf: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  let p = objectStart(buf, start, end);
  while (p >= 0 && (p = readMember(buf, p, end)) >= 0) {
    if (bytesEqual(buf, member.keyStart, member.keyEnd, key)) return true;
  }
  return false;
}

/**
 * Reads, backwards, the member that ends right before index p (p at the object's closing `}`
 * or at the `,` after the member). Fills `member` and returns the index of the `,` or `{`
 * before it; -1 when it cannot tell (a nested value, bad JSON, or lo reached). Lets a reader
 * take the fields at the end of a record (bunyan's time, Docker's stream and time) without
 * walking the long message before them.
 */
export function readMemberBack(buf: Uint8Array, lo: number, p: number): number {
  let i = p - 1;
  while (i > lo && isSpace(buf[i]!)) i--;
  if (i <= lo) return -1;
  const c = buf[i]!;
  if (c === 34) {
    const open = quoteBack(buf, lo, i - 1);
    if (open < 0) return -1;
    member.kind = JSON_STRING;
    member.valStart = open + 1;
    member.valEnd = i;
    i = open - 1;
  } else if (c === 125 || c === 93) {
    return -1;
  } else {
    let j = i;
    while (j > lo) {
      const d = buf[j]!;
      if (d === 58 || d === 44 || d === 123 || isSpace(d)) break;
      j--;
    }
    const first = buf[j + 1]!;
    member.kind = (first >= 48 && first <= 57) || first === 45 ? JSON_NUMBER : JSON_LITERAL;
    member.valStart = j + 1;
    member.valEnd = i + 1;
    i = j;
  }
  while (i > lo && isSpace(buf[i]!)) i--;
  if (buf[i] !== 58) return -1;
  i--;
  while (i > lo && isSpace(buf[i]!)) i--;
  if (buf[i] !== 34) return -1;
  const keyOpen = quoteBack(buf, lo, i - 1);
  if (keyOpen < 0) return -1;
  member.keyStart = keyOpen + 1;
  member.keyEnd = i;
  i = keyOpen - 1;
  while (i > lo && isSpace(buf[i]!)) i--;
  const sep = buf[i];
  return i >= lo && (sep === 44 || sep === 123) ? i : -1;
}

/** Index of the unescaped quote at or before i (the one that opens a string), or -1. */
function quoteBack(buf: Uint8Array, lo: number, i: number): number {
  // Four bytes a turn while none is a quote: the walk back over bunyan's time string was its
  // parse's largest line in a profile (2026-12-02).
  while (i - 3 >= lo && buf[i] !== 34 && buf[i - 1] !== 34 && buf[i - 2] !== 34 && buf[i - 3] !== 34) i -= 4;
  while (i >= lo) {
    if (buf[i] === 34) {
      let k = i - 1;
      while (k >= lo && buf[k] === 92) k--;
      if (((i - 1 - k) & 1) === 0) return i;
    }
    i--;
  }
  return -1;
}

/** Index of the `}` closing the object that ends the line buf[.., end), or -1. */
export function objectEnd(buf: Uint8Array, lo: number, end: number): number {
  let i = end - 1;
  while (i > lo && isSpace(buf[i]!)) i--;
  return buf[i] === 125 ? i : -1;
}
