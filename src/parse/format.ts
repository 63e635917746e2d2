/**
 * The LogFormat interface every format implements, and the registry `--format` names.
 * Formats are pure functions of bytes: the parse worker imports this module and nothing
 * from the server.
 */
import type { ParseOptions, ParsedChunk } from './parsed-chunk.js';

export interface LogFormat {
  /** The name `--format` accepts. */
  readonly name: string;
  /** One line shown by `--help` and in errors listing the accepted names. */
  readonly description: string;
  /** Parses a chunk that starts at a line boundary into columns. */
  parseChunk(buf: Buffer, options: ParseOptions): ParsedChunk;
  /**
   * Whether the line starting at buf[pos] starts a new entry. `undefined` when the bytes up to
   * `end` are too few to tell yet (the reader waits for more).
   */
  isEntryStart(buf: Uint8Array, pos: number, end: number): boolean | undefined;
  /** Share (0..1) of the sample's lines this format recognizes; `auto` picks the best. */
  detect(sample: Uint8Array): number;
}
