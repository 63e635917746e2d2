/**
 * Read-only opens (FORMAT.md, "Read-only opens"): a second reader beside a live writer sees
 * every complete record, stops before a record being written, and never changes a byte.
 */
import { crc32c } from '../../src/wal/crc32c.js';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeBatch } from '../../src/wal/record-codec.js';
import { nodeIo, Wal, WAL_FORMAT_VERSION, type SourceFile, type WalBatch, type WalIo } from '../../src/wal/index.js';
import { errnoError, expected, gate, makeBatch, makeStream, replayAll, replayBatches, strip, useTempDirs } from '../helpers/wal.js';

/** A file list entry: source 2 rotated to a new file. */
const ROTATED_TO: SourceFile = { file: { dev: 2049, ino: 7 }, offset: 0, nextLine: 1, size: 0, headLen: 0, headCrc: 0, gzip: false, done: false };

const dir = useTempDirs();

/** Name -> sha256 of every file in d: equal maps mean no byte, file or name changed. */
function hashDir(d: string): Map<string, string> {
  return new Map(readdirSync(d).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(d, f))).digest('hex')]));
}

/**
 * nodeIo that refuses (and records) every operation that could change the disk, so a test
 * fails on the attempt itself and not only on its effect.
 */
function readingIo(overrides: Partial<WalIo> = {}): { io: WalIo; refused: string[] } {
  const refused: string[] = [];
  const refuse = (op: string): never => {
    refused.push(op);
    throw errnoError('EPERM', `${op} attempted by a read-only open`);
  };
  const base = { ...nodeIo, ...overrides };
  const io: WalIo = {
    ...base,
    open: async (path, flags) => (flags === 'r' ? base.open(path, flags) : refuse(`open ${flags}`)),
    openSync: (path, flags) => (flags === 'r' ? base.openSync(path, flags) : refuse(`openSync ${flags}`)),
    writev: async () => refuse('writev'),
    fdatasync: async () => refuse('fdatasync'),
    fsync: async () => refuse('fsync'),
    ftruncate: async () => refuse('ftruncate'),
    rename: async () => refuse('rename'),
    unlink: async () => refuse('unlink'),
    mkdirp: async () => refuse('mkdirp'),
    syncDir: async () => refuse('syncDir'),
  };
  return { io, refused };
}

/** Two sources' batches, interleaved as two followers would append them. */
function interleaved(n: number): WalBatch[] {
  const a = makeStream(1, n, 8, 1);
  const b = makeStream(2, n, 5, 500);
  return a.flatMap((x, i) => [x, b[i]!]);
}

async function writerWithSources(d: string, segmentBytes: number): Promise<Wal> {
  const w = await Wal.open({ dir: d, segmentBytes });
  await w.registerSource({ id: 1, name: 'app', path: '/var/log/app.log' });
  await w.registerSource({ id: 2, name: 'db', path: '/var/log/db.log' });
  return w;
}

function body(b: WalBatch, i: number): string {
  return Buffer.from(b.raw.subarray(b.bodyStart[i]!, b.bodyEnd[i]!)).toString();
}

describe('read-only open beside a live writer', () => {
  it('sees every complete record, stops before a partial last record, and changes no byte', async () => {
    const d = dir('live');
    const writer = await writerWithSources(d, 8192);
    const seq = interleaved(60);
    const appended: { batch: WalBatch; rawPos: number }[] = [];
    let next = 0;
    // Until the third segment starts: its first batch leaves it plenty of room, so the next
    // append below lands right after it instead of cutting (which would write a seal there).
    while (writer.segments().length < 3) {
      const batch = seq[next++]!;
      appended.push({ batch, rawPos: await writer.append(batch) });
    }
    const active = writer.segments().at(-1)!;
    expect(statSync(active.path).size).toBe(active.bytes);
    const pending = seq[next++]!;
    const enc = encodeBatch(pending);
    const recBytes = Buffer.concat(enc.parts);
    expect(active.bytes + recBytes.length + 96).toBeLessThan(8192);
    // A segment the writer is creating right now: a reader must leave it alone.
    writeFileSync(join(d, 'ffffffffffff0000.wal.tmp'), Buffer.alloc(10));

    const fd = openSync(active.path, 'r+');
    const steps: { label: string; write: () => void }[] = [
      { label: 'clean end', write: () => undefined },
      { label: 'raw garbage', write: () => writeSync(fd, Buffer.alloc(13, 0xab), 0, 13, active.bytes) },
      // The record the writer appends next, as a concurrent reader may catch it: growing.
      ...[1, 31, 32, 32 + enc.metaLen / 2, 32 + enc.metaLen + 3, recBytes.length - 1].map((k) => ({
        label: `first ${k} bytes of the next record`,
        write: () => writeSync(fd, recBytes, 0, k, active.bytes),
      })),
    ];
    for (const step of steps) {
      step.write();
      const tail = statSync(active.path).size - active.bytes;
      const before = hashDir(d);
      const { io, refused } = readingIo();
      const reader = await Wal.open({ dir: d, readOnly: true, io });
      expect(reader.readOnly).toBe(true);
      expect(reader.endPos, step.label).toBe(writer.endPos);
      expect(reader.firstPos).toBe(writer.firstPos);
      expect(reader.segments(), step.label).toEqual(writer.segments());
      expect(reader.sources(), step.label).toEqual(writer.sources());
      expect(reader.recovery).toMatchObject({ segments: 3, tornTails: [], corrupt: [], removedTempFiles: [] });
      expect(reader.recovery.unreadTails, step.label).toEqual(
        tail === 0 ? [] : [{ file: active.path, offset: active.bytes, bytes: tail, reason: expect.any(String) }],
      );
      expect(reader.status()).toMatchObject({ segments: 3, corruptRecords: 0, endPos: writer.endPos, error: null });

      const got = await replayBatches(reader);
      expect(got.map(strip), step.label).toEqual(appended.map((a) => expected(a.batch)));
      expect(got.map((r) => r.rawPos)).toEqual(appended.map((a) => a.rawPos));
      const stats = await reader.replay(0, () => undefined, { raw: true });
      expect(stats).toMatchObject({ corrupt: 0, endPos: writer.endPos });
      for (const { batch, rawPos } of appended) {
        for (const i of [0, batch.count - 1]) {
          const bytes = reader.readBody(rawPos + batch.bodyStart[i]!, batch.bodyEnd[i]! - batch.bodyStart[i]!, 1 << 20);
          expect(Buffer.from(bytes!).toString()).toBe(body(batch, i));
        }
      }
      // Nothing past the last complete record is handed out, even though the file holds it.
      expect(reader.readBody(writer.endPos, 8, 8)).toBeNull();

      await reader.close();
      expect(refused, step.label).toEqual([]);
      expect(hashDir(d), step.label).toEqual(before);
    }
    closeSync(fd);

    // A reader kept open while the writer goes on: its view stays what it saw at open.
    const held = await Wal.open({ dir: d, readOnly: true });
    const heldEnd = held.endPos;
    const heldBatches = appended.map((a) => expected(a.batch));
    appended.push({ batch: pending, rawPos: await writer.append(pending) });
    while (writer.segments().length < 5) {
      const batch = seq[next++]!;
      appended.push({ batch, rawPos: await writer.append(batch) });
    }
    await writer.recordFiles(2, [ROTATED_TO]);
    expect(held.endPos).toBe(heldEnd);
    expect((await replayBatches(held)).map(strip)).toEqual(heldBatches);
    const first = appended[0]!;
    expect(Buffer.from(held.readBody(first.rawPos + first.batch.bodyStart[0]!, 200, 200)!).toString()).toContain(body(first.batch, 0));
    await held.close();

    const fresh = await Wal.open({ dir: d, readOnly: true });
    expect(fresh.recovery.unreadTails).toEqual([]);
    expect(fresh.endPos).toBe(writer.endPos);
    expect(fresh.segments()).toEqual(writer.segments());
    expect(fresh.sources()).toEqual(writer.sources());
    expect((await replayBatches(fresh)).map(strip)).toEqual(appended.map((a) => expected(a.batch)));
    const sources = (await replayAll(fresh, 0)).filter((r) => r.type === 'source');
    expect(sources.at(-1)).toMatchObject({ reason: 'files', sourceId: 2, files: [ROTATED_TO] });
    await fresh.close();
    await writer.close();
  });

  it('sees a consistent prefix while the writer appends and cuts segments concurrently', async () => {
    const d = dir('race');
    const writer = await writerWithSources(d, 16_384);
    const seq = interleaved(150);
    let written = 0;
    let done = false;
    const writing = (async () => {
      for (const b of seq) {
        await writer.append(b);
        written++;
      }
      done = true;
    })();
    const { io, refused } = readingIo();
    let opens = 0;
    const lengths = new Set<number>();
    while (!done || opens === 0) {
      const reader = await Wal.open({ dir: d, readOnly: true, io });
      const got = await replayBatches(reader);
      // Whatever the moment, the view is exactly the first records appended, none damaged.
      expect(got.length).toBeLessThanOrEqual(written);
      expect(got.map(strip)).toEqual(seq.slice(0, got.length).map(expected));
      expect(reader.status().corruptRecords).toBe(0);
      expect(reader.recovery.corrupt).toEqual([]);
      lengths.add(got.length);
      await reader.close();
      opens++;
    }
    await writing;
    // The point of the test: readers opened at different moments of the writing.
    expect(lengths.size).toBeGreaterThan(1);
    expect(refused).toEqual([]);
    expect(writer.segments().length).toBeGreaterThan(3);
    const last = await Wal.open({ dir: d, readOnly: true });
    expect((await replayBatches(last)).length).toBe(seq.length);
    await last.close();
    await writer.close();
  });
});

describe('a writer taking its seal back', () => {
  it('ends replay quietly where the writer rewrote the tail a reader saw as a seal', async () => {
    const d = dir('untrail');
    const hold = gate();
    let armed = false;
    let reached!: () => void;
    const atCut = new Promise<void>((r) => (reached = r));
    const writer = await Wal.open({
      dir: d,
      segmentBytes: 4096,
      io: {
        ...nodeIo,
        open: async (path, flags) => {
          if (armed && path.endsWith('.wal.tmp')) {
            // The seal is written and fsynced; the next segment cannot be created.
            armed = false;
            reached();
            await hold.promise;
            throw errnoError('ENOSPC', 'no space left on device');
          }
          return nodeIo.open(path, flags);
        },
      },
    });
    await writer.registerSource({ id: 1, name: 'app', path: '/var/log/app.log' });
    const small = (k: number): WalBatch => makeBatch({ entries: 1, seed: k, firstLine: k + 1 });
    const rawPos: number[] = [];
    let k = 0;
    while (writer.segments()[0]!.bytes <= 3000) rawPos.push(await writer.append(small(k++)));
    armed = true;
    const sealAt = writer.endPos;
    const cutting = writer.append(makeBatch({ entries: 60, seed: 99 })).catch((e: unknown) => e);
    await atCut;

    const reader = await Wal.open({ dir: d, readOnly: true });
    expect(reader.segments()).toMatchObject([{ sealed: true, end: sealAt + 96 }]);
    hold.open();
    expect(await cutting).toMatchObject({ code: 'ENOSPC' });
    // The writer took the seal back and appends where it was: a reader's snapshot of those
    // 96 bytes now ends inside a batch record.
    rawPos.push(await writer.append(small(k++)));
    expect(writer.endPos).toBeGreaterThan(sealAt + 96);

    const corrupt: unknown[] = [];
    const got: number[] = [];
    const stats = await reader.replay(0, (r) => (r.type === 'batch' ? got.push(r.rawPos) : undefined), { onCorrupt: (c) => corrupt.push(c) });
    expect(corrupt).toEqual([]);
    expect(stats.corrupt).toBe(0);
    expect(reader.status().corruptRecords).toBe(0);
    expect(got).toEqual(rawPos.slice(0, -1));
    await reader.close();
    await writer.close();
  });
});

describe('read-only open of damaged or refused data', () => {
  it('counts and skips a corrupt record in the middle but neither saves nor voids it', async () => {
    const d = dir('corrupt');
    const writer = await writerWithSources(d, 1 << 20);
    const seq = interleaved(3);
    const rawPos: number[] = [];
    for (const b of seq) rawPos.push(await writer.append(b));
    const seg = writer.segments()[0]!;
    const bad = (await replayBatches(writer))[2]!;
    const buf = readFileSync(seg.path);
    buf[rawPos[2]! - seg.start + 5]! ^= 0x20;
    writeFileSync(seg.path, buf);
    const before = hashDir(d);

    const { io, refused } = readingIo();
    const reader = await Wal.open({ dir: d, readOnly: true, io });
    expect(reader.recovery.corrupt).toMatchObject([{ file: seg.path, offset: (bad.pos as number) - seg.start, reason: 'raw CRC mismatch' }]);
    expect(reader.recovery.corrupt[0]!.brokenFile).toBeUndefined();
    expect(reader.recovery.unreadTails).toEqual([]);
    expect(reader.status().corruptRecords).toBe(1);
    const got = await replayBatches(reader);
    expect(got.map(strip)).toEqual(seq.filter((_, i) => i !== 2).map(expected));
    await reader.close();
    expect(refused).toEqual([]);
    expect(hashDir(d)).toEqual(before);

    // The repair is the writer's, on its next open.
    await writer.close();
    const reopened = await Wal.open({ dir: d });
    expect(reopened.recovery.corrupt[0]!.brokenFile).toBe(`${seg.path}.broken`);
    await reopened.close();
  });

  it('refuses a newer format version (and a damaged header) and still touches nothing', async () => {
    const d = dir('version');
    const writer = await writerWithSources(d, 4096);
    for (const b of interleaved(6)) await writer.append(b);
    await writer.close();
    const names = readdirSync(d).sort();
    expect(names.length).toBeGreaterThan(2);
    const first = join(d, names[0]!);
    const buf = readFileSync(first);
    buf.writeUInt32LE(WAL_FORMAT_VERSION + 1, 8);
    buf.writeUInt32LE(crc32c(buf.subarray(0, 60)), 60);
    writeFileSync(first, buf);
    const last = join(d, names.at(-1)!);
    writeFileSync(last, readFileSync(last).subarray(0, statSync(last).size - 5));
    const before = hashDir(d);
    const { io, refused } = readingIo();
    const err = await Wal.open({ dir: d, readOnly: true, io }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'WalError', code: 'WAL_VERSION', file: first, offset: 8 });
    expect((err as Error).message).toContain(`format version ${WAL_FORMAT_VERSION + 1}, newer than version ${WAL_FORMAT_VERSION}`);

    buf[9]! ^= 1;
    writeFileSync(first, buf);
    await expect(Wal.open({ dir: d, readOnly: true, io })).rejects.toMatchObject({ code: 'WAL_CORRUPT', file: first, offset: 60 });
    buf[9]! ^= 1;
    writeFileSync(first, buf);
    expect(refused).toEqual([]);
    expect(hashDir(d)).toEqual(before);
  });
});

describe('read-only API', () => {
  it('throws WAL_READ_ONLY naming each mutating call, and close() only closes descriptors', async () => {
    const d = dir('api');
    const writer = await writerWithSources(d, 4096);
    for (const b of interleaved(6)) await writer.append(b);
    const before = hashDir(d);
    const { io, refused } = readingIo();
    const reader = await Wal.open({ dir: d, readOnly: true, io, fsync: 'always' });
    const calls: [string, () => Promise<unknown>][] = [
      ['append', () => reader.append(makeBatch({ sourceId: 1 }))],
      ['registerSource', () => reader.registerSource({ id: 9, name: 'new', path: '/new' })],
      ['recordFiles', () => reader.recordFiles(1, [ROTATED_TO])],
      ['deleteSegmentsBefore', () => reader.deleteSegmentsBefore(reader.endPos)],
      ['deleteSealedSegmentsWhere', () => reader.deleteSealedSegmentsWhere(() => true)],
      ['sync', () => reader.sync()],
    ];
    for (const [op, call] of calls) {
      // A rejected promise, never a synchronous throw: callers await these.
      const p = call();
      expect(p).toBeInstanceOf(Promise);
      await expect(p, op).rejects.toMatchObject({ name: 'WalError', code: 'WAL_READ_ONLY', file: d, message: expect.stringContaining(op) });
    }
    expect(reader.segments().length).toBe(writer.segments().length);
    expect((await replayBatches(reader)).length).toBe(12);
    const pos = reader.segments()[0]!.end - 8;
    expect(reader.readBody(pos, 8, 8)).not.toBeNull();
    await reader.close();
    await reader.close();
    expect(reader.readBody(pos, 8, 8)).toBeNull();
    await expect(reader.replay(0, () => undefined)).rejects.toMatchObject({ code: 'WAL_CLOSED' });
    expect(refused).toEqual([]);
    expect(hashDir(d)).toEqual(before);
    await expect(Wal.open({ dir: d, readOnly: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'WAL_OPTION' });
    await writer.close();
  });

  it('reads an empty directory as an empty log and refuses a missing one without creating it', async () => {
    const d = dir('empty');
    const { io, refused } = readingIo();
    const reader = await Wal.open({ dir: d, readOnly: true, io });
    expect(reader.segments()).toEqual([]);
    expect(reader.sources()).toEqual([]);
    expect([reader.firstPos, reader.endPos]).toEqual([0, 0]);
    expect(reader.readBody(0, 10, 10)).toBeNull();
    expect((await reader.replay(0, () => undefined)).records).toBe(0);
    expect(reader.status()).toMatchObject({ segments: 0, bytes: 0, durableEntries: 0 });
    await reader.close();
    expect(readdirSync(d)).toEqual([]);
    const missing = join(d, 'nope');
    await expect(Wal.open({ dir: missing, readOnly: true, io })).rejects.toMatchObject({ code: 'ENOENT', file: missing });
    expect(existsSync(missing)).toBe(false);
    expect(refused).toEqual([]);
  });
});

describe('retention by the writer', () => {
  it('a segment deleted after the open makes readBody return null and replay skip it', async () => {
    const d = dir('retention');
    const writer = await writerWithSources(d, 4096);
    const seq = interleaved(10);
    const rawPos: number[] = [];
    for (const b of seq) rawPos.push(await writer.append(b));
    const reader = await Wal.open({ dir: d, readOnly: true });
    const segs = reader.segments();
    expect(segs.length).toBeGreaterThan(3);
    const deleted = await writer.deleteSegmentsBefore(segs[1]!.end);
    expect(deleted.map((s) => s.name)).toEqual([segs[0]!.name, segs[1]!.name]);

    const inFirst = seq.findIndex((_, i) => rawPos[i]! < segs[0]!.end);
    const inThird = seq.findIndex((_, i) => rawPos[i]! >= segs[2]!.start);
    expect(inFirst).toBeGreaterThanOrEqual(0);
    expect(reader.readBody(rawPos[inFirst]! + seq[inFirst]!.bodyStart[0]!, 10, 10)).toBeNull();
    const b = seq[inThird]!;
    expect(Buffer.from(reader.readBody(rawPos[inThird]! + b.bodyStart[0]!, b.bodyEnd[0]! - b.bodyStart[0]!, 1 << 20)!).toString()).toBe(body(b, 0));

    const got: number[] = [];
    const stats = await reader.replay(0, (r) => {
      if (r.type === 'batch') got.push(r.rawPos);
    });
    expect(stats.corrupt).toBe(0);
    expect(got).toEqual(rawPos.filter((p) => p >= segs[2]!.start));
    await reader.close();
    await writer.close();
  });

  for (const [nth, when] of [[1, 'its header is read'], [2, 'its trailer is read']] as const) {
    it(`a segment deleted between listing and opening (before ${when}) is left out`, async () => {
      const d = dir('retention-open');
      const writer = await writerWithSources(d, 4096);
      const seq = interleaved(10);
      const rawPos: number[] = [];
      for (const b of seq) rawPos.push(await writer.append(b));
      const segs = writer.segments();
      let opens = 0;
      const { io, refused } = readingIo({
        open: async (path, flags) => {
          // Retention (by the writer, here by hand) wins the race for the oldest segment.
          if (path === segs[0]!.path && ++opens === nth) unlinkSync(path);
          return nodeIo.open(path, flags);
        },
      });
      const reader = await Wal.open({ dir: d, readOnly: true, io });
      expect(reader.segments()).toEqual(writer.segments().slice(1));
      expect(reader.firstPos).toBe(segs[1]!.start);
      expect(reader.recovery.segments).toBe(segs.length - 1);
      expect((await replayBatches(reader)).map((r) => r.rawPos)).toEqual(rawPos.filter((p) => p >= segs[1]!.start));
      expect(reader.sources()).toEqual(writer.sources());
      await reader.close();
      expect(refused).toEqual([]);
      await writer.close();
    });
  }
});
