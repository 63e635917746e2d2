/**
 * Issue 12 (catch-up memory): big chunk buffers are recycled through a reference-counted pool
 * (src/ingest/chunk-pool.ts). A buffer is reused only once every holder released it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  allocChunk, chunkRefs, dropFreeChunks, freeChunks, MAX_FREE_BYTES, poisonFreedChunks, POOLED_CHUNK_BYTES, releaseChunk,
  retainChunk, reusedChunks,
} from '../../src/ingest/chunk-pool.js';
import { INLINE_PARSE_BYTES } from '../../src/ingest/parse-pool.js';

beforeEach(() => dropFreeChunks());
afterEach(() => {
  poisonFreedChunks(false);
  dropFreeChunks();
});

describe('chunk pool', () => {
  it('gives small chunks plain buffers that no count tracks', () => {
    const b = allocChunk(INLINE_PARSE_BYTES - 1);
    expect(b.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(chunkRefs(b)).toBeUndefined();
    retainChunk(b);
    releaseChunk(b);
    releaseChunk(b);
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
    const a = allocChunk(POOLED_CHUNK_BYTES - 100);
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(a.buffer.byteLength).toBe(POOLED_CHUNK_BYTES);
    expect(a.length).toBe(POOLED_CHUNK_BYTES - 100);
    expect(chunkRefs(a)).toBe(1);
    const view = a.subarray(100, 200);
    retainChunk(view);
    expect(chunkRefs(a)).toBe(2);
    releaseChunk(a);
    expect(chunkRefs(a)).toBe(1);
    expect(freeChunks()).toBe(0);
    // Still referenced: a new chunk of the same capacity must not share its memory.
    const b = allocChunk(POOLED_CHUNK_BYTES);
    expect(b.buffer).not.toBe(a.buffer);
    releaseChunk(view);
    expect(chunkRefs(a)).toBeUndefined();
    expect(freeChunks()).toBe(1);
    const reused = reusedChunks();
    const c = allocChunk(POOLED_CHUNK_BYTES - 1);
    expect(c.buffer).toBe(a.buffer);
    expect(reusedChunks()).toBe(reused + 1);
    expect(chunkRefs(c)).toBe(1);
    expect(freeChunks()).toBe(0);
    releaseChunk(b);
    releaseChunk(c);
    expect(freeChunks()).toBe(2);
  });

  it('pools by power-of-two capacity, so a small chunk does not take a 4 MiB buffer', () => {
    const small = allocChunk(INLINE_PARSE_BYTES);
    expect(small.buffer.byteLength).toBe(INLINE_PARSE_BYTES);
    const odd = allocChunk(INLINE_PARSE_BYTES + 1);
    expect(odd.buffer.byteLength).toBe(2 * INLINE_PARSE_BYTES);
    releaseChunk(small);
    releaseChunk(odd);
    expect(allocChunk(POOLED_CHUNK_BYTES).buffer).not.toBe(small.buffer);
    expect(allocChunk(INLINE_PARSE_BYTES + 5).buffer).toBe(odd.buffer);
    expect(allocChunk(INLINE_PARSE_BYTES).buffer).toBe(small.buffer);
  });

  it('poisons a buffer returned to the free list when asked, not one still held', () => {
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
    const held = Array.from({ length: MAX_FREE_BYTES / POOLED_CHUNK_BYTES + 3 }, () => allocChunk(POOLED_CHUNK_BYTES));
    for (const b of held) releaseChunk(b);
    expect(freeChunks()).toBe(MAX_FREE_BYTES / POOLED_CHUNK_BYTES);
  });
});
