/**
 * Smoke test with the MCP Inspector's CLI mode (@modelcontextprotocol/inspector, pinned): a
 * client we did not write lists the tools and calls find_nearest_log, over stdio (the
 * inspector starts the server) and over Streamable HTTP.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type ServeProcess, startServe, writeSecondsLog } from '../helpers/cli.js';

const INSPECTOR = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/inspector/cli/build/cli.js', import.meta.url));

function inspect(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [INSPECTOR, '--cli', ...args], { timeout: 30_000, env: { ...process.env, LOG_TRIAGE_LOG_LEVEL: 'warn' } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

interface ToolList { tools: { name: string }[] }
interface CallResult { isError?: boolean; structuredContent: { query: { epoch_ms: number }; status: string; entries: { body: string }[] } }

describe('MCP Inspector --cli', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-insp-'));
  const file = join(dir, 'app.log');
  const serveArgs = ['serve', '--source', `app=${file}`, '--ephemeral'];
  let srv: ServeProcess;

  beforeAll(async () => {
    writeSecondsLog(file, 100);
    srv = await startServe(['--transport', 'http', ...serveArgs.slice(1)]);
    for (let i = 0; i < 200 && (await fetch(`${srv.base}/healthz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 25));
  });
  afterAll(async () => srv?.stop());

  it('lists the tools and calls find_nearest_log over stdio', async () => {
    const [list, call] = await Promise.all([
      inspect([process.execPath, CLI, ...serveArgs, '--method', 'tools/list']),
      inspect([process.execPath, CLI, ...serveArgs, '--method', 'tools/call', '--tool-name', 'find_nearest_log', '--tool-arg', 'timestamp=2024-01-15T10:00:10Z']),
    ]);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as ToolList).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['find_nearest_log', 'tail_status']));
    expect(call.code, call.stderr).toBe(0);
    const r = JSON.parse(call.stdout) as CallResult;
    expect(r.isError).toBeFalsy();
    // A freshly started server may not have read the file yet: the query itself is what counts.
    expect(r.structuredContent.query.epoch_ms).toBe(Date.parse('2024-01-15T10:00:10Z'));
    expect(['ok', 'empty', 'not_yet_ingested']).toContain(r.structuredContent.status);
  });

  it('lists the tools and calls find_nearest_log over Streamable HTTP', async () => {
    const [list, call] = await Promise.all([
      inspect([srv.url, '--transport', 'http', '--method', 'tools/list']),
      inspect([srv.url, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'find_nearest_log', '--tool-arg', 'timestamp=2024-01-15T10:00:10Z']),
    ]);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as ToolList).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['find_nearest_log', 'tail_status']));
    expect(call.code, call.stderr).toBe(0);
    const r = JSON.parse(call.stdout) as CallResult;
    expect(r.structuredContent.status).toBe('ok');
    expect(r.structuredContent.entries[0]!.body).toBe('event 10');
  });
});
