import { crc32, crc32c } from '../../src/wal/crc32c.js';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_FORMAT_VERSION, checkpointSection, listCheckpoints, loadLatestCheckpoint, nodeIo, pruneCheckpoints, readCheckpoint, writeCheckpoint,
} from '../../src/wal/index.js';
import { errnoError, useTempDirs } from '../helpers/wal.js';

const dir = useTempDirs();

function sample(n: number, seed = 1): Record<string, ArrayBufferView> {
  const ts = new Float64Array(n).map((_, i) => 1.7e15 + i * 1000 + seed);
  return {
    ts,
    meta: new Uint8Array(n).map((_, i) => (i * 7 + seed) & 0xff),
    lineDelta: new Uint32Array(n).map((_, i) => i * 3),
    bodyLen: new Uint16Array(n).map((_, i) => (i * 13) & 0xffff),
    signed: Int32Array.of(-1, 2, -3),
    wide: BigUint64Array.of(2n ** 63n, 5n),
    empty: new Float32Array(0),
    // A view into the middle of a bigger buffer: only the view's bytes are stored.
    slice: new Uint16Array(new ArrayBuffer(64), 6, 5).fill(7),
  };
}

describe('checkpoint container', () => {
  it('round-trips meta and typed sections, as views of one buffer', async () => {
    const d = dir('ck');
    const sections = sample(1000);
    const meta = { walPos: 123_456, sources: [{ id: 1, name: 'app' }], note: 'é' };
    const { path, bytes } = await writeCheckpoint(d, 'ckpt-0001', { meta, sections }, { now: () => 42 });
    expect(readFileSync(path).length).toBe(bytes);
    const cp = await readCheckpoint(d, 'ckpt-0001');
    expect(cp.meta).toEqual(meta);
    expect(cp.createdAt).toBe(42);
    expect(Object.keys(cp.sections)).toEqual(Object.keys(sections));
    for (const [name, view] of Object.entries(sections)) {
      const got = cp.sections[name]!;
      expect(got.constructor).toBe(view.constructor);
      expect(Array.from(got as ArrayLike<number>)).toEqual(Array.from(view as unknown as ArrayLike<number>));
    }
    const buffers = new Set(Object.values(cp.sections).map((s) => s.buffer));
    expect(buffers.size).toBe(1);
    expect(checkpointSection(cp, 'ts', Float64Array)[999]).toBe(1.7e15 + 999_000 + 1);
    expect(() => checkpointSection(cp, 'ts', Uint32Array)).toThrow(/is a Float64Array, expected a Uint32Array/);
    expect(() => checkpointSection(cp, 'nope', Uint32Array)).toThrow(expect.objectContaining({ code: 'CHECKPOINT_SECTION' }));
  });

  it('reads a checkpoint of format 1 (CRC32C sections) as written, and writes format 2 (CRC32) by default', async () => {
    const d = dir('ckv1');
    const sections = sample(300);
    await writeCheckpoint(d, 'old', { meta: { v: 1 }, sections }, { formatVersion: 1, now: () => 7 });
    const { path } = await writeCheckpoint(d, 'new', { meta: { v: 1 }, sections }, { now: () => 7 });
    const [oldBytes, newBytes] = [readFileSync(join(d, 'old')), readFileSync(path)];
    expect([oldBytes.readUInt32LE(8), newBytes.readUInt32LE(8)]).toEqual([1, CHECKPOINT_FORMAT_VERSION]);
    expect(CHECKPOINT_FORMAT_VERSION).toBe(2);
    // Same layout, only the section CRCs (table entry bytes 4..7) and the CRCs over them differ.
    const ts = (await readCheckpoint(d, 'new')).sections.ts!;
    const tsBytes = newBytes.subarray(ts.byteOffset, ts.byteOffset + ts.byteLength);
    expect(newBytes.readUInt32LE(64 + 4)).toBe(crc32(tsBytes));
    expect(oldBytes.readUInt32LE(64 + 4)).toBe(crc32c(tsBytes));
    const [a, b] = [await readCheckpoint(d, 'old'), await readCheckpoint(d, 'new')];
    expect(a.meta).toEqual(b.meta);
    for (const name of Object.keys(sections)) expect(a.sections[name]).toEqual(b.sections[name]);
  });

  it.each([1, 2] as const)('rejects any damaged byte of a format %s checkpoint with CHECKPOINT_CORRUPT naming the file and offset', async (formatVersion) => {
    const d = dir('ckbad');
    const { path } = await writeCheckpoint(d, 'c', { meta: { a: 1 }, sections: sample(50) }, { formatVersion });
    const good = readFileSync(path);
    // Flip one byte at a spread of offsets: header, table, meta, every section.
    const offsets = [0, 9, 13, 20, 24, 61, 64, 70, 64 + 64 * 3 + 10];
    const cp = await readCheckpoint(d, 'c');
    for (const s of Object.values(cp.sections)) if (s.byteLength > 0) offsets.push(s.byteOffset + s.byteLength - 1);
    for (const off of offsets) {
      const bad = Buffer.from(good);
      bad[off]! ^= 0x20;
      writeFileSync(path, bad);
      const err = await readCheckpoint(d, 'c').catch((e: unknown) => e);
      expect(err, `offset ${off}`).toMatchObject({ file: path, code: 'CHECKPOINT_CORRUPT' });
      expect((err as { offset: number }).offset).toBeGreaterThanOrEqual(0);
    }
    for (const cut of [0, 10, 64, good.length - 1]) {
      writeFileSync(path, good.subarray(0, cut));
      await expect(readCheckpoint(d, 'c')).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' });
    }
  });

  it('refuses a newer checkpoint version with a clear message', async () => {
    const d = dir('ckver');
    const { path } = await writeCheckpoint(d, 'c', { meta: null, sections: {} });
    const buf = readFileSync(path);
    buf.writeUInt32LE(9, 8);
    buf.writeUInt32LE(crc32c(buf.subarray(0, 60)), 60);
    writeFileSync(path, buf);
    await expect(readCheckpoint(d, 'c')).rejects.toThrow(/format version 9, newer than version 2/);
    await expect(loadLatestCheckpoint(d, '')).rejects.toMatchObject({ code: 'CHECKPOINT_VERSION' });
  });

  it('a failed write keeps the previous checkpoint and leaves no temp file', async () => {
    const d = dir('ckfail');
    await writeCheckpoint(d, 'c', { meta: { v: 1 }, sections: sample(10) });
    const io = { ...nodeIo, fsync: async () => Promise.reject(errnoError('ENOSPC', 'no space left on device')) };
    await expect(writeCheckpoint(d, 'c', { meta: { v: 2 }, sections: sample(10, 2) }, { io })).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(readdirSync(d)).toEqual(['c']);
    expect((await readCheckpoint(d, 'c')).meta).toEqual({ v: 1 });
  });

  it('loadLatestCheckpoint falls back to an older checkpoint when the newest is damaged', async () => {
    const d = dir('cklatest');
    for (const k of [1, 2, 3]) await writeCheckpoint(d, `ckpt-${k}`, { meta: { k }, sections: sample(10, k) });
    writeFileSync(join(d, 'ckpt-3'), readFileSync(join(d, 'ckpt-3')).subarray(0, 100));
    writeFileSync(join(d, 'ckpt-4.tmp-1-1'), 'half written');
    const warnings: object[] = [];
    const cp = await loadLatestCheckpoint(d, 'ckpt-', { logger: { warn: (o) => warnings.push(o), info: () => {} } });
    expect(cp?.meta).toEqual({ k: 2 });
    expect(warnings.length).toBe(1);
    expect(await listCheckpoints(d, 'ckpt-')).toEqual(['ckpt-3', 'ckpt-2', 'ckpt-1']);
    expect(await pruneCheckpoints(d, 'ckpt-', 1)).toEqual(['ckpt-2', 'ckpt-1', 'ckpt-4.tmp-1-1']);
    expect(readdirSync(d)).toEqual(['ckpt-3']);
    expect(await loadLatestCheckpoint(d, 'ckpt-')).toBeNull();
    expect(await loadLatestCheckpoint(join(d, 'missing'), 'ckpt-')).toBeNull();
  });

  it('validates names', async () => {
    const d = dir('ckname');
    await expect(writeCheckpoint(d, '../escape', { meta: 1, sections: {} })).rejects.toMatchObject({ code: 'WAL_OPTION' });
    await expect(writeCheckpoint(d, 'c', { meta: 1, sections: { ['x'.repeat(41)]: new Uint8Array(1) } })).rejects.toThrow(/section name/);
    expect(existsSync(join(d, 'c'))).toBe(false);
  });
});
