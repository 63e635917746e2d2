/**
 * Zone abbreviations honoured in log lines (`2025-08-13 01:45:01.123 PDT`). Only the ones that
 * name a single offset where logs come from: UTC/GMT, North America and Europe. Ambiguous
 * ones (IST: India, Ireland or Israel; CST in China; AST in Arabia; BST in Bangladesh...) are
 * not in the table: a line carrying one is read in `--timezone` like a line without a zone.
 * CST, AST and BST are read as their North American / British meaning, the one servers
 * that print abbreviations (PostgreSQL, `date`) use in practice.
 */

/** Offset in minutes east of UTC, by upper-case abbreviation. */
export const ZONE_ABBREVIATIONS: Readonly<Record<string, number>> = {
  UTC: 0, UT: 0, GMT: 0, Z: 0, ZULU: 0,
  // Europe
  WET: 0, WEST: 60, BST: 60, CET: 60, CEST: 120, MET: 60, MEST: 120, EET: 120, EEST: 180, MSK: 180,
  // North America
  NST: -210, NDT: -150, AST: -240, ADT: -180, EST: -300, EDT: -240, CST: -360, CDT: -300,
  MST: -420, MDT: -360, PST: -480, PDT: -420, AKST: -540, AKDT: -480, HST: -600, HDT: -540,
};

/** Result slot of zoneAt: offset minutes and bytes used (0 = no zone there). */
export interface ZoneParse {
  offsetMinutes: number;
  length: number;
}

/**
 * Reads a zone at buf[i]: `Z`, `+HH:MM`, `+HHMM`, `+HH`, `-...`, or an abbreviation from
 * the table (2 to 5 letters, any case, ending at a non-letter). Sets out.length to 0 when
 * there is none.
 */
export function zoneAt(buf: Uint8Array, i: number, end: number, out: ZoneParse): void {
  out.length = 0;
  out.offsetMinutes = 0;
  if (i >= end) return;
  const c = buf[i]!;
  if (c === 43 || c === 45) {
    if (end - i < 3) return;
    const h1 = buf[i + 1]! - 48;
    const h2 = buf[i + 2]! - 48;
    if (h1 < 0 || h1 > 9 || h2 < 0 || h2 > 9) return;
    const oh = h1 * 10 + h2;
    let om = 0;
    let len = 3;
    if (end - i >= 6 && buf[i + 3] === 58 && isDigit(buf[i + 4]!) && isDigit(buf[i + 5]!)) {
      om = (buf[i + 4]! - 48) * 10 + buf[i + 5]! - 48;
      len = 6;
    } else if (end - i >= 5 && isDigit(buf[i + 3]!) && isDigit(buf[i + 4]!)) {
      om = (buf[i + 3]! - 48) * 10 + buf[i + 4]! - 48;
      len = 5;
    }
    // A third digit right after would make this a number, not an offset.
    if (i + len < end && isDigit(buf[i + len]!)) return;
    if (oh > 23 || om > 59) return;
    out.offsetMinutes = (oh * 60 + om) * (c === 45 ? -1 : 1);
    out.length = len;
    return;
  }
  // Letters: an abbreviation.
  let j = i;
  while (j < end && j - i < 6 && isLetter(buf[j]!)) j++;
  const n = j - i;
  if (n < 1 || n > 5 || (j < end && isLetter(buf[j]!))) return;
  // Packed upper-case letters (5 x 5 bits, exact): no string per line (PostgreSQL writes one
  // on every line).
  let key = n;
  for (let k = i; k < j; k++) key = key * 32 + ((buf[k]! & 0xdf) - 64);
  const minutes = BY_KEY.get(key);
  if (minutes === undefined) return;
  out.offsetMinutes = minutes;
  out.length = n;
}

const BY_KEY = new Map<number, number>();
for (const [name, minutes] of Object.entries(ZONE_ABBREVIATIONS)) {
  let key = name.length;
  for (const ch of name) key = key * 32 + (ch.charCodeAt(0) - 64);
  BY_KEY.set(key, minutes);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
