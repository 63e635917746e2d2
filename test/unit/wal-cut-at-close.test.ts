/**
 * Cut at close (SegmentWriter.cutAtClose, Wal.close): a clean close seals an active segment
 * that holds entries and at least cutOnCloseBytes and starts an empty one, so the next open
 * reads the sealed segment's trailer instead of scanning it. Nothing else may change: the same
 * records replay, the same source positions come back, a failed cut loses nothing, and a
 * segment below the threshold (or without entries) is left as it was.
 */
import { describe, expect, it } from 'vitest';
import { nodeIo, Wal, type WalIo } from '../../src/wal/index.js';
import { errnoError, expected, failingWrites, makeStream, replayBatches, strip, useTempDirs } from '../helpers/wal.js';

const dir = useTempDirs();

/** Batches of 40 entries (a few KiB each) in segments of 1 MiB: all of them stay in one segment. */
const stream = (n: number) => makeStream(1, n, 40, 7);

async function openWith(d: string, cutOnCloseBytes?: number, io: WalIo = nodeIo): Promise<Wal> {
  const wal = await Wal.open({ dir: d, io, segmentBytes: 1 << 20, ...(cutOnCloseBytes === undefined ? {} : { cutOnCloseBytes }) });
  if (wal.sources().length === 0) await wal.registerSource({ id: 1, name: 'app', path: '/var/log/app.log' });
  return wal;
}

/** The WAL has one segment, still active, and its open scanned it: no cut happened at the close before. */
function expectScannedAlone(wal: Wal): void {
  expect(wal.segments()).toHaveLength(1);
  expect(wal.recovery.scanned).toEqual([wal.segments()[0]!.name]);
}

describe('WAL cut at close', () => {
  it('seals an active segment of at least cutOnCloseBytes; the next open scans only the new, empty one and finds the same records and sources', async () => {
    const d = dir('cut');
    const wal = await openWith(d, 4096);
    const batches = stream(6);
    for (const b of batches) await wal.append(b);
    const [only] = wal.segments();
    expect(wal.segments()).toHaveLength(1);
    expect(only!.bytes).toBeGreaterThanOrEqual(4096);
    const sourcesBefore = wal.sources();
    const endBefore = wal.endPos;
    await wal.close();

    const again = await openWith(d, 0);
    const segs = again.segments();
    expect(segs).toHaveLength(2);
    expect(segs[0]!.path).toBe(only!.path);
    expect(segs[0]!.sealed).toBe(true);
    // The old segment was read through its trailer, not scanned.
    expect(again.recovery.scanned).toEqual([segs[1]!.name]);
    expect(again.recovery.tornTails).toEqual([]);
    expect(again.sources()).toEqual(sourcesBefore);
    expect((await replayBatches(again)).map(strip)).toEqual(batches.map(expected));
    // A checkpoint taken at close (walPos = endPos before the cut) has no batch after it.
    expect(await replayBatches(again, endBefore)).toEqual([]);
    expect(again.status().durableEntries).toBe(batches.reduce((n, b) => n + b.count, 0));
    // The new active segment holds no entries: even at a threshold of 0 its close cuts nothing.
    await again.close();
    const third = await openWith(d, 0);
    expect(third.segments()).toHaveLength(2);
    expect((await replayBatches(third)).map(strip)).toEqual(batches.map(expected));
    await third.close();
  });

  it('leaves a segment below cutOnCloseBytes, or one without entries, active: the next open scans it', async () => {
    const d = dir('small');
    const wal = await openWith(d, 1 << 20);
    const batches = stream(3);
    for (const b of batches) await wal.append(b);
    expect(wal.segments()[0]!.bytes).toBeLessThan(1 << 20);
    await wal.close();
    const again = await openWith(d, 0);
    expectScannedAlone(again);
    expect((await replayBatches(again)).map(strip)).toEqual(batches.map(expected));
    await again.close();

    const empty = dir('empty');
    const fresh = await openWith(empty, 0);
    await fresh.close();
    const reopened = await openWith(empty, 0);
    expect(reopened.segments()).toHaveLength(1);
    await reopened.close();
  });

  it('a cut at close that cannot create the next segment (ENOSPC) loses nothing: the old segment stays whole and active', async () => {
    const d = dir('enospc');
    let failCreate = false;
    let refused = 0;
    const io: WalIo = {
      ...nodeIo,
      open: async (path, flags) => {
        if (failCreate && path.endsWith('.tmp')) {
          refused++;
          throw errnoError('ENOSPC');
        }
        return nodeIo.open(path, flags);
      },
    };
    const wal = await openWith(d, 4096, io);
    const batches = stream(6);
    for (const b of batches) await wal.append(b);
    failCreate = true;
    await wal.close();
    expect(refused).toBe(1);
    const again = await openWith(d);
    expectScannedAlone(again);
    expect(again.recovery.tornTails).toEqual([]);
    expect(again.status().corruptRecords).toBe(0);
    expect((await replayBatches(again)).map(strip)).toEqual(batches.map(expected));
    await again.close();
  });

  it('never cuts while a record is owed (its write and close\'s retry failed): the next open scans the segment and the source resumes after the last written batch', async () => {
    const d = dir('owed');
    const { io, fail } = failingWrites('EIO');
    const wal = await openWith(d, 0, io);
    const batches = stream(6);
    for (const b of batches.slice(0, 5)) await wal.appendBehind(b);
    await wal.flush();
    fail.left = 2; // the write in the background, and close's retry
    await wal.appendBehind(batches[5]!);
    await wal.close();
    expect(fail.left).toBe(0);
    const again = await openWith(d);
    expectScannedAlone(again);
    expect((await replayBatches(again)).map(strip)).toEqual(batches.slice(0, 5).map(expected));
    expect(again.sources()[0]!.position).toMatchObject({ offset: batches[4]!.byteEnd, nextLine: batches[4]!.firstLine + batches[4]!.lines });
    await again.close();
  });

  it('a seal whose fdatasync fails at close: close still resolves, and the next open finds every record', async () => {
    const d = dir('sealsync');
    let failSync = false;
    let refused = 0;
    const io: WalIo = {
      ...nodeIo,
      fdatasync: async (fd) => {
        if (failSync) {
          refused++;
          throw errnoError('EIO', 'i/o error');
        }
        return nodeIo.fdatasync(fd);
      },
    };
    const wal = await openWith(d, 4096, io);
    const batches = stream(6);
    for (const b of batches) await wal.append(b);
    await wal.sync();
    failSync = true;
    await wal.close();
    expect(refused).toBe(1);
    const again = await openWith(d);
    expect(again.recovery.tornTails).toEqual([]);
    expect(again.status().corruptRecords).toBe(0);
    expect((await replayBatches(again)).map(strip)).toEqual(batches.map(expected));
    await again.close();
  });

  it('close({ seal: false }) (an open that failed) leaves the files as they were', async () => {
    const d = dir('noseal');
    const wal = await openWith(d, 0);
    const batches = stream(6);
    for (const b of batches) await wal.append(b);
    await wal.close({ seal: false });
    const again = await openWith(d);
    expectScannedAlone(again);
    await again.close();
  });
});
