/**
 * Issue 16 through a real server over stdio, WAL on: find_nearest_log with contains, pattern
 * and fields, and related_log across sources, on three files whose bodies are plain text
 * with key=value pairs, JSON records and logfmt; an unfinished search says so; bad filters are
 * isError results naming the field; after a restart (checkpointed filters) the answers hold.
 * Then the same filters on files in three other formats (pino, logfmt, combined), detected.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectStdio, waitLive } from '../helpers/cli.js';

const START = Date.parse('2024-01-15T10:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

/** Three services, one entry per 100 ms each, offset so no two sources tie; a few needles. */
function writeFiles(dir: string): { app: string; api: string; worker: string } {
  const app: string[] = [];
  const api: string[] = [];
  const worker: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const t = START + i * 100;
    const tag = i % 50 === 0 ? 'ERROR' : 'INFO';
    let body = `GET /api/v1/items/${i} 200 ${i % 17}ms user=u-${i % 91}`;
    if (i === 1200) body = `POST /api/v1/orders 503 1200ms user=u-7 order=8812 request_id=req-77 Connection Refused by db-1`;
    if (i === 2500) body = `order 8812 shipped user=u-7`;
    app.push(`${iso(t)} [${tag}] ${body}`);
    const json = i === 1210
      ? { msg: 'upstream failed', request_id: 'req-77', status: 503, traceparent: `00-${TRACE}-00f067aa0ba902b7-01` }
      : { msg: 'handled', request_id: `req-${1000 + i}`, status: 200, path: `/v1/x/${i}` };
    api.push(`${iso(t + 7)} [${i === 1210 ? 'ERROR' : 'INFO'}] ${JSON.stringify(json)}`);
    const logfmt = i === 1190
      ? `level=warn msg="retrying payment" trace_id=${TRACE} attempt=2`
      : `level=info msg="job done" job=j-${i} took_ms=${i % 13}`;
    worker.push(`${iso(t + 13)} [${i === 1190 ? 'WARN' : 'INFO'}] ${logfmt}`);
  }
  const paths = { app: join(dir, 'app.log'), api: join(dir, 'api.log'), worker: join(dir, 'worker.log') };
  writeFileSync(paths.app, app.join('\n') + '\n');
  writeFileSync(paths.api, api.join('\n') + '\n');
  writeFileSync(paths.worker, worker.join('\n') + '\n');
  return paths;
}

type Entry = { body: string; source: string; line: number; timestamp: string; distance_ms: number; matches?: { filter: string; term: string; start: number; end: number }[] };
type Answer = { status: string; entries: Entry[]; searched?: { from: string; to: string; entries: number; bodies_read: number; complete: boolean } };

const T = iso(START + 1200 * 100);

describe('issue 16: text search and related_log through a real server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-i16-'));
  const paths = writeFiles(dir);
  // A time budget would make answers depend on the machine's load: these searches get a minute.
  const args = ['--scan-budget-ms', '60000', '--source', `app=${paths.app}`, '--source', `api=${paths.api}`, '--source', `worker=${paths.worker}`, '--data-dir', join(dir, 'data')];
  let client: Client;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ client, close } = await connectStdio(args));
    await waitLive(client);
  });
  afterAll(async () => close?.());

  const find = async (a: Record<string, unknown>): Promise<Answer> => {
    const r = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: T, ...a } });
    expect(r.isError).toBeFalsy();
    return r.structuredContent as Answer;
  };

  async function checkAnswers(): Promise<void> {
    // contains: every string must occur, ASCII case folded; highlights point into the body.
    const refused = await find({ timestamp: iso(START + 2000 * 100), contains: ['connection refused', 'ORDER=8812'] });
    expect(refused.status).toBe('ok');
    expect(refused.entries.map((e) => `${e.source}:${e.line}`)).toEqual(['app:1201']);
    for (const m of refused.entries[0]!.matches!) {
      expect(refused.entries[0]!.body.slice(m.start, m.end).toLowerCase()).toBe(m.term.toLowerCase());
    }
    expect(refused.searched!.complete).toBe(true);
    // case_sensitive: the same text in another case does not match.
    expect((await find({ contains: 'connection refused', case_sensitive: true })).status).toBe('no_match');
    // Nearest first across both directions, direction and count kept.
    const order = await find({ timestamp: iso(START + 2400 * 100), contains: '8812', count: 2 });
    expect(order.entries.map((e) => e.line)).toEqual([2501, 1201]);
    const before = await find({ timestamp: iso(START + 2400 * 100), contains: '8812', direction: 'before' });
    expect(before.entries.map((e) => e.line)).toEqual([1201]);
    // pattern, with tag and source.
    const pat = await find({ pattern: 'orders 5\\d\\d \\d+ms', tag: 'ERROR', source: 'app' });
    expect(pat.entries.map((e) => e.line)).toEqual([1201]);
    expect(pat.entries[0]!.matches![0]!.filter).toBe('pattern');
    // fields: JSON record bodies and key=value pairs in text.
    const json = await find({ fields: { request_id: 'req-77', status: 503 } });
    expect(json.entries.map((e) => `${e.source}:${e.line}`)).toEqual(['api:1211']);
    const kv = await find({ fields: { request_id: 'req-77' }, count: 5 });
    expect(kv.entries.map((e) => `${e.source}:${e.line}`)).toEqual(['app:1201', 'api:1211']);
    const logfmt = await find({ fields: { msg: 'retrying payment', attempt: '2' } });
    expect(logfmt.entries.map((e) => `${e.source}:${e.line}`)).toEqual(['worker:1191']);
    // max_distance_ms bounds the search, and the window says so.
    const far = await find({ timestamp: iso(START + 2400 * 100), contains: '8812', max_distance_ms: 5000, direction: 'before' });
    expect(far.status).toBe('no_match');
    expect(far.searched!.complete).toBe(true);
    // related_log: from the failing request in app to the api record (request_id) and, through
    // the api record's traceparent, to nothing else unless it shares an id: the worker line
    // shares the trace id with the api record, not an id of the origin.
    const rel = await client.callTool({ name: 'related_log', arguments: { source: 'app', line: 1201, window_s: 60 } });
    expect(rel.isError).toBeFalsy();
    const r = rel.structuredContent as { status: string; ids: { field: string; value: string }[]; entries: Entry[] };
    expect(r.ids).toEqual([{ field: 'request_id', value: 'req-77' }]);
    expect(r.entries.map((e) => `${e.source}:${e.line}`)).toEqual(['api:1211']);
    const byTrace = await client.callTool({ name: 'related_log', arguments: { source: 'api', line: 1211, window_s: 60 } });
    const b = byTrace.structuredContent as { ids: { value: string }[]; entries: Entry[] };
    expect(b.ids.map((i) => i.value)).toEqual(['req-77', TRACE, '00f067aa0ba902b7']);
    expect(b.entries.map((e) => `${e.source}:${e.line}`)).toEqual(['app:1201', 'worker:1191']);
    expect((byTrace.content as { text: string }[])[0]!.text).toContain('<<<LOG DATA');
  }

  it('finds text, patterns, fields and related entries across sources', async () => {
    await checkAnswers();
  });

  it('refuses bad filters with isError naming the field', async () => {
    const bad = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: T, pattern: '(a|b' } });
    expect(bad.isError).toBe(true);
    expect(JSON.stringify(bad.content)).toMatch(/pattern: missing closing \)/);
    const look = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: T, pattern: '(?=x)' } });
    expect(look.isError).toBe(true);
    expect(JSON.stringify(look.content)).toMatch(/pattern: .*lookahead/);
    const empty = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: T, contains: '' } });
    expect(empty.isError).toBe(true);
    expect(JSON.stringify(empty.content)).toMatch(/contains/);
    const line = await client.callTool({ name: 'related_log', arguments: { source: 'app', line: 999999 } });
    expect(line.isError).toBe(true);
    expect(JSON.stringify(line.content)).toMatch(/line: no entry starts at line 999999/);
    const src = await client.callTool({ name: 'related_log', arguments: { source: 'nope', line: 1 } });
    expect(src.isError).toBe(true);
    expect(JSON.stringify(src.content)).toMatch(/source: unknown source 'nope'/);
  });

  it('answers the same after a restart from the checkpoint', async () => {
    await close();
    ({ client, close } = await connectStdio(args));
    await waitLive(client);
    await checkAnswers();
  });

  it('an exhausted budget is reported, never a silent no_match', async () => {
    const small = await connectStdio([...args.slice(0, -2), '--ephemeral', '--scan-budget-entries', '50']);
    try {
      await waitLive(small.client);
      // 'handled' is in every api body: no block is skipped, 50 bodies are read, then it stops.
      const r = await small.client.callTool({ name: 'find_nearest_log', arguments: { timestamp: T, contains: 'handled', pattern: 'never-there' } });
      const s = r.structuredContent as Answer;
      expect(s.status).toBe('no_match');
      expect(s.searched!.complete).toBe(false);
      expect(s.searched!.bodies_read).toBe(50);
      expect(Date.parse(s.searched!.to) - Date.parse(s.searched!.from)).toBeLessThan(60_000);
      expect((r.content as { text: string }[])[0]!.text).toMatch(/search budget ran out/);
    } finally {
      await small.close();
    }
  });
});

/**
 * The same filters on the formats services write, each detected per source (--format auto):
 * pino JSON records (fields by name and by dotted path), logfmt lines (pattern and fields on
 * the key=value pairs) and an nginx/Apache combined access log (contains on the request line);
 * related_log follows a request id from the JSON record to the logfmt line.
 */
describe('issue 16: text filters on pino, logfmt and combined access logs, formats detected', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-i16f-'));
  const BASE = Date.parse('2024-01-15T10:00:00.000Z');
  const pino: string[] = [];
  const logfmt: string[] = [];
  const web: string[] = [];
  const clf = (ms: number): string => {
    const d = new Date(ms);
    const two = (n: number): string => String(n).padStart(2, '0');
    return `${two(d.getUTCDate())}/Jan/2024:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
  };
  for (let i = 0; i < 1000; i++) {
    const t = BASE + i * 1000;
    pino.push(JSON.stringify(
      i === 500
        ? { level: 50, time: t, pid: 7, hostname: 'web-1', msg: 'payment declined', request_id: 'req-pay-9', http: { status: 502 } }
        : { level: 30, time: t, pid: 7, hostname: 'web-1', msg: 'handled', request_id: `req-${i}`, http: { status: 200 } },
    ));
    logfmt.push(i === 505
      ? `time=${iso(t + 300)} level=error msg="charge failed" request_id=req-pay-9 amount=12.50`
      : `time=${iso(t + 300)} level=info msg="job done" job=j-${i} took_ms=${i % 13}`);
    web.push(i === 510
      ? `10.0.0.9 - - [${clf(t)}] "POST /checkout?cart=zq77 HTTP/1.1" 502 0 "-" "Mozilla/5.0"`
      : `10.0.0.${i % 250} - - [${clf(t)}] "GET /items/${i} HTTP/1.1" 200 ${i % 900} "-" "curl/8.4.0"`);
  }
  const files = { pino: join(dir, 'pino.log'), worker: join(dir, 'worker.log'), web: join(dir, 'access.log') };
  writeFileSync(files.pino, pino.join('\n') + '\n');
  writeFileSync(files.worker, logfmt.join('\n') + '\n');
  writeFileSync(files.web, web.join('\n') + '\n');
  const T5 = iso(BASE + 505_000);
  let client: Client;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ client, close } = await connectStdio([
      '--scan-budget-ms', '60000', '--source', `pino=${files.pino}`, '--source', `worker=${files.worker}`, '--source', `web=${files.web}`, '--ephemeral',
    ]));
    await waitLive(client);
  });
  afterAll(async () => close?.());

  const find = async (a: Record<string, unknown>): Promise<Answer> => {
    const r = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: T5, ...a } });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    return r.structuredContent as Answer;
  };
  const where = (a: Answer): string[] => a.entries.map((e) => `${e.source}:${e.line}`);

  it('each source is read in its own format', async () => {
    const r = await client.callTool({ name: 'tail_status', arguments: {} });
    const s = r.structuredContent as { sources: { name: string; format: string; entries: number }[] };
    expect(Object.fromEntries(s.sources.map((x) => [x.name, [x.format, x.entries]]))).toEqual({
      pino: ['pino', 1000], worker: ['logfmt', 1000], web: ['combined', 1000],
    });
  });

  it('contains, pattern and fields find the entries, nearest first, in every format', async () => {
    const checkout = await find({ contains: 'CHECKOUT?cart=zq77' });
    expect(where(checkout)).toEqual(['web:511']);
    const m = checkout.entries[0]!.matches![0]!;
    expect(checkout.entries[0]!.body.slice(m.start, m.end)).toBe('checkout?cart=zq77');
    expect(where(await find({ pattern: 'charge failed.*amount=\\d+\\.\\d\\d' }))).toEqual(['worker:506']);
    // The same request id in a JSON record (5 s before T) and a logfmt line (0.3 s after).
    expect(where(await find({ fields: { request_id: 'req-pay-9' }, count: 3 }))).toEqual(['worker:506', 'pino:501']);
    expect(where(await find({ fields: { 'http.status': 502 } }))).toEqual(['pino:501']);
    expect(where(await find({ fields: { status: '502' }, direction: 'before' }))).toEqual(['pino:501']);
    expect((await find({ contains: 'zq77', source: 'pino' })).status).toBe('no_match');
  });

  it('related_log follows the request id from the JSON record to the logfmt line', async () => {
    const rel = await client.callTool({ name: 'related_log', arguments: { source: 'pino', line: 501, window_s: 60 } });
    expect(rel.isError, JSON.stringify(rel.content)).toBeFalsy();
    const r = rel.structuredContent as { ids: { field: string; value: string }[]; entries: Entry[] };
    expect(r.ids).toEqual([{ field: 'request_id', value: 'req-pay-9' }]);
    expect(r.entries.map((e) => `${e.source}:${e.line}`)).toEqual(['worker:506']);
  });
});
