/**
 * The bodies of ephemeral mode, in memory. The BodyStore interface is the index's
 * (src/index/body-store.ts): the index reads bodies through it, the WAL and this class
 * provide them.
 */
import type { BodyStore } from '../index/index.js';

export type { BodyStore } from '../index/index.js';

/**
 * Ephemeral mode: raw chunks are kept as they came from the parser, off the V8 heap, and a
 * body position is the chunk's logical base plus the body's offset in it. No copy is made.
 */
export class MemoryBodyStore implements BodyStore {
  private readonly chunks: Uint8Array[] = [];
  private bases: number[] = [];
  private next = 0;
  firstPos = 0;
  bytes = 0;

  /** Keeps a raw chunk and returns the logical position of its first byte. */
  appendChunk(chunk: Uint8Array): number {
    const base = this.next;
    this.chunks.push(chunk);
    this.bases.push(base);
    this.next += chunk.length;
    this.bytes += chunk.length;
    return base;
  }

  read(pos: number, len: number, maxBytes: number): Uint8Array | null {
    if (pos < this.firstPos) return null;
    let lo = 0;
    let hi = this.bases.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.bases[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    const chunk = this.chunks[lo];
    if (chunk === undefined) return null;
    const start = pos - this.bases[lo]!;
    return chunk.subarray(start, start + Math.min(len, maxBytes));
  }
}
