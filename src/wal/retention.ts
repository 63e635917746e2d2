/**
 * Retention primitives: delete whole sealed segments from the front of the log. Only a
 * prefix is ever removed, so what remains is one contiguous run of positions and
 * `firstPos` tells the index which bodies are gone. Callers hold the WAL's mutex, so a
 * deletion never interleaves with an append, a cut or another deletion; readBody is
 * synchronous and sees a segment either listed (and readable) or gone (null).
 */
import { ioError, isNotFound, type WalLogger } from './errors.js';
import type { WalIo } from './io.js';
import type { SegmentInfo, SegmentList } from './segment-list.js';

export async function deleteSealedPrefix(
  io: WalIo,
  dir: string,
  list: SegmentList,
  pred: (s: SegmentInfo) => boolean,
  logger: WalLogger,
): Promise<SegmentInfo[]> {
  const deleted: SegmentInfo[] = [];
  // The active (last) segment is never deleted.
  while (list.items.length > 1) {
    const seg = list.items[0]!;
    if (!seg.sealed) break;
    const info = seg.info();
    if (!pred(info)) break;
    list.remove(seg);
    try {
      await io.unlink(seg.path);
    } catch (err) {
      if (!isNotFound(err)) {
        // Keep the list truthful: the file is still there, so put the segment back.
        list.items.unshift(seg);
        throw ioError(err, 'deleting a segment', seg.path, -1);
      }
    }
    deleted.push(info);
  }
  if (deleted.length > 0) {
    try {
      await io.syncDir(dir);
    } catch (err) {
      // The unlinks happened; a crash could bring a segment back, which retention deletes again.
      logger.warn({ err, dir }, 'WAL: fsync of the directory after deleting segments failed');
    }
    logger.info({ segments: deleted.length, bytes: deleted.reduce((n, s) => n + s.bytes, 0) }, 'WAL: retention deleted segments');
  }
  return deleted;
}
