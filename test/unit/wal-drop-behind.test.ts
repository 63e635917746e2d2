/**
 * Drop-behind (src/wal/drop-behind.ts): once a cut has sealed and fdatasynced a segment, the
 * kernel is asked to drop its cached pages, keeping the newest KEEP_CACHED sealed segments;
 * never the active segment, never before the seal's fsync, never awaited by an append, at most
 * one drop at a time, and a dropper that fails from the start (no GNU dd) turns it off.
 * The dropper is injected through WalIo.dropCache; the real dd run is in
 * test/integration/wal-drop-behind.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { KEEP_CACHED, ddDropCache } from '../../src/wal/drop-behind.js';
import { nodeIo, Wal, type WalIo, type WalLogger } from '../../src/wal/index.js';
import { errnoError, expected, expectReopensWith, gate, makeStream, replayBatches, strip, ticks, until, useTempDirs } from '../helpers/wal.js';

const dir = useTempDirs();

/** nodeIo that logs, in order, the seal-relevant steps per file: writes, completed fdatasyncs, and drops asked. */
function recordingIo(drop: (path: string) => Promise<void> = () => Promise.resolve()): { io: WalIo; events: string[]; drops: string[] } {
  const events: string[] = [];
  const drops: string[] = [];
  const pathOf = new Map<number, string>();
  const io: WalIo = {
    ...nodeIo,
    open: async (path, flags) => {
      const fd = await nodeIo.open(path, flags);
      pathOf.set(fd, path);
      return fd;
    },
    writev: async (fd, bufs, pos) => {
      events.push(`write ${pathOf.get(fd)}`);
      return nodeIo.writev(fd, bufs, pos);
    },
    fdatasync: async (fd) => {
      await nodeIo.fdatasync(fd);
      events.push(`synced ${pathOf.get(fd)}`);
    },
    dropCache: (path) => {
      events.push(`drop ${path}`);
      drops.push(path);
      return drop(path);
    },
  };
  return { io, events, drops };
}

/** Batches big enough that a 4 KiB segment holds one or two: every few appends cut. */
const stream = (n: number) => makeStream(1, n, 40, 3);

async function openWith(d: string, io: WalIo, logger?: WalLogger, keepCachedSegments?: number): Promise<Wal> {
  const wal = await Wal.open({
    dir: d, io, segmentBytes: 4096, ...(logger === undefined ? {} : { logger }), ...(keepCachedSegments === undefined ? {} : { keepCachedSegments }),
  });
  await wal.registerSource({ id: 1, name: 'app', path: '/var/log/app.log' });
  return wal;
}

function bodies(wal: Wal, batches: ReturnType<typeof stream>, rawPos: number[]): string[] {
  const out: string[] = [];
  batches.forEach((b, k) => {
    for (let i = 0; i < b.count; i++) {
      const got = wal.readBody(rawPos[k]! + b.bodyStart[i]!, b.bodyEnd[i]! - b.bodyStart[i]!, 4096);
      out.push(got === null ? '<gone>' : Buffer.from(got).toString());
    }
  });
  return out;
}

function expectedBodies(batches: ReturnType<typeof stream>): string[] {
  return batches.flatMap((b) => Array.from({ length: b.count }, (_, i) => Buffer.from(b.raw.subarray(b.bodyStart[i]!, b.bodyEnd[i]!)).toString()));
}

describe('WAL drop-behind', () => {
  it('asks to drop every sealed segment but the newest KEEP_CACHED, oldest first, each after its seal was synced, never the active one', async () => {
    const d = dir('drop');
    const { io, events, drops } = recordingIo();
    const wal = await openWith(d, io);
    const batches = stream(30);
    const rawPos: number[] = [];
    for (const b of batches) rawPos.push(await wal.append(b));
    const sealed = wal.segments().filter((s) => s.sealed).map((s) => s.path);
    expect(sealed.length).toBeGreaterThan(KEEP_CACHED + 3);
    await until(() => drops.length === sealed.length - KEEP_CACHED);
    expect(KEEP_CACHED).toBe(2);
    expect(drops).toEqual(sealed.slice(0, -KEEP_CACHED));
    const active = wal.segments().at(-1)!.path;
    for (const p of drops) {
      expect(p).not.toBe(active);
      const dropAt = events.indexOf(`drop ${p}`);
      // The seal's fdatasync returned before the drop was asked, and nothing was written to it after.
      expect(events.lastIndexOf(`synced ${p}`)).toBeLessThan(dropAt);
      expect(events.lastIndexOf(`write ${p}`)).toBeLessThan(dropAt);
    }
    // Contents read back identically, before and after a restart (which drops nothing by itself).
    expect(bodies(wal, batches, rawPos)).toEqual(expectedBodies(batches));
    await wal.close();
    const again = await Wal.open({ dir: d, io });
    expect((await replayBatches(again)).map(strip)).toEqual(batches.map(expected));
    expect(bodies(again, batches, rawPos)).toEqual(expectedBodies(batches));
    await again.close();
    expect(drops).toEqual(sealed.slice(0, -KEEP_CACHED));
  });

  it('with keepCachedSegments 0, drops each segment once its seal was synced and the next one exists, never while active', async () => {
    const d = dir('keep0');
    let wal: Wal | null = null;
    const activeAtDrop: string[] = [];
    const { io, events, drops } = recordingIo(async () => {
      activeAtDrop.push(wal!.segments().at(-1)!.path);
    });
    wal = await openWith(d, io, undefined, 0);
    const batches = stream(20);
    for (const b of batches) await wal.append(b);
    const sealed = wal.segments().filter((s) => s.sealed).map((s) => s.path);
    await until(() => drops.length === sealed.length);
    expect(drops).toEqual(sealed);
    drops.forEach((p, i) => {
      expect(activeAtDrop[i]).not.toBe(p);
      const dropAt = events.indexOf(`drop ${p}`);
      expect(events.lastIndexOf(`synced ${p}`)).toBeLessThan(dropAt);
      expect(events.lastIndexOf(`write ${p}`)).toBeLessThan(dropAt);
    });
    await wal.close();
    await expectReopensWith(d, batches);
  });

  it('a cut that could not create the next segment (ENOSPC) drops nothing: the old segment is still active', async () => {
    const d = dir('enospc');
    let failCreate = false;
    const { io: base, drops } = recordingIo();
    const io: WalIo = {
      ...base,
      open: async (path, flags) => {
        if (failCreate && path.endsWith('.tmp') && path.includes(d)) {
          failCreate = false;
          throw errnoError('ENOSPC');
        }
        return base.open(path, flags);
      },
    };
    const wal = await openWith(d, io, undefined, 0);
    failCreate = true;
    const first = wal.segments()[0]!.path;
    const batches = stream(10);
    let failed = 0;
    for (const b of batches) {
      try {
        await wal.append(b);
      } catch (err) {
        failed++;
        expect((err as { code?: string }).code).toBe('ENOSPC');
        await ticks();
        expect(drops).toEqual([]);
        expect(wal.segments().at(-1)!.path).toBe(first);
        await wal.append(b);
      }
    }
    expect(failed).toBe(1);
    await until(() => drops.length === wal.segments().filter((s) => s.sealed).length);
    expect(drops[0]).toBe(first);
    await wal.close();
    await expectReopensWith(d, batches);
  });

  it('never makes an append wait for a drop, and runs one drop at a time, queued in order', async () => {
    const d = dir('nowait');
    const held = gate();
    let running = 0;
    let most = 0;
    const { io, drops } = recordingIo(async () => {
      most = Math.max(most, ++running);
      await held.promise;
      running--;
    });
    const wal = await openWith(d, io);
    const batches = stream(30);
    let appended = 0;
    const appending = (async () => {
      for (const b of batches) {
        await wal.append(b);
        appended++;
      }
    })();
    // Every append completes while the first drop is still held: none waited for it.
    await until(() => appended === batches.length);
    await appending;
    const sealed = wal.segments().filter((s) => s.sealed).map((s) => s.path);
    expect(sealed.length - KEEP_CACHED).toBeGreaterThan(1);
    expect(drops).toEqual(sealed.slice(0, 1));
    held.open();
    await until(() => drops.length === sealed.length - KEEP_CACHED);
    expect(drops).toEqual(sealed.slice(0, -KEEP_CACHED));
    expect(most).toBe(1);
    await wal.close();
  });

  it('a missing dd turns drop-behind off after one attempt, logged once at debug, and appends go on', async () => {
    const d = dir('nodd');
    const debug: string[] = [];
    const settled: string[] = [];
    const { io, drops } = recordingIo((p) => ddDropCache(p, 'dd-that-is-not-installed').finally(() => settled.push(p)));
    const logger = { warn() {}, info() {}, error() {}, debug: (_o: object, msg: string) => debug.push(msg) };
    const wal = await openWith(d, io, logger);
    const batches = stream(40);
    for (const b of batches.slice(0, 20)) await wal.append(b);
    await until(() => settled.length >= 1);
    await ticks();
    for (const b of batches.slice(20)) await wal.append(b);
    await ticks();
    expect(drops.length).toBe(1);
    expect(debug).toEqual(['WAL: could not drop a sealed segment from the page cache']);
    expect(wal.status().error).toBeNull();
    await wal.close();
    const again = await Wal.open({ dir: d });
    expect((await replayBatches(again)).map(strip)).toEqual(batches.map(expected));
    await again.close();
  });

  it('a dropper that throws at once is off too; one that failed only after working keeps going', async () => {
    const throws = recordingIo(() => {
      throw errnoError('EAGAIN', 'spawn');
    });
    const wal = await openWith(dir('throws'), throws.io);
    for (const b of stream(30)) await wal.append(b);
    await ticks();
    expect(throws.drops.length).toBe(1);
    await wal.close();

    let n = 0;
    const flaky = recordingIo(async () => {
      if (n++ > 0) throw errnoError('ENOENT', 'deleted meanwhile');
    });
    const wal2 = await openWith(dir('flaky'), flaky.io);
    for (const b of stream(30)) await wal2.append(b);
    const sealed = wal2.segments().filter((s) => s.sealed).length;
    await until(() => flaky.drops.length === sealed - KEEP_CACHED);
    await wal2.close();
  });
});
