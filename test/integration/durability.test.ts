/**
 * Durability with real processes and real files (issue 4): `serve` stopped with SIGTERM or
 * killed with SIGKILL, the log appended, rotated, truncated or rewritten while it was down,
 * then restarted. Every line is checked with the crash test's own verdict: indexed exactly
 * once, with the file's body, time, tag and line number.
 */
import { closeSync, copyFileSync, ftruncateSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { openEngine } from '../../src/engine.js';
import { silentLogger } from '../../src/log.js';
import { nodeIo, Wal, type WalIo } from '../../src/wal/index.js';
import {
  appendSeq, DEADLINE_MS, faults, requireBuilt, seqLines, tailStatus, verdict, waitFor, waitIndexed, useServeFixtures,
} from '../helpers/crash.js';

const NONE = { lost: 0, duplicated: 0, corrupt: 0, wrongLine: 0, samples: [] };
const CLEAN_EXIT = { code: 0, signal: null };

const { workDir, start } = useServeFixtures();

beforeAll(() => requireBuilt());

describe('restart', () => {
  it('after SIGTERM continues where it stopped, loading the checkpoint and replaying nothing', async () => {
    const { log, data } = workDir('resume');
    appendSeq(log, 1, 20_000);
    let s = await start(log, data);
    expect(s.proc.recovery).toMatchObject({ checkpoint: null, replayedEntries: 0, entries: 0 });
    await waitIndexed(s.client, 20_000);
    expect(await s.stop()).toEqual(CLEAN_EXIT);

    appendSeq(log, 20_001, 5_000);
    s = await start(log, data);
    // The index came from the checkpoint SIGTERM wrote: no WAL record was replayed.
    expect(s.proc.recovery!.checkpoint).toMatch(/^index-[0-9a-f]{16}$/);
    expect(s.proc.recovery).toMatchObject({ replayedEntries: 0, entries: 20_000 });
    const st = await waitIndexed(s.client, 25_000);
    expect(st.sources[0]).toMatchObject({ entries: 25_000, rotations: 0 });
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    expect(faults(await verdict([log], data, 1, 25_000))).toEqual({ written: 25_000, ...NONE });
  });

  it('after kill -9 replays only the WAL written since the checkpoint, and loses or repeats nothing', async () => {
    const { log, data } = workDir('kill9');
    appendSeq(log, 1, 10_000);
    let s = await start(log, data);
    await waitIndexed(s.client, 10_000);
    expect(await s.stop()).toEqual(CLEAN_EXIT);

    // A writer appending 100 lines every 10 ms while the server is killed.
    s = await start(log, data);
    let next = 10_001;
    const writer = setInterval(() => {
      appendSeq(log, next, 100);
      next += 100;
    }, 10);
    try {
      await waitFor(async () => (await tailStatus(s.client)).index.entries >= 15_000 || null, DEADLINE_MS, () => s.proc.stderrTail());
      expect(await s.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      clearInterval(writer);
    }
    s = await start(log, data);
    const r = s.proc.recovery!;
    expect(r.checkpoint).not.toBeNull();
    // The checkpoint SIGTERM wrote holds 10,000 entries; only what came after is replayed, and
    // all of it survived the kill (at least the 5,000 seen indexed before it).
    expect(r.replayedEntries).toBeGreaterThanOrEqual(5_000);
    expect(r.entries).toBe(10_000 + r.replayedEntries);
    const total = next - 1;
    await waitIndexed(s.client, total);
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    expect(faults(await verdict([log], data, 1, total))).toEqual({ written: total, ...NONE });
  });

  // A quiet log: each line arrives alone, so each WAL batch is one line shorter than the
  // 64-byte resume tail. The tail used to be read across the record's frame, never matched,
  // and every restart read the whole file again.
  it('resumes exactly when the last batches were single short lines (SIGTERM, then kill -9)', async () => {
    const { log, data } = workDir('short');
    writeFileSync(log, '');
    let s = await start(log, data);
    let seq = 1;
    const trickle = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++, seq++) {
        writeFileSync(log, seqLines(seq, 1).replace(/request \d+ x* /, ''), { flag: 'a' });
        await waitIndexed(s.client, seq);
      }
    };
    await trickle(6);
    expect(Buffer.byteLength(readFileSync(log, 'utf8').split('\n')[0]!)).toBeLessThan(64);
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    s = await start(log, data);
    await trickle(6);
    expect(await s.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    s = await start(log, data);
    expect(s.proc.recovery).toMatchObject({ replayedEntries: 6, entries: 12 });
    writeFileSync(log, seqLines(13, 1).replace(/request \d+ x* /, ''), { flag: 'a' });
    const st = await waitIndexed(s.client, 13);
    expect(st.sources[0]).toMatchObject({ entries: 13, rotations: 0 });
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    expect(faults(await verdict([log], data, 1, 13))).toEqual({ written: 13, ...NONE });
  });
});

describe('SIGTERM', () => {
  it('flushes and fsyncs: nothing unsynced, a checkpoint at the end of the WAL, nothing to replay', async () => {
    const { log, data } = workDir('sigterm');
    appendSeq(log, 1, 8_000);
    // --fsync off: only sealing, sync() and close() fsync, so before SIGTERM nothing is durable.
    let s = await start(log, data, ['--fsync', 'off']);
    const before = await waitIndexed(s.client, 8_000);
    expect(before.wal).toMatchObject({ fsync_policy: 'off', unsynced_entries: 8_000, durable_entries: 0 });
    expect(await s.stop()).toEqual(CLEAN_EXIT);

    const wal = await Wal.open({ dir: join(data, 'wal'), readOnly: true });
    const end = wal.endPos;
    await wal.close();
    expect(readdirSync(join(data, 'checkpoints'))).toContain(`index-${end.toString(16).padStart(16, '0')}`);
    expect(readdirSync(data)).not.toContain('LOCK');
    s = await start(log, data, ['--fsync', 'off']);
    expect(s.proc.recovery).toMatchObject({ replayedEntries: 0, entries: 8_000 });
  });

  it('runs an fsync of the WAL while closing (what the SIGTERM handler calls)', async () => {
    const { log, data } = workDir('close-sync');
    appendSeq(log, 1, 3_000);
    let syncs = 0;
    const io: WalIo = { ...nodeIo, fdatasync: (fd) => (syncs++, nodeIo.fdatasync(fd)) };
    const config = resolveConfig(['serve', '--source', log, '--data-dir', data, '--fsync', 'off']);
    const engine = await openEngine(config, silentLogger, { walIo: io, pollMs: 20 });
    engine.ingestor.start();
    await engine.ingestor.caughtUp();
    const wal = engine.durable!.wal;
    expect(wal.status().unsyncedEntries).toBe(3_000);
    const syncsBefore = syncs;
    await engine.close();
    expect(syncs).toBeGreaterThan(syncsBefore);
    expect(wal.status()).toMatchObject({ unsyncedEntries: 0, durableEntries: 3_000 });
  });
});

describe('a source changed while the server was down', () => {
  async function firstRun(log: string, data: string, lines: number): Promise<void> {
    appendSeq(log, 1, lines);
    const s = await start(log, data);
    await waitIndexed(s.client, lines);
    expect(await s.stop()).toEqual(CLEAN_EXIT);
  }

  it('rotated by rename: the old file\'s unread tail is drained from app.log.1, then the new file from 0', async () => {
    const { log, data } = workDir('rot-rename');
    await firstRun(log, data, 10_000);
    appendSeq(log, 10_001, 2_000); // unread when the rename happens
    renameSync(log, `${log}.1`);
    appendSeq(log, 12_001, 3_000);
    const s = await start(log, data);
    const st = await waitIndexed(s.client, 15_000);
    expect(st.sources[0]).toMatchObject({ entries: 15_000, rotations: 1 });
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    expect(faults(await verdict([`${log}.1`, log], data, 1, 15_000))).toEqual({ written: 15_000, ...NONE });
  });

  it('truncated by copytruncate: the unread tail is recovered from the copy, then the file from 0', async () => {
    const { log, data } = workDir('rot-copy');
    await firstRun(log, data, 10_000);
    appendSeq(log, 10_001, 2_000);
    const ino = statSync(log).ino;
    copyFileSync(log, `${log}.1`);
    const fd = openSync(log, 'r+');
    ftruncateSync(fd, 0);
    closeSync(fd);
    appendSeq(log, 12_001, 3_000);
    expect(statSync(log).ino).toBe(ino);
    const s = await start(log, data);
    const st = await waitIndexed(s.client, 15_000);
    expect(st.sources[0]).toMatchObject({ entries: 15_000, rotations: 1 });
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    expect(faults(await verdict([`${log}.1`, log], data, 1, 15_000))).toEqual({ written: 15_000, ...NONE });
  });

  it('rewritten in place with unrelated lines of the same size: the tail mismatch is caught and it is read from 0', async () => {
    const { dir, log, data } = workDir('rot-rewrite');
    // seqs 10000..19999 and 20000..29999 give lines of identical lengths (see seqLine).
    writeFileSync(log, seqLines(10_000, 10_000));
    const s1 = await start(log, data);
    await waitIndexed(s1.client, 10_000);
    expect(await s1.stop()).toEqual(CLEAN_EXIT);
    const saved = join(dir, 'saved-first-content');
    copyFileSync(log, saved); // not next to the log: the follower must not find it
    const { ino, size } = statSync(log);
    writeFileSync(log, seqLines(20_000, 10_000)); // O_TRUNC: same inode
    expect(statSync(log)).toMatchObject({ ino, size });
    const s = await start(log, data);
    const st = await waitIndexed(s.client, 20_000);
    expect(st.sources[0]).toMatchObject({ entries: 20_000, rotations: 1 });
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    expect(faults(await verdict([saved, log], data, 10_000, 20_000))).toEqual({ written: 20_000, ...NONE });
  });
});

