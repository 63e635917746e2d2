/**
 * Retention: `--retention 24h` and `--max-wal-bytes N` delete whole sealed WAL segments,
 * oldest first. The index drops the entries whose bodies live in them *before* the files go,
 * so a query never reads a deleted body; queries are synchronous, so none can be half-way
 * through when the entries disappear.
 */
import type { Logger } from '../../log.js';
import type { SegmentInfo, Wal } from '../../wal/index.js';
import type { EmbeddedStore } from '../embedded-store.js';

export interface RetentionPolicy {
  /** Delete segments whose newest entry is older than this (milliseconds). */
  maxAgeMs: number | null;
  /** Delete the oldest segments while the WAL is larger than this. */
  maxBytes: number | null;
}

/** The oldest sealed segments the policy wants gone (a prefix of the segment list). */
export function segmentsToDelete(segments: readonly SegmentInfo[], policy: RetentionPolicy, nowMs: number): SegmentInfo[] {
  let total = 0;
  for (const s of segments) total += s.bytes;
  const victims: SegmentInfo[] = [];
  for (const s of segments) {
    if (!s.sealed) break;
    const tooOld = policy.maxAgeMs !== null && s.maxTs !== null && s.maxTs / 1000 < nowMs - policy.maxAgeMs;
    const tooBig = policy.maxBytes !== null && total > policy.maxBytes;
    if (!tooOld && !tooBig) break;
    victims.push(s);
    total -= s.bytes;
  }
  return victims;
}

export async function applyRetention(wal: Wal, store: EmbeddedStore, policy: RetentionPolicy, logger: Logger, nowMs = Date.now(), keepFrom = Infinity): Promise<number> {
  if (policy.maxAgeMs === null && policy.maxBytes === null) return 0;
  // Segments an agent has not uploaded yet stay, whatever the policy says.
  const victims = segmentsToDelete(wal.segments(), policy, nowMs).filter((s) => s.end <= keepFrom);
  if (victims.length === 0) return 0;
  const end = victims[victims.length - 1]!.end;
  let horizon = -Infinity;
  for (const v of victims) if (v.maxTs !== null) horizon = Math.max(horizon, v.maxTs);
  const dropped = store.dropBodiesBefore(end, horizon);
  const deleted = await wal.deleteSegmentsBefore(end);
  logger.info({ segments: deleted.length, entries: dropped, upTo: end }, 'retention deleted old WAL segments');
  return dropped;
}
