/**
 * Runtime status of one source, as tail_status reports it: state, bytes and lines consumed,
 * parse errors with the last bad line, rotations and a lines/s rate over the last few seconds.
 */
import type { ParseErrorSample } from '../parse/index.js';
import type { IngestStatus, SourceState } from '../model/index.js';

type ErrorOrigin = 'read' | 'store' | 'detect';

/** No growth for this long turns a live source into a stalled one. */
export const STALLED_AFTER_MS = 60_000;
const RATE_WINDOW_MS = 5_000;

export class SourceTracker {
  state: SourceState = 'missing';
  format = 'auto';
  /** Share of the first lines the detected format recognized (null: forced, or not detected yet). */
  formatShare: number | null = null;
  /** Bytes of the current file consumed (indexed or held waiting for the rest of an entry). */
  bytesRead = 0;
  fileBytes = 0;
  /** Held by the follower (an entry that may still grow). */
  pendingBytes = 0;
  /** Handed to the pipeline, not applied yet. */
  queuedBytes = 0;
  linesRead = 0;
  parseErrors = 0;
  lastParseError: ParseErrorSample | undefined;
  rotations = 0;
  /** Lines longer than --max-line-bytes, and the bytes skipped past their limit. */
  longLines = 0;
  longLineBytesSkipped = 0;
  /** Lines that could not be read any more (a gap): bytes when known, and whole files lost. */
  missedBytes = 0;
  missedFiles = 0;
  error: string | undefined;
  lastGrowthAt = Date.now();
  private samples: { at: number; lines: number }[] = [];

  constructor(
    readonly name: string,
    readonly path: string,
  ) {}

  /** After a read: is everything the file held consumed? */
  observe(bytesRead: number, fileBytes: number, grew: boolean, pendingBytes = this.pendingBytes): void {
    this.bytesRead = bytesRead;
    this.pendingBytes = pendingBytes;
    this.fileBytes = fileBytes;
    const now = Date.now();
    if (grew) this.lastGrowthAt = now;
    if (this.state === 'error') return;
    if (bytesRead < fileBytes) this.state = 'catching_up';
    else this.state = now - this.lastGrowthAt > STALLED_AFTER_MS ? 'stalled' : 'live';
  }

  addLines(lines: number, errors: number, lastError: ParseErrorSample | undefined, absoluteLine: number): void {
    this.linesRead += lines;
    this.parseErrors += errors;
    if (lastError !== undefined) this.lastParseError = { ...lastError, line: absoluteLine + lastError.line };
    const now = Date.now();
    this.samples.push({ at: now, lines: this.linesRead });
    while (this.samples.length > 2 && this.samples[0]!.at < now - RATE_WINDOW_MS) this.samples.shift();
  }

  /** Counts a gap: `bytes` when known, and a whole file when `file`. */
  addMissed(bytes: number | null, file: boolean): void {
    if (bytes !== null) this.missedBytes += bytes;
    if (file) this.missedFiles++;
  }

  /** An over-long line's bytes past the limit were skipped (`newLine`: the first of a line). */
  skipLongLine(bytes: number, newLine: boolean): void {
    if (newLine) this.longLines++;
    this.longLineBytesSkipped += bytes;
  }

  private errorOrigin: ErrorOrigin | null = null;

  /**
   * Marks the source as failing: reading it ('read'), storing its batches ('store'), or no
   * format recognizing it ('detect').
   */
  fail(message: string, origin: ErrorOrigin): void {
    this.state = 'error';
    this.error = message;
    this.errorOrigin = origin;
  }

  /** Clears an error raised by the same origin once it works again. */
  recover(origin: ErrorOrigin): void {
    if (this.state !== 'error' || this.errorOrigin !== origin) return;
    this.errorOrigin = null;
    this.error = undefined;
    this.state = this.bytesRead < this.fileBytes ? 'catching_up' : 'live';
  }

  linesPerSec(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (first === undefined || last === undefined) return 0;
    const now = Date.now();
    // A rate that stopped being refreshed decays to 0 instead of freezing.
    if (now - last.at > RATE_WINDOW_MS) return 0;
    const span = Math.max(1000, now - first.at);
    return ((last.lines - first.lines) * 1000) / span;
  }

  snapshot(): IngestStatus {
    return {
      name: this.name,
      path: this.path,
      format: this.format,
      ...(this.formatShare === null ? {} : { formatShare: this.formatShare }),
      state: this.state,
      bytesRead: this.bytesRead,
      fileBytes: this.fileBytes,
      pendingBytes: this.pendingBytes + this.queuedBytes,
      linesRead: this.linesRead,
      parseErrors: this.parseErrors,
      ...(this.lastParseError === undefined ? {} : { lastParseError: this.lastParseError }),
      linesPerSec: this.linesPerSec(),
      rotations: this.rotations,
      longLines: this.longLines,
      longLineBytesSkipped: this.longLineBytesSkipped,
      missedBytes: this.missedBytes,
      missedFiles: this.missedFiles,
      ...(this.error === undefined ? {} : { error: this.error }),
    };
  }
}
