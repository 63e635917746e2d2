/** WAL options: their defaults and their validation, done once at open. */
import { KEEP_CACHED } from './drop-behind.js';
import { nodeIo, type WalIo } from './io.js';
import { silentWalLogger, WalError, type WalLogger } from './errors.js';
import type { FsyncPolicy } from './types.js';

export interface WalOptions {
  /** Directory holding the segments (created if missing, unless readOnly). */
  dir: string;
  /**
   * Open for reading while another process (or instance) owns the directory and appends:
   * nothing on disk is touched and recovery happens in memory only (FORMAT.md, "Read-only
   * opens"). The fsync and segment options are then ignored. Default false.
   */
  readOnly?: boolean;
  /** Default 'batch'. */
  fsync?: FsyncPolicy;
  /** Target segment size; default 64 MiB, at least 1 KiB. */
  segmentBytes?: number;
  /** 'batch' policy: fsync after this many unsynced entries (default 1,000)... */
  batchEntries?: number;
  /** ...or this long after the first unsynced one (default 500 ms). */
  batchIntervalMs?: number;
  /** Read descriptors kept open for readBody (default 128). */
  maxOpenSegments?: number;
  /**
   * Sealed segments left in the page cache when drop-behind drops older ones
   * (drop-behind.ts; default KEEP_CACHED = 2, 0 drops each segment as soon as it is sealed).
   */
  keepCachedSegments?: number;
  /**
   * A clean close seals the active segment and starts an empty one when the active segment
   * holds entries and at least this many bytes (default CUT_ON_CLOSE_BYTES, 8 MiB; see Wal.close).
   */
  cutOnCloseBytes?: number;
  logger?: WalLogger;
  /** File operations; tests inject faults here. */
  io?: WalIo;
  /** Clock for lastFsyncAt and segment headers (epoch ms). */
  now?: () => number;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/**
 * Active segments at least this large are cut at a clean close (Wal.close). The next open scans
 * the last segment whole, ~0.7 ms a MB on the 2-core build VM; below 8 MiB that is ~6 ms, less
 * than one more segment file for every restart is worth.
 */
export const CUT_ON_CLOSE_BYTES = 8 * 1024 * 1024;
const POLICIES: readonly FsyncPolicy[] = ['batch', 'always', 'off'];

export function optionError(name: string, accepted: string, got: unknown): WalError {
  return new WalError('WAL_OPTION', `WAL option ${name} must be ${accepted}, got ${JSON.stringify(got)}`, '', -1);
}

function intOption(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw optionError(name, `an integer >= ${min}`, value);
  return value;
}

export interface ResolvedOptions {
  dir: string;
  readOnly: boolean;
  policy: FsyncPolicy;
  segmentBytes: number;
  batchEntries: number;
  batchIntervalMs: number;
  maxOpen: number;
  keepCached: number;
  cutOnCloseBytes: number;
  io: WalIo;
  logger: WalLogger;
  now: () => number;
}

export function resolveOptions(options: WalOptions): ResolvedOptions {
  if (typeof options.dir !== 'string' || options.dir === '') throw optionError('dir', 'a directory path', options.dir);
  if (options.readOnly !== undefined && typeof options.readOnly !== 'boolean') throw optionError('readOnly', 'a boolean', options.readOnly);
  const policy = options.fsync ?? 'batch';
  if (!POLICIES.includes(policy)) throw optionError('fsync', POLICIES.join(' | '), policy);
  return {
    dir: options.dir,
    readOnly: options.readOnly ?? false,
    policy,
    segmentBytes: intOption('segmentBytes', options.segmentBytes, DEFAULT_SEGMENT_BYTES, 1024),
    batchEntries: intOption('batchEntries', options.batchEntries, 1000, 1),
    batchIntervalMs: intOption('batchIntervalMs', options.batchIntervalMs, 500, 1),
    maxOpen: intOption('maxOpenSegments', options.maxOpenSegments, 128, 1),
    keepCached: intOption('keepCachedSegments', options.keepCachedSegments, KEEP_CACHED, 0),
    cutOnCloseBytes: intOption('cutOnCloseBytes', options.cutOnCloseBytes, CUT_ON_CLOSE_BYTES, 0),
    io: options.io ?? nodeIo,
    logger: options.logger ?? silentWalLogger,
    now: options.now ?? Date.now,
  };
}
