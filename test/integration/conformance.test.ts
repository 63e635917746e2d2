/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, pinned) against
 * `serve --transport http`. Only the server scenarios that apply to this server run: the others
 * call fixture tools, resources and prompts (test_simple_text, test://static-text...) that only
 * the suite's reference server has.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, startServe, writeSecondsLog } from '../helpers/cli.js';

const CONFORMANCE = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/conformance/dist/index.js', import.meta.url));

const SCENARIOS = [
  'server-initialize',
  'ping',
  'logging-set-level',
  'tools-list',
  'resources-list',
  'prompts-list',
  'server-sse-multiple-streams',
  'dns-rebinding-protection',
];

function runScenario(url: string, scenario: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CONFORMANCE, 'server', '--url', url, '--scenario', scenario], { timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, output: stdout + stderr });
    });
  });
}

describe('MCP conformance suite against --transport http', () => {
  let srv: ServeProcess;
  const results = new Map<string, Promise<{ code: number; output: string }>>();

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltm-conf-'));
    writeSecondsLog(join(dir, 'app.log'), 100);
    srv = await startServe(['--transport', 'http', '--source', `app=${join(dir, 'app.log')}`, '--ephemeral']);
    // The scenarios are independent clients, run two at a time: eight Node processes started
    // at once on a loaded 2-core machine took longer than a 30 s limit (issue 18). The deadline
    // is a failure bound only.
    const lanes: Promise<unknown>[] = [Promise.resolve(), Promise.resolve()];
    SCENARIOS.forEach((s, i) => {
      const run = lanes[i % lanes.length]!.then(() => runScenario(srv.url, s));
      results.set(s, run);
      lanes[i % lanes.length] = run;
    });
    await Promise.all(lanes);
  }, 600_000);
  afterAll(async () => srv?.stop());

  for (const scenario of SCENARIOS) {
    it(scenario, async () => {
      const { code, output } = await results.get(scenario)!;
      expect(output, output).toMatch(/Passed: \d+\/\d+, 0 failed/);
      expect(code, output).toBe(0);
    });
  }
});
