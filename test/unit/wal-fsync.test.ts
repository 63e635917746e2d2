import { describe, expect, it } from 'vitest';
import { nodeIo, Wal } from '../../src/wal/index.js';
import { countingIo, errnoError, gate, makeBatch, replayBatches, ticks, until, useTempDirs } from '../helpers/wal.js';

const dir = useTempDirs();

describe('fsync policy always (group commit)', () => {
  it('resolves an append only after its fsync, and appends arriving meanwhile share the next one', async () => {
    let hold = false;
    const g = gate();
    const { io, counts } = countingIo({
      fdatasync: async (fd) => {
        if (hold) await g.promise;
        await nodeIo.fdatasync(fd);
      },
    });
    const wal = await Wal.open({ dir: dir('always'), fsync: 'always', io });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    const before = counts.fdatasync;
    hold = true;
    let firstDone = false;
    const first = wal.append(makeBatch({ entries: 5 })).then((p) => {
      firstDone = true;
      return p;
    });
    await until(() => counts.fdatasync === before + 1);
    await ticks();
    expect(firstDone).toBe(false);
    expect(wal.status().unsyncedEntries).toBe(5);

    const writesBefore = counts.writev;
    const rest = Array.from({ length: 9 }, (_, i) => wal.append(makeBatch({ entries: 5, seed: i + 2 })));
    let restDone = 0;
    for (const p of rest) void p.then(() => restDone++);
    // All nine are written while the first fsync is still in flight...
    await until(() => counts.writev === writesBefore + 9);
    await ticks();
    expect(restDone).toBe(0);
    hold = false;
    g.open();
    await Promise.all([first, ...rest]);
    // ...and are made durable by one shared fsync, not nine.
    expect(counts.fdatasync).toBe(before + 2);
    expect(wal.status()).toMatchObject({ durableEntries: 50, unsyncedEntries: 0 });
    await wal.close();
  });

  it('turns a failed fsync into WAL_FAILED: the append rejects and later ones are refused', async () => {
    const d = dir('fail');
    let fail = false;
    const { io } = countingIo({
      fdatasync: async (fd) => {
        if (fail) throw errnoError('EIO', 'simulated');
        await nodeIo.fdatasync(fd);
      },
    });
    const wal = await Wal.open({ dir: d, fsync: 'always', io });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    await wal.append(makeBatch({ entries: 3 }));
    fail = true;
    await expect(wal.append(makeBatch({ entries: 3, seed: 9 }))).rejects.toMatchObject({ code: 'WAL_FAILED' });
    await expect(wal.append(makeBatch({ entries: 3, seed: 10 }))).rejects.toMatchObject({ code: 'WAL_FAILED' });
    expect(wal.status().error).toMatch(/fsync failed \(EIO/);
    await wal.close();
    // Reopening recovers what reached the file.
    const again = await Wal.open({ dir: d });
    expect((await replayBatches(again)).length).toBe(2);
    await again.close();
  });
});

describe('fsync policy batch', () => {
  it('fsyncs once 1,000 entries are unsynced, not before', async () => {
    const { io, counts } = countingIo();
    const wal = await Wal.open({ dir: dir('batchn'), io, batchIntervalMs: 60_000 });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    for (let i = 0; i < 9; i++) await wal.append(makeBatch({ entries: 111, seed: i }));
    await ticks();
    expect(counts.fdatasync).toBe(0);
    expect(wal.status()).toMatchObject({ durableEntries: 0, unsyncedEntries: 999, lastFsyncAt: null });
    await wal.append(makeBatch({ entries: 1, seed: 99 }));
    await until(() => counts.fdatasync === 1);
    await until(() => wal.status().unsyncedEntries === 0);
    expect(wal.status().durableEntries).toBe(1000);
    await wal.close();
  });

  it('fsyncs a quiet source on the timer', async () => {
    const { io, counts } = countingIo();
    let clock = 1_000;
    const wal = await Wal.open({ dir: dir('batcht'), io, batchIntervalMs: 40, now: () => clock });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    await wal.append(makeBatch({ entries: 4 }));
    expect(counts.fdatasync).toBe(0);
    clock = 5_000;
    await until(() => counts.fdatasync === 1);
    await until(() => wal.status().unsyncedEntries === 0);
    expect(wal.status()).toMatchObject({ durableEntries: 4, lastFsyncAt: 5_000 });
    await wal.close();
  });

  it('close() fsyncs what is left', async () => {
    const { io, counts } = countingIo();
    const wal = await Wal.open({ dir: dir('batchc'), io, batchIntervalMs: 60_000 });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    await wal.append(makeBatch({ entries: 4 }));
    expect(counts.fdatasync).toBe(0);
    await wal.close();
    expect(counts.fdatasync).toBe(1);
  });

  it('a segment cut fsyncs the sealed segment', async () => {
    const { io, counts } = countingIo();
    const wal = await Wal.open({ dir: dir('cutsync'), io, segmentBytes: 4096, batchIntervalMs: 60_000 });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    for (let i = 0; i < 12; i++) await wal.append(makeBatch({ entries: 10, seed: i }));
    const sealed = wal.segments().filter((s) => s.sealed);
    expect(sealed.length).toBeGreaterThan(1);
    expect(counts.fdatasync).toBe(sealed.length);
    const s = wal.status();
    expect(s.durableEntries + s.unsyncedEntries).toBe(120);
    expect(s.unsyncedEntries).toBe(wal.segments().at(-1)!.entries);
    await wal.close();
  });
});

describe('fsync policy off', () => {
  it('never fsyncs on append; sync() forces one', async () => {
    const { io, counts } = countingIo();
    const wal = await Wal.open({ dir: dir('off'), io, fsync: 'off' });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    for (let i = 0; i < 20; i++) await wal.append(makeBatch({ entries: 100, seed: i }));
    await ticks();
    expect(counts.fdatasync).toBe(0);
    expect(wal.status().unsyncedEntries).toBe(2000);
    await wal.sync();
    expect(counts.fdatasync).toBe(1);
    expect(wal.status()).toMatchObject({ durableEntries: 2000, unsyncedEntries: 0 });
    await wal.close();
    expect(counts.fdatasync).toBe(1);
  });
});
