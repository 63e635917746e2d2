/**
 * Periodic checkpoints (issue 18: only the one at shutdown was tested): the policy (every
 * 2M entries, at most every 15 s, or every 60 s when anything changed) at its edges, and a
 * real data dir whose maintenance pass writes one when due and not before, which a reader
 * opened beside it (as after a crash, with no final checkpoint) restores, replaying only the
 * WAL written after it. The clock is faked for Date only; timers stay real.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { type Engine, openEngine } from '../../src/engine.js';
import { silentLogger } from '../../src/log.js';
import { Checkpointer, DEFAULT_CHECKPOINT_POLICY } from '../../src/store/durable/checkpointer.js';
import { CHECKPOINT_PREFIX, checkpointName, dataDirPaths } from '../../src/store/durable/data-dir.js';
import { listCheckpoints, readCheckpoint, writeCheckpoint } from '../../src/wal/index.js';
import { waitFor } from '../helpers/ingest-stack.js';

const T0 = Date.UTC(2030, 0, 1);

let dir = '';
const engines: Engine[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const e of engines.splice(0)) await e.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const line = (i: number): string => `2024-01-15T10:00:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z [INFO] entry ${i}\n`;

async function open(readOnly = false): Promise<Engine> {
  const config = resolveConfig(['serve', '--source', `app=${join(dir, 'app.log')}`, '--data-dir', join(dir, 'data')]);
  const engine = await openEngine(config, silentLogger, { pollMs: 20, readOnly });
  engines.push(engine);
  return engine;
}

async function feed(engine: Engine, from: number, to: number): Promise<void> {
  let text = '';
  for (let i = from; i < to; i++) text += line(i);
  appendFileSync(join(dir, 'app.log'), text);
  await waitFor(async () => {
    const s = (await engine.store.status()).sources[0]!;
    return s.entries === to && s.pendingBytes === 0;
  }, undefined, () => engine.store.status());
}

describe('the checkpoint policy', () => {
  it('is due after everyEntries (not within minIntervalMs of the last), or everyMs after the last when anything changed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ltm-ckpt-'));
    appendFileSync(join(dir, 'app.log'), '');
    const engine = await open();
    const d = engine.durable!;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const policy = { everyEntries: 100, everyMs: 1000, minIntervalMs: 200 };
    const c = new Checkpointer(dataDirPaths(join(dir, 'data')).checkpoints, d.store, d.wal, d.sink, new Map([[0, 'app']]), silentLogger, policy);
    const at = (ms: number, entries: number): boolean => {
      vi.setSystemTime(T0 + ms);
      d.sink.entriesSinceCheckpoint = entries;
      return c.due();
    };
    expect(at(0, 0)).toBe(false);
    expect(at(100_000, 0)).toBe(false); // nothing changed: never due
    expect(at(199, 100)).toBe(false); // enough entries, too soon
    expect(at(200, 99)).toBe(false); // soon enough, too few
    expect(at(200, 100)).toBe(true);
    expect(at(999, 1)).toBe(false);
    expect(at(1000, 1)).toBe(true);
    expect(DEFAULT_CHECKPOINT_POLICY).toEqual({ everyEntries: 2_000_000, everyMs: 60_000, minIntervalMs: 15_000 });
  });
});

describe('periodic checkpoints of a running data dir', () => {
  it('are written by the maintenance pass when due, and a reader restores the newest, replaying only what came after', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ltm-ckpt-'));
    appendFileSync(join(dir, 'app.log'), '');
    const engine = await open();
    engine.ingestor.start();
    const ckpts = dataDirPaths(join(dir, 'data')).checkpoints;
    const d = engine.durable!;
    await feed(engine, 0, 3_000);
    await d.maintain();
    expect(await listCheckpoints(ckpts, CHECKPOINT_PREFIX)).toEqual([]);

    // A minute later, the pass writes one, covering the WAL to its end.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);
    const walEnd = d.wal.endPos;
    await d.maintain();
    expect(await listCheckpoints(ckpts, CHECKPOINT_PREFIX)).toEqual([checkpointName(walEnd)]);
    expect(d.sink.entriesSinceCheckpoint).toBe(0);
    // Not again right away, even with new entries.
    vi.useRealTimers();
    await feed(engine, 3_000, 3_500);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 1_000);
    await d.maintain();
    expect(await listCheckpoints(ckpts, CHECKPOINT_PREFIX)).toEqual([checkpointName(walEnd)]);
    vi.useRealTimers();

    // What a restart after a crash sees (no final checkpoint): the periodic one, plus a
    // replay of the 500 entries written after it.
    const reader = await open(true);
    expect(reader.durable!.recovery).toMatchObject({ checkpoint: checkpointName(walEnd), replayedEntries: 500 });
    expect((await reader.store.coverage()).entries).toBe(3_500);
    const hit = await reader.store.findNearest({ t: Date.parse('2024-01-15T10:00:03.250Z') * 1000, tags: null, count: 1, direction: 'nearest', context: 0, bodyCap: 2048 });
    expect(hit.entries.map((e) => e.body)).toEqual(['entry 3250']);
  });
});

describe('checkpoint formats at restart', () => {
  /** What a client sees: nearest entries at a few times, with and without a text filter. */
  async function answers(engine: Engine): Promise<unknown[]> {
    const out: unknown[] = [(await engine.store.coverage()).entries];
    for (const s of ['00.500', '01.999', '02.250', '03.100']) {
      const t = Date.parse(`2024-01-15T10:00:${s}Z`) * 1000;
      for (const text of [undefined, { contains: ['entry 21'], caseSensitive: false }]) {
        const hit = await engine.store.findNearest({ t, tags: null, count: 5, direction: 'nearest', context: 1, bodyCap: 2048, text });
        out.push(hit.entries.map((e) => [e.line, e.body]));
      }
    }
    return out;
  }

  it('a format 2 checkpoint, the same rewritten as format 1, and a damaged one all restart to the same answers', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ltm-ckfmt-'));
    appendFileSync(join(dir, 'app.log'), '');
    const writer = await open();
    writer.ingestor.start();
    await feed(writer, 0, 3_500);
    const live = await answers(writer);
    await writer.close(); // the final checkpoint, format 2
    engines.splice(0);
    const ckpts = dataDirPaths(join(dir, 'data')).checkpoints;
    const [name] = await listCheckpoints(ckpts, CHECKPOINT_PREFIX);
    const path = join(ckpts, name!);
    expect(readFileSync(path).readUInt32LE(8)).toBe(2);

    const restart = async (): Promise<[unknown, unknown[]]> => {
      const reader = await open(true);
      const got: [unknown, unknown[]] = [reader.durable!.recovery, await answers(reader)];
      await reader.close();
      engines.splice(0);
      return got;
    };
    // From the checkpoint alone: nothing replayed.
    const [rec2, got2] = await restart();
    expect(rec2).toMatchObject({ checkpoint: name, replayedEntries: 0 });
    expect(got2).toEqual(live);

    // The same checkpoint as format 1 (CRC32C sections) wrote it: used as it is.
    const cp = await readCheckpoint(ckpts, name!);
    await writeCheckpoint(ckpts, name!, { meta: cp.meta, sections: cp.sections }, { formatVersion: 1 });
    expect(readFileSync(path).readUInt32LE(8)).toBe(1);
    const [rec1, got1] = await restart();
    expect(rec1).toMatchObject({ checkpoint: name, replayedEntries: 0 });
    expect(got1).toEqual(live);

    // A flipped byte in a format 2 section (the middle of the first chunk's timestamps): the
    // checkpoint is refused and the whole WAL replayed instead, to the same answers.
    await writeCheckpoint(ckpts, name!, { meta: cp.meta, sections: cp.sections });
    const ts = cp.sections['0.0.ts']!;
    const bytes = readFileSync(path);
    bytes[ts.byteOffset + (ts.byteLength >> 1)]! ^= 0x01;
    writeFileSync(path, bytes);
    const [recBad, gotBad] = await restart();
    expect(recBad).toMatchObject({ checkpoint: null, replayedEntries: 3_500 });
    expect(gotBad).toEqual(live);
  });
});
