/**
 * The model: plain data shapes that several rooms pass to one another (ingestion produces
 * them, the WAL keeps them, the store reports them). Types only; it imports nothing outside
 * itself, so every room may import it and it imports none of them: the neutral home that
 * keeps the arrows between ingest, wal and store running one way.
 *
 *   files.ts        FileIdentity, SourceFile (one file a source has been through, as the WAL keeps it)
 *   columns.ts      EntryColumns: entries as columns, from the parse workers to the WAL and the index
 *   durability.ts   FsyncPolicy
 *   status.ts       SourceStatus, IngestStatus, WalStatus: what ingestion, the WAL and the stores report
 */
export type { FileIdentity, SourceFile } from './files.js';
export type { EntryColumns } from './columns.js';
export type { FsyncPolicy } from './durability.js';
export type { IngestStatus, SourceState, SourceStatus, WalStatus } from './status.js';
