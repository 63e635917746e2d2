/**
 * The ingestor: a follower and a pipeline per source, sharing one parse pool and one sink.
 */
import type { SourceSpec } from '../config.js';
import { resolveFormat, type CustomFormatSpec, type ParseOptions } from '../parse/index.js';
import type { Logger } from '../log.js';
import type { IngestStatus } from '../model/index.js';
import { allocChunk } from './chunk-pool.js';
import type { ParsePool } from './parse-pool.js';
import type { SourceResume } from './tracked-file.js';
import { SourceFollower } from './source-follower.js';
import { type IngestSink, SourcePipeline } from './source-pipeline.js';
import { SourceTracker } from './source-tracker.js';

export interface IngestorOptions {
  sources: readonly SourceSpec[];
  /** 'auto' or a format name, for the sources that do not name their own (SourceSpec.format). */
  format: string;
  /** Custom formats from the config file, by name. */
  customFormats?: readonly CustomFormatSpec[];
  timezone: string;
  pool: ParsePool;
  sink: IngestSink;
  logger: Logger;
  /** Per source name: the files it has been through and where each was left. */
  resume?: ReadonlyMap<string, SourceResume>;
  pollMs?: number;
  quietMs?: number;
  chunkBytes?: number;
  /** Lines longer than this are cut to it (default 1 MiB). */
  maxLineBytes?: number;
}

interface Source {
  spec: SourceSpec;
  tracker: SourceTracker;
  follower: SourceFollower;
  pipeline: SourcePipeline;
}

export class Ingestor {
  private readonly sources: Source[];

  constructor(options: IngestorOptions) {
    this.sources = options.sources.map((spec) => {
      const tracker = new SourceTracker(spec.name, spec.path);
      const formatName = spec.format ?? options.format;
      const custom = options.customFormats?.find((c) => c.name === formatName);
      const parseOptions: ParseOptions = { timezone: options.timezone, ...(custom === undefined ? {} : { custom }) };
      const forced = formatName === 'auto' ? null : resolveFormat(formatName, parseOptions) ?? null;
      if (formatName !== 'auto' && forced === null) throw new Error(`unknown format ${formatName}`);
      if (forced !== null) tracker.format = forced.name;
      const log = options.logger.child({ source: spec.name });
      const onError = (err: Error): void => log.warn({ err: err.message }, 'ingestion error');
      const pipeline = new SourcePipeline(spec.name, options.pool, options.sink, tracker, parseOptions, onError);
      const resume = options.resume?.get(spec.name);
      const follower = new SourceFollower({
        path: spec.path,
        format: forced,
        tracker,
        onChunk: (chunk) => pipeline.submit(chunk),
        onFiles: async (files) => pipeline.submitFiles(files),
        allocChunk,
        onMissed: (fields, message) => log.warn(fields, message),
        ...(resume === undefined ? {} : { resume }),
        ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
        ...(options.quietMs === undefined ? {} : { quietMs: options.quietMs }),
        ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }),
        ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
        onError,
      });
      return { spec, tracker, follower, pipeline };
    });
  }

  /** Follows every source live. */
  start(): void {
    for (const s of this.sources) s.follower.start();
  }

  /** Resolves once every source has consumed what its file held and all of it is applied. */
  async caughtUp(): Promise<void> {
    await Promise.all(this.sources.map(async (s) => {
      await s.follower.caughtUp();
      await s.pipeline.idle();
    }));
  }

  /** One-shot: reads every source to its end, applies everything, and returns. */
  async readAllOnce(): Promise<void> {
    await Promise.all(this.sources.map(async (s) => {
      await s.follower.readToEnd();
      await s.pipeline.idle();
      s.tracker.observe(s.tracker.bytesRead, s.tracker.fileBytes, false);
    }));
  }

  statuses(): IngestStatus[] {
    return this.sources.map((s) => s.tracker.snapshot());
  }

  async stop(): Promise<void> {
    await Promise.all(this.sources.map(async (s) => {
      // A halted pipeline (the WAL failed) applies nothing more: release a follower waiting for room.
      if (s.pipeline.halted) s.pipeline.stop();
      await s.follower.stop();
      await s.pipeline.idle();
      s.pipeline.stop();
    }));
  }
}
