/**
 * Issue 12, item 2: the parse pool starts on demand and a chunk never waits for it. A small
 * file starts no thread at all; big chunks are parsed inline (same columns) until a few MB of
 * them ask for the workers and one of them is up; then big chunks go to the workers.
 */
import { Piscina } from 'piscina';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INLINE_PARSE_BYTES, ParsePool, START_AFTER_BYTES } from '../../src/ingest/parse-pool.js';
import { getFormat } from '../../src/parse/formats.js';

const OPTIONS = { timezone: 'UTC' };

/** Whole lines of `bytes` or a little more, in a buffer the workers can share. */
function logChunk(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `2024-01-15T10:${String(Math.floor(i / 60_000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z [${i % 7 === 0 ? 'ERROR' : 'INFO'}] line ${i}\n`;
    lines.push(line);
    size += line.length;
  }
  const text = Buffer.from(lines.join(''));
  const chunk = ParsePool.allocChunk(text.length);
  text.copy(chunk);
  return chunk;
}

/** The chunk parsed on this thread (no parse path builds text filters: src/index/filter-backfill.ts). */
function inlineParse(chunk: Buffer): unknown {
  return { ...getFormat('iso-bracket')!.parseChunk(chunk, OPTIONS) };
}

const pools: ParsePool[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const p of pools.splice(0)) await p.close();
});

describe('ParsePool start-up', () => {
  it('parses a small chunk inline and starts no worker', async () => {
    const run = vi.spyOn(Piscina.prototype, 'run');
    const pool = new ParsePool({ threads: 2 });
    pools.push(pool);
    const chunk = logChunk(64 * 1024);
    const parsed = await pool.parse(chunk, 'iso-bracket', OPTIONS);
    expect(parsed.count).toBeGreaterThan(500);
    expect(run).not.toHaveBeenCalled();
  });

  it('parses the one big chunk of a small file inline and starts no worker', async () => {
    const pool = new ParsePool({ threads: 2 });
    pools.push(pool);
    const chunk = logChunk(INLINE_PARSE_BYTES + 4096);
    expect(chunk.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect({ ...(await pool.parse(chunk, 'iso-bracket', OPTIONS)) }).toEqual(inlineParse(chunk));
    expect(pool.started).toBe(false);
  });

  it('parses big chunks inline until a few MB of them start the workers, then hands big chunks to them', async () => {
    const run = vi.spyOn(Piscina.prototype, 'run');
    const pool = new ParsePool({ threads: 2 });
    pools.push(pool);
    const chunk = logChunk(Math.ceil(START_AFTER_BYTES / 3));
    let parsedBytes = 0;
    let first = await pool.parse(chunk, 'iso-bracket', OPTIONS);
    for (parsedBytes += chunk.length; parsedBytes < START_AFTER_BYTES; parsedBytes += chunk.length) {
      expect(pool.started).toBe(false);
      first = await pool.parse(chunk, 'iso-bracket', OPTIONS);
    }
    expect(pool.started).toBe(true);
    expect({ ...first }).toEqual(inlineParse(chunk));
    // The chunk did not wait for the pool its arrival started: the only tasks the workers got
    // are the empty ones that tell when they are up.
    await pool.ready();
    expect(run.mock.calls.length).toBeGreaterThan(0);
    expect(run.mock.calls.every(([task]) => (task as { length: number }).length === 0)).toBe(true);
    run.mockClear();
    const second = await pool.parse(chunk, 'iso-bracket', OPTIONS);
    expect(run.mock.calls.map(([task]) => (task as { length: number }).length)).toEqual([chunk.length]);
    expect({ ...second }).toEqual(inlineParse(chunk));
  });

  it('never starts threads when built with none', async () => {
    const run = vi.spyOn(Piscina.prototype, 'run');
    const pool = new ParsePool({ threads: 0 });
    pools.push(pool);
    await pool.ready();
    const chunk = logChunk(INLINE_PARSE_BYTES + 4096);
    expect((await pool.parse(chunk, 'iso-bracket', OPTIONS)).count).toBeGreaterThan(1000);
    expect(run).not.toHaveBeenCalled();
  });
});
