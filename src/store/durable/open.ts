/**
 * Opening a data directory: take its lock, open (and repair) the WAL, load the newest good
 * checkpoint, replay the WAL after it, and work out where each source continues. What comes
 * back is a store that is ready to serve, a sink for new batches, and per-source resume
 * points for the followers.
 *
 * openDurable reads as the list of those phases, in the order they run; each phase is one
 * function below it, named for what it does.
 */
import { existsSync } from 'node:fs';
import { Mutex } from 'async-mutex';
import type { Config } from '../../config.js';
import type { SourceResume } from '../../ingest/index.js';
import { restoreIndex } from '../../index/index.js';
import type { Logger } from '../../log.js';
import { ConfigError } from '../../config.js';
import { type Checkpoint, checkpointSection, loadLatestCheckpoint, parseCheckpoint, Wal, WalError, type WalIo } from '../../wal/index.js';
import type { PrefetchedCheckpoint } from './checkpoint-prefetch.js';
import { CHECKPOINT_VERSION, type CheckpointMeta, Checkpointer } from './checkpointer.js';
import { CHECKPOINT_PREFIX, checkpointName, dataDirPaths, type DataDirPaths, lockDataDir } from './data-dir.js';
import type { IngestStatus, PersistedIngest } from '../embedded-store.js';
import { EmbeddedStore } from '../embedded-store.js';
import { applyRetention, type RetentionPolicy } from './retention.js';
import { GapTracker, repairGaps } from './wal-gaps.js';
import { verbatimTail, WalSink } from './wal-sink.js';

/** Bytes just before a resume position compared with the file, to be sure it still holds them. */
const RESUME_TAIL_BYTES = 64;

export interface Durable {
  store: EmbeddedStore;
  sink: WalSink;
  wal: Wal;
  /** Per source name: the files it has been through and where each was left. */
  resume: Map<string, SourceResume>;
  /** Checkpoint if due, apply retention; run on a timer. */
  maintain(): Promise<void>;
  /** Final checkpoint, WAL fsync and close, lock release. */
  close(): Promise<void>;
  recovery: { checkpoint: string | null; replayedEntries: number; ms: number };
}

export interface DurableOptions {
  ingestStatus: () => IngestStatus[];
  logger: Logger;
  /**
   * Read what is there without taking the directory over (query and status beside a running
   * serve): no lock, no repairs, no new sources, no checkpoints.
   */
  readOnly?: boolean;
  /** For tests only: the WAL's file operations (EngineOptions.walIo). */
  walIo?: WalIo;
  /** The newest checkpoint, read ahead of time (see checkpoint-prefetch.ts). */
  prefetched?: Promise<PrefetchedCheckpoint | null>;
  /** Retention keeps every segment holding positions at or after this (an agent's upload cursor). */
  keepFrom?: () => number;
}

/** What every phase of an open reads: the config, the options and the directory it holds. */
interface Opening {
  config: Config;
  options: DurableOptions;
  logger: Logger;
  readOnly: boolean;
  paths: DataDirPaths;
  unlock: () => void;
}

/** Source names and WAL ids: which id each name has, and back. */
interface SourceIds {
  /** The configured sources in order, then any the data dir knows that are not configured now. */
  names: string[];
  ids: Map<string, number>;
  nameOf: Map<number, string>;
  knownPaths: Map<string, string>;
}

/** The checkpoint the open starts from, when there is one the WAL still reaches. */
interface Restored {
  meta: CheckpointMeta;
  cp: Checkpoint;
}

export async function openDurable(config: Config, options: DurableOptions): Promise<Durable> {
  const started = performance.now();
  const open = lockTheDataDir(config, options);
  let wal: Wal | null = null;
  try {
    const cp = await loadNewestCheckpoint(open);
    wal = await openTheWal(open);
    return await openFrom(open, cp, wal, started);
  } catch (err) {
    await giveBack(open, wal);
    throw err;
  }
}

/**
 * A phase that failed gives back what the open took: the WAL's files (no checkpoint: nothing
 * was served) and the lock, so that the process can report the error, and an in-process caller
 * (a test, the engine's error path) can open the directory again. Before this, a failure after
 * the WAL had opened (a checkpoint from a newer version, a source the WAL could not register, a
 * replay or repair that threw) left the WAL's descriptors open and the lock file behind.
 */
async function giveBack(open: Opening, wal: Wal | null): Promise<void> {
  try {
    // Nothing was served: the files stay as the open found them (no cut at close).
    await wal?.close({ seal: false });
  } catch (err) {
    open.logger.warn({ err: (err as Error).message }, 'closing the WAL after a failed open failed');
  }
  open.unlock();
}

async function openFrom(open: Opening, cp: Checkpoint | null, wal: Wal, started: number): Promise<Durable> {
  const sources = await registerSources(open, wal);
  const restored = checkpointTheWalReaches(open, cp, wal);
  const { store, sink, persistedIngest } = buildStoreFromCheckpoint(open, wal, sources, restored);
  const { replayedEntries, gaps } = await replayWalAfterCheckpoint(wal, store, sink, sources, restored, persistedIngest);
  await repairLostRecords(open, wal, store, sink, gaps);
  await forgetWhatRetentionDeleted(wal, store);
  const retention = await applyRetentionAtStart(open, wal, store);
  const resume = resumePoints(wal, sink);
  const recovery = {
    checkpoint: restored === null ? null : checkpointName(restored.meta.walPos),
    replayedEntries,
    ms: Math.round(performance.now() - started),
  };
  open.logger.info({ ...recovery, entries: (await store.coverage()).entries, walRepairs: wal.recovery }, 'data dir opened');
  // A restart that replayed a lot should not replay it again next time.
  if (replayedEntries > 0) sink.entriesSinceCheckpoint = replayedEntries;
  return wireMaintenance(open, { store, sink, wal, resume, recovery }, sources, retention);
}

/** The data dir's lock (a reader takes none, and needs a WAL to be there already). */
function lockTheDataDir(config: Config, options: DurableOptions): Opening {
  const paths = dataDirPaths(config.dataDir);
  const readOnly = options.readOnly === true;
  if (readOnly && !existsSync(paths.wal)) {
    throw new ConfigError(`--data-dir ${config.dataDir} holds no data yet; run \`log-triage-mcp serve\` or \`ingest\` with it first`);
  }
  const unlock = readOnly ? () => undefined : lockDataDir(paths);
  return { config, options, logger: options.logger, readOnly, paths, unlock };
}

/**
 * The newest good checkpoint, the prefetched one when it parses. A reader loads the
 * checkpoint before it opens the WAL: one the writer finishes later would be past the WAL view
 * the reader opens, and unusable.
 */
async function loadNewestCheckpoint(open: Opening): Promise<Checkpoint | null> {
  let cp: Checkpoint | null = null;
  try {
    const early = await open.options.prefetched;
    if (early != null) {
      try {
        cp = parseCheckpoint(early.buf, early.path, early.name);
      } catch {
        cp = null; // damaged: the loader below skips it and falls back to an older one
      }
    }
    cp ??= await loadLatestCheckpoint(open.paths.checkpoints, CHECKPOINT_PREFIX);
  } catch (err) {
    open.logger.warn({ err: (err as Error).message }, 'no usable checkpoint; replaying the whole WAL');
  }
  return cp;
}

/** The WAL, its torn tail repaired; a WAL error is a bad --data-dir. */
async function openTheWal(open: Opening): Promise<Wal> {
  const { config, logger, readOnly } = open;
  try {
    return await Wal.open({ dir: open.paths.wal, fsync: config.fsync, segmentBytes: config.segmentBytes, logger, readOnly, io: open.options.walIo });
  } catch (err) {
    if (err instanceof WalError) throw new ConfigError(`--data-dir ${config.dataDir}: ${err.message}`);
    throw err;
  }
}

/**
 * An id for every source. The configured ones come first, in order, then any the data
 * dir knows that are not configured now (their entries stay queryable); a writer registers the
 * configured sources the WAL has not seen.
 */
async function registerSources(open: Opening, wal: Wal): Promise<SourceIds> {
  const known = wal.sources();
  const names = open.config.sources.map((s) => s.name);
  for (const s of known) if (!names.includes(s.name)) names.push(s.name);
  const ids = new Map<string, number>();
  let nextId = 0;
  for (const s of known) {
    ids.set(s.name, s.id);
    nextId = Math.max(nextId, s.id + 1);
  }
  for (const s of open.readOnly ? [] : open.config.sources) {
    if (!ids.has(s.name)) {
      ids.set(s.name, nextId);
      await wal.registerSource({ id: nextId++, name: s.name, path: s.path });
    }
  }
  const nameOf = new Map([...ids].map(([name, id]) => [id, name]));
  return { names, ids, nameOf, knownPaths: new Map(known.map((s) => [s.name, s.path])) };
}

/**
 * Whether the checkpoint can be used. One from a newer version is an error; one older
 * than the WAL's first segment (retention ran after it) is skipped, and the whole WAL replayed.
 */
function checkpointTheWalReaches(open: Opening, cp: Checkpoint | null, wal: Wal): Restored | null {
  const meta = cp?.meta as CheckpointMeta | undefined;
  if (meta !== undefined && meta.version > CHECKPOINT_VERSION) {
    throw new ConfigError(`--data-dir ${open.config.dataDir}: checkpoint format ${meta.version} is newer than this version understands (${CHECKPOINT_VERSION}); upgrade log-triage-mcp`);
  }
  const usable = cp !== null && meta !== undefined && meta.walPos >= wal.firstPos && meta.walPos <= wal.endPos;
  return usable ? { meta: meta!, cp: cp! } : null;
}

/**
 * The store with the checkpoint's index and counts, and the sink for new batches,
 * which also remembers each source's last batch (the resume check reads those bytes back).
 */
function buildStoreFromCheckpoint(open: Opening, wal: Wal, sources: SourceIds, restored: Restored | null) {
  const meta = restored?.meta;
  const indexes =
    restored === null ? undefined : restoreIndex(restored.meta.sources, (name, type) => checkpointSection(restored.cp, name, type as never) as never, sources.names);
  // Ingestion counts as of the checkpoint; the replay adds the batches after it.
  const persistedIngest = new Map<string, PersistedIngest>(Object.entries(meta?.ingest ?? {}));
  const store = new EmbeddedStore({
    persistedIngest,
    sources: sources.names,
    bodies: wal,
    ingestStatus: open.options.ingestStatus,
    walStatus: () => wal.status(),
    knownPaths: sources.knownPaths,
    ...(indexes === undefined ? {} : { indexes, customTags: meta!.customTags }),
  });
  const sink = new WalSink(wal, store, sources.ids);
  if (meta !== undefined) {
    store.retentionHorizon = meta.retentionHorizon;
    for (const [name, end] of Object.entries(meta.lastRawEnd)) {
      const id = sources.ids.get(name);
      if (id !== undefined) sink.lastRawEnd.set(id, end);
    }
    for (const [name, len] of Object.entries(meta.lastRawLen ?? {})) {
      const id = sources.ids.get(name);
      if (id !== undefined) sink.lastRawLen.set(id, len);
    }
  }
  return { store, sink, persistedIngest };
}

/**
 * Replay the WAL after the checkpoint (all of it without one) into the store. Returns
 * the entries replayed and the holes found between a source's batches.
 */
async function replayWalAfterCheckpoint(
  wal: Wal,
  store: EmbeddedStore,
  sink: WalSink,
  sources: SourceIds,
  restored: Restored | null,
  persistedIngest: Map<string, PersistedIngest>,
): Promise<{ replayedEntries: number; gaps: GapTracker }> {
  const meta = restored?.meta;
  let replayedEntries = 0;
  // Batches of a source tile its file; a hole between two of them is a lost (corrupt) record.
  const gaps = new GapTracker();
  if (meta !== undefined) {
    store.lost = meta.lost ?? [];
    for (const [name, end] of Object.entries(meta.batchEnds ?? {})) {
      const id = sources.ids.get(name);
      if (id !== undefined) gaps.seed(id, end);
    }
  }
  await wal.replay(meta !== undefined ? meta.walPos : wal.firstPos, (rec) => {
    if (rec.type !== 'batch') return;
    const name = sources.nameOf.get(rec.sourceId);
    if (name === undefined) return;
    store.indexChunk(name, { ...rec, errors: rec.parseErrors, errorSamples: [] }, rec.firstLine, rec.rawPos);
    const repair = gaps.observe(rec, verbatimTail(rec.rawLen, rec.byteStart, rec.byteEnd));
    replayedEntries += rec.count;
    // A repair batch re-read an older range: the source's last batch is still the one before.
    if (repair) return;
    sink.lastRawEnd.set(rec.sourceId, rec.rawPos + rec.rawLen);
    sink.lastRawLen.set(rec.sourceId, verbatimTail(rec.rawLen, rec.byteStart, rec.byteEnd));
    const p = persistedIngest.get(name) ?? { format: 'unknown', bytesRead: 0, fileBytes: 0, linesRead: 0, parseErrors: 0, rotations: 0, longLines: 0, longLineBytesSkipped: 0 };
    persistedIngest.set(name, { ...p, linesRead: p.linesRead + rec.lines, parseErrors: p.parseErrors + rec.parseErrors, bytesRead: rec.byteEnd, fileBytes: Math.max(p.fileBytes, rec.byteEnd) });
  });
  return { replayedEntries, gaps };
}

/** Records lost to corruption, re-read from the source files when they still hold them. */
async function repairLostRecords(open: Opening, wal: Wal, store: EmbeddedStore, sink: WalSink, gaps: GapTracker): Promise<void> {
  if (gaps.gaps.length === 0) return;
  const { config, logger, readOnly } = open;
  const paths = new Map(config.sources.map((s) => [s.name, s.path]));
  const sources = new Map(wal.sources().map((s) => [s.id, { name: s.name, path: paths.get(s.name) ?? s.path }]));
  const { repaired, lost } = await repairGaps(
    {
      wal, store, sources, format: config.format, timezone: config.timezone, maxLineBytes: config.maxLineBytes, logger, readOnly,
      sourceFormats: new Map(config.sources.flatMap((s) => (s.format === undefined ? [] : [[s.name, s.format] as const]))),
      customFormats: config.customFormats,
    },
    gaps.gaps,
  );
  store.repairedRecords = repaired;
  store.lost = [...store.lost, ...lost];
  // The next checkpoint takes the re-read entries (and the lost ranges) in.
  if (repaired > 0 || lost.length > 0) sink.entriesSinceCheckpoint = Math.max(1, sink.entriesSinceCheckpoint);
}

/**
 * The index forgets what retention deleted. Retention deleted the segments before
 * firstPos. A kill -9 before the next checkpoint left either a checkpoint from before the
 * deletion (still usable when it ends past firstPos), which indexes entries whose bodies are
 * gone, or none that is usable, and a replay that never learns of the deletion: both answered
 * 'ok' instead of 'before_retention' for a query before the oldest entry left.
 */
async function forgetWhatRetentionDeleted(wal: Wal, store: EmbeddedStore): Promise<void> {
  if (wal.firstPos === 0) return;
  store.dropBodiesBefore(wal.firstPos, store.retentionHorizon ?? 0);
  const first = (await store.coverage()).firstTs;
  if (first !== null) store.retentionHorizon = Math.max(store.retentionHorizon ?? first, first);
}

/**
 * Retention at start. Retention drops a segment's entries from the index before it
 * deletes the file (so no query reads a deleted body), and the deletion waits for the WAL's
 * mutex: a kill -9 in between left the files, and the restart served the dropped entries again
 * until the first maintenance pass, one second later (issue 9: `expected 4000 to be 2000`, or
 * 2001 when only the first of two segments was gone). The policy is applied again before
 * anything is served, and like every pass it keeps what an agent's uploader has not had
 * acknowledged (keepFrom). Returns the policy, which maintenance applies again on its timer.
 */
async function applyRetentionAtStart(open: Opening, wal: Wal, store: EmbeddedStore): Promise<RetentionPolicy> {
  const { config, logger, options } = open;
  const retention: RetentionPolicy = { maxAgeMs: config.retentionMs, maxBytes: config.maxWalBytes };
  if (open.readOnly) return retention;
  try {
    await applyRetention(wal, store, retention, logger, Date.now(), options.keepFrom?.() ?? Infinity);
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'retention at start-up failed; maintenance retries it');
  }
  return retention;
}

/** Where each source continues, and the bytes its file must still hold there. */
function resumePoints(wal: Wal, sink: WalSink): Map<string, SourceResume> {
  const resume = new Map<string, SourceResume>();
  for (const s of wal.sources()) {
    const pos = s.position;
    const end = sink.lastRawEnd.get(s.id);
    // The last bytes of the source's last batch, which its file must still hold right before
    // the position. Only that batch's raw block holds source bytes: a longer read took in the
    // record's frame, the tail never matched, and a source whose last batch was one short line
    // (a quiet log) was read again from 0 at every restart. Unknown length (a checkpoint from
    // before lastRawLen): no tail, the file heads and sizes only.
    const k = pos === null ? 0 : Math.min(RESUME_TAIL_BYTES, pos.offset, sink.lastRawLen.get(s.id) ?? 0);
    const tailBytes = end === undefined || k === 0 ? null : wal.readBody(end - k, k, k);
    resume.set(s.name, {
      files: s.files,
      legacy: s.legacy,
      registeredAt: s.registeredAt,
      tail: pos === null || tailBytes === null ? null : { file: pos.file, position: pos.offset, bytes: Buffer.from(tailBytes) },
    });
  }
  return resume;
}

/**
 * The checkpointer and the maintenance timer's work, and close. Checkpoints,
 * retention and close never interleave (one mutex).
 */
function wireMaintenance(
  open: Opening,
  opened: Omit<Durable, 'maintain' | 'close'>,
  sources: SourceIds,
  retention: RetentionPolicy,
): Durable {
  const { store, sink, wal } = opened;
  const { logger, options, readOnly, unlock } = open;
  const checkpointer = new Checkpointer(open.paths.checkpoints, store, wal, sink, sources.nameOf, logger);
  const maintenance = new Mutex();
  let closed = false;
  return {
    ...opened,
    maintain: () =>
      maintenance.runExclusive(async () => {
        if (closed || readOnly) return;
        await applyRetention(wal, store, retention, logger, Date.now(), options.keepFrom?.() ?? Infinity);
        if (checkpointer.due()) await checkpointer.checkpoint();
      }),
    close: () =>
      maintenance.runExclusive(async () => {
        if (closed) return;
        closed = true;
        try {
          if (!readOnly && sink.entriesSinceCheckpoint > 0) await checkpointer.checkpoint();
        } catch (err) {
          logger.warn({ err: (err as Error).message }, 'final checkpoint failed; the next start replays the WAL');
        }
        await wal.close();
        unlock();
      }),
  };
}
