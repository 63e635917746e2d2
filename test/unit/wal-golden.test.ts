/**
 * Golden files: the bytes of a small WAL and a checkpoint, committed under
 * test/fixtures/wal/golden-v1/. An accidental format change fails here twice: the writer no
 * longer produces the committed bytes, and the committed bytes no longer decode to the
 * records below.
 *
 * To regenerate after an intended format change (bump WAL_FORMAT_VERSION, keep a reader for
 * the old files), run:
 *   npm run test:golden-update
 * which rewrites the fixture files from the writer (and still checks that they decode to the
 * records below), then review the diff. Anywhere else WAL_GOLDEN_UPDATE is refused: a suite
 * run that rewrote the files would compare them with themselves (issue 18).
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint, Wal, WAL_FORMAT_VERSION, type WalBatch, writeCheckpoint } from '../../src/wal/index.js';
import { expected, makeBatch, replayAll, strip, tempDir } from '../fixtures/wal/helpers.js';

const GOLDEN = fileURLToPath(new URL('../fixtures/wal/golden-v1/', import.meta.url));
const SEGMENTS = join(GOLDEN, 'segments');
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

/** Writes the golden WAL into dir with a fixed clock. */
async function writeGolden(dir: string): Promise<void> {
  const wal = await Wal.open({ dir, segmentBytes: 1024, now: () => NOW });
  await wal.registerSource({ id: 1, name: 'app', path: '/var/log/app.log' });
  await wal.registerSource({ id: 2, name: 'audit', path: '/var/log/audit.log' });
  const [a1, b1, a2, a3] = batches();
  await wal.append(a1!);
  await wal.append(b1!);
  await wal.append(a2!);
  await wal.markSource(2, { reason: 'truncated', file: { dev: 2049, ino: 2002 }, offset: 0, nextLine: 1 });
  await wal.append(a3!);
  await wal.close();
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

describe('golden files (format version 1)', () => {
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
    expect(WAL_FORMAT_VERSION).toBe(1);
    expect(files(out)).toEqual(files(SEGMENTS));
    expect(readFileSync(join(tmp.dir, CHECKPOINT)).equals(readFileSync(join(GOLDEN, CHECKPOINT)))).toBe(true);
  });

  it('the committed segments decode to the expected records', async () => {
    const names = readdirSync(SEGMENTS).sort();
    expect(names.length).toBeGreaterThan(1);
    // The first header, spelled out: magic, version 1, length 64, start 0, created at NOW, 1024.
    expect(readFileSync(join(SEGMENTS, names[0]!)).subarray(0, 40).toString('hex')).toBe(
      '4c5457414c0d0a1a' + '01000000' + '40000000' + '0000000000000000' + '0068e5cf8b010000' + '0004000000000000',
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
      ['source', 1, 'preamble', 840, 960],
      ['source', 2, 'preamble', 960, 1080],
      ['batch', 2, 2, 1080, 1256, 1384],
      ['source', 1, 'preamble', 1544, 1664],
      ['source', 2, 'preamble', 1664, 1784],
      ['batch', 1, 4, 1784, 1976, 2248],
      ['source', 2, 'truncated', 2248, 2368],
      ['source', 1, 'preamble', 2528, 2648],
      ['source', 2, 'preamble', 2648, 2768],
      ['batch', 1, 1, 2768, 2896, 2960],
    ]);
    // Segments: sealed ones end with a 96-byte trailer, the next starts right after it.
    expect(wal.segments().map((s) => [s.name, s.start, s.end, s.records, s.entries, s.sealed])).toEqual([
      ['0000000000000000.wal', 0, 776, 1, 3, true],
      ['0000000000000308.wal', 776, 1480, 1, 2, true],
      ['00000000000005c8.wal', 1480, 2464, 1, 4, true],
      ['00000000000009a0.wal', 2464, 2960, 1, 1, false],
    ]);
    const got = recs.filter((r) => r.type === 'batch');
    expect(got.map(strip)).toEqual([a1!, b1!, a2!, a3!].map(expected));
    expect(got.map((r) => r.raw)).toEqual([a1!, b1!, a2!, a3!].map((b) => Buffer.from(b.raw).toString('latin1')));
    expect(wal.sources()).toEqual([
      { id: 1, name: 'app', path: '/var/log/app.log', position: { file: { dev: 2049, ino: 1001 }, offset: a3!.byteEnd, nextLine: 9 } },
      { id: 2, name: 'audit', path: '/var/log/audit.log', position: { file: { dev: 2049, ino: 2002 }, offset: 0, nextLine: 1 } },
    ]);
    await wal.close();
  });

  it('the committed checkpoint decodes to the expected sections', async () => {
    const cp = await readCheckpoint(GOLDEN, CHECKPOINT);
    expect(cp.meta).toEqual({ walPos: 1234, entries: 3 });
    expect(cp.createdAt).toBe(NOW);
    expect(cp.sections.ts).toEqual(Float64Array.of(1.5, 2.5, 3.5));
    expect(cp.sections.bodyLen).toEqual(Uint16Array.of(10, 20, 30));
    expect(cp.sections.tags).toEqual(Uint8Array.of(1, 2, 3));
  });
});
