/**
 * Issue 12 (catch-up memory): big chunk buffers are recycled through a reference-counted pool
 * (src/ingest/chunk-pool.ts). A buffer is reused only once every holder released it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  allocChunk, chunkRefs, freeChunks, MAX_FREE_CHUNKS, poisonFreedChunks, POOLED_CHUNK_BYTES, releaseChunk, retainChunk,
} from '../../src/ingest/chunk-pool.js';
import { INLINE_PARSE_BYTES } from '../../src/ingest/parse-pool.js';

/** Empties the free list (the pool is per process, shared by every test of this file). */
function drain(): void {
  const taken: Buffer[] = [];
  while (freeChunks() > 0) taken.push(allocChunk(INLINE_PARSE_BYTES));
}

afterEach(() => {
  poisonFreedChunks(false);
  drain();
});

describe('chunk pool', () => {
  it('gives small chunks plain buffers that no count tracks', () => {
    const b = allocChunk(INLINE_PARSE_BYTES - 1);
    expect(b.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(chunkRefs(b)).toBeUndefined();
    releaseChunk(b);
    retainChunk(b);
    expect(freeChunks()).toBe(0);
  });

  it('gives a request bigger than the pool capacity a fresh unpooled buffer', () => {
    const b = allocChunk(POOLED_CHUNK_BYTES + 1);
    expect(b.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(b.length).toBe(POOLED_CHUNK_BYTES + 1);
    expect(chunkRefs(b)).toBeUndefined();
    releaseChunk(b);
    expect(freeChunks()).toBe(0);
  });

  it('counts references and reuses a buffer only after the last release', () => {
    drain();
    const a = allocChunk(INLINE_PARSE_BYTES);
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(a.buffer.byteLength).toBe(POOLED_CHUNK_BYTES);
    expect(a.length).toBe(INLINE_PARSE_BYTES);
    expect(chunkRefs(a)).toBe(1);
    const view = a.subarray(100, 200);
    retainChunk(view);
    expect(chunkRefs(a)).toBe(2);
    releaseChunk(a);
    expect(chunkRefs(a)).toBe(1);
    expect(freeChunks()).toBe(0);
    // Still referenced: a new chunk must not share its memory.
    const b = allocChunk(POOLED_CHUNK_BYTES);
    expect(b.buffer).not.toBe(a.buffer);
    releaseChunk(view);
    expect(chunkRefs(a)).toBeUndefined();
    expect(freeChunks()).toBe(1);
    const c = allocChunk(1 << 20);
    expect(c.buffer).toBe(a.buffer);
    expect(chunkRefs(c)).toBe(1);
    expect(freeChunks()).toBe(0);
    releaseChunk(b);
    releaseChunk(c);
  });

  it('poisons a buffer returned to the free list when asked, not one still held', () => {
    drain();
    poisonFreedChunks(true);
    const a = allocChunk(INLINE_PARSE_BYTES);
    a.fill(1);
    retainChunk(a);
    releaseChunk(a);
    expect(a.every((x) => x === 1)).toBe(true);
    releaseChunk(a);
    expect(a.every((x) => x === 0xee)).toBe(true);
  });

  it('keeps a bounded free list', () => {
    drain();
    const held = Array.from({ length: MAX_FREE_CHUNKS + 3 }, () => allocChunk(INLINE_PARSE_BYTES));
    for (const b of held) releaseChunk(b);
    expect(freeChunks()).toBe(MAX_FREE_CHUNKS);
  });
});
