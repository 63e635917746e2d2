/**
 * Is this file on disk one the source has been through? By identity and content: the same
 * inode still holding the same first bytes (and, at a resume, the same bytes before the
 * position), or another inode holding them: a copy (copytruncate's, or a `.gz` made of it).
 * A file renamed under the check cannot be read by its listed name: the answer is then
 * UNSURE, and the caller looks again rather than guess (a guess read files twice).
 */
import { type Candidate, Heads, holdsTail, sameIdentity } from './siblings.js';
import type { TrackedFile } from './tracked-file.js';

export const UNSURE = Symbol('unsure');

/** Whether candidate c (same identity as t) still holds t's bytes: length, first bytes, resume tail. */
export async function holds(c: Candidate, t: TrackedFile, heads: Heads): Promise<boolean | typeof UNSURE> {
  if (!c.gzip && c.size < t.offset) return false;
  if (t.head.len > 0) {
    if ((await heads.of(c)) === null) return UNSURE;
    if (!(await heads.match(c, t.head))) return false;
  }
  if (t.tail === null) return true;
  const tail = await holdsTail(c, t.tail, t.offset);
  return tail ?? UNSURE;
}

/** A file among cands (another identity) holding t's bytes up to `consumed`: a copy of it; null if none. */
export async function findCopy(t: TrackedFile, cands: readonly Candidate[], heads: Heads, consumed: number): Promise<Candidate | null | typeof UNSURE> {
  let unsure = false;
  for (const c of cands) {
    if (sameIdentity(c.identity, t.identity) || (!c.gzip && c.size < consumed)) continue;
    if (t.head.len > 0) {
      if ((await heads.of(c)) === null) unsure = true;
      else if (await heads.match(c, t.head)) return c;
    } else if (t.tail !== null && !c.gzip) {
      const tail = await holdsTail(c, t.tail, t.offset);
      if (tail === null) unsure = true;
      else if (tail) return c;
    }
  }
  return unsure ? UNSURE : null;
}

/** Whether c starts like one of these files (still on disk): a copy made while they still hold their lines. */
export async function copyOfAny(c: Candidate, files: Iterable<TrackedFile>, heads: Heads): Promise<boolean> {
  for (const t of files) if (t.head.len > 0 && (await heads.match(c, t.head))) return true;
  return false;
}

/** How long after its last write a short sibling may still be a copy being made. */
const COPY_IN_PROGRESS_MS = 2000;

/**
 * Whether c may be a copy of one of these open files still being made: written just now,
 * shorter than the file's head and starting with the same bytes (copytruncate's copy is
 * created empty, then filled). Read as a new file, it was read whole, every line twice (a
 * 1-in-10 failure of follow-rotation's copytruncate test under load). Bounded in time, so a
 * short file rotated for real is still read.
 */
export async function copyInProgress(c: Candidate, files: Iterable<TrackedFile>, heads: Heads): Promise<boolean> {
  const h = await heads.of(c);
  if (h === null || c.gzip || Date.now() - c.mtimeMs > COPY_IN_PROGRESS_MS) return false;
  for (const t of files) {
    const src = t.reader?.src;
    if (src === undefined || src.gzip || h.length >= t.head.len) continue;
    if (h.length === 0) return true;
    const own = Buffer.alloc(h.length);
    if ((await src.read(own, 0, h.length, 0)) === h.length && own.equals(h)) return true;
  }
  return false;
}
