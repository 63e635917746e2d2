/**
 * Reading lines with a format's per-thread caches (JSON layout replay, time caches) against
 * reading each with nothing remembered: the shared part of the replay and cache properties.
 */
import { ENTRY, MALFORMED, newLineOut, type LineOut } from '../../src/parse/format.js';

/** What one line read as: kind, time, precision, tag, body range, and a malformed line's reason. */
export type LineResult = [number, number, number, number, number, number, string];

/** The result of one parseLine call; `malformedEnd` keeps a malformed line's body end (Docker sets one). */
export function lineResult(kind: number, out: LineOut, malformedEnd = false): LineResult {
  return kind === ENTRY ? [kind, out.us, out.precision, out.tag, out.bodyStart, out.bodyEnd, ''] : [kind, 0, 0, 0, 0, malformedEnd ? out.bodyEnd : 0, kind === MALFORMED ? out.reason : ''];
}

/** The byte range of each line of `lines` joined with '\n'. */
export function joinedRanges(lines: readonly string[]): [number, number][] {
  const ranges: [number, number][] = [];
  let pos = 0;
  for (const line of lines) {
    ranges.push([pos, pos + Buffer.byteLength(line)]);
    pos += Buffer.byteLength(line) + 1;
  }
  return ranges;
}

/**
 * Every range read in order. With `replay` the caches carry from line to line (as in a chunk);
 * without it `forget` runs before every line, so each is read the slow way.
 */
export function readLines(
  ranges: readonly [number, number][],
  parse: (start: number, end: number, out: LineOut) => number,
  forget: () => void,
  replay: boolean,
  malformedEnd = false,
): LineResult[] {
  const out = newLineOut();
  forget();
  return ranges.map(([s, e]) => {
    if (!replay) forget();
    return lineResult(parse(s, e, out), out, malformedEnd);
  });
}
