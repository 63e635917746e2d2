/**
 * Over-long lines: a line longer than the limit (--max-line-bytes, default 1 MiB) is kept up
 * to the limit and the rest of it, up to its newline, is skipped while streaming, so memory
 * stays flat whatever the line length.
 *
 * Why: the follower held an unfinished line in memory until its newline, re-allocating and
 * copying it on every 4 MiB read, and then parsed, stored and decoded it whole. A 50 MB line
 * cost 22 to 39 s and 6.5 to 7.2 GB of peak memory (issue 15, item 1), for a body that is cut
 * to 2 KiB on output anyway.
 *
 * The kept bytes and the line's newline stay in the chunk, so a chunk still parses on its own;
 * the dropped bytes are remembered as elisions (where in the held bytes, how many source
 * bytes) so the chunk's byte range still covers the source bytes it stands for. A WAL record
 * of such a chunk has a raw block shorter than its byte range (src/wal/FORMAT.md).
 */
/** What skipRest() reads from: a FileHandle, or a ByteSource (file-bytes.ts, plain or gzip). */
export interface PositionalReader {
  read(buf: Buffer, off: number, len: number, pos: number): Promise<number | { bytesRead: number }>;
}

export const DEFAULT_MAX_LINE_BYTES = 1 << 20;
/** Read size while skipping the rest of a long line (reused; nothing of it is kept). */
const SKIP_READ_BYTES = 1 << 20;

interface Elision {
  /** Offset in the held bytes where source bytes were dropped. */
  at: number;
  bytes: number;
}

export class LineLimiter {
  private elisions: Elision[] = [];
  /** The last held line is over the limit and its newline has not been read yet. */
  skipping = false;
  private scratch: Buffer | null = null;

  constructor(
    readonly maxLineBytes: number,
    /** Told of each dropped stretch: `newLine` on the first one of a line. */
    private readonly onSkip: (bytes: number, newLine: boolean) => void = () => undefined,
  ) {}

  /** Source bytes the held bytes stand for beyond their own length. */
  get elided(): number {
    let n = 0;
    for (const e of this.elisions) n += e.bytes;
    return n;
  }

  /**
   * Cuts the over-long lines of buf[0, total) in place; [0, scanFrom) was checked before and
   * scanFrom is a line start. Each long line keeps its first maxLineBytes bytes and its newline.
   * Returns the new length. An unterminated long line at the end turns on `skipping`.
   *
   * Cost: one backward newline search per maxLineBytes of input, each scanning about one
   * line, so checking a 4 MiB read of 100-byte lines is ~4 searches of ~100 bytes.
   */
  trim(buf: Buffer, scanFrom: number, total: number): number {
    const max = this.maxLineBytes;
    let p = scanFrom;
    while (p + max < total) {
      // The last newline at or before p + max; p - 1 is a newline (or p is the scan start),
      // so this never scans back further than one line.
      const q = buf.lastIndexOf(10, p + max);
      if (q >= p) {
        p = q + 1;
        continue;
      }
      const keepEnd = p + max;
      const nl = buf.subarray(0, total).indexOf(10, keepEnd);
      if (nl < 0) {
        this.note(keepEnd, total - keepEnd, true);
        this.skipping = true;
        return keepEnd;
      }
      buf.copyWithin(keepEnd, nl, total);
      this.note(keepEnd, nl - keepEnd, true);
      total -= nl - keepEnd;
      p = keepEnd + 1;
    }
    return total;
  }

  /**
   * While skipping: reads from `from` (the next unread source byte) up to `size`, dropping
   * bytes until the long line's newline. Returns the source bytes dropped; `skipping` turns
   * off once the newline is found (the newline itself is left to be read as usual).
   */
  async skipRest(fd: PositionalReader, from: number, size: number): Promise<number> {
    this.scratch ??= Buffer.allocUnsafe(SKIP_READ_BYTES);
    let pos = from;
    while (pos < size) {
      const got = await fd.read(this.scratch, 0, Math.min(SKIP_READ_BYTES, size - pos), pos);
      const bytesRead = typeof got === 'number' ? got : got.bytesRead;
      if (bytesRead === 0) break;
      const nl = this.scratch.subarray(0, bytesRead).indexOf(10);
      const dropped = nl < 0 ? bytesRead : nl;
      this.extendLast(dropped);
      pos += dropped;
      if (nl >= 0) {
        this.skipping = false;
        break;
      }
    }
    return pos - from;
  }

  /** Source bytes that the first `cut` held bytes stand for (their elisions included). */
  span(cut: number): number {
    let n = cut;
    for (const e of this.elisions) if (e.at <= cut) n += e.bytes;
    return n;
  }

  /** The first `cut` held bytes were handed out: their elisions go, the others shift. */
  consume(cut: number): void {
    this.elisions = this.elisions.filter((e) => e.at > cut).map((e) => ({ at: e.at - cut, bytes: e.bytes }));
    if (this.elisions.length === 0) this.skipping = false;
  }

  /** The file starts over (truncated, or a new one): nothing held, nothing skipped. */
  reset(): void {
    this.elisions = [];
    this.skipping = false;
  }

  private note(at: number, bytes: number, newLine: boolean): void {
    this.elisions.push({ at, bytes });
    this.onSkip(bytes, newLine);
  }

  private extendLast(bytes: number): void {
    const last = this.elisions[this.elisions.length - 1];
    if (last === undefined || bytes === 0) return;
    last.bytes += bytes;
    this.onSkip(bytes, false);
  }
}
