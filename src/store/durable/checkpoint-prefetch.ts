/**
 * Reading the newest checkpoint before anything else at start-up. The read (hundreds of MB
 * at 10M entries, copied and page-faulted by the kernel on the thread pool) then overlaps
 * with loading the server's modules on the main thread instead of following it, and is split
 * into parallel slices so both cores copy. Imports nothing but node:fs, so it can start
 * first. (10M entries: data dir open 0.40 -> 0.15 s with this and checkpointed search
 * structures; `npm run bench`, restart section.)
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface PrefetchedCheckpoint {
  name: string;
  path: string;
  buf: Buffer;
}

const SLICES = 4;

/** The newest file named `<prefix>...` in dir, read whole; null when there is none or on any error. */
export async function prefetchCheckpoint(dir: string, prefix: string): Promise<PrefetchedCheckpoint | null> {
  try {
    const names = (await readdir(dir)).filter((n) => n.startsWith(prefix) && !n.includes('.tmp-')).sort();
    const name = names[names.length - 1];
    if (name === undefined) return null;
    const path = join(dir, name);
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      // Offset 0 of its own buffer: checkpoint sections are viewed in place. Shared, not an
      // ArrayBuffer: V8 counts an ArrayBuffer's bytes as external memory, and 256 MB of it (10M
      // entries) set off an "external memory pressure" mark-compact during this read (pauses
      // of 1-47 ms under load, --trace-gc); a SharedArrayBuffer set off none (node 20.20).
      const buf = Buffer.from(new SharedArrayBuffer(size));
      const slice = Math.ceil(size / SLICES / 4096) * 4096;
      await Promise.all(
        Array.from({ length: SLICES }, async (_, k) => {
          let at = k * slice;
          const end = Math.min(size, at + slice);
          while (at < end) {
            const { bytesRead } = await handle.read(buf, at, end - at, at);
            if (bytesRead === 0) throw new Error('short read');
            at += bytesRead;
          }
        }),
      );
      return { name, path, buf };
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}
