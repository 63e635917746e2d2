/**
 * Chunk buffers of the main thread, recycled: a catch-up reads 4 MiB chunks, and giving each
 * one a fresh SharedArrayBuffer faulted in 1 GB of new pages for a 1 GB file and kept the dead
 * chunks resident until a GC (10M lines with the WAL on: RSS 1.3 GB). A throwaway hack that
 * recycled them measured wall 2.34-2.92 s (median 2.65) against 2.62-4.39 s (median 3.29),
 * system CPU 1.1-1.6 s against 1.5-3.9 s, RSS 373 MB against 1.3 GB (5 pairs, 2026-12-02).
 * This pool, same file, against main (2026-12-02 19:50-20:13): max RSS 370 MiB against
 * 0.8-1.3 GB and a third of the page faults (102k against 309k) in every run; but NOT faster:
 * at load 5-7 it was slower in 19 of 22 alternated pairs (wall median 4.62 s against 4.03 s,
 * user+sys 4.33 s against 3.93 s, the extra time mostly system time in the WAL's pwritev copy
 * per perf), at load 7-14 even (9.47 s against 9.60 s, 14 pairs). Against the same build with
 * the free list off it won 8 of 8 pairs in one batch (3.47 s against 4.94 s) and lost 5 of 6
 * in another. Likely cause: this VM returns freed memory to its host, so the pages the dead
 * chunks gave back were what the page cache then reused; kept in the pool, the WAL's copy
 * into the page cache faults in fresh pages instead. Idle machine, 20:39-20:44, ingest
 * WAL on 3.21-4.25 s (earlier that day 3.20-4.97 s); with --ephemeral, where bodies are read
 * back from the source, 1.26-1.60 s against 1.61-1.94 s: kept for memory and --ephemeral.
 *
 * Big buffers (the ones a parse worker can take without a copy) carry a reference count. The
 * allocator holds the first reference; every other holder retains and later releases. When
 * the count reaches 0 the buffer goes back to a small free list for the next allocChunk.
 * Releasing too early corrupts bodies (the bytes are overwritten by a later read); releasing
 * late or never only loses the recycling (the buffer is then left to the GC like before), so
 * an owner that is not sure never releases.
 */
import { INLINE_PARSE_BYTES } from './parse-pool.js';

/**
 * The largest pooled capacity: the catch-up read size (source-follower.ts's default
 * chunkBytes). Smaller requests get the next power of two, so a smaller chunkBytes (tests use
 * 256 KiB) does not hold 4 MiB per chunk.
 */
export const POOLED_CHUNK_BYTES = 4 << 20;
/**
 * Bytes of free buffers kept (four 4 MiB ones). In use during a WAL-on catch-up: the reader's
 * current and read-ahead buffers, MAX_IN_FLIGHT chunks in the pipeline and the one whose WAL
 * write is owed; the free list only has to bridge releases and allocations.
 */
export const MAX_FREE_BYTES = 4 * POOLED_CHUNK_BYTES;

/** References per pooled buffer in use (weak: a chunk never released is left to the GC). */
const counts = new WeakMap<ArrayBufferLike, number>();
/** Free buffers by capacity. */
const free = new Map<number, SharedArrayBuffer[]>();
let freeBytes = 0;
let poison = false;
let reused = 0;

/**
 * A buffer of `bytes` for a chunk, holding one reference for the caller: below the parse
 * pool's inline threshold a plain one (never pooled), else a view over a pooled
 * SharedArrayBuffer (a fresh one when none is free; an unpooled one when bigger than the
 * pool's capacity). Its bytes are not zeroed.
 */
export function allocChunk(bytes: number): Buffer {
  if (bytes < INLINE_PARSE_BYTES) return Buffer.allocUnsafeSlow(bytes);
  if (bytes > POOLED_CHUNK_BYTES) return Buffer.from(new SharedArrayBuffer(bytes));
  const capacity = 2 ** Math.ceil(Math.log2(bytes));
  let sab = free.get(capacity)?.pop();
  if (sab === undefined) {
    sab = new SharedArrayBuffer(capacity);
  } else {
    freeBytes -= capacity;
    reused++;
  }
  counts.set(sab, 1);
  return Buffer.from(sab, 0, bytes);
}

/** One more holder of the buffer `view` lies in (a no-op for a buffer that is not pooled). */
export function retainChunk(view: Uint8Array): void {
  const n = counts.get(view.buffer);
  if (n !== undefined) counts.set(view.buffer, n + 1);
}

/** A holder is done with the buffer `view` lies in; the last one returns it to the free list. */
export function releaseChunk(view: Uint8Array): void {
  const sab = view.buffer;
  const n = counts.get(sab);
  if (n === undefined) return;
  if (n > 1) {
    counts.set(sab, n - 1);
    return;
  }
  counts.delete(sab);
  if (freeBytes + sab.byteLength > MAX_FREE_BYTES) return;
  if (poison) new Uint8Array(sab).fill(0xee);
  let list = free.get(sab.byteLength);
  if (list === undefined) free.set(sab.byteLength, (list = []));
  list.push(sab as SharedArrayBuffer);
  freeBytes += sab.byteLength;
}

/** References held on the buffer `view` lies in (undefined: not pooled, or free). For tests. */
export function chunkRefs(view: Uint8Array): number | undefined {
  return counts.get(view.buffer);
}

/** Allocations served from the free list since the process started. For tests. */
export function reusedChunks(): number {
  return reused;
}

/** Drops the free list. For tests. */
export function dropFreeChunks(): void {
  free.clear();
  freeBytes = 0;
}

/** Buffers on the free list. For tests. */
export function freeChunks(): number {
  let n = 0;
  for (const list of free.values()) n += list.length;
  return n;
}

/**
 * Test-only: every buffer returned to the free list is filled with 0xEE, so a holder that
 * released too early reads garbage instead of plausible stale bytes. Returns the old setting.
 */
export function poisonFreedChunks(on: boolean): boolean {
  const was = poison;
  poison = on;
  return was;
}
