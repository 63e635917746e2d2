/**
 * The files of a source as rotation.ts tracks them, as the WAL keeps them (KnownFile, the
 * same shape as wal/types.ts SourceFile) and as the pipeline hands them to the WAL (FileState).
 */
import type { FileIdentity, SourceFile } from '../model/index.js';
import type { EntryReader } from './entry-reader.js';
import type { ByteSource, FileHead } from './file-bytes.js';

/** One file of a source as the WAL keeps it. */
export type KnownFile = SourceFile;

/** Where a source continues after a restart. */
export interface SourceResume {
  files: KnownFile[];
  /** The list came from a version-1 data dir (no heads; unknown siblings are old). */
  legacy: boolean;
  /** When the source was first registered (epoch ms; 0 = not known). */
  registeredAt: number;
  /** The last bytes of the source's last batch, which its file must still hold right before `position`. */
  tail: { file: FileIdentity; position: number; bytes: Buffer } | null;
}

/** A file as the follower tracks it; `key` numbers lines in the pipeline (stays across a copy takeover). */
export interface TrackedFile {
  key: number;
  identity: FileIdentity;
  gzip: boolean;
  /** Bytes handed out while no reader is open (the reader's position otherwise). */
  offset: number;
  /** The line number the file's next bytes start at when it is first handed to the pipeline. */
  firstLine: number;
  size: number;
  /** Shared with the reader while one is open (it grows with a short file). */
  head: FileHead;
  done: boolean;
  reader: EntryReader | null;
  /** When it stopped being the file at the path; null while it is. */
  rotatedAt: number | null;
  tail: Buffer | null;
  /** Not found on disk (closed) since; forgotten once confirmed gone. */
  missingSince?: number;
}

/** The list as the follower hands it to the pipeline, which adds each file's next line (by key). */
export interface FileState extends Omit<KnownFile, 'nextLine'> {
  key: number;
  firstLine: number;
}

export interface FileSetHooks {
  /** A reader for file t over src, at position. */
  makeReader(t: TrackedFile, src: ByteSource, position: number): EntryReader;
  /** Lines that cannot be read any more: bytes when known, else null; `file` when a whole file is lost. */
  missed(m: { bytes: number | null; file: boolean; what: string }): void;
  /** A new file took the place of the source's previous one. */
  rotated(): void;
}

export function idKey(id: FileIdentity): string {
  return `${id.dev}:${id.ino}`;
}
