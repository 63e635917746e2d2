/**
 * The model: plain data shapes that several rooms pass to one another (ingestion produces
 * them, the WAL keeps them, the store reports them). Types only; it imports nothing outside
 * itself, so every room may import it and it imports none of them: the neutral home that
 * keeps the arrows between ingest, wal and store running one way.
 *
 *   files.ts        FileIdentity
 *   durability.ts   FsyncPolicy
 *   status.ts       SourceStatus, IngestStatus, WalStatus: what ingestion, the WAL and the stores report
 */
export type { FileIdentity } from './files.js';
export type { FsyncPolicy } from './durability.js';
export type { IngestStatus, SourceState, SourceStatus, WalStatus } from './status.js';
