/**
 * A time given as a field value (JSON, logfmt): ISO 8601 / RFC 3339 (a zone-less one read in
 * --timezone) or an epoch number whose unit its digit count tells (see epochAt).
 */
import type { ParseContext } from '../context.js';
import type { LineOut } from '../format.js';
import { epoch, epochAt } from '../time-parts.js';
import { type IsoParse, parseIsoBytes } from '../timestamp.js';

const iso: IsoParse = { us: 0, precision: 0, hasZone: false };

/** Reads the value buf[start, end) into out.us / out.precision; false when it is not a time. */
export function timeValue(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): boolean {
  if (end - start < 9) return false;
  const c = buf[start]!;
  if (c < 48 || c > 57) return false;
  if (buf[start + 4] === 45) {
    const n = parseIsoBytes(buf, start, end, iso);
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
