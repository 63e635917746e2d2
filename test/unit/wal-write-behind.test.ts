/**
 * Wal.appendBehind (src/wal/write-behind.ts): the append resolves while its write runs on.
 * Until the write completes the record's bodies come from memory, it is not counted as
 * written or durable, and every later write, sync, flush, replay and close waits for it; a
 * write that fails is written again before anything else.
 */
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeIo, Wal, type WalBatch, type WalIo } from '../../src/wal/index.js';
import { countingIo, expected, expectReopensWith, failingWrites, gate, makeStream, replayBatches, strip, ticks, until, useTempDirs } from '../helpers/wal.js';

const dir = useTempDirs();

/** A file layer whose batch writes can be held in flight (records over 1 KiB are batches here). */
function heldWrites(): {
  io: WalIo; hold: () => void; release: () => void; held: () => number; closedWhileHeld: () => boolean; counts: ReturnType<typeof countingIo>['counts'];
} {
  let g: ReturnType<typeof gate> | null = null;
  let waiting = 0;
  let closedWhileHeld = false;
  const { io, counts } = countingIo({
    close: async (fd) => {
      if (waiting > 0) closedWhileHeld = true;
      await nodeIo.close(fd);
    },
    writev: async (fd, bufs, pos) => {
      const bytes = bufs.reduce((n, b) => n + b.length, 0);
      if (g !== null && bytes > 1024) {
        waiting++;
        await g.promise;
        waiting--;
      }
      return nodeIo.writev(fd, bufs, pos);
    },
  });
  return {
    io, counts,
    hold: () => (g = gate()),
    release: () => {
      const open = g;
      g = null;
      open?.open();
    },
    held: () => waiting,
    closedWhileHeld: () => closedWhileHeld,
  };
}

function bodyOf(b: WalBatch, i: number): string {
  return Buffer.from(b.raw.subarray(b.bodyStart[i]!, b.bodyEnd[i]!)).toString();
}

function read(wal: Wal, pos: number, len: number): string {
  return Buffer.from(wal.readBody(pos, len, len) ?? new Uint8Array(0)).toString();
}

describe('Wal.appendBehind', () => {
  it('resolves before its write completes; bodies read from memory; not written, durable or fsynced until the write is done', async () => {
    const d = dir('behind');
    const w = heldWrites();
    const wal = await Wal.open({ dir: d, io: w.io, batchEntries: 10, batchIntervalMs: 60_000 });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    const [b1, b2, b3] = makeStream(1, 3, 20);
    const p1 = await wal.appendBehind(b1!);
    await wal.sync();
    w.hold();
    const p2 = await wal.appendBehind(b2!);
    await until(() => w.held() === 1);
    await ticks();
    // Acknowledged, not in the file: its bodies come from memory, also a read that starts in b1.
    expect(statSync(wal.segments()[0]!.path).size).toBeLessThan(wal.endPos);
    for (const i of [0, 7, 19]) expect(read(wal, p2 + b2!.bodyStart[i]!, b2!.bodyEnd[i]! - b2!.bodyStart[i]!)).toBe(bodyOf(b2!, i));
    const span = p2 + b2!.bodyEnd[3]! - (p1 + b1!.bodyStart[19]!);
    const across = read(wal, p1 + b1!.bodyStart[19]!, span);
    expect(across.startsWith(bodyOf(b1!, 19))).toBe(true);
    expect(across.endsWith(bodyOf(b2!, 3))).toBe(true);
    expect(across.length).toBe(span);
    // 20 entries over batchEntries=10 would fsync at once if they counted as written.
    const syncsBefore = w.counts.fdatasync;
    expect(wal.status()).toMatchObject({ durableEntries: 20, unsyncedEntries: 20 });
    expect(w.counts.fdatasync).toBe(syncsBefore);
    // Everything after it waits for it: the next append, sync(), flush().
    let later = false;
    let synced = false;
    let flushed = false;
    const p3 = wal.appendBehind(b3!).then((p) => ((later = true), p));
    void wal.sync().then(() => (synced = true));
    void wal.flush().then(() => (flushed = true));
    await ticks();
    expect([later, synced, flushed]).toEqual([false, false, false]);
    w.release();
    await until(() => later && synced && flushed);
    // Written now, so counted: 20 entries over batchEntries=10 get their fsync (and sync() its).
    await until(() => w.counts.fdatasync > syncsBefore);
    await p3;
    await wal.sync();
    expect(wal.status()).toMatchObject({ durableEntries: 60, unsyncedEntries: 0 });
    await wal.close();
    const again = await Wal.open({ dir: d });
    expect((await replayBatches(again)).map(strip)).toEqual([b1!, b2!, b3!].map(expected));
    await again.close();
  });

  it('replay and close wait for the write in flight and include its record', async () => {
    const d = dir('behind-replay');
    const w = heldWrites();
    const wal = await Wal.open({ dir: d, io: w.io });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    const [b1, b2, b3] = makeStream(1, 3, 15);
    await wal.appendBehind(b1!);
    w.hold();
    await wal.appendBehind(b2!);
    await until(() => w.held() === 1);
    let replayed: Record<string, unknown>[] | null = null;
    void replayBatches(wal).then((r) => (replayed = r));
    let closed = false;
    await ticks();
    expect(replayed).toBeNull();
    w.release();
    await until(() => replayed !== null);
    expect(replayed!.map(strip)).toEqual([b1!, b2!].map(expected));
    // Nothing left to fsync: a close that did not wait for b3 would go straight to closing the file.
    await wal.sync();
    w.hold();
    await wal.appendBehind(b3!);
    await until(() => w.held() === 1);
    void wal.close().then(() => (closed = true));
    // Turns enough for a close that did not wait to reach its last step (closing the descriptor).
    await ticks(200);
    expect(closed).toBe(false);
    w.release();
    await until(() => closed);
    expect(w.closedWhileHeld()).toBe(false);
    const again = await Wal.open({ dir: d });
    expect((await replayBatches(again)).map(strip)).toEqual([b1!, b2!, b3!].map(expected));
    expect(again.sources()[0]!.position).toMatchObject({ offset: b3!.byteEnd, nextLine: b3!.firstLine + b3!.lines });
    await again.close();
  });

  it('a write that fails after the append resolved is written again first; the appends meanwhile fail with its error', async () => {
    const d = dir('behind-enospc');
    const { io, fail } = failingWrites('ENOSPC', 'no space left on device');
    const wal = await Wal.open({ dir: d, io });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    const [b1, b2, b3] = makeStream(1, 3, 20);
    await wal.appendBehind(b1!);
    await wal.flush();
    const at = wal.endPos;
    const segPath = wal.segments()[0]!.path;
    fail.left = 2; // the write in the background, and its first retry
    const p2 = await wal.appendBehind(b2!);
    // The next append retries b2's write, which fails again: it is refused with that error.
    await expect(wal.appendBehind(b3!)).rejects.toMatchObject({ code: 'ENOSPC', file: segPath, offset: at });
    expect(read(wal, p2 + b2!.bodyStart[5]!, b2!.bodyEnd[5]! - b2!.bodyStart[5]!)).toBe(bodyOf(b2!, 5));
    expect(wal.status().unsyncedEntries).toBeGreaterThanOrEqual(20);
    // Space is back: b2 goes in first, then b3, each once.
    await wal.appendBehind(b3!);
    await wal.close();
    await expectReopensWith(d, [b1!, b2!, b3!]);
  });

  it("is append under 'always': resolved means durable", async () => {
    const { io, counts } = countingIo();
    const wal = await Wal.open({ dir: dir('behind-always'), fsync: 'always', io });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    const before = counts.fdatasync;
    await wal.appendBehind(makeStream(1, 1, 5)[0]!);
    expect(counts.fdatasync).toBe(before + 1);
    expect(wal.status()).toMatchObject({ durableEntries: 5, unsyncedEntries: 0 });
    await wal.close();
  });
});
