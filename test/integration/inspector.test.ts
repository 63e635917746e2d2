/**
 * Smoke test with the MCP Inspector's CLI mode (@modelcontextprotocol/inspector, pinned): a
 * client we did not write lists the tools and calls find_nearest_log, over stdio (the
 * inspector starts the server) and over Streamable HTTP. The stdio server opens a data dir
 * that `ingest` filled, so its first answer is known (a fresh server racing its own
 * catch-up could answer ok, empty or not_yet_ingested, and the test accepted all three).
 * Inspector runs go one at a time with a generous deadline: each starts two Node processes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, type ServeProcess, startServe, writeSecondsLog } from '../helpers/cli.js';
import { waitFor } from '../helpers/ingest-stack.js';

const INSPECTOR = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/inspector/cli/build/cli.js', import.meta.url));

function inspect(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [INSPECTOR, '--cli', ...args], { timeout: 120_000, env: { ...process.env, LOG_TRIAGE_LOG_LEVEL: 'warn' } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

interface ToolList { tools: { name: string }[] }
interface CallResult { isError?: boolean; structuredContent: { query: { epoch_ms: number }; status: string; entries: { body: string }[] } }

describe('MCP Inspector --cli', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-insp-'));
  const file = join(dir, 'app.log');
  const data = join(dir, 'data');
  const serveArgs = ['serve', '--source', `app=${file}`, '--data-dir', data];
  let srv: ServeProcess;

  beforeAll(async () => {
    writeSecondsLog(file, 100);
    const ingest = await runCli(['ingest', '--source', `app=${file}`, '--data-dir', data], { LOG_TRIAGE_LOG_LEVEL: 'warn' });
    expect(ingest.code, ingest.stderr).toBe(0);
    srv = await startServe(['--transport', 'http', '--source', `app=${file}`, '--ephemeral']);
    // /healthz turns 200 once the sources are read.
    await waitFor(async () => (await fetch(`${srv.base}/healthz`)).status === 200);
  }, 120_000);
  afterAll(async () => srv?.stop());

  async function listAndCall(target: string[]): Promise<void> {
    const list = await inspect([...target, '--method', 'tools/list']);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as ToolList).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['find_nearest_log', 'tail_status', 'triage_confidence']));
    const call = await inspect([...target, '--method', 'tools/call', '--tool-name', 'find_nearest_log', '--tool-arg', 'timestamp=2024-01-15T10:00:10Z']);
    expect(call.code, call.stderr).toBe(0);
    const r = JSON.parse(call.stdout) as CallResult;
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent.query.epoch_ms).toBe(Date.parse('2024-01-15T10:00:10Z'));
    expect(r.structuredContent.status).toBe('ok');
    expect(r.structuredContent.entries.map((e) => e.body)).toEqual(['event 10']);
  }

  it('lists the tools and calls find_nearest_log over stdio', async () => {
    await listAndCall([process.execPath, CLI, ...serveArgs]);
  }, 300_000);

  it('lists the tools and calls find_nearest_log over Streamable HTTP', async () => {
    await listAndCall([srv.url, '--transport', 'http']);
  }, 300_000);
});
