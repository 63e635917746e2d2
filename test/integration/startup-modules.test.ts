/**
 * What a stdio session loads before it needs it (issue 12, start-up): node:crypto is loaded
 * only when something hashes (triage_confidence's signature ids, the incident view's CSP),
 * not by serving find_nearest_log. Requiring it cost 4-6 ms of every start (startup3 notes).
 * The server records the built-in modules it loaded at exit (a --require'd script); a second
 * session that does call triage_confidence shows the record does see node:crypto.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectStdio, waitLive, writeSecondsLog } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ltm-modules-'));
const log = join(dir, 'app.log');
const preload = join(dir, 'record-modules.cjs');
writeSecondsLog(log, 500);
writeFileSync(
  preload,
  "process.on('exit', () => require('node:fs').writeFileSync(process.env.LTM_MODULES_OUT, process.moduleLoadList.join('\\n')));\n",
);

/** The built-in modules a serve session loaded, after `work` ran against it. */
async function modulesAfter(name: string, work: (call: (tool: string, args: Record<string, unknown>) => Promise<unknown>) => Promise<void>): Promise<string[]> {
  const out = join(dir, `${name}.txt`);
  const { client, close } = await connectStdio(['--source', log, '--ephemeral'], { NODE_OPTIONS: `--require ${preload}`, LTM_MODULES_OUT: out });
  try {
    await waitLive(client);
    await work(async (tool, args) => {
      const r = await client.callTool({ name: tool, arguments: args });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      return r.structuredContent;
    });
  } finally {
    await close();
  }
  // The client's close ends stdin; the server writes the record as it exits.
  for (let i = 0; i < 400; i++) {
    try {
      return readFileSync(out, 'utf8').split('\n');
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`the server wrote no module record to ${out}`);
}

describe('stdio start-up loads no node:crypto', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('find_nearest_log leaves node:crypto unloaded; triage_confidence loads it', async () => {
    const at = '2024-01-15T10:02:00Z';
    const nearestOnly = await modulesAfter('nearest', async (call) => {
      const s = (await call('find_nearest_log', { timestamp: at })) as { status: string };
      expect(s.status).toBe('ok');
    });
    expect(nearestOnly.length).toBeGreaterThan(10);
    expect(nearestOnly).not.toContain('NativeModule crypto');

    const withTriage = await modulesAfter('triage', async (call) => {
      const s = (await call('triage_confidence', { timestamp: at })) as { decision: string };
      expect(typeof s.decision).toBe('string');
    });
    expect(withTriage).toContain('NativeModule crypto');
  }, 60_000);
});
