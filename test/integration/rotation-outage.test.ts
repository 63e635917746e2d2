/**
 * Issue 9 item 3: a position per file a source has been through, so that rotations while
 * `serve` is down lose nothing and repeat nothing. Real `serve` processes, real files rotated
 * the way logrotate does it (rename, copytruncate, compress, delaycompress) with a writer
 * between each rotation; every line is checked with the crash test's verdict: indexed exactly
 * once, with the file's body, time, tag and line number.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  appendSeq, faults, nearest, requireBuilt, type Served, tailStatus, verdict, waitFor, waitIndexed, useServeFixtures,
} from '../helpers/crash.js';
import { copyTruncate, gunzipTo, gzipFile, rotateRename } from '../helpers/logrotate.js';

const NONE = { lost: 0, duplicated: 0, corrupt: 0, wrongLine: 0, samples: [] };
const CLEAN_EXIT = { code: 0, signal: null };

const { workDir, start } = useServeFixtures();

beforeAll(() => requireBuilt());

/** The gap counters of the (single) source. */
async function missed(s: Served): Promise<{ missed_bytes: number; missed_files: number }> {
  const src = (await tailStatus(s.client)).sources[0] as unknown as { missed_bytes: number; missed_files: number };
  return { missed_bytes: src.missed_bytes, missed_files: src.missed_files };
}

/** Appends `count` lines from the next seq on; returns the next seq. */
function writer(log: string, first: number): (count: number) => number {
  let seq = first;
  return (count) => {
    appendSeq(log, seq, count);
    seq += count;
    return seq;
  };
}

describe('rotations while the server is down', () => {
  it('three renames and a copytruncate, a writer between each: every line indexed exactly once, in its file, after SIGTERM and after kill -9', async () => {
    const { log, data } = workDir('outage');
    const write = writer(log, 1);
    write(8_000);
    let s = await start(log, data);
    await waitIndexed(s.client, 8_000);
    expect(await s.stop()).toEqual(CLEAN_EXIT);

    // While it is down: the file it was reading gets lines it never saw, then is rotated away,
    // and three more files come and go before it starts again.
    write(8_000); // A: the unread tail of the file the server knew
    rotateRename(log);
    write(8_000); // B
    rotateRename(log);
    write(8_000); // C
    rotateRename(log);
    write(8_000); // D
    copyTruncate(log); // D's lines go to app.log.1; app.log (D's inode) starts over
    const total = write(8_000) - 1; // E

    s = await start(log, data);
    // Killed while it catches up through the rotated files (or right after): the next start
    // must continue each file where its own position says.
    await waitFor(async () => (await tailStatus(s.client)).index.entries >= 20_000 || null, 30_000, () => s.proc.stderrTail());
    expect(await s.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    s = await start(log, data);
    const st = await waitIndexed(s.client, total, 60_000);
    expect(st.index.entries).toBe(total);
    expect(await missed(s)).toEqual({ missed_bytes: 0, missed_files: 0 });
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    const files = [`${log}.4`, `${log}.3`, `${log}.2`, `${log}.1`, log];
    expect(faults(await verdict(files, data, 1, total))).toEqual({ written: total, ...NONE });
  });

  it('compress and delaycompress: a rotated file that became .gz is read through gzip from where it was left; one never seen is read whole', async () => {
    const { dir, log, data } = workDir('gz');
    const write = writer(log, 1);
    write(5_000);
    let s = await start(log, data);
    await waitIndexed(s.client, 5_000);
    expect(await s.stop()).toEqual(CLEAN_EXIT);

    write(3_000); // A: 3,000 lines the server has not read
    rotateRename(log); // delaycompress: A stays plain as app.log.1 for one cycle
    write(3_000); // B
    rotateRename(log); // A -> app.log.2, compressed now; B -> app.log.1
    gzipFile(`${log}.2`);
    write(3_000); // C
    rotateRename(log); // A -> .3.gz, B -> .2 (compressed now), C -> .1
    gzipFile(`${log}.2`);
    const total = write(3_000) - 1; // D
    expect(readdirSync(dir).filter((f) => f.startsWith('app.log')).sort()).toEqual(['app.log', 'app.log.1', 'app.log.2.gz', 'app.log.3.gz']);

    s = await start(log, data);
    const st = await waitIndexed(s.client, total, 60_000);
    expect(st.index.entries).toBe(total);
    expect(await missed(s)).toEqual({ missed_bytes: 0, missed_files: 0 });
    // A gzip file holds no lines after its end: a restart reads nothing again.
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    s = await start(log, data);
    expect(s.proc.recovery).toMatchObject({ entries: total, replayedEntries: 0 });
    expect((await waitIndexed(s.client, total)).index.entries).toBe(total);
    expect(await s.stop()).toEqual(CLEAN_EXIT);

    const plain = join(dir, 'verify');
    mkdirSync(plain);
    const files = [gunzipTo(`${log}.3.gz`, join(plain, 'a.log')), gunzipTo(`${log}.2.gz`, join(plain, 'b.log')), `${log}.1`, log];
    expect(faults(await verdict(files, data, 1, total))).toEqual({ written: total, ...NONE });
  });

  it('old rotated files next to a source followed for the first time are passed over, and stay so after restarts', async () => {
    const { log, data } = workDir('first');
    appendSeq(log, 1, 1_000);
    rotateRename(log);
    gzipFile(`${log}.1`);
    appendSeq(log, 1_001, 1_000);
    rotateRename(log);
    appendSeq(log, 2_001, 1_000);
    // app.log.2.gz and app.log.1 were there before the server ever looked: history it was not
    // asked for. Only app.log is read, now and after the restart.
    let s = await start(log, data);
    await waitIndexed(s.client, 1_000);
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    appendSeq(log, 3_001, 500);
    s = await start(log, data);
    const st = await waitIndexed(s.client, 1_500);
    expect(st.index.entries).toBe(1_500);
    expect((await nearest(s.client, Date.parse('2024-01-15T10:00:00.000Z') + 1)).bodies[0]).toMatch(/ seq=2001$/);
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    expect(faults(await verdict([log], data, 2_001, 1_500))).toEqual({ written: 1_500, ...NONE });
  });
});

describe('a data dir written by WAL format version 1', () => {
  const GOLDEN_V1 = fileURLToPath(new URL('../fixtures/wal/golden-v1/segments/', import.meta.url));

  it('opens: its entries stay queryable, its last segment is sealed, new ones are version 2', async () => {
    const { log, data } = workDir('v1');
    mkdirSync(data);
    cpSync(GOLDEN_V1, join(data, 'wal'), { recursive: true });
    const v1 = readdirSync(join(data, 'wal')).sort();
    const lastSize = statSync(join(data, 'wal', v1.at(-1)!)).size;
    appendSeq(log, 1, 500);
    const s = await start(log, data);
    expect(s.proc.recovery).toMatchObject({ entries: 10, checkpoint: null });
    // Source `app` of the old dir named another file (/var/log/app.log): this log is new to it.
    const st = await waitIndexed(s.client, 510);
    expect(st.index.entries).toBe(510);
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    const now = readdirSync(join(data, 'wal')).sort();
    expect(now.slice(0, v1.length)).toEqual(v1);
    expect(now.length).toBeGreaterThan(v1.length);
    for (const name of v1) expect(readFileSync(join(data, 'wal', name)).readUInt32LE(8)).toBe(1);
    for (const name of now.slice(v1.length)) expect(readFileSync(join(data, 'wal', name)).readUInt32LE(8)).toBe(2);
    // Sealed: its 96-byte trailer appended, nothing else changed.
    expect(statSync(join(data, 'wal', v1.at(-1)!)).size).toBe(lastSize + 96);
  });
});
