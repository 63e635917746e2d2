/**
 * Golden files: the bytes of a small WAL and a checkpoint, committed under
 * test/fixtures/wal/golden-v2/. An accidental format change fails here twice: the writer no
 * longer produces the committed bytes, and the committed bytes no longer decode to the
 * records below. test/fixtures/wal/golden-v1/ holds the same WAL as version 1 wrote it: it
 * must still open (FORMAT.md, "Versions"), and its checkpoint, written by checkpoint format 1,
 * must still decode.
 *
 * To regenerate after an intended format change (bump WAL_FORMAT_VERSION, keep a reader for
 * the old files, keep the old golden directory as a reading fixture), run:
 *   npm run test:golden-update
 * which rewrites the current version's fixture files from the writer (and still checks that
 * they decode to the records below), then review the diff. Anywhere else WAL_GOLDEN_UPDATE is
 * refused: a suite run that rewrote the files would compare them with themselves (issue 18).
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint, type SourceFile, Wal, WAL_FORMAT_VERSION, type WalBatch, writeCheckpoint } from '../../src/wal/index.js';
import { expected, makeBatch, replayAll, strip, tempDir } from '../helpers/wal.js';

const GOLDEN = fileURLToPath(new URL('../fixtures/wal/golden-v2/', import.meta.url));
const SEGMENTS = join(GOLDEN, 'segments');
const GOLDEN_V1 = fileURLToPath(new URL('../fixtures/wal/golden-v1/', import.meta.url));
const SEGMENTS_V1 = join(GOLDEN_V1, 'segments');
const CHECKPOINT = 'index.ckpt';
const UPDATE = process.env.WAL_GOLDEN_UPDATE === '1';
if (UPDATE && process.env.npm_lifecycle_event !== 'test:golden-update') {
  throw new Error('WAL_GOLDEN_UPDATE=1 is honoured only by `npm run test:golden-update`, never in a test run');
}
const NOW = 1_700_000_000_000;

const tmp = tempDir('golden');
afterAll(() => tmp.cleanup());

function batches(): WalBatch[] {
  const a1 = makeBatch({ sourceId: 1, entries: 3, seed: 1, file: { dev: 2049, ino: 1001 } });
  const b1 = makeBatch({ sourceId: 2, entries: 2, seed: 2, file: { dev: 2049, ino: 2002 } });
  b1.customTags = ['AUDIT', 'ÉTAT'];
  b1.customTagAt = [1, 24];
  b1.meta[1] = 7 | (3 << 5);
  b1.parseErrors = 1;
  const a2 = makeBatch({ sourceId: 1, entries: 4, seed: 3, byteStart: a1.byteEnd, firstLine: 4, file: { dev: 2049, ino: 1001 } });
  const a3 = makeBatch({ sourceId: 1, entries: 1, seed: 4, byteStart: a2.byteEnd, firstLine: 8, file: { dev: 2049, ino: 1001 } });
  return [a1, b1, a2, a3];
}

/**
 * Source 2's file list after its file was copied (copytruncate) and truncated: the copy, read
 * to its end and compressed since, then the same inode as before, started again at 0.
 */
function auditFiles(b1: WalBatch): SourceFile[] {
  return [
    { file: { dev: 2049, ino: 2003 }, offset: b1.byteEnd, nextLine: 3, size: b1.byteEnd, headLen: b1.byteEnd, headCrc: 0x1234abcd, gzip: true, done: true },
    { file: { dev: 2049, ino: 2002 }, offset: 0, nextLine: 1, size: 40, headLen: 40, headCrc: 0x89abcdef, gzip: false, done: false },
  ];
}

/** Writes the golden WAL into dir with a fixed clock. */
async function writeGolden(dir: string): Promise<void> {
  const wal = await Wal.open({ dir, segmentBytes: 1024, now: () => NOW });
  await wal.registerSource({ id: 1, name: 'app', path: '/var/log/app.log' });
  await wal.registerSource({ id: 2, name: 'audit', path: '/var/log/audit.log' });
  const [a1, b1, a2, a3] = batches();
  await wal.append(a1!);
  await wal.append(b1!);
  await wal.append(a2!);
  await wal.recordFiles(2, auditFiles(b1!));
  await wal.append(a3!);
  await wal.close();
}

/** The file entry a batch-only history gives (no head known). */
function fromBatch(b: WalBatch): SourceFile {
  return { file: b.file, offset: b.byteEnd, nextLine: b.firstLine + b.lines, size: b.byteEnd, headLen: 0, headCrc: 0, gzip: false, done: false };
}

function checkpointInput(): { meta: unknown; sections: Record<string, ArrayBufferView> } {
  return {
    meta: { walPos: 1234, entries: 3 },
    sections: { ts: Float64Array.of(1.5, 2.5, 3.5), bodyLen: Uint16Array.of(10, 20, 30), tags: Uint8Array.of(1, 2, 3) },
  };
}

function files(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('hex')]));
}

describe('golden files (format version 2)', () => {
  it('the writer produces the committed bytes', async () => {
    const out = join(tmp.dir, 'written');
    await writeGolden(out);
    await writeCheckpoint(tmp.dir, CHECKPOINT, checkpointInput(), { now: () => NOW });
    if (UPDATE) {
      rmSync(GOLDEN, { recursive: true, force: true });
      mkdirSync(SEGMENTS, { recursive: true });
      cpSync(out, SEGMENTS, { recursive: true });
      writeFileSync(join(GOLDEN, CHECKPOINT), readFileSync(join(tmp.dir, CHECKPOINT)));
      return; // nothing to compare: the files are what was just written
    }
    expect(WAL_FORMAT_VERSION).toBe(2);
    expect(files(out)).toEqual(files(SEGMENTS));
    expect(readFileSync(join(tmp.dir, CHECKPOINT)).equals(readFileSync(join(GOLDEN, CHECKPOINT)))).toBe(true);
  });

  it('the committed segments decode to the expected records', async () => {
    const names = readdirSync(SEGMENTS).sort();
    expect(names.length).toBeGreaterThan(1);
    // The first header, spelled out: magic, version 2, length 64, start 0, created at NOW, 1024.
    expect(readFileSync(join(SEGMENTS, names[0]!)).subarray(0, 40).toString('hex')).toBe(
      '4c5457414c0d0a1a' + '02000000' + '40000000' + '0000000000000000' + '0068e5cf8b010000' + '0004000000000000',
    );
    const dir = join(tmp.dir, 'decode');
    cpSync(SEGMENTS, dir, { recursive: true });
    const wal = await Wal.open({ dir });
    expect(wal.recovery).toMatchObject({ tornTails: [], corrupt: [] });
    const recs = await replayAll(wal, 0, true);
    const [a1, b1, a2, a3] = batches();
    // Every record, its type and position as committed: a moved byte anywhere shifts these.
    expect(recs.map((r) => (r.type === 'source' ? ['source', r.sourceId, r.reason, r.pos, r.end] : ['batch', r.sourceId, r.count, r.pos, r.rawPos, r.end]))).toEqual([
      ['source', 1, 'register', 64, 184],
      ['source', 2, 'register', 184, 304],
      ['batch', 1, 3, 304, 472, 680],
      // 120 bytes plus one 56-byte file entry: source 1 has read one file.
      ['source', 1, 'preamble', 840, 1016],
      ['source', 2, 'preamble', 1016, 1136],
      ['batch', 2, 2, 1136, 1312, 1440],
      ['source', 1, 'preamble', 1600, 1776],
      ['source', 2, 'preamble', 1776, 1952],
      ['batch', 1, 4, 1952, 2144, 2416],
      ['source', 1, 'preamble', 2576, 2752],
      ['source', 2, 'preamble', 2752, 2928],
      ['source', 2, 'files', 2928, 3160],
      ['batch', 1, 1, 3160, 3288, 3352],
    ]);
    // Segments: sealed ones end with a 96-byte trailer, the next starts right after it.
    expect(wal.segments().map((s) => [s.name, s.start, s.end, s.records, s.entries, s.sealed])).toEqual([
      ['0000000000000000.wal', 0, 776, 1, 3, true],
      ['0000000000000308.wal', 776, 1536, 1, 2, true],
      ['0000000000000600.wal', 1536, 2512, 1, 4, true],
      ['00000000000009d0.wal', 2512, 3352, 1, 1, false],
    ]);
    const got = recs.filter((r) => r.type === 'batch');
    expect(got.map(strip)).toEqual([a1!, b1!, a2!, a3!].map(expected));
    expect(got.map((r) => r.raw)).toEqual([a1!, b1!, a2!, a3!].map((b) => Buffer.from(b.raw).toString('latin1')));
    expect(recs.find((r) => r.reason === 'files')).toMatchObject({ sourceId: 2, files: auditFiles(b1!) });
    expect(wal.sources()).toEqual([
      { id: 1, name: 'app', path: '/var/log/app.log', position: { file: { dev: 2049, ino: 1001 }, offset: a3!.byteEnd, nextLine: 9 }, files: [fromBatch(a3!)], legacy: false, registeredAt: NOW },
      { id: 2, name: 'audit', path: '/var/log/audit.log', position: { file: { dev: 2049, ino: 2002 }, offset: b1!.byteEnd, nextLine: 3 }, files: auditFiles(b1!), legacy: false, registeredAt: NOW },
    ]);
    await wal.close();
  });

  // Checkpoint format 2 (CRC32 sections) here; golden-v1's index.ckpt is the same checkpoint as
  // format 1 (CRC32C sections) wrote it, and must still decode.
  it.each([
    ['2', GOLDEN],
    ['1', GOLDEN_V1],
  ])('the committed checkpoint of format %s decodes to the expected sections', async (version, dir) => {
    expect(readFileSync(join(dir, CHECKPOINT)).readUInt32LE(8)).toBe(Number(version));
    const cp = await readCheckpoint(dir, CHECKPOINT);
    expect(cp.meta).toEqual({ walPos: 1234, entries: 3 });
    expect(cp.createdAt).toBe(NOW);
    expect(cp.sections.ts).toEqual(Float64Array.of(1.5, 2.5, 3.5));
    expect(cp.sections.bodyLen).toEqual(Uint16Array.of(10, 20, 30));
    expect(cp.sections.tags).toEqual(Uint8Array.of(1, 2, 3));
  });
});

describe('a data dir written by format version 1 (golden-v1)', () => {
  /** The sources as version 1 left them: one position each, standing for one file entry. */
  function legacySources(): unknown[] {
    const [, b1, , a3] = batches();
    return [
      { id: 1, name: 'app', path: '/var/log/app.log', position: { file: { dev: 2049, ino: 1001 }, offset: a3!.byteEnd, nextLine: 9 }, files: [fromBatch(a3!)], legacy: true, registeredAt: 0 },
      {
        id: 2, name: 'audit', path: '/var/log/audit.log', position: { file: { dev: 2049, ino: 2002 }, offset: 0, nextLine: 1 },
        // The version-1 truncation marker replaced the entry its batch had built.
        files: [{ ...fromBatch(b1!), offset: 0, nextLine: 1, size: 0 }], legacy: true, registeredAt: 0,
      },
    ];
  }

  it('opens read-only as it is: every record, the sources as legacy file lists, nothing written', async () => {
    const dir = join(tmp.dir, 'v1-read');
    cpSync(SEGMENTS_V1, dir, { recursive: true });
    const before = files(dir);
    const wal = await Wal.open({ dir, readOnly: true });
    const recs = await replayAll(wal, 0, true);
    expect(recs.map((r) => (r.type === 'source' ? [r.reason, r.pos] : ['batch', r.pos]))).toEqual([
      ['register', 64], ['register', 184], ['batch', 304], ['preamble', 840], ['preamble', 960], ['batch', 1080],
      ['preamble', 1544], ['preamble', 1664], ['batch', 1784], ['truncated', 2248], ['preamble', 2528], ['preamble', 2648], ['batch', 2768],
    ]);
    expect(recs.filter((r) => r.type === 'batch').map(strip)).toEqual(batches().map(expected));
    expect(wal.sources()).toEqual(legacySources());
    await wal.close();
    expect(files(dir)).toEqual(before);
  });

  it('opens for writing: the version-1 segment is sealed, a version-2 one follows, and the sources stay legacy until a file list is written', async () => {
    const dir = join(tmp.dir, 'v1-write');
    cpSync(SEGMENTS_V1, dir, { recursive: true });
    const v1Names = readdirSync(dir).sort();
    let wal = await Wal.open({ dir, now: () => NOW });
    const segs = wal.segments();
    expect(segs.map((s) => s.name)).toEqual([...v1Names, '0000000000000bf0.wal']);
    expect(segs.at(-2)).toMatchObject({ sealed: true, end: 2960 + 96 });
    expect(readFileSync(join(dir, '0000000000000bf0.wal')).readUInt32LE(8)).toBe(2);
    for (const name of v1Names) expect(readFileSync(join(dir, name)).readUInt32LE(8)).toBe(1);
    expect(wal.sources()).toEqual(legacySources());
    // Reopened: the new segment's preamble carries no list for them, so they are still legacy.
    await wal.close();
    wal = await Wal.open({ dir, now: () => NOW });
    expect(wal.sources()).toEqual(legacySources());
    expect((await replayAll(wal, 0)).filter((r) => r.type === 'batch').map(strip)).toEqual(batches().map(expected));
    // The first list written ends it.
    const list = auditFiles(batches()[1]!);
    await wal.recordFiles(2, list);
    await wal.close();
    wal = await Wal.open({ dir, readOnly: true });
    expect(wal.sources()[1]).toMatchObject({ files: list, legacy: false });
    expect(wal.sources()[0]).toMatchObject({ legacy: true });
    await wal.close();
  });
});
