/**
 * What a stdio session loads before it needs it (issue 12, start-up), each measured on the
 * first-answer path (startup3 notes):
 *   - node:crypto only when something hashes (triage_confidence's signature ids, the incident
 *     view's CSP), not for find_nearest_log: requiring it cost 4-6 ms of every start;
 *   - the native CRC32C binding (@node-rs/crc32) only for a checksum of 1 KiB or more (the
 *     WAL's frames), not for the 256-byte file-head fingerprints of an --ephemeral session:
 *     its dlopen cost 11-28 ms.
 * The server records at exit (a --require'd script) the built-in modules it loaded and the
 * files it required; the sessions that hash or write a WAL show that the record sees both.
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
  [
    "process.on('exit', () => {",
    "  const fs = require('node:fs');",
    "  const out = process.env.LTM_MODULES_OUT;",
    "  fs.writeFileSync(out + '.tmp', [...process.moduleLoadList, ...Object.keys(require.cache)].join('\\n'));",
    "  fs.renameSync(out + '.tmp', out);", // whole, so the test never reads half of it
    '});',
  ].join('\n'),
);

/** The built-in modules a serve session loaded and the files it required, after `work` ran against it. */
async function modulesAfter(
  name: string,
  storage: string[],
  work: (call: (tool: string, args: Record<string, unknown>) => Promise<unknown>) => Promise<void>,
): Promise<string[]> {
  const out = join(dir, `${name}.txt`);
  const { client, close } = await connectStdio(['--source', log, ...storage], { NODE_OPTIONS: `--require ${preload}`, LTM_MODULES_OUT: out });
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

const nativeCrc = (loaded: string[]): boolean => loaded.some((f) => /@node-rs[\\/]crc32[\\/]/.test(f));

describe('stdio start-up loads neither node:crypto nor the native CRC32C binding', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('find_nearest_log --ephemeral leaves both unloaded; triage_confidence and a WAL load them', async () => {
    const at = '2024-01-15T10:02:00Z';
    const nearestOnly = await modulesAfter('nearest', ['--ephemeral'], async (call) => {
      const s = (await call('find_nearest_log', { timestamp: at })) as { status: string };
      expect(s.status).toBe('ok');
    });
    expect(nearestOnly.length).toBeGreaterThan(10);
    expect(nearestOnly).not.toContain('NativeModule crypto');
    expect(nativeCrc(nearestOnly)).toBe(false);

    // With a WAL (a data dir): its frames of 1 KiB and more go through the binding.
    const withTriage = await modulesAfter('triage', ['--data-dir', join(dir, 'data')], async (call) => {
      const s = (await call('triage_confidence', { timestamp: at })) as { decision: string };
      expect(typeof s.decision).toBe('string');
    });
    expect(withTriage).toContain('NativeModule crypto');
    expect(nativeCrc(withTriage)).toBe(true);
  }, 60_000);
});
