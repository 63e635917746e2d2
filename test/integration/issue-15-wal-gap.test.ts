/**
 * Issue 15, item 7: a corrupt WAL record in the middle, with no checkpoint after it, lost
 * every entry it held while a query for that time answered `ok` with an entry minutes away.
 * Now the record's range is re-read from the source file when it still holds those bytes,
 * and when it does not, answers near the hole and tail_status say so. Real processes
 * (`ingest`, `serve` over stdio) on real files; the damage is a flipped byte on disk.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectStdio, requireBuilt, runCli } from '../helpers/cli.js';

const START = Date.parse('2024-01-15T10:00:00.000Z');
const PART_LINES = 600;

/** Lines [from, to) of a one-line-per-second log: `event i`, every 50th an ERROR. */
function lines(from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += `${new Date(START + i * 1000).toISOString()} [${i % 50 === 0 ? 'ERROR' : 'INFO'}] event ${i}\n`;
  return out;
}

/** Byte offsets of the batch records (type 1) in a WAL segment file. */
function batchRecords(seg: Buffer): { off: number; metaLen: number }[] {
  const out: { off: number; metaLen: number }[] = [];
  let off = 64;
  while (off + 32 <= seg.length && seg.readUInt32LE(off) === 0x4345524c) {
    const metaLen = seg.readUInt32LE(off + 8);
    const rawLen = seg.readUInt32LE(off + 12);
    if (seg[off + 4] === 1) out.push({ off, metaLen });
    off += Math.ceil((32 + metaLen + rawLen) / 8) * 8;
  }
  return out;
}

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/**
 * Three ingests of 10 minutes each (three batches), then the checkpoints removed (so the WAL
 * is replayed) and the middle batch's meta block damaged.
 */
async function damagedDataDir(): Promise<{ dir: string; log: string; dataDir: string }> {
  requireBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'ltm-walgap-'));
  dirs.push(dir);
  const log = join(dir, 'app.log');
  const dataDir = join(dir, 'data');
  writeFileSync(log, '');
  for (let part = 0; part < 3; part++) {
    appendFileSync(log, lines(part * PART_LINES, (part + 1) * PART_LINES));
    const r = await runCli(['ingest', '--source', `app=${log}`, '--data-dir', dataDir, '--log-level', 'warn']);
    expect(r.code, r.stderr).toBe(0);
  }
  rmSync(join(dataDir, 'checkpoints'), { recursive: true, force: true });
  const segName = readdirSync(join(dataDir, 'wal')).find((n) => n.endsWith('.wal'))!;
  const segPath = join(dataDir, 'wal', segName);
  const seg = readFileSync(segPath);
  const batches = batchRecords(seg);
  // Each ingest writes its lines but the last in one batch, then the last one (held until the
  // end of the file) in another: the third batch holds lines 601 to 1199.
  expect(batches.length).toBe(6);
  const middle = batches[2]!;
  seg[middle.off + 32 + 4]! ^= 0xff; // the entry count inside the meta block: its CRC fails
  writeFileSync(segPath, seg);
  return { dir, log, dataDir };
}

/** The query time: in the middle part, which only the damaged record held. */
const LOST_AT = new Date(START + 900 * 1000 + 400).toISOString();

describe('issue 15 item 7: a corrupt WAL record in the middle', () => {
  it('is re-read from the source file, which still holds it: the exact entry comes back after a restart', async () => {
    const { log, dataDir } = await damagedDataDir();
    const { client, close } = await connectStdio(['--source', `app=${log}`, '--data-dir', dataDir]);
    try {
      const r = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: LOST_AT } });
      const s = r.structuredContent as { status: string; entries: { body: string; distance_ms: number; line: number }[]; lost?: unknown[] };
      expect(s.status).toBe('ok');
      expect(s.entries[0]!.body).toBe('event 900');
      expect(s.entries[0]!.line).toBe(901);
      expect(s.lost).toBeUndefined();
      const st = (await client.callTool({ name: 'tail_status', arguments: {} })).structuredContent as {
        sources: { entries: number }[];
        wal: { corrupt_records: number; repaired_records: number; lost: unknown[] };
      };
      expect(st.sources[0]!.entries).toBe(3 * PART_LINES);
      expect(st.wal.corrupt_records).toBe(1);
      expect(st.wal.repaired_records).toBe(1);
      expect(st.wal.lost).toEqual([]);
    } finally {
      await close();
    }
    // Kept: a later start finds the re-read batch in the WAL (or the checkpoint) and does not
    // count the lines twice, nor move the source's position back (no line read again).
    appendFileSync(log, lines(3 * PART_LINES, 3 * PART_LINES + 10));
    const again = await runCli(['ingest', '--source', `app=${log}`, '--data-dir', dataDir, '--log-level', 'warn']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/ingested 10 new entries/);
    const q = await runCli(['query', '--data-dir', dataDir, '-t', LOST_AT, '--json']);
    const out = JSON.parse(q.stdout) as { entries: { body: string }[]; coverage: { entries: number } };
    expect(out.entries[0]!.body).toBe('event 900');
    expect(out.coverage.entries).toBe(3 * PART_LINES + 10);
  });

  it('that the source file no longer holds shows as lost in the answer near it and in tail_status', async () => {
    const { log, dataDir } = await damagedDataDir();
    // The file was replaced while the server was down: its bytes are not the lost ones.
    rmSync(log);
    writeFileSync(log, lines(0, 10));
    const { client, close } = await connectStdio(['--source', `app=${log}`, '--data-dir', dataDir]);
    try {
      const r = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: LOST_AT } });
      const s = r.structuredContent as { entries: { body: string }[]; lost?: { source: string; from: string; to: string; lines: number }[]; notes?: string[] };
      expect(s.entries[0]!.body).not.toBe('event 900');
      expect(s.lost).toEqual([
        expect.objectContaining({ source: 'app', from: new Date(START + 599_000).toISOString(), to: new Date(START + 1199_000).toISOString(), lines: PART_LINES - 1 }),
      ]);
      expect(s.notes!.join('\n')).toMatch(/599 lines of source app between .* are lost/);
      expect((r.content as { text: string }[])[0]!.text).toMatch(/note: 599 lines of source app/);
      // Far from the hole, answers carry no such note.
      const far = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: new Date(START + 100_000).toISOString() } });
      expect((far.structuredContent as { lost?: unknown }).lost).toBeUndefined();
      const st = (await client.callTool({ name: 'tail_status', arguments: {} })).structuredContent as { wal: { lost: { source: string; lines: number; reason: string }[] } };
      expect(st.wal.lost).toEqual([expect.objectContaining({ source: 'app', lines: PART_LINES - 1 })]);
    } finally {
      await close();
    }
  });
});
