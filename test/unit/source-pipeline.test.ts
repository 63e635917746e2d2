/**
 * The source pipeline (src/ingest/source-pipeline.ts) between a follower and the sink: parse results are applied in file
 * order whatever order they finish in, at most MAX_IN_FLIGHT chunks wait, and no chunk is
 * left behind however its submit() interleaves with the pump finishing.
 */
import { describe, expect, it } from 'vitest';
import type { IngestBatch } from '../../src/ingest/batch.js';
import { ParsePool } from '../../src/ingest/parse-pool.js';
import type { FollowedChunk } from '../../src/ingest/source-follower.js';
import { MAX_IN_FLIGHT, SourcePipeline } from '../../src/ingest/source-pipeline.js';
import { SourceTracker } from '../../src/ingest/source-tracker.js';
import { isoBracketFormat } from '../../src/parse/iso-bracket.js';
import type { ParseOptions, ParsedChunk } from '../../src/parse/parsed-chunk.js';

function chunk(i: number, fileKey = 1): FollowedChunk {
  const bytes = Buffer.from(`2024-01-15T00:00:${String(i % 60).padStart(2, '0')}Z [INFO] chunk ${i}\n    at trace ${i}\n`);
  return { chunk: bytes, byteStart: i * 100, byteEnd: i * 100 + bytes.length, file: { dev: 1, ino: 1 }, fileKey, firstLine: 1, format: isoBracketFormat };
}

/** A pool whose parses finish in whatever order the test releases them. */
class GatedPool extends ParsePool {
  readonly gates: (() => void)[] = [];
  constructor() {
    super({ threads: 0 });
  }
  override async parse(buf: Buffer, format: string, options: ParseOptions): Promise<ParsedChunk> {
    await new Promise<void>((resolve) => this.gates.push(resolve));
    return super.parse(buf, format, options);
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('SourcePipeline', () => {
  it('applies chunks in submission order even when their parses finish in reverse', async () => {
    const pool = new GatedPool();
    const applied: IngestBatch[] = [];
    const tracker = new SourceTracker('s', '/x');
    const p = new SourcePipeline('s', pool, { apply: async (b) => void applied.push(b) }, tracker, { timezone: 'UTC' });
    const submits = [0, 1, 2].map((i) => p.submit(chunk(i)));
    await Promise.all(submits);
    for (const release of [...pool.gates].reverse()) {
      release();
      await tick();
    }
    await p.idle();
    expect(applied.map((b) => b.byteStart)).toEqual([0, 100, 200]);
    // Line numbers continue across chunks of one generation (each chunk is two lines).
    expect(applied.map((b) => b.firstLine)).toEqual([1, 3, 5]);
    expect(tracker.linesRead).toBe(6);
  });

  it('makes a submitter (the follower awaits each submit) wait while MAX_IN_FLIGHT chunks are queued', async () => {
    const pool = new GatedPool();
    let applied = 0;
    const p = new SourcePipeline('s', pool, { apply: async () => void applied++ }, new SourceTracker('s', '/x'), { timezone: 'UTC' });
    const total = MAX_IN_FLIGHT + 3;
    let returned = 0;
    const follower = (async () => {
      for (let i = 0; i < total; i++) {
        await p.submit(chunk(i));
        returned++;
      }
    })();
    await tick();
    // Chunks handed over (each starts a parse) never exceed what was applied + MAX_IN_FLIGHT.
    expect(pool.gates.length).toBe(MAX_IN_FLIGHT);
    expect(returned).toBe(MAX_IN_FLIGHT - 1);
    for (let k = 0; k < total; k++) {
      pool.gates[k]!();
      await tick();
      expect(pool.gates.length).toBeLessThanOrEqual(applied + MAX_IN_FLIGHT);
    }
    await follower;
    await p.idle();
    expect(applied).toBe(total);
  });

  it('applies a chunk submitted while the pump is finishing (regression: it was stranded until the next chunk)', async () => {
    const pool = new ParsePool({ threads: 0 });
    // Submit the second chunk 0..30 microtask hops after the first: one of those lands
    // between the pump's last look at the queue and its completion callback.
    const stranded: number[] = [];
    for (let hops = 0; hops <= 30; hops++) {
      let applied = 0;
      const p = new SourcePipeline('s', pool, { apply: async () => void applied++ }, new SourceTracker('s', '/x'), { timezone: 'UTC' });
      void p.submit(chunk(0));
      let q: Promise<void> = Promise.resolve();
      for (let k = 0; k < hops; k++) q = q.then(() => undefined);
      await q.then(() => p.submit(chunk(1)));
      // Without threads the pipeline runs on promises alone (no timer outside the retry after
      // a storage error): by the next macrotask it is idle, or the chunk is stranded. A 200 ms
      // timer instead could fire first on a machine that paused the process (issue 18).
      const idle = await Promise.race([p.idle().then(() => true), new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))]);
      if (applied !== 2 || !idle) stranded.push(hops);
    }
    expect(stranded).toEqual([]);
  });
});
