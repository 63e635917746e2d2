/**
 * The --ephemeral sink over a real file: a pooled chunk whose bodies are read back from the
 * file goes back to the pool once indexed; one whose bytes the store keeps is never released.
 */
import { mkdtempSync, openSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allocChunk, chunkRefs, releaseChunk } from '../../src/ingest/chunk-pool.js';
import type { IngestBatch } from '../../src/ingest/index.js';
import { parseIsoBracketChunk } from '../../src/parse/iso-bracket.js';
import { EmbeddedStore } from '../../src/store/embedded-store.js';
import { EphemeralSink } from '../../src/store/ephemeral-sink.js';
import { FileBodyStore } from '../../src/store/file-body-store.js';

let dir = '';
afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/** 300 KiB of lines (above the inline-parse size, so allocChunk pools the buffer). */
function fileOfLines(): { path: string; text: Buffer } {
  dir = mkdtempSync(join(tmpdir(), 'ltm-ephem-sink-'));
  const path = join(dir, 'app.log');
  let s = '';
  for (let i = 0; s.length < 300 * 1024; i++) s += `2024-01-15T10:00:${String(i % 60).padStart(2, '0')}.000Z [INFO] line ${i} ${'z'.repeat(60)}\n`;
  writeFileSync(path, s);
  return { path, text: Buffer.from(s) };
}

function batchOf(path: string, text: Buffer, plain: boolean): { batch: IngestBatch; fd: number } {
  const chunk = allocChunk(text.length);
  text.copy(chunk);
  const st = statSync(path);
  const fd = openSync(path, 'r');
  const batch: IngestBatch = {
    source: 'app', file: { dev: st.dev, ino: st.ino }, chunk, byteStart: 0, byteEnd: text.length, fileKey: 1, firstLine: 1,
    parsed: parseIsoBracketChunk(chunk, { timezone: 'UTC' }), ...(plain ? { fd } : {}),
  };
  return { batch, fd };
}

describe('EphemeralSink and the chunk pool', () => {
  it('releases a chunk whose bodies are read back from the file, after indexing it', async () => {
    const { path, text } = fileOfLines();
    const bodies = new FileBodyStore();
    const store = new EmbeddedStore({ sources: ['app'], bodies });
    const { batch, fd } = batchOf(path, text, true);
    expect(chunkRefs(batch.chunk)).toBe(1);
    await new EphemeralSink(store, bodies).apply(batch);
    closeSync(fd);
    expect(chunkRefs(batch.chunk)).toBeUndefined();
    expect(bodies.bytes).toBe(0);
    // The bodies come from the store's own descriptor, not the released buffer.
    batch.chunk.fill(0x21);
    expect(Buffer.from(bodies.read(0, text.length, text.length)!).equals(text)).toBe(true);
    bodies.close();
  });

  it('keeps (never releases) a chunk it holds the bytes of', async () => {
    const { path, text } = fileOfLines();
    const bodies = new FileBodyStore();
    const store = new EmbeddedStore({ sources: ['app'], bodies });
    const { batch, fd } = batchOf(path, text, false);
    await new EphemeralSink(store, bodies).apply(batch);
    closeSync(fd);
    expect(chunkRefs(batch.chunk)).toBe(1);
    expect(bodies.bytes).toBe(text.length);
    releaseChunk(batch.chunk);
    bodies.close();
  });
});
