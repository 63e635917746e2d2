/**
 * Opening a data directory: take its lock, open (and repair) the WAL, load the newest good
 * checkpoint, replay the WAL after it, and work out where each source continues. What comes
 * back is a store that is ready to serve, a sink for new batches, and per-source resume
 * points for the followers.
 */
import { existsSync } from 'node:fs';
import { Mutex } from 'async-mutex';
import type { Config } from '../../config.js';
import type { SourceResume } from '../../ingest/tracked-file.js';
import { restoreIndex } from '../../index/persist.js';
import type { Logger } from '../../log.js';
import { ConfigError } from '../../config.js';
import { type Checkpoint, checkpointSection, loadLatestCheckpoint, parseCheckpoint, Wal, WalError, type WalIo } from '../../wal/index.js';
import type { PrefetchedCheckpoint } from './checkpoint-prefetch.js';
import { CHECKPOINT_VERSION, type CheckpointMeta, Checkpointer } from './checkpointer.js';
import { CHECKPOINT_PREFIX, checkpointName, dataDirPaths, lockDataDir } from './data-dir.js';
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

function walError(err: unknown, root: string): never {
  if (err instanceof WalError) throw new ConfigError(`--data-dir ${root}: ${err.message}`);
  throw err;
}

export async function openDurable(config: Config, options: DurableOptions): Promise<Durable> {
  const started = performance.now();
  const paths = dataDirPaths(config.dataDir);
  const readOnly = options.readOnly === true;
  if (readOnly && !existsSync(paths.wal)) {
    throw new ConfigError(`--data-dir ${config.dataDir} holds no data yet; run \`log-triage-mcp serve\` or \`ingest\` with it first`);
  }
  const unlock = readOnly ? () => undefined : lockDataDir(paths);
  const logger = options.logger;
  // A reader loads the checkpoint first: one the writer finishes later would be past the
  // WAL view the reader opens, and unusable.
  let cp: Checkpoint | null = null;
  try {
    const early = await options.prefetched;
    if (early != null) {
      try {
        cp = parseCheckpoint(early.buf, early.path, early.name);
      } catch {
        cp = null; // damaged: the loader below skips it and falls back to an older one
      }
    }
    cp ??= await loadLatestCheckpoint(paths.checkpoints, CHECKPOINT_PREFIX);
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'no usable checkpoint; replaying the whole WAL');
  }
  let wal: Wal;
  try {
    wal = await Wal.open({ dir: paths.wal, fsync: config.fsync, segmentBytes: config.segmentBytes, logger, readOnly, io: options.walIo });
  } catch (err) {
    unlock();
    walError(err, config.dataDir);
  }
  // Sources: the configured ones in order, then any the data dir knows that are not configured
  // now (their entries stay queryable).
  const known = wal.sources();
  const names = config.sources.map((s) => s.name);
  for (const s of known) if (!names.includes(s.name)) names.push(s.name);
  const ids = new Map<string, number>();
  let nextId = 0;
  for (const s of known) {
    ids.set(s.name, s.id);
    nextId = Math.max(nextId, s.id + 1);
  }
  for (const s of readOnly ? [] : config.sources) {
    if (!ids.has(s.name)) {
      ids.set(s.name, nextId);
      await wal.registerSource({ id: nextId++, name: s.name, path: s.path });
    }
  }
  const nameOf = new Map([...ids].map(([name, id]) => [id, name]));

  const meta = cp?.meta as CheckpointMeta | undefined;
  if (meta !== undefined && meta.version > CHECKPOINT_VERSION) {
    unlock();
    throw new ConfigError(`--data-dir ${config.dataDir}: checkpoint format ${meta.version} is newer than this version understands (${CHECKPOINT_VERSION}); upgrade log-triage-mcp`);
  }
  // A checkpoint older than the WAL's first segment (retention ran after it) cannot be used.
  const usable = cp !== null && meta !== undefined && meta.walPos >= wal.firstPos && meta.walPos <= wal.endPos;
  const indexes = usable
    ? restoreIndex(meta!.sources, (name, type) => checkpointSection(cp!, name, type as never) as never, names)
    : undefined;
  // Ingestion counts as of the checkpoint; the replay below adds the batches after it.
  const persistedIngest = new Map<string, PersistedIngest>(Object.entries((usable ? meta!.ingest : undefined) ?? {}));
  const store = new EmbeddedStore({
    persistedIngest,
    sources: names,
    bodies: wal,
    ingestStatus: options.ingestStatus,
    walStatus: () => wal.status(),
    knownPaths: new Map(known.map((s) => [s.name, s.path])),
    ...(indexes === undefined ? {} : { indexes, customTags: meta!.customTags }),
  });
  // The sink for new batches also remembers each source's last batch, from the checkpoint and
  // the replay below (the resume check reads those bytes back).
  const sink = new WalSink(wal, store, ids);
  if (usable) {
    store.retentionHorizon = meta!.retentionHorizon;
    for (const [name, end] of Object.entries(meta!.lastRawEnd)) {
      const id = ids.get(name);
      if (id !== undefined) sink.lastRawEnd.set(id, end);
    }
    for (const [name, len] of Object.entries(meta!.lastRawLen ?? {})) {
      const id = ids.get(name);
      if (id !== undefined) sink.lastRawLen.set(id, len);
    }
  }
  let replayedEntries = 0;
  // Batches of a source tile its file; a hole between two of them is a lost (corrupt) record.
  const gaps = new GapTracker();
  if (usable) {
    store.lost = meta!.lost ?? [];
    for (const [name, end] of Object.entries(meta!.batchEnds ?? {})) {
      const id = ids.get(name);
      if (id !== undefined) gaps.seed(id, end);
    }
  }
  await wal.replay(usable ? meta!.walPos : wal.firstPos, (rec) => {
    if (rec.type !== 'batch') return;
    const name = nameOf.get(rec.sourceId);
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

  if (gaps.gaps.length > 0) {
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

  // Retention deleted the segments before firstPos. A kill -9 before the next checkpoint
  // left either a checkpoint from before the deletion (still usable when it ends past
  // firstPos), which indexes entries whose bodies are gone, or none that is usable, and a
  // replay that never learns of the deletion: both answered 'ok' instead of
  // 'before_retention' for a query before the oldest entry left.
  if (wal.firstPos > 0) {
    store.dropBodiesBefore(wal.firstPos, store.retentionHorizon ?? 0);
    const first = (await store.coverage()).firstTs;
    if (first !== null) store.retentionHorizon = Math.max(store.retentionHorizon ?? first, first);
  }

  // Retention drops a segment's entries from the index before it deletes the file (so no
  // query reads a deleted body), and the deletion waits for the WAL's mutex: a kill -9 in
  // between left the files, and the restart served the dropped entries again until the first
  // maintenance pass, one second later (issue 9: `expected 4000 to be 2000`, or 2001 when only
  // the first of two segments was gone). The policy is applied again before anything is served,
  // and like every pass it keeps what an agent's uploader has not had acknowledged (keepFrom).
  const retention: RetentionPolicy = { maxAgeMs: config.retentionMs, maxBytes: config.maxWalBytes };
  if (!readOnly) {
    try {
      await applyRetention(wal, store, retention, logger, Date.now(), options.keepFrom?.() ?? Infinity);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'retention at start-up failed; maintenance retries it');
    }
  }

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

  const checkpointer = new Checkpointer(paths.checkpoints, store, wal, sink, nameOf, logger);
  // Checkpoints, retention and close never interleave.
  const maintenance = new Mutex();
  const recovery = {
    checkpoint: usable ? checkpointName(meta!.walPos) : null,
    replayedEntries,
    ms: Math.round(performance.now() - started),
  };
  logger.info({ ...recovery, entries: (await store.coverage()).entries, walRepairs: wal.recovery }, 'data dir opened');
  // A restart that replayed a lot should not replay it again next time.
  if (replayedEntries > 0) sink.entriesSinceCheckpoint = replayedEntries;
  let closed = false;
  return {
    store,
    sink: sink,
    wal,
    resume,
    recovery,
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
