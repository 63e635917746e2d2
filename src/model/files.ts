/** Which file a source's bytes came from: ingestion reads it, the WAL keeps it, recovery compares it. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/**
 * One file a source has been through (src/wal/FORMAT.md, "File entries"): where it was left, and its
 * first bytes' CRC to tell it from another file on the same inode or to recognize a copy.
 */
export interface SourceFile {
  file: FileIdentity;
  /** Bytes consumed (decompressed bytes for a gzip file). */
  offset: number;
  /** 1-based next line; 0 for a file passed over (never read). */
  nextLine: number;
  /** Bytes the file held when last looked at (a lower bound). */
  size: number;
  /** CRC32C of the file's first headLen bytes (decompressed for gzip); headLen 0 = unknown. */
  headLen: number;
  headCrc: number;
  gzip: boolean;
  /** Rotated away and read to its end. */
  done: boolean;
}
