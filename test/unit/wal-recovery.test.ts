/**
 * Corruption injection: torn tails at every byte of the last record, bit flips and zeroed
 * ranges in a middle record, damaged sealed segments, newer format versions.
 */
import { crc32c } from '../../src/wal/crc32c.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wal, WAL_FORMAT_VERSION, type WalBatch } from '../../src/wal/index.js';
import { expected, makeStream, replayAll, replayBatches, strip, tempDir } from '../helpers/wal.js';

const root = tempDir('recovery');
afterAll(() => root.cleanup());
let n = 0;
function freshDir(): string {
  const d = join(root.dir, `case-${n++}`);
  mkdirSync(d);
  return d;
}

interface Pristine {
  dir: string;
  batches: WalBatch[];
  /** Replayed batch records (positions) of the pristine log. */
  recs: Record<string, unknown>[];
  files: Map<string, Buffer>;
}

async function build(batches: number, entries: number, segmentBytes?: number): Promise<Pristine> {
  const dir = freshDir();
  const wal = await Wal.open({ dir, ...(segmentBytes === undefined ? {} : { segmentBytes }) });
  await wal.registerSource({ id: 1, name: 'app', path: '/var/log/app.log' });
  const list = makeStream(1, batches, entries);
  for (const b of list) await wal.append(b);
  await wal.close();
  const files = new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
  const w = await Wal.open({ dir });
  const recs = await replayBatches(w);
  await w.close();
  return { dir, batches: list, recs, files };
}

/** Writes the pristine files (with `edit` applied to one of them) into a fresh dir. */
function variant(p: Pristine, file: string, edit: (b: Buffer) => Buffer): string {
  const dir = freshDir();
  for (const [name, bytes] of p.files) writeFileSync(join(dir, name), name === file ? edit(Buffer.from(bytes)) : bytes);
  return dir;
}

const lastFile = (p: Pristine): string => [...p.files.keys()].sort().at(-1)!;

describe('torn tail', () => {
  let p: Pristine;
  beforeAll(async () => {
    p = await build(4, 3);
  });

  it('truncating the last record at every byte keeps all earlier records and saves the cut bytes', async () => {
    const file = lastFile(p);
    const last = p.recs.at(-1)!;
    const start = last.pos as number;
    const end = last.end as number;
    expect(p.files.get(file)!.length).toBe(end);
    for (let t = start; t < end; t++) {
      const dir = variant(p, file, (b) => b.subarray(0, t));
      const wal = await Wal.open({ dir });
      const got = await replayBatches(wal);
      expect(got.map(strip), `cut at ${t}`).toEqual(p.batches.slice(0, -1).map(expected));
      expect(wal.status().corruptRecords).toBe(0);
      expect(wal.endPos).toBe(start);
      const broken = join(dir, `${file}.broken`);
      if (t === start) {
        expect(wal.recovery.tornTails).toEqual([]);
        expect(existsSync(broken)).toBe(false);
      } else {
        expect(wal.recovery.tornTails).toMatchObject([{ offset: start, bytes: t - start, brokenFile: broken }]);
        expect(readFileSync(broken).equals(p.files.get(file)!.subarray(start, t)), `broken bytes at ${t}`).toBe(true);
        expect(readFileSync(join(dir, file)).length).toBe(start);
      }
      if (t === start + 1 || t === end - 1) {
        // The repaired log takes appends again, and a second repair does not overwrite the first .broken.
        await wal.append(p.batches.at(-1)!);
        await wal.close();
        writeFileSync(join(dir, file), Buffer.concat([readFileSync(join(dir, file)), Buffer.from('garbage!')]));
        const again = await Wal.open({ dir });
        expect((await replayBatches(again)).map(strip)).toEqual(p.batches.map(expected));
        expect(readFileSync(`${broken}.1`).toString()).toBe('garbage!');
        await again.close();
      } else {
        await wal.close();
      }
      rmSync(dir, { recursive: true });
    }
  });

  it('a tail of zeros where the last record should be (size extended, data lost) is cut', async () => {
    const file = lastFile(p);
    const start = p.recs.at(-1)!.pos as number;
    const dir = variant(p, file, (b) => b.fill(0, start));
    const wal = await Wal.open({ dir });
    expect((await replayBatches(wal)).length).toBe(3);
    expect(wal.recovery.tornTails).toMatchObject([{ offset: start, bytes: p.files.get(file)!.length - start }]);
    await wal.close();
  });
});

describe('corruption in the middle of a segment', () => {
  let p: Pristine;
  beforeAll(async () => {
    p = await build(5, 3);
  });

  it('a flipped bit anywhere in a middle record is counted, skipped, and later records recovered', async () => {
    const file = lastFile(p);
    const mid = p.recs[2]!;
    const start = mid.pos as number;
    const covered = (mid.rawPos as number) + (mid.rawLen as number);
    const want = p.batches.filter((_, i) => i !== 2).map(expected);
    for (let b = start; b < covered; b++) {
      const dir = variant(p, file, (buf) => {
        buf[b]! ^= 1 << (b % 8);
        return buf;
      });
      const wal = await Wal.open({ dir });
      expect((await replayBatches(wal)).map(strip), `flip at ${b}`).toEqual(want);
      expect(wal.status().corruptRecords, `flip at ${b}`).toBe(1);
      expect(wal.recovery.tornTails).toEqual([]);
      expect(wal.recovery.corrupt[0]!.offset).toBe(start);
      await wal.close();
      rmSync(dir, { recursive: true });
    }
    // Padding after the raw block is outside every CRC: a flip there changes nothing.
    for (let b = covered; b < (mid.end as number); b++) {
      const dir = variant(p, file, (buf) => {
        buf[b]! ^= 0x80;
        return buf;
      });
      const wal = await Wal.open({ dir });
      expect((await replayBatches(wal)).length).toBe(5);
      expect(wal.status().corruptRecords).toBe(0);
      await wal.close();
    }
  });

  it('zeroed ranges inside a middle record are counted and skipped', async () => {
    const file = lastFile(p);
    const mid = p.recs[2]!;
    const start = mid.pos as number;
    const covered = (mid.rawPos as number) + (mid.rawLen as number);
    const want = p.batches.filter((_, i) => i !== 2).map(expected);
    for (const [off, len] of [[0, 8], [0, 32], [28, 4], [40, 60], [100, 16], [150, 300], [covered - start - 20, 20]] as const) {
      const from = start + off;
      const to = Math.min(covered, from + len);
      const original = p.files.get(file)!.subarray(from, to);
      if (original.every((x) => x === 0)) continue;
      const dir = variant(p, file, (buf) => buf.fill(0, from, to));
      const wal = await Wal.open({ dir });
      expect((await replayBatches(wal)).map(strip), `zeros at +${off}`).toEqual(want);
      expect(wal.status().corruptRecords).toBe(1);
      await wal.close();
    }
  });

  it('a record with a bad raw block stays skipped after its segment is sealed (its frame is voided)', async () => {
    const file = lastFile(p);
    const mid = p.recs[2]!;
    const rawAt = (mid.rawPos as number) + 3;
    const dir = variant(p, file, (buf) => {
      buf[rawAt]! ^= 0x04;
      return buf;
    });
    const want = p.batches.filter((_, i) => i !== 2).map(expected);
    let wal = await Wal.open({ dir, segmentBytes: 4096 });
    expect(wal.recovery.corrupt).toMatchObject([{ offset: mid.pos, reason: 'raw CRC mismatch', brokenFile: join(dir, `${file}.broken`) }]);
    // The original bytes of the record are kept.
    const saved = readFileSync(join(dir, `${file}.broken`));
    expect(saved.equals(p.files.get(file)!.subarray(mid.pos as number, mid.end as number).map((x, i) => (i === rawAt - (mid.pos as number) ? x ^ 0x04 : x)))).toBe(true);
    // Fill the segment until it is sealed, then reopen: the sealed segment is not scanned,
    // and a columns-only replay still must not hand out the damaged record.
    const more = makeStream(1, 12, 6, 500);
    for (const b of more) await wal.append(b);
    expect(wal.segments()[0]!.sealed).toBe(true);
    await wal.close();
    wal = await Wal.open({ dir, segmentBytes: 4096 });
    expect(wal.recovery.scanned).not.toContain(file);
    expect((await replayBatches(wal)).map(strip)).toEqual([...want, ...more.map(expected)]);
    expect(wal.status().corruptRecords).toBe(1);
    await wal.close();
  });

  it('a zeroed range across two records loses only those two', async () => {
    const file = lastFile(p);
    const from = (p.recs[2]!.end as number) - 40;
    const to = (p.recs[3]!.pos as number) + 40;
    const dir = variant(p, file, (buf) => buf.fill(0, from, to));
    const wal = await Wal.open({ dir });
    expect((await replayBatches(wal)).map(strip)).toEqual([0, 1, 4].map((i) => expected(p.batches[i]!)));
    expect(wal.status().corruptRecords).toBe(2);
    await wal.close();
  });

  it('damage in a sealed segment is found by replay (meta always, raw when asked)', async () => {
    const q = await build(30, 6, 4096);
    const first = [...q.files.keys()].sort()[0]!;
    const inFirst = q.recs.filter((r) => (r.end as number) <= q.files.get(first)!.length);
    expect(inFirst.length).toBeGreaterThan(2);
    const victim = inFirst[1]!;
    // A flipped timestamp byte (meta block).
    const metaDir = variant(q, first, (buf) => {
      buf[(victim.pos as number) + 32 + 64 + 3]! ^= 0x10;
      return buf;
    });
    let wal = await Wal.open({ dir: metaDir });
    expect(wal.status().corruptRecords).toBe(0); // sealed segments are not scanned on open
    const got = await replayBatches(wal);
    expect(got.map(strip)).toEqual(q.batches.filter((_, i) => i !== 1).map(expected));
    expect(wal.status().corruptRecords).toBe(1);
    await replayBatches(wal);
    expect(wal.status().corruptRecords).toBe(1); // the same record is counted once
    await wal.close();
    // A flipped raw byte: invisible to a columns-only replay, caught with raw: true.
    const rawDir = variant(q, first, (buf) => {
      buf[(victim.rawPos as number) + 5]! ^= 0x01;
      return buf;
    });
    wal = await Wal.open({ dir: rawDir });
    expect((await replayBatches(wal)).length).toBe(30);
    const withRaw = (await replayAll(wal, 0, true)).filter((r) => r.type === 'batch');
    expect(withRaw.length).toBe(29);
    expect(withRaw[0]!.raw).toBe(Buffer.from(q.batches[0]!.raw).toString('latin1'));
    expect(wal.status().corruptRecords).toBe(1);
    await wal.close();
  });

  it('a sealed segment without its trailer (crash during a cut) is scanned and fully used', async () => {
    const q = await build(20, 6, 4096);
    const first = [...q.files.keys()].sort()[0]!;
    const dir = variant(q, first, (buf) => buf.subarray(0, buf.length - 96));
    const wal = await Wal.open({ dir });
    expect(wal.recovery.scanned).toContain(first);
    expect((await replayBatches(wal)).map(strip)).toEqual(q.batches.map(expected));
    expect(wal.segments()[0]!.sealed).toBe(true);
    await wal.close();
  });

  it('finds the source registry in an older segment when the last segment lost it', async () => {
    const q = await build(20, 6, 4096);
    const last = lastFile(q);
    // The preamble (first record after the 64-byte header) of the last segment.
    const dir = variant(q, last, (buf) => {
      buf[64 + 32 + 70]! ^= 0xff;
      return buf;
    });
    const wal = await Wal.open({ dir });
    expect(wal.status().corruptRecords).toBe(1);
    const lastBatch = q.batches.at(-1)!;
    const position = { file: lastBatch.file, offset: lastBatch.byteEnd, nextLine: lastBatch.firstLine + lastBatch.lines };
    expect(wal.sources()).toEqual([
      {
        id: 1, name: 'app', path: '/var/log/app.log', position, legacy: false, registeredAt: expect.any(Number),
        files: [{ ...position, size: position.offset, headLen: 0, headCrc: 0, gzip: false, done: false }],
      },
    ]);
    await wal.close();
  });
});

describe('headers', () => {
  let p: Pristine;
  beforeAll(async () => {
    p = await build(12, 6, 4096);
  });

  it('refuses a data dir with a newer format version, before touching anything', async () => {
    const names = [...p.files.keys()].sort();
    const dir = variant(p, names[0]!, (buf) => {
      buf.writeUInt32LE(WAL_FORMAT_VERSION + 1, 8);
      buf.writeUInt32LE(crc32c(buf.subarray(0, 60)), 60);
      return buf;
    });
    // A torn tail in the last segment must stay as it is: refusal comes first.
    const last = join(dir, names.at(-1)!);
    writeFileSync(last, readFileSync(last).subarray(0, readFileSync(last).length - 5));
    const before = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]);
    const err = await Wal.open({ dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WAL_VERSION', file: join(dir, names[0]!), offset: 8 });
    expect((err as Error).message).toContain(join(dir, names[0]!));
    expect((err as Error).message).toContain(`format version ${WAL_FORMAT_VERSION + 1}, newer than version ${WAL_FORMAT_VERSION}`);
    expect(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')])).toEqual(before);
  });

  it('reports a flipped bit in the version field as damage, not as a newer version', async () => {
    const name = [...p.files.keys()].sort()[0]!;
    const dir = variant(p, name, (buf) => {
      buf[9]! ^= 0x01;
      return buf;
    });
    await expect(Wal.open({ dir })).rejects.toMatchObject({ code: 'WAL_CORRUPT', offset: 60 });
  });

  it('refuses a damaged header with WAL_CORRUPT naming the file and offset', async () => {
    const name = [...p.files.keys()].sort()[1]!;
    const dir = variant(p, name, (buf) => {
      buf[20]! ^= 1;
      return buf;
    });
    await expect(Wal.open({ dir })).rejects.toMatchObject({ code: 'WAL_CORRUPT', file: join(dir, name), offset: 60 });
  });

  it('deletes a segment left under its temp name by a crash during creation', async () => {
    const dir = variant(p, '', (b) => b);
    writeFileSync(join(dir, 'ffffffffffff0000.wal.tmp'), Buffer.alloc(10));
    const wal = await Wal.open({ dir });
    expect(wal.recovery.removedTempFiles).toEqual(['ffffffffffff0000.wal.tmp']);
    expect(existsSync(join(dir, 'ffffffffffff0000.wal.tmp'))).toBe(false);
    expect((await replayBatches(wal)).length).toBe(12);
    await wal.close();
  });
});
