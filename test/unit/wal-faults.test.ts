/**
 * Injected faults: a disk that fills up in the middle of a record (ENOSPC), a truncate that
 * fails too, a cut that cannot create its segment, and retention racing appends and reads.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeIo, Wal, type WalBatch, type WalIo } from '../../src/wal/index.js';
import { errnoError, expected, expectReopensWith, makeBatch, makeStream, replayBatches, strip, useTempDirs } from '../helpers/wal.js';

const dir = useTempDirs();

/**
 * A file layer whose disk "fills up": once armed, the next writev writes half its bytes and
 * reports a short count (as the kernel does), and the one after fails with ENOSPC.
 */
function fullDisk(extra: Partial<WalIo> = {}): { io: WalIo; arm: () => void } {
  let state: 'ok' | 'half' | 'full' = 'ok';
  const io: WalIo = {
    ...nodeIo,
    ...extra,
    writev: async (fd, bufs, pos) => {
      if (state === 'full') {
        state = 'ok';
        throw errnoError('ENOSPC', 'no space left on device');
      }
      if (state === 'half') {
        state = 'full';
        const total = bufs.reduce((n, b) => n + b.length, 0);
        const flat = Buffer.concat(bufs.map((b) => Buffer.from(b.buffer, b.byteOffset, b.length)));
        return nodeIo.writev(fd, [flat.subarray(0, Math.floor(total / 2))], pos);
      }
      return nodeIo.writev(fd, bufs, pos);
    },
  };
  return { io, arm: () => (state = 'half') };
}

describe('ENOSPC during append', () => {
  it('rejects with the errno, file and offset, takes the partial record back, and appends again once space returns', async () => {
    const d = dir('enospc');
    const disk = fullDisk();
    const wal = await Wal.open({ dir: d, io: disk.io });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    const [b1, b2, b3] = makeStream(1, 3, 20);
    await wal.append(b1!);
    const end = wal.endPos;
    const segPath = wal.segments()[0]!.path;
    disk.arm();
    const err = await wal.append(b2!).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENOSPC', file: segPath, offset: end });
    expect((err as Error).message).toMatch(/no space left/);
    expect(statSync(segPath).size).toBe(end);
    expect(wal.endPos).toBe(end);
    expect(wal.status().durableEntries + wal.status().unsyncedEntries).toBe(20);
    // Space is back: the same batch goes in where the failed one would have.
    const pos2 = await wal.append(b2!);
    expect(pos2).toBeGreaterThan(end);
    await wal.append(b3!);
    await wal.close();
    await expectReopensWith(d, [b1!, b2!, b3!]);
  });

  it('when truncating the partial record fails too, the next append truncates first', async () => {
    const d = dir('enospc-trunc');
    let failTruncate = false;
    const disk = fullDisk({
      ftruncate: async (fd, len) => {
        if (failTruncate) {
          failTruncate = false;
          throw errnoError('EIO', 'truncate failed');
        }
        await nodeIo.ftruncate(fd, len);
      },
    });
    const wal = await Wal.open({ dir: d, io: disk.io });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    const big = makeBatch({ entries: 200, seed: 3 });
    const small = makeBatch({ entries: 2, seed: 4, byteStart: big.byteEnd });
    disk.arm();
    failTruncate = true;
    await expect(wal.append(big)).rejects.toMatchObject({ code: 'ENOSPC' });
    // The half-written big record is still in the file...
    expect(statSync(wal.segments()[0]!.path).size).toBeGreaterThan(wal.endPos);
    // ...and a shorter record written over it must not leave its stale tail behind.
    await wal.append(small);
    expect(statSync(wal.segments()[0]!.path).size).toBe(wal.endPos);
    await wal.close();
    const again = await Wal.open({ dir: d });
    expect(again.recovery.tornTails).toEqual([]);
    expect((await replayBatches(again)).map(strip)).toEqual([expected(small)]);
    await again.close();
  });

  it('a cut that cannot create the next segment leaves the old one active and retries later', async () => {
    const d = dir('enospc-cut');
    let failOpen = false;
    const io: WalIo = {
      ...nodeIo,
      open: async (path, flags) => {
        if (failOpen && path.endsWith('.wal.tmp')) throw errnoError('ENOSPC', 'no space left on device');
        return nodeIo.open(path, flags);
      },
    };
    const wal = await Wal.open({ dir: d, io, segmentBytes: 4096 });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    const stream = makeStream(1, 12, 10);
    const ok: WalBatch[] = [];
    let failed = 0;
    failOpen = true;
    for (const b of stream) {
      try {
        await wal.append(b);
        ok.push(b);
      } catch (err) {
        expect(err).toMatchObject({ code: 'ENOSPC', offset: 0 });
        expect((err as { file: string }).file).toMatch(/\.wal\.tmp$/);
        failed++;
        break;
      }
    }
    expect(failed).toBe(1);
    expect(wal.segments().length).toBe(1);
    expect(readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    failOpen = false;
    for (const b of stream.slice(ok.length)) {
      await wal.append(b);
      ok.push(b);
    }
    expect(wal.segments().length).toBeGreaterThan(1);
    await wal.close();
    const again = await Wal.open({ dir: d, segmentBytes: 4096 });
    expect((await replayBatches(again)).map(strip)).toEqual(stream.map(expected));
    await again.close();
  });

  it('a failed directory fsync during a cut removes the new segment again', async () => {
    const d = dir('dirsync');
    let failSyncDir = false;
    const io: WalIo = {
      ...nodeIo,
      syncDir: async (p) => {
        if (failSyncDir) {
          failSyncDir = false;
          throw errnoError('EIO', 'directory fsync failed');
        }
        await nodeIo.syncDir(p);
      },
    };
    const wal = await Wal.open({ dir: d, io, segmentBytes: 4096 });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    const stream = makeStream(1, 12, 10);
    let i = 0;
    failSyncDir = true;
    for (; i < stream.length; i++) {
      const ok = await wal.append(stream[i]!).then(() => true, () => false);
      if (!ok) break;
    }
    expect(i).toBeLessThan(stream.length);
    expect(readdirSync(d).filter((f) => f.endsWith('.wal'))).toEqual([wal.segments()[0]!.name]);
    for (; i < stream.length; i++) await wal.append(stream[i]!);
    await wal.close();
    const again = await Wal.open({ dir: d });
    expect((await replayBatches(again)).map(strip)).toEqual(stream.map(expected));
    await again.close();
  });
});

describe('cut ordering', () => {
  it('makes the old segment durable before the next segment (and its preamble) exists', async () => {
    const events: string[] = [];
    const io: WalIo = {
      ...nodeIo,
      fdatasync: async (fd) => {
        events.push('fdatasync');
        await nodeIo.fdatasync(fd);
      },
      open: async (path, flags) => {
        if (path.endsWith('.wal.tmp')) events.push('create');
        return nodeIo.open(path, flags);
      },
    };
    const wal = await Wal.open({ dir: dir('order'), io, segmentBytes: 4096, batchIntervalMs: 60_000 });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    events.length = 0; // open created the first segment
    for (const b of makeStream(1, 12, 10)) await wal.append(b);
    const creates = events.filter((e) => e === 'create').length;
    expect(creates).toBeGreaterThan(1);
    expect(events.join(' ')).toBe(Array(creates).fill('fdatasync create').join(' '));
    await wal.close();
  });

  it('a crash after sealing but before the next segment exists: open starts the next one', async () => {
    const d = dir('sealed-last');
    let fail = false;
    const io: WalIo = {
      ...nodeIo,
      open: async (path, flags) => {
        if (fail && path.endsWith('.wal.tmp')) throw errnoError('ENOSPC', 'no space left on device');
        return nodeIo.open(path, flags);
      },
      ftruncate: async (fd, len) => {
        if (fail) throw errnoError('EIO', 'truncate failed');
        await nodeIo.ftruncate(fd, len);
      },
    };
    const wal = await Wal.open({ dir: d, io, segmentBytes: 4096 });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    const stream = makeStream(1, 12, 10);
    const ok: WalBatch[] = [];
    fail = true;
    for (const b of stream) {
      const done = await wal.append(b).then(() => true, () => false);
      if (!done) break;
      ok.push(b);
    }
    expect(ok.length).toBeLessThan(stream.length);
    // "Crash" here: the seal trailer could not be taken back; the WAL object is abandoned.
    const again = await Wal.open({ dir: d, segmentBytes: 4096 });
    expect(again.segments().length).toBe(2);
    expect(again.segments()[0]!.sealed).toBe(true);
    expect((await replayBatches(again)).map(strip)).toEqual(ok.map(expected));
    expect(again.sources()[0]!.position!.offset).toBe(ok.at(-1)!.byteEnd);
    for (const b of stream.slice(ok.length)) await again.append(b);
    await again.close();
    const third = await Wal.open({ dir: d });
    expect((await replayBatches(third)).map(strip)).toEqual(stream.map(expected));
    await third.close();
  });
});

describe('retention racing appends and reads', () => {
  it('never returns wrong bytes: a body read gives the body or null once deleted', async () => {
    const d = dir('race');
    const wal = await Wal.open({ dir: d, segmentBytes: 4096, fsync: 'off' });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    const stream = makeStream(1, 150, 8);
    const written: { pos: number; b: WalBatch }[] = [];
    let reads = 0;
    let nulls = 0;
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        for (const { pos, b } of written.slice(-40)) {
          const i = reads % b.count;
          const got = wal.readBody(pos + b.bodyStart[i]!, b.bodyEnd[i]! - b.bodyStart[i]!, 4096);
          reads++;
          if (got === null) nulls++;
          else expect(Buffer.from(got).equals(Buffer.from(b.raw.subarray(b.bodyStart[i]!, b.bodyEnd[i]!)))).toBe(true);
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const deleter = (async () => {
      while (!stop) {
        const segs = wal.segments();
        if (segs.length > 3) await wal.deleteSegmentsBefore(segs[segs.length - 3]!.start);
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (const b of stream) written.push({ pos: await wal.append(b), b });
    stop = true;
    await Promise.all([reader, deleter]);
    expect(reads).toBeGreaterThan(100);
    expect(nulls).toBeGreaterThan(0);
    // Only whole sealed segments went, from the front; what is left replays cleanly.
    const segs = wal.segments();
    expect(segs.length).toBeLessThanOrEqual(4);
    for (const s of segs) expect(existsSync(join(d, s.name))).toBe(true);
    const left = await replayBatches(wal);
    expect(left.map(strip)).toEqual(stream.slice(stream.length - left.length).map(expected));
    await wal.close();
  });
});
