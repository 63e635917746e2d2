/**
 * The whole path with real processes: the built CLI serving over stdio follows a file that
 * does not exist yet while a separate writer process creates it, appends and rotates it;
 * an MCP client watches tail_status and queries find_nearest_log (issue 3, items 1 and 4).
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectStdio } from '../helpers/cli.js';
import { physicalLines, runWriter, sleep, waitFor } from '../helpers/ingest-stack.js';
import { BASE_MS, entryBody, entryLines } from '../helpers/seq-writer.mjs';

interface SourceJson {
  state: string;
  entries: number;
  lines_read: number;
  lines_per_sec: number;
  parse_errors: number;
  pending_bytes: number;
  rotations: number;
  last_entry_timestamp: string | null;
  last_parse_error?: { line: number; reason: string; text: string };
}

async function tailStatus(client: Client): Promise<{ source: SourceJson; text: string }> {
  const r = await client.callTool({ name: 'tail_status', arguments: {} });
  const s = r.structuredContent as { sources: SourceJson[] };
  return { source: s.sources[0]!, text: (r.content as { text: string }[])[0]!.text };
}

describe('serve over stdio while a writer process creates, appends to and rotates the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-stdio-live-'));
  const path = join(dir, 'app.log');
  let close: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports missing, then live with lines/s, rotations and every entry, and escapes the last bad line', async () => {
    const conn = await connectStdio(['--source', `app=${path}`, '--ephemeral']);
    close = conn.close;
    const { client } = conn;
    expect((await tailStatus(client)).source).toMatchObject({ state: 'missing', entries: 0, lines_read: 0, last_entry_timestamp: null });

    const states = new Set<string>();
    let maxRate = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { source } = await tailStatus(client);
        states.add(source.state);
        maxRate = Math.max(maxRate, source.lines_per_sec);
        await sleep(50);
      }
    })();
    const total = 1200;
    const result = await runWriter({ path, mode: 'rename', total, perTick: 4, intervalMs: 5, rotateEvery: 500, linger: 8 });
    sampling = false;
    await sampler;
    expect(result.rotations).toBe(2);
    expect(states.has('live')).toBe(true);
    expect(maxRate).toBeGreaterThan(0);

    let last: SourceJson | undefined;
    await waitFor(
      async () => {
        last = (await tailStatus(client)).source;
        return last.entries === total && last.state === 'live' && last.pending_bytes === 0 && last.rotations === 2;
      },
      undefined,
      () => last,
    );
    expect(last).toMatchObject({ lines_read: physicalLines(total), parse_errors: 0, last_entry_timestamp: new Date(BASE_MS + total - 1).toISOString() });

    // Entries on both sides of each rotation, with the line they have in their own file.
    for (const seq of [0, 499, 500, 507, 508, 999, 1000, 1199]) {
      const r = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: new Date(BASE_MS + seq).toISOString(), count: 1 } });
      const s = r.structuredContent as { status: string; entries: { body: string; line: number; distance_ms: number }[] };
      expect(s.entries[0], `seq ${seq}`).toMatchObject({ body: entryBody(seq).replace(/\n/g, '\\n'), line: result.lines[seq], distance_ms: 0 });
    }

    // One more entry and, in the same write, a broken line that continues it.
    const bad = '2024-01-15T99:00:00Z [ERROR] \u001b]0;pwned\u0007 injected';
    appendFileSync(path, `${entryLines(total).join('\n')}\n${bad}\n`);
    const badLine = result.lines[total - 1]! + entryLines(total - 1).length + entryLines(total).length;
    await waitFor(async () => (last = (await tailStatus(client)).source).parse_errors === 1, undefined, () => last);
    const { source, text } = await tailStatus(client);
    expect(source.last_parse_error).toEqual({
      line: badLine,
      reason: 'invalid timestamp; kept as a continuation of the entry above',
      text: '2024-01-15T99:00:00Z [ERROR] \\u001b]0;pwned\\u0007 injected',
    });
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(source.entries).toBe(total + 1);
  });
});
