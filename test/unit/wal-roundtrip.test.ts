import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BodyStore } from '../../src/index/index.js';
import { parseSegmentName, Wal, type WalBatch } from '../../src/wal/index.js';
import { expected, makeBatch, makeStream, replayAll, replayBatches, strip, useTempDirs } from '../helpers/wal.js';

const dir = useTempDirs();

function body(b: WalBatch, i: number): string {
  return Buffer.from(b.raw.subarray(b.bodyStart[i]!, b.bodyEnd[i]!)).toString();
}

/** Appends two interleaved sources; returns the batches and their rawPos in append order. */
async function fill(wal: Wal, batches: number, entries: number): Promise<{ batches: WalBatch[]; rawPos: number[] }> {
  await wal.registerSource({ id: 1, name: 'app', path: '/var/log/app.log' });
  await wal.registerSource({ id: 7, name: 'db', path: '/var/log/db.log' });
  const a = makeStream(1, batches, entries, 1);
  const b = makeStream(7, batches, entries, 1000);
  // One batch with a chunk-local custom tag, as the parser emits for unknown levels.
  if (batches > 1) {
    a[1]!.customTags = ['AUDIT'];
    a[1]!.customTagAt = [0, 24];
  }
  const all: WalBatch[] = [];
  const rawPos: number[] = [];
  for (let k = 0; k < batches; k++) {
    for (const x of [a[k]!, b[k]!]) {
      all.push(x);
      rawPos.push(await wal.append(x));
    }
  }
  return { batches: all, rawPos };
}

describe('WAL round trip', () => {
  it('append -> close -> reopen -> replay gives identical batches, and readBody the right bytes', async () => {
    const d = dir('rt');
    const wal = await Wal.open({ dir: d });
    const { batches, rawPos } = await fill(wal, 25, 40);
    await wal.close();

    const again = await Wal.open({ dir: d });
    // The WAL serves as the store's BodyStore as it is.
    const bodies: BodyStore = again;
    expect(bodies.firstPos).toBe(0);
    const got = await replayBatches(again);
    expect(got.map(strip)).toEqual(batches.map(expected));
    expect(got.map((r) => r.rawPos)).toEqual(rawPos);
    for (let k = 0; k < batches.length; k++) {
      const b = batches[k]!;
      for (let i = 0; i < b.count; i++) {
        const len = b.bodyEnd[i]! - b.bodyStart[i]!;
        expect(Buffer.from(again.readBody(rawPos[k]! + b.bodyStart[i]!, len, 4096)!).toString()).toBe(body(b, i));
      }
    }
    // maxBytes caps the read.
    const capped = again.readBody(rawPos[0]! + batches[0]!.bodyStart[0]!, 50, 7)!;
    expect(Buffer.from(capped).toString()).toBe(body(batches[0]!, 0).slice(0, 7));
    expect(again.recovery.tornTails).toEqual([]);
    expect(again.status().corruptRecords).toBe(0);
    await again.close();
  });

  it('recovers each source with its position after a reopen', async () => {
    const d = dir('src');
    const wal = await Wal.open({ dir: d });
    const { batches } = await fill(wal, 5, 3);
    // Source 7 went through two files: the first read to its end and rotated away, the second
    // new. The list survives the reopen as written; source 1's batches built its own list.
    const older = { file: { dev: 9, ino: 98 }, offset: 5000, nextLine: 70, size: 5000, headLen: 256, headCrc: 0xdeadbeef, gzip: true, done: true };
    const newer = { file: { dev: 9, ino: 99 }, offset: 0, nextLine: 1, size: 12, headLen: 12, headCrc: 7, gzip: false, done: false };
    await wal.recordFiles(7, [older, newer]);
    await wal.close();
    const again = await Wal.open({ dir: d });
    const lastA = batches.filter((b) => b.sourceId === 1).at(-1)!;
    const posA = { file: lastA.file, offset: lastA.byteEnd, nextLine: lastA.firstLine + lastA.lines };
    const lastB = batches.filter((b) => b.sourceId === 7).at(-1)!;
    // The position stays that of the source's last batch; the list replaced what batches built.
    const posB = { file: lastB.file, offset: lastB.byteEnd, nextLine: lastB.firstLine + lastB.lines };
    expect(again.sources()).toEqual([
      { id: 1, name: 'app', path: '/var/log/app.log', position: posA, legacy: false, registeredAt: expect.any(Number), files: [{ ...posA, size: posA.offset, headLen: 0, headCrc: 0, gzip: false, done: false }] },
      { id: 7, name: 'db', path: '/var/log/db.log', position: posB, legacy: false, registeredAt: expect.any(Number), files: [older, newer] },
    ]);
    const sources = (await replayAll(again)).filter((r) => r.type === 'source').map((r) => [r.sourceId, r.reason]);
    expect(sources).toEqual([[1, 'register'], [7, 'register'], [7, 'files']]);
    await again.close();
  });

  it('refuses a batch of an unregistered source and a malformed batch, and stays usable', async () => {
    const wal = await Wal.open({ dir: dir('unk') });
    await expect(wal.append(makeBatch({ sourceId: 3 }))).rejects.toMatchObject({ code: 'WAL_UNKNOWN_SOURCE' });
    await wal.registerSource({ id: 3, name: 's', path: '/s' });
    const bad = makeBatch({ sourceId: 3 });
    bad.bodyEnd[0] = 1e6;
    await expect(wal.append(bad)).rejects.toMatchObject({ code: 'WAL_BAD_BATCH' });
    await wal.append(makeBatch({ sourceId: 3 }));
    expect((await replayBatches(wal)).length).toBe(1);
    await wal.close();
  });

  it('cuts segments at segmentBytes: sorted names, contiguous positions, seal trailers', async () => {
    const d = dir('cut');
    const wal = await Wal.open({ dir: d, segmentBytes: 8192 });
    const { batches, rawPos } = await fill(wal, 40, 12);
    const segs = wal.segments();
    expect(segs.length).toBeGreaterThan(5);
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      expect(parseSegmentName(s.name)).toBe(s.start);
      expect(statSync(s.path).size).toBe(s.bytes);
      expect(s.sealed).toBe(i < segs.length - 1);
      if (s.sealed) expect(s.bytes).toBeLessThanOrEqual(8192);
      if (i > 0) expect(s.start).toBe(segs[i - 1]!.end);
    }
    expect(segs.reduce((n, s) => n + s.entries, 0)).toBe(batches.length * 12);
    await wal.close();

    const again = await Wal.open({ dir: d, segmentBytes: 8192 });
    // Only the last segment is scanned; the sealed ones are known from their trailers.
    expect(again.recovery.scanned).toEqual([segs.at(-1)!.name]);
    expect(again.segments()).toEqual(segs);
    expect((await replayBatches(again)).map(strip)).toEqual(batches.map(expected));
    // Replay from a record boundary in the middle gives exactly the suffix.
    const k = 33;
    const from = rawPos[k - 1]! + batches[k - 1]!.raw.length;
    expect((await replayBatches(again, from)).map(strip)).toEqual(batches.slice(k).map(expected));
    expect((await replayBatches(again, rawPos[k]!)).length).toBe(batches.length - k - 1);
    await again.close();
  });

  it('puts a record larger than segmentBytes in a segment of its own', async () => {
    const wal = await Wal.open({ dir: dir('big'), segmentBytes: 2048 });
    await wal.registerSource({ id: 1, name: 'a', path: '/a' });
    const small = makeBatch({ entries: 2 });
    const big = makeBatch({ entries: 200, seed: 5 });
    expect(big.raw.length).toBeGreaterThan(2048);
    await wal.append(small);
    const pos = await wal.append(big);
    await wal.append(small);
    const segs = wal.segments();
    const holder = segs.find((s) => s.start <= pos && pos < s.end)!;
    expect(holder.records).toBe(1);
    expect(holder.bytes).toBeGreaterThan(2048);
    expect(Buffer.from(wal.readBody(pos + big.bodyStart[199]!, 100, 100)!).toString()).toContain(body(big, 199));
    expect((await replayBatches(wal)).map(strip)).toEqual([small, big, small].map(expected));
    await wal.close();
  });

  it('keeps the source registry in every segment so retention can delete the first ones', async () => {
    const d = dir('ret');
    const wal = await Wal.open({ dir: d, segmentBytes: 4096 });
    const { batches, rawPos } = await fill(wal, 30, 8);
    const segs = wal.segments();
    const cutoff = segs[3]!.end;
    const deleted = await wal.deleteSegmentsBefore(cutoff);
    expect(deleted.map((s) => s.name)).toEqual(segs.slice(0, 4).map((s) => s.name));
    for (const s of deleted) expect(existsSync(s.path)).toBe(false);
    expect(wal.firstPos).toBe(segs[4]!.start);
    // Bodies in deleted segments are gone; later ones still read.
    expect(wal.readBody(rawPos[0]! + batches[0]!.bodyStart[0]!, 10, 10)).toBeNull();
    const lastK = batches.length - 1;
    expect(Buffer.from(wal.readBody(rawPos[lastK]! + batches[lastK]!.bodyStart[0]!, 5, 5)!).toString()).toBe(body(batches[lastK]!, 0).slice(0, 5));
    // A predicate that fails on the first remaining segment deletes nothing further.
    expect(await wal.deleteSealedSegmentsWhere((s) => s.start > wal.firstPos)).toEqual([]);
    // Time-based: delete while the segment's newest entry is older than a cutoff.
    const byTime = await wal.deleteSealedSegmentsWhere((s) => s.maxTs !== null && s.maxTs < segs[6]!.maxTs! + 1);
    expect(byTime.map((s) => s.name)).toEqual(segs.slice(4, 7).map((s) => s.name));
    // The active segment is never deleted.
    await wal.deleteSegmentsBefore(Number.MAX_SAFE_INTEGER);
    expect(wal.segments().length).toBe(1);
    await wal.close();
    const again = await Wal.open({ dir: d, segmentBytes: 4096 });
    expect(again.sources().map((s) => s.name)).toEqual(['app', 'db']);
    expect(again.sources()[0]!.position!.offset).toBe(batches.filter((b) => b.sourceId === 1).at(-1)!.byteEnd);
    await again.close();
  });

  it('reports status: segments, bytes, durable and unsynced entries', async () => {
    const wal = await Wal.open({ dir: dir('status'), fsync: 'off' });
    await fill(wal, 3, 10);
    let s = wal.status();
    expect(s).toMatchObject({ enabled: true, segments: 1, durableEntries: 0, unsyncedEntries: 60, fsyncPolicy: 'off', corruptRecords: 0 });
    expect(s.bytes).toBe(statSync(wal.segments()[0]!.path).size);
    await wal.sync();
    s = wal.status();
    expect(s.durableEntries).toBe(60);
    expect(s.unsyncedEntries).toBe(0);
    expect(s.lastFsyncAt).not.toBeNull();
    await wal.close();
    await expect(wal.append(makeBatch())).rejects.toMatchObject({ code: 'WAL_CLOSED' });
    expect(wal.readBody(70, 5, 5)).toBeNull();
  });

  it('creates the directory and starts at position 0 with a 64-byte header', async () => {
    const d = join(dir('fresh'), 'nested', 'wal');
    const wal = await Wal.open({ dir: d });
    expect(readdirSync(d)).toEqual(['0000000000000000.wal']);
    expect(wal.endPos).toBe(64);
    expect(readFileSync(join(d, '0000000000000000.wal')).subarray(0, 8).toString('latin1')).toBe('LTWAL\r\n\x1a');
    await wal.close();
  });

  it('validates options, naming the option', async () => {
    await expect(Wal.open({ dir: dir('opt'), segmentBytes: 10 })).rejects.toThrow(/segmentBytes/);
    await expect(Wal.open({ dir: dir('opt'), fsync: 'sometimes' as never })).rejects.toThrow(/fsync must be batch \| always \| off/);
  });
});
