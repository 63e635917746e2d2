/**
 * A time given as a field value (JSON, logfmt): ISO 8601 / RFC 3339 (a zone-less one read in
 * --timezone) or an epoch number whose unit its digit count tells (see epochAt).
 */
import type { ParseContext } from '../context.js';
import type { LineOut } from '../format.js';
import { epoch, epochAt } from '../time-parts.js';
import { type IsoParse, type IsoSeconds, isoAfterSeconds, isoSeconds } from '../timestamp.js';

const iso: IsoParse = { us: 0, precision: 0, hasZone: false };

/**
 * The first 19 bytes (`YYYY-MM-DDTHH:MM:SS`) of the last ISO time read, and what they read as:
 * a log's times share their second for many lines in a row, so the next time compares 19
 * bytes and reads only its fraction and zone (as web.ts caches an access log's time): the
 * time's share of bunyan's parse went from 11.4 % to 8.2 % (profile, 2026-12-02). The
 * bytes alone fix what they read as, so the cached reading is the full one;
 * test/property/iso-time-cache.property.test.ts holds the two side by side.
 */
const PREFIX = 19;
const last = { bytes: new Uint8Array(PREFIX), seconds: { dayUs: 0, minutes: 0, second: 0 } as IsoSeconds, valid: false };
const lastView = new DataView(last.bytes.buffer);
let lineBuf: Uint8Array | null = null;
let lineView: DataView<ArrayBufferLike> = lastView;

/** Forgets the cached second, so the next time is read in full (tests compare the two). */
export function forgetTimeCache(): void {
  last.valid = false;
}

/** Whether buf[p, p + 19) holds the cached bytes (the caller checks the length). */
function sameSecond(buf: Uint8Array, p: number): boolean {
  if (buf !== lineBuf) {
    lineBuf = buf;
    lineView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  const a = lineView;
  return a.getUint32(p) === lastView.getUint32(0) && a.getUint32(p + 4) === lastView.getUint32(4) && a.getUint32(p + 8) === lastView.getUint32(8)
    && a.getUint32(p + 12) === lastView.getUint32(12) && a.getUint16(p + 16) === lastView.getUint16(16) && buf[p + 18] === last.bytes[18];
}

/** parseIsoBytes with the seconds cached (see `last`): times in field values (JSON, logfmt, Docker's json-file). */
export function parseIsoValue(buf: Uint8Array, start: number, end: number, out: IsoParse): number {
  if (end - start < PREFIX) return 0;
  if (!(last.valid && sameSecond(buf, start))) {
    last.valid = false;
    if (!isoSeconds(buf, start, last.seconds)) return 0;
    for (let k = 0; k < PREFIX; k++) last.bytes[k] = buf[start + k]!;
    last.valid = true;
  }
  return isoAfterSeconds(buf, start, end, last.seconds, out);
}

/** Reads the value buf[start, end) into out.us / out.precision; false when it is not a time. */
export function timeValue(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): boolean {
  if (end - start < 9) return false;
  const c = buf[start]!;
  if (c < 48 || c > 57) return false;
  if (buf[start + 4] === 45) {
    const n = parseIsoValue(buf, start, end, iso);
    if (n === 0) return false;
    out.us = iso.hasZone ? iso.us : ctx.local(iso.us);
    out.precision = iso.precision;
    return true;
  }
  const after = epochAt(buf, start, end);
  if (after < 0) return exponentTime(buf, start, end, out);
  out.us = epoch.us;
  out.precision = epoch.precision;
  return true;
}

/** Float seconds in exponent form (1.7053146451234e+09): rare, so the slow way. */
function exponentTime(buf: Uint8Array, start: number, end: number, out: LineOut): boolean {
  if (end - start > 32) return false;
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(buf[i]!);
  const m = /^\d(?:\.(\d+))?[eE]\+?(\d+)$/.exec(text);
  if (m === null) return false;
  const seconds = Number(text);
  if (!(seconds >= 1e8 && seconds < 1e10)) return false;
  // The mantissa's digits tell the precision: 1.7357076e+09 is whole seconds.
  const precision = Math.max(0, Math.min(6, (m[1]?.length ?? 0) - Number(m[2])));
  const quantum = 10 ** (6 - precision);
  out.us = Math.round((seconds * 1e6) / quantum) * quantum;
  out.precision = precision;
  return true;
}
