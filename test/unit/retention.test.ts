/**
 * Retention in-process (the integration tests in durability-faults run it as a real `serve`):
 * which segments the policy picks at its boundaries, age and size limits together, the
 * before_retention horizon at its exact edge, and the policy applied again when a data dir is
 * reopened, before anything is answered (issue 9: a kill -9 between dropping a segment's
 * entries and deleting its file brought the entries back after the restart).
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { type Engine, openEngine } from '../../src/engine.js';
import { silentLogger } from '../../src/log.js';
import { openDurable } from '../../src/store/durable/open.js';
import { segmentsToDelete } from '../../src/store/durable/retention.js';
import type { SegmentInfo } from '../../src/wal/index.js';
import { waitFor } from '../helpers/ingest-stack.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function seg(name: string, bytes: number, maxTsMs: number | null, sealed = true): SegmentInfo {
  return {
    name, path: name, start: 0, end: bytes, bytes, sealed, records: 1, entries: 1,
    minTs: maxTsMs === null ? null : (maxTsMs - HOUR) * 1000, maxTs: maxTsMs === null ? null : maxTsMs * 1000,
  };
}

describe('segmentsToDelete', () => {
  const now = Date.UTC(2024, 0, 15, 12);
  const age = { maxAgeMs: DAY, maxBytes: null };

  it('deletes a sealed prefix whose newest entry is older than the horizon, not one that straddles it', () => {
    const list = [seg('a', 10, now - 3 * DAY), seg('b', 10, now - DAY - 1), seg('c', 10, now - DAY + 1), seg('d', 10, now - 3 * DAY)];
    // c's oldest entry is 25 h old, its newest 1 ms inside the horizon: kept, and d behind it too.
    expect(segmentsToDelete(list, age, now).map((s) => s.name)).toEqual(['a', 'b']);
    // Exactly at the horizon is not older than it.
    expect(segmentsToDelete([seg('e', 10, now - DAY)], age, now)).toEqual([]);
  });

  it('never deletes the active segment, whatever its age or the size', () => {
    expect(segmentsToDelete([seg('a', 10, now - 3 * DAY, false)], { maxAgeMs: DAY, maxBytes: 1 }, now)).toEqual([]);
  });

  it('with a size limit, deletes the oldest until the rest fits; age and size together delete the union', () => {
    const list = [seg('a', 40, now - 3 * DAY), seg('b', 40, now - HOUR), seg('c', 40, now - HOUR), seg('d', 40, now, false)];
    expect(segmentsToDelete(list, { maxAgeMs: null, maxBytes: 80 }, now).map((s) => s.name)).toEqual(['a', 'b']);
    expect(segmentsToDelete(list, { maxAgeMs: null, maxBytes: 160 }, now)).toEqual([]);
    expect(segmentsToDelete(list, { maxAgeMs: DAY, maxBytes: 159 }, now).map((s) => s.name)).toEqual(['a']);
    expect(segmentsToDelete(list, { maxAgeMs: DAY, maxBytes: 119 }, now).map((s) => s.name)).toEqual(['a', 'b']);
  });
});

/** A line stamped `ms`, carrying its sequence number. */
const line = (seq: number, ms: number): string => `${new Date(ms).toISOString()} [${seq % 10 === 0 ? 'ERROR' : 'INFO'}] request ${seq} ${'x'.repeat(seq % 40)} seq=${seq}\n`;

describe('retention over a real data dir', () => {
  let dir = '';
  let engines: Engine[] = [];
  afterEach(async () => {
    for (const e of engines) await e.close();
    engines = [];
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  async function open(args: string[], start = true): Promise<Engine> {
    const config = resolveConfig(['serve', '--source', join(dir, 'app.log'), '--data-dir', join(dir, 'data'), '--segment-bytes', '64KiB', ...args]);
    const engine = await openEngine(config, silentLogger, { pollMs: 20 });
    engines.push(engine);
    if (start) engine.ingestor.start();
    return engine;
  }

  async function close(engine: Engine): Promise<void> {
    await engine.close();
    engines = engines.filter((e) => e !== engine);
  }

  /**
   * Appends `count` lines from seq `from`, stamped start + seq ms, 500 at a time, each part
   * indexed before the next is written: one batch per part, so 64 KiB segments get cut
   * between them (one append of everything is one batch, and one segment).
   */
  async function feed(engine: Engine, from: number, count: number, start: number): Promise<void> {
    for (let part = from; part < from + count; part += 500) {
      let text = '';
      const end = Math.min(from + count, part + 500);
      for (let s = part; s < end; s++) text += line(s, start + s);
      appendFileSync(join(dir, 'app.log'), text);
      await waitFor(async () => {
        const st = (await engine.store.status()).sources[0]!;
        return st.linesRead === end - 1 && st.state === 'live' && st.pendingBytes === 0;
      }, 20_000, () => engine.store.status());
    }
  }

  const US = 1000;

  /**
   * 2,000 entries three days old, then 2,000 a minute old, in a data dir closed without a
   * retention policy. Its final checkpoint indexes the old entries and their segments are on
   * disk: what a kill -9 right after retention dropped the entries, before it deleted the
   * files, leaves.
   */
  async function fillOldAndRecent(): Promise<{ old: number; recent: number; segments: number }> {
    dir = mkdtempSync(join(tmpdir(), 'ltm-retention-'));
    const old = Date.now() - 3 * DAY;
    const recent = Date.now() - 60_000;
    appendFileSync(join(dir, 'app.log'), '');
    const filling = await open([]);
    await feed(filling, 1, 2_000, old);
    await feed(filling, 2_001, 2_000, recent);
    const segments = filling.durable!.wal.segments().length;
    await close(filling);
    return { old, recent, segments };
  }


  it('age and size limits together: old segments go by age, then the oldest recent ones until the WAL fits; the horizon is exact', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ltm-retention-'));
    const old = Date.now() - 3 * DAY;
    const recent = Date.now() - HOUR;
    appendFileSync(join(dir, 'app.log'), '');
    // No policy while filling, so nothing is deleted before the test looks.
    const filling = await open([]);
    await feed(filling, 1, 3_000, old);
    await feed(filling, 3_001, 6_000, recent);
    const before = filling.durable!.wal.segments();
    await close(filling);

    const oldSegs = before.filter((s) => s.sealed && s.maxTs! < (recent - HOUR) * US);
    const recentSealed = before.filter((s) => s.sealed && s.minTs! >= recent * US);
    expect(oldSegs.length).toBeGreaterThanOrEqual(2);
    expect(recentSealed.length).toBeGreaterThanOrEqual(2);
    // The cap leaves room for all but the oldest recent segment: size must delete exactly one
    // segment more than age does.
    const total = before.reduce((n, s) => n + s.bytes, 0);
    const oldBytes = oldSegs.reduce((n, s) => n + s.bytes, 0);
    const cap = total - oldBytes - 1;
    const engine = await open(['--retention', '24h', '--max-wal-bytes', String(cap)], false);
    const kept = engine.durable!.wal.segments();
    const firstKept = before.findIndex((s) => s.name === kept[0]!.name);
    expect(before.slice(firstKept).map((s) => s.name)).toEqual(kept.map((s) => s.name));
    // Every old segment went (age), and with them exactly one recent segment went (size)...
    expect(before[firstKept - 1]!.name).toBe(recentSealed[0]!.name);
    expect(kept.reduce((n, s) => n + s.bytes, 0)).toBeLessThanOrEqual(cap);
    // ...and the index holds exactly the entries of the segments kept.
    const entries = kept.reduce((n, s) => n + s.entries, 0);
    const coverage = await engine.store.coverage();
    expect(coverage.entries).toBe(entries);
    const horizon = coverage.firstTs!;
    expect(coverage.retentionHorizon).toBe(horizon);
    expect(horizon).toBe(kept[0]!.minTs);

    const q = (t: number) => engine.store.findNearest({ t, tags: null, count: 1, direction: 'nearest', context: 0, bodyCap: 2048 });
    const atHorizon = await q(horizon);
    expect(atHorizon.status).toBe('ok');
    expect(atHorizon.entries[0]!.ts).toBe(horizon);
    // One microsecond before the horizon: what was there is gone, and the answer says so.
    const justBefore = await q(horizon - 1);
    expect(justBefore.status).toBe('before_retention');
    expect(justBefore.entries[0]!.ts).toBe(horizon);
    expect((await q(old * US)).status).toBe('before_retention');
    expect((await q((recent + 9_000) * US)).status).toBe('ok');
  });

  it('a reopened data dir applies the policy before the first answer (a crash between dropping and deleting)', async () => {
    const { old, recent } = await fillOldAndRecent();

    // Not started, and no maintenance pass has run: only the open applied the policy.
    const engine = await open(['--retention', '24h'], false);
    expect(engine.durable!.recovery.checkpoint).not.toBeNull();
    const coverage = await engine.store.coverage();
    expect(coverage.entries).toBe(2_000);
    expect(coverage.firstTs).toBe((recent + 2_001) * US);
    const answer = await engine.store.findNearest({ t: (old + 1_000) * US, tags: null, count: 1, direction: 'nearest', context: 0, bodyCap: 2048 });
    expect(answer.status).toBe('before_retention');
    expect(answer.entries[0]!.body).toMatch(/ seq=2001$/);
    expect(engine.durable!.wal.segments().every((s) => s.maxTs! >= recent * US)).toBe(true);
  });

  it('the start-up pass keeps what an ingest agent has not had acknowledged (keepFrom), as maintenance does', async () => {
    const { segments } = await fillOldAndRecent();
    expect(segments).toBeGreaterThan(2);

    // An agent whose uploader has acknowledged nothing (cursor 0): the old segments stay.
    const config = resolveConfig(['serve', '--source', join(dir, 'app.log'), '--data-dir', join(dir, 'data'), '--segment-bytes', '64KiB', '--retention', '24h']);
    const durable = await openDurable(config, { ingestStatus: () => [], logger: silentLogger, keepFrom: () => 0 });
    try {
      expect(durable.wal.segments().length).toBeGreaterThanOrEqual(segments);
      expect((await durable.store.coverage()).entries).toBe(4_000);
    } finally {
      await durable.close();
    }
  });
});
