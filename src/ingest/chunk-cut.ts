/**
 * Where to cut a buffer of log bytes so that a chunk holds whole entries only. A chunk ends
 * right before a line that starts a new entry, so a stack trace never straddles two chunks
 * and each chunk parses on its own, in any worker, in any order.
 */
import type { LogFormat } from '../parse/index.js';

/**
 * The largest offset in (0, n] at which an entry starts, or 0 when the buffer holds no entry
 * start after its first byte. Bytes before the cut are whole entries; the entry starting at
 * the cut may still be growing (more continuation lines may follow).
 */
export function lastEntryStart(buf: Uint8Array, n: number, format: LogFormat): number {
  let k = n - 1;
  while (k > 0) {
    const nl = buf.lastIndexOf(10, k - 1);
    if (nl < 0) return 0;
    const start = nl + 1;
    if (start < n && format.isEntryStart(buf, start, n) === true) return start;
    k = nl;
  }
  return 0;
}

/** End of the last complete line in buf[0, n) (one past its newline), or 0. */
export function lastLineEnd(buf: Uint8Array, n: number): number {
  if (n === 0) return 0;
  const nl = buf.lastIndexOf(10, n - 1);
  return nl < 0 ? 0 : nl + 1;
}
