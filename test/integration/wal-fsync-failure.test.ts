/**
 * Issue 9 item 7: an fsync failure leaves the WAL failed until a restart, by design (a retried
 * fsync can report success for data the kernel dropped). The state must be impossible to miss.
 * A real `serve --transport http` process meets a real failing fsync: an LD_PRELOAD shim
 * (test/fixtures/fault/fail-fsync.c, built here with the system C compiler) makes fsync and
 * fdatasync fail with EIO once the test creates a trigger file. Then tail_status says so per
 * source with the error, /healthz answers 503 with the reason, /metrics has a gauge, the log
 * says what to do, queries keep working, and a restart recovers with nothing lost or repeated.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { appendSeq, BASE_MS, faults, nearest, requireBuilt, tailStatus, tempDir, verdict, waitFor } from '../helpers/crash.js';
import { connectHttp, startServe, type ServeProcess } from '../helpers/cli.js';

const SHIM_SOURCE = fileURLToPath(new URL('../fixtures/fault/fail-fsync.c', import.meta.url));
let shim = '';

beforeAll(() => {
  requireBuilt();
  const t = tempDir('shim');
  shim = join(t.dir, 'fail-fsync.so');
  // .ci/run installs a C compiler when the machine has none.
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, SHIM_SOURCE, '-ldl'], { stdio: 'pipe' });
});

interface TailJson {
  sources: { name: string; state: string; error?: string; lines_read: number; pending_bytes: number }[];
  wal: { failed: boolean; error?: string };
  index: { entries: number };
}

describe('a failed WAL fsync', () => {
  it('is reported by tail_status per source, /healthz (503), /metrics and the log; a restart recovers everything', { timeout: 120_000 }, async () => {
    const t = tempDir('fsync-fail');
    const log = join(t.dir, 'app.log');
    const data = join(t.dir, 'data');
    const trigger = join(t.dir, 'fail-now');
    const args = ['--transport', 'http', '--source', log, '--data-dir', data, '--fsync', 'always'];
    appendSeq(log, 1, 1_000);
    let srv: ServeProcess | null = await startServe(args, { LD_PRELOAD: shim, FSYNC_FAIL_WHEN: trigger });
    try {
      const client = await connectHttp(srv.url);
      await waitFor(async () => (await tailStatus(client)).index.entries === 1_000 || null, 20_000, async () => tailStatus(client));
      expect((await fetch(`${srv.base}/healthz`)).status).toBe(200);

      // The disk starts failing; more lines arrive.
      writeFileSync(trigger, '');
      appendSeq(log, 1_001, 1_000);
      const st = await waitFor(async () => {
        const s = (await tailStatus(client)) as unknown as TailJson;
        return s.wal.failed && s.sources[0]!.state === 'error' ? s : null;
      }, 20_000, async () => tailStatus(client));
      expect(st.wal.error).toMatch(/fsync failed \(EIO/);
      expect(st.sources[0]!.error).toMatch(/^the WAL failed and ingestion is stopped until log-triage-mcp is restarted: fsync failed \(EIO/);
      const text = (await client.callTool({ name: 'tail_status', arguments: {} })).content as { text: string }[];
      expect(text[0]!.text).toContain('wal: FAILED (fsync failed (EIO');

      const health = await fetch(`${srv.base}/healthz`);
      expect(health.status).toBe(503);
      const body = (await health.json()) as { status: string; reason: string; sources: { state: string; error: string }[] };
      expect(body.status).toBe('failed');
      expect(body.reason).toMatch(/fsync failed \(EIO.*restart the server/);
      expect(body.sources[0]).toMatchObject({ state: 'error' });

      const metrics = await (await fetch(`${srv.base}/metrics`)).text();
      expect(metrics).toMatch(/^log_triage_wal_failed 1$/m);
      expect(metrics).toMatch(/^log_triage_source_state\{source="app.log",state="error"\} 1$/m);

      const said = srv.stderr().split('\n').filter((l) => l.includes('WAL fsync failed'));
      expect(said).toHaveLength(1);
      expect(JSON.parse(said[0]!)).toMatchObject({ level: 50, msg: expect.stringMatching(/ingestion is stopped until log-triage-mcp is restarted.*then restart/) });

      // Queries keep working on what was indexed.
      expect(await nearest(client, BASE_MS + 500)).toEqual({ status: 'ok', bodies: [expect.stringMatching(/ seq=500$/)] });
      await client.close();
      // SIGTERM still shuts down cleanly, to its last line (the final checkpoint's fsync fails
      // too: logged, not fatal), rather than stalling in a pipeline that can apply nothing.
      expect(await srv.stop()).toBe(0);
      expect(srv.stderr()).toContain('"msg":"stopped"');
      // The source said it once for its whole failed life, rather than retrying (and logging)
      // every second.
      expect(srv.stderr().split('\n').filter((l) => l.includes('ingestion error')).length).toBeLessThanOrEqual(1);
      srv = null;

      // Disk fixed, server restarted: what reached the disk is kept, the rest is read again.
      unlinkSync(trigger);
      srv = await startServe(args);
      const again = await connectHttp(srv.url);
      await waitFor(async () => {
        const s = (await tailStatus(again)) as unknown as TailJson;
        return s.index.entries === 2_000 && s.sources[0]!.state === 'live' && s.sources[0]!.pending_bytes === 0 && !s.wal.failed ? s : null;
      }, 30_000, async () => tailStatus(again));
      expect((await fetch(`${srv.base}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${srv.base}/metrics`)).text()).toMatch(/^log_triage_wal_failed 0$/m);
      await again.close();
      expect(await srv.stop()).toBe(0);
      srv = null;
      expect(faults(await verdict([log], data, 1, 2_000))).toEqual({ written: 2_000, lost: 0, duplicated: 0, corrupt: 0, wrongLine: 0, samples: [] });
    } finally {
      await srv?.stop('SIGKILL');
      if (existsSync(trigger)) unlinkSync(trigger);
      t.cleanup();
    }
  });
});
