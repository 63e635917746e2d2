/**
 * The format of one file of a source: forced for the whole source (--format), or detected
 * from this file's own head (formats.ts), so every new file after a rotation is judged again
 * and a source whose files change format (a deploy switched loggers) is read with the right
 * one for each. A file no format recognizes is not read: its reader waits, and the owner is
 * told what was tried, until more of its head, or a new file, is recognized.
 */
import { type LogFormat, describeUnrecognized, detect, DETECT_BYTES } from '../parse/index.js';
import type { ByteSource } from './file-bytes.js';

/** What a detection found: the format and the share of lines it recognized, or what was tried. */
export type FormatVerdict = { format: LogFormat; share: number } | { unrecognized: string };

export class FormatSlot {
  /** Forced, or detected from the head; null until detected. */
  format: LogFormat | null;
  /** Head bytes the last detection looked at (detection runs again only when there are more). */
  private sampled = 0;

  constructor(
    forced: LogFormat | null,
    private readonly judged: (verdict: FormatVerdict) => void,
  ) {
    this.format = forced;
  }

  /**
   * Detects the format from the file's first 64 KiB (read from offset 0, also after a resume
   * in the middle). True once known. `size`: the file's size now (Infinity for a gzip file
   * not read to its end). `final`: the file is complete (one-shot reads, a rotated file read
   * out), so an unterminated last line counts.
   */
  async judge(src: ByteSource, size: number, final: boolean): Promise<boolean> {
    if (this.format !== null) return true;
    const n = Math.min(size, DETECT_BYTES);
    if (n === 0 || (n === this.sampled && !final)) return false;
    const sample = Buffer.alloc(n + 1);
    const got = await src.readHead(sample, n);
    if (got === null) return false;
    this.sampled = got;
    let view = sample.subarray(0, got);
    // Judged as it is when the file is complete, or when its first line alone fills the sample
    // (a first line over 64 KiB would otherwise keep the source waiting for a newline forever).
    const whole = final && (got === size || got < n);
    if (whole && got > 0 && view[got - 1] !== 10) {
      sample[got] = 10;
      view = sample.subarray(0, got + 1);
    } else if (!whole && got >= DETECT_BYTES && view.indexOf(10) < 0) {
      sample[got - 1] = 10; // the sample's own size is the limit detection reads
    }
    // No whole line yet: wait for one rather than judge a fragment.
    if (view.indexOf(10) < 0) return false;
    const found = detect(view);
    if (found === null) {
      this.judged({ unrecognized: describeUnrecognized(view) });
      return false;
    }
    this.format = found.format;
    this.judged({ format: found.format, share: found.share });
    return true;
  }
}
