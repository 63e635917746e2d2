/**
 * Issue 9 items 4 and 5, with real `serve` processes and real files rotated by the test
 * process while the server runs (default 100 ms poll):
 *   4. after a rename the new file is read at once, while the old one is still being written
 *      (no wait for the old file's drain), and every line of both is indexed exactly once;
 *   5. files that exist only between two looks (rotations faster than the poll) are read, and
 *      where lines really cannot be read any more the gap is counted (tail_status, /metrics,
 *      a warning in the log), never silent.
 */
import { closeSync, openSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  appendSeq, BASE_MS, faults, nearest, requireBuilt, seqLine, seqLines, tailStatus, verdict, waitFor, waitIndexed, useServeFixtures,
} from '../helpers/crash.js';
import { connectHttp, startServe, type ServeProcess } from '../helpers/cli.js';
import { rotateRename } from '../helpers/logrotate.js';

const NONE = { lost: 0, duplicated: 0, corrupt: 0, wrongLine: 0, samples: [] };
const CLEAN_EXIT = { code: 0, signal: null };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const { workDir, start } = useServeFixtures();

beforeAll(() => requireBuilt());

describe('after a rename rotation', () => {
  it('the new file is indexed while the old one still grows: both read at once, each line once', async () => {
    const { log, data } = workDir('no-wait');
    appendSeq(log, 1, 1_000);
    const s = await start(log, data);
    await waitIndexed(s.client, 1_000);
    // The program keeps its descriptor on the rotated file and goes on writing there (seq 1501
    // on), while lines 1001-1500 arrive in the new file.
    const old = openSync(log, 'a');
    rotateRename(log);
    appendSeq(log, 1_001, 500);
    let oldSeq = 1_501;
    let stopOld = false;
    const oldWriter = (async () => {
      while (!stopOld) {
        writeSync(old, seqLine(oldSeq, BASE_MS + oldSeq));
        oldSeq++;
        await sleep(20);
      }
    })();
    try {
      // The old file never goes quiet, so waiting for its drain (the old follower waited up to
      // 10 s for a file rotated away while it kept growing) would keep the new file unread.
      // 8 s is far above the poll that finds the new file; far below that 10 s.
      await waitFor(async () => {
        const r = await nearest(s.client, BASE_MS + 1_500, { max_distance_ms: 0 });
        return r.status === 'ok' && r.bodies[0]?.endsWith(' seq=1500') === true;
      }, 8_000, async () => tailStatus(s.client));
      expect(stopOld).toBe(false);
      // The old file's growth is being read too, not only the new file.
      const seenOld = oldSeq - 1;
      await waitFor(async () => (await nearest(s.client, BASE_MS + seenOld, { max_distance_ms: 0 })).status === 'ok' || null, 8_000, async () => tailStatus(s.client));
    } finally {
      stopOld = true;
      await oldWriter;
      closeSync(old);
    }
    const total = oldSeq - 1;
    const st = await waitIndexed(s.client, total);
    expect(st.index.entries).toBe(total);
    expect(st.sources[0]).toMatchObject({ rotations: 1 });
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    expect(faults(await verdict([`${log}.1`, log], data, 1, total))).toEqual({ written: total, ...NONE });
  });
});

describe('rotations faster than the poll', () => {
  it('three rename rotations within a millisecond or two: the two files in between are read, every line once', async () => {
    const { log, data } = workDir('fast');
    appendSeq(log, 1, 2_000);
    const s = await start(log, data);
    await waitIndexed(s.client, 2_000);
    // One synchronous burst: lines the server has not seen, then A -> .3, B -> .2, C -> .1, D.
    let seq = 2_001;
    const burst = (n: number): void => {
      writeFileSync(log, seqLines(seq, n), { flag: 'a' });
      seq += n;
    };
    burst(700);
    for (let k = 0; k < 3; k++) {
      rotateRename(log);
      burst(700);
    }
    const total = seq - 1;
    const st = await waitIndexed(s.client, total);
    expect(st.index.entries).toBe(total);
    expect(st.sources[0]).toMatchObject({ rotations: 3 });
    expect(await s.stop()).toEqual(CLEAN_EXIT);
    expect(faults(await verdict([`${log}.3`, `${log}.2`, `${log}.1`, log], data, 1, total))).toEqual({ written: total, ...NONE });
  });

  it('a file deleted while the server was down, with bytes it had seen but not read: counted in tail_status, /metrics and the log', async () => {
    const { log, data } = workDir('gap');
    // The last line has no newline yet: read, held back, never indexed (it may still grow).
    const partial = `${new Date(BASE_MS + 101).toISOString()} [INFO] request 101 was still being written`;
    writeFileSync(log, seqLines(1, 100) + partial);
    const args = ['--transport', 'http', '--source', log, '--data-dir', data];
    let srv: ServeProcess = await startServe(args);
    try {
      let client = await connectHttp(srv.url);
      await waitFor(async () => {
        const src = (await tailStatus(client)).sources[0]!;
        return src.lines_read === 100 && src.pending_bytes === partial.length && src.state === 'live' ? src : null;
      }, 20_000, async () => tailStatus(client));
      await client.close();
      expect(await srv.stop()).toBe(0);

      // Down: the file is rotated and deleted (logrotate's `rotate 0`), a new one is written.
      renameSync(log, `${log}.1`);
      unlinkSync(`${log}.1`);
      appendSeq(log, 201, 50);
      srv = await startServe(args);
      client = await connectHttp(srv.url);
      // The gap is counted once the file is confirmed gone (a second look, half a second on).
      const st = await waitFor(async () => {
        const t = await tailStatus(client);
        const src = t.sources[0] as unknown as { state: string; missed_files: number };
        return t.index.entries === 150 && src.state === 'live' && src.missed_files > 0 ? t : null;
      }, 20_000, async () => tailStatus(client));
      expect(st.sources[0]).toMatchObject({ missed_bytes: Buffer.byteLength(partial), missed_files: 1 });
      const metrics = await (await fetch(`${srv.base}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^log_triage_source_missed_bytes_total\\{source="app.log"\\} ${Buffer.byteLength(partial)}$`, 'm'));
      expect(metrics).toMatch(/^log_triage_source_missed_files_total\{source="app.log"\} 1$/m);
      const warning = srv.stderr().split('\n').find((l) => l.includes('cannot be indexed'));
      expect(warning, srv.stderr()).toBeDefined();
      expect(JSON.parse(warning!)).toMatchObject({ level: 40, source: 'app.log', bytes: Buffer.byteLength(partial), file: true });
      await client.close();
    } finally {
      expect(await srv.stop()).toBe(0);
    }
    expect(faults(await verdict([log], data, 201, 50))).toMatchObject({ written: 50, lost: 0, duplicated: 0 });
  });
});
