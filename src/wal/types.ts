/** The WAL's public data shapes (what goes in with append, what comes out of replay). */

import type { EntryColumns, FileIdentity, SourceFile } from '../model/index.js';

export type { FileIdentity, FsyncPolicy, SourceFile } from '../model/index.js';

/**
 * One parsed chunk of one source, the unit of a batch record: its columns (only the first
 * `count` entries are written) and where they came from.
 */
export interface WalBatch extends EntryColumns {
  /** A source id registered with registerSource (u32). */
  sourceId: number;
  file: FileIdentity;
  /** The raw bytes are [byteStart, byteEnd) of the source file. */
  byteStart: number;
  byteEnd: number;
  /** 1-based line number of the chunk's first line. */
  firstLine: number;
  /** Lines consumed by the chunk. */
  lines: number;
  /** Chunk-local custom tag names that meta refers to (parse/parsed-chunk.ts). */
  customTags?: readonly string[];
  customTagAt?: readonly number[];
  parseErrors?: number;
  /** The chunk's bytes, verbatim; bodies are offsets into it. */
  raw: Uint8Array;
}

/** 'rotated' and 'truncated' are version-1 markers: still read, no longer written. */
export type SourceReason = 'register' | 'preamble' | 'rotated' | 'truncated' | 'files';

/** How far a source was consumed: the next byte and line to read, in which file. */
export interface SourcePosition {
  file: FileIdentity;
  offset: number;
  nextLine: number;
}


export interface SourceFields {
  sourceId: number;
  reason: SourceReason;
  name: string;
  path: string;
  position: SourcePosition | null;
  /** The whole file list (version 2), or null for a record that carries none (version 1). */
  files: SourceFile[] | null;
  /** When the source was first registered, epoch ms; 0 when not known (version 1). */
  registeredAt: number;
}

/** A source as the WAL knows it after open and after every append. */
export interface WalSource {
  id: number;
  name: string;
  path: string;
  /** Last consumed position, null until the first batch or marker. */
  position: SourcePosition | null;
  /** The files it has been through and that were on disk at the last look, oldest first. */
  files: SourceFile[];
  /**
   * True when the list was derived from a version-1 position (no file heads, no passed-over
   * files): the follower then treats files it does not know as old, as version 1 did.
   */
  legacy: boolean;
  /** When the source was first registered, epoch ms; 0 when not known (version 1). */
  registeredAt: number;
}

/** Per-segment statistics kept in the seal trailer. */
export interface SealFields {
  records: number;
  corrupt: number;
  entries: number;
  minTs: number;
  maxTs: number;
  end: number;
}

/** Where a record sits: its frame's logical position and the position just past it. */
interface Located {
  pos: number;
  end: number;
}

/** A batch as replay returns it. Columns are views valid only during the callback. */
export interface BatchRecord extends Located {
  type: 'batch';
  rawPos: number;
  rawLen: number;
  sourceId: number;
  file: FileIdentity;
  byteStart: number;
  byteEnd: number;
  firstLine: number;
  lines: number;
  count: number;
  parseErrors: number;
  ts: Float64Array;
  meta: Uint8Array;
  line: Uint32Array;
  bodyStart: Uint32Array;
  bodyEnd: Uint32Array;
  customTags: string[];
  customTagAt: number[];
  /** The raw block when replay was asked for it (`raw: true`), else null. */
  raw: Uint8Array | null;
}

export interface SourceRecord extends Located, SourceFields {
  type: 'source';
}

export type WalRecord = BatchRecord | SourceRecord;
