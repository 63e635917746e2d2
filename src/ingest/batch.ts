/**
 * A batch: one parsed chunk of one source, the unit that flows from the reader through the
 * parser to the store (and, with the WAL on, into one WAL record).
 */
import type { FileIdentity } from '../model/index.js';
import type { ParsedChunk } from '../parse/index.js';

/** Which file a source's bytes came from, to tell rotation and truncation apart on resume. */
export type { FileIdentity } from '../model/index.js';

export interface IngestBatch {
  /** Configured source name. */
  source: string;
  file: FileIdentity;
  /** The raw bytes of [byteStart, byteEnd) in the source file, cut at entry boundaries. */
  chunk: Buffer;
  byteStart: number;
  byteEnd: number;
  /**
   * The descriptor the bytes were read through, for a plain file only (undefined for gzip). It
   * may be closed, and its number reused, by the time the batch is applied: a sink that wants
   * the file opens its own and checks it is `file` (src/store/ephemeral-sink.ts).
   */
  fd?: number;
  /** Which of the source's files the bytes came from (line numbers run per file). */
  fileKey: number;
  /** 1-based line number of the chunk's first line. */
  firstLine: number;
  parsed: ParsedChunk;
}
