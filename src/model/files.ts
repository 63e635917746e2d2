/** Which file a source's bytes came from: ingestion reads it, the WAL keeps it, recovery compares it. */
export interface FileIdentity {
  dev: number;
  ino: number;
}
