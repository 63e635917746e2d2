/**
 * Every format through a real server process (issue 10): one `serve` follows all fixtures at
 * once, detects each on its own, reports the format and its recognized share, and answers
 * find_nearest_log with the exact entry for every expected timestamp. Then a mixed-format
 * cross-source query, re-detection after a rotation to another format, an unrecognized file,
 * forced and custom formats, and the DST rule through the CLI (issue 15 item 16).
 */
import { appendFileSync, copyFileSync, mkdtempSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED, FIXTURE_MTIME, FIXTURE_TIMEZONE } from '../fixtures/formats/expected.js';
import { escapeLogText } from '../../src/text/untrusted.js';
import { connectStdio, runCli, waitLive } from '../helpers/cli.js';

interface Source { name: string; format: string; state: string; entries: number; parse_errors: number; recognized_share?: number; error?: string }
interface Entry { timestamp: string; tag: string; body: string; line: number; source: string; distance_ms: number }

async function status(client: Client): Promise<Source[]> {
  const r = await client.callTool({ name: 'tail_status', arguments: {} });
  return (r.structuredContent as { sources: Source[] }).sources;
}

async function nearest(client: Client, args: Record<string, unknown>): Promise<{ status: string; entries: Entry[] }> {
  const r = await client.callTool({ name: 'find_nearest_log', arguments: args });
  expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
  return r.structuredContent as { status: string; entries: Entry[] };
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('every format through a real server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-formats-'));
  const names = Object.keys(EXPECTED);
  let client: Client;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const args = ['--ephemeral', '--timezone', FIXTURE_TIMEZONE];
    for (const name of names) {
      const path = join(dir, `${name}.log`);
      copyFileSync(new URL(`../fixtures/formats/${name}.log`, import.meta.url), path);
      utimesSync(path, FIXTURE_MTIME / 1000, FIXTURE_MTIME / 1000);
      args.push('--source', `${name}=${path}`);
    }
    ({ client, close } = await connectStdio(args));
    await waitLive(client);
  }, 60_000);
  afterAll(async () => close?.());

  it('detects each source on its own and reports the recognized share', async () => {
    const sources = await status(client);
    expect(sources.map((s) => [s.name, s.format])).toEqual(names.map((n) => [n, n]));
    for (const s of sources) {
      expect(s.state, s.name).toBe('live');
      expect(s.entries, s.name).toBe(EXPECTED[s.name]!.entries.length);
      expect(s.parse_errors, s.name).toBe(EXPECTED[s.name]!.errors.length);
      expect(s.recognized_share, s.name).toBeGreaterThanOrEqual(0.5);
    }
  });

  it('answers find_nearest_log with the exact entry at every expected timestamp', async () => {
    let checked = 0;
    for (const name of names) {
      for (const [line, timestamp, tag, body] of EXPECTED[name]!.entries) {
        const r = await nearest(client, { timestamp, source: name, count: 1 });
        expect(r.status, `${name}:${line}`).toBe('ok');
        const e = r.entries[0]!;
        expect({ line: e.line, timestamp: e.timestamp, tag: e.tag, body: e.body, distance: e.distance_ms }, `${name}:${line}`).toEqual({
          line, timestamp, tag, body: escapeLogText(body), distance: 0,
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(120);
  });

  it('filters by a level that came from each format\'s own scale', async () => {
    const r = await nearest(client, { timestamp: '2024-02-29T12:00:00Z', tag: 'ERROR', count: 100, max_distance_ms: 6 * 3600_000 });
    const sources = new Set(r.entries.map((e) => e.source));
    // The leap-day entry is an ERROR in every format that has levels (redis has no error level).
    for (const name of names) if (!['redis', 'combined', 'clf'].includes(name) && EXPECTED[name]!.entries[0]![2] === 'ERROR') expect(sources.has(name), name).toBe(true);
  });
});

describe('several formats at once, rotation to another format, unrecognized files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-mixed-'));
  let client: Client;
  let close: () => Promise<void>;
  const files = {
    api: join(dir, 'api.log'),
    proxy: join(dir, 'access.log'),
    k8s: join(dir, 'kubelet.log'),
    host: join(dir, 'syslog'),
    notes: join(dir, 'notes.txt'),
  };

  beforeAll(async () => {
    // Times interleave across sources at 10:30:45.100, .200 ... so the order is known.
    writeFileSync(files.api, '{"level":50,"time":1705314645100,"msg":"pino a"}\n{"level":30,"time":1705314645400,"msg":"pino b"}\n');
    writeFileSync(files.proxy, '10.0.0.1 - - [15/Jan/2024:10:30:45 +0000] "GET / HTTP/1.1" 503 1 "-" "curl"\n');
    writeFileSync(files.k8s, 'E0115 10:30:45.300000    1 a.go:1] klog c\nI0115 10:30:45.600000    1 a.go:2] klog d\n');
    writeFileSync(files.host, 'Jan 15 10:30:46 web-1 app[1]: error: syslog e\n');
    writeFileSync(files.notes, Array.from({ length: 12 }, (_, i) => `Meeting notes, item ${i}: nothing that looks like a log.`).join('\n') + '\n');
    const mtime = Date.parse('2024-01-15T12:00:00Z') / 1000;
    for (const f of [files.k8s, files.host]) utimesSync(f, mtime, mtime);
    ({ client, close } = await connectStdio([
      '--ephemeral', '--source', `api=${files.api}`, '--source', `proxy=${files.proxy}`, '--source', `k8s=${files.k8s}`,
      '--source', `host=${files.host}`, '--source', `notes=${files.notes}`,
    ]));
    await until('the four logs indexed and notes in error', async () => {
      const s = await status(client);
      const ok = s.filter((x) => x.name !== 'notes').every((x) => x.state === 'live' && x.entries > 0);
      return ok && s.find((x) => x.name === 'notes')!.state === 'error' ? s : null;
    });
  }, 60_000);
  afterAll(async () => close?.());

  it('detects each source on its own', async () => {
    const s = await status(client);
    expect(Object.fromEntries(s.map((x) => [x.name, x.format]))).toEqual({ api: 'pino', proxy: 'combined', k8s: 'klog', host: 'syslog', notes: 'auto' });
  });

  it('answers a cross-source query in the right order', async () => {
    const r = await nearest(client, { timestamp: '2024-01-15T10:30:45.250Z', count: 6 });
    expect(r.entries.map((e) => `${e.source}:${e.distance_ms}`)).toEqual([
      'k8s:50', 'api:-150', 'api:150', 'proxy:-250', 'k8s:350', 'host:750',
    ]);
    expect(r.entries.map((e) => e.tag)).toEqual(['ERROR', 'ERROR', 'INFO', 'ERROR', 'INFO', 'ERROR']);
  });

  it('puts a file no format recognizes in error, saying how to force or define a format', async () => {
    const notes = (await status(client)).find((x) => x.name === 'notes')!;
    expect(notes.entries).toBe(0);
    expect(notes.error).toMatch(/no known format recognizes/);
    expect(notes.error).toMatch(/--format SOURCE=NAME/);
    expect(notes.error).toMatch(/formats: in the --config file/);
  });

  // The format belongs to each file, not to the source: the rotated file, still written to by
  // a logger that has not reopened its path, is read beside the new one (issue 9 item 4), each
  // with its own format (issue 10). One format per source parsed either with the other's.
  it('detects the format again after a rotation brings a file of another format, and keeps the old file\'s', async () => {
    renameSync(files.api, files.api + '.1');
    appendFileSync(files.api + '.1', '{"level":50,"time":1705314650000,"msg":"pino written after the rename"}\n');
    writeFileSync(files.api, '2024-01-15T10:31:00.000Z [WARN] text after the rotation\n');
    const s = await until('api re-detected, both files read', async () => {
      const api = (await status(client)).find((x) => x.name === 'api')!;
      return api.format === 'iso-bracket' && api.entries === 4 ? api : null;
    });
    expect(s.state).not.toBe('error');
    expect(s.parse_errors).toBe(0);
    const r = await nearest(client, { timestamp: '2024-01-15T10:31:00Z', source: 'api' });
    expect(r.entries[0]!.body).toBe('text after the rotation');
    expect(r.entries[0]!.tag).toBe('WARN');
    const old = await nearest(client, { timestamp: '2024-01-15T10:30:50Z', source: 'api' });
    expect(old.entries[0]!.distance_ms).toBe(0);
    expect(old.entries[0]!.tag).toBe('ERROR');
    expect(old.entries[0]!.body).toContain('pino written after the rename');
  });
});

describe('format options through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-format-cli-'));

  it('reads a time in the spring-forward gap as shifted forward (issue 15 item 16)', async () => {
    const file = join(dir, 'ny.log');
    writeFileSync(file, '2024-03-10 01:59:59.000 [INFO] before\n2024-03-10 02:30:00.000 [INFO] in the gap\n2024-03-10 03:00:01.000 [INFO] after\n');
    const r = await runCli(['query', '--source', file, '--timezone', 'America/New_York', '-t', '2024-03-10T07:30:00Z', '-n', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { entries: Entry[] };
    expect(s.entries.map((e) => [e.body, e.timestamp])).toEqual([
      ['in the gap', '2024-03-10T07:30:00.000Z'],
      ['after', '2024-03-10T07:00:01.000Z'],
      ['before', '2024-03-10T06:59:59.000Z'],
    ]);
  });

  it('forces a format per source with --format SOURCE=NAME and rejects unknown names and sources', async () => {
    const file = join(dir, 'epoch.log');
    writeFileSync(file, '1705314645.5 ERROR boom\n');
    const ok = await runCli(['query', '--source', `e=${file}`, '--format', 'e=epoch', '-t', '2024-01-15T10:30:45.5Z', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { entries: Entry[] }).entries[0]!.tag).toBe('ERROR');
    const badName = await runCli(['query', '--source', `e=${file}`, '--format', 'e=nope', '-t', '2024-01-15T10:30:45Z']);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/unknown format 'nope'; formats: auto, docker-json/);
    const badSource = await runCli(['query', '--source', `e=${file}`, '--format', 'x=pino', '-t', '2024-01-15T10:30:45Z']);
    expect(badSource.code).toBe(2);
    expect(badSource.stderr).toMatch(/no source is named 'x'; sources: e/);
  });

  it('uses a custom format from the config file, and refuses a bad one naming the format and field', async () => {
    const file = join(dir, 'billing.log');
    writeFileSync(file, '15.01.2024 10:30:45,250 +0100 <CRIT> ledger out of balance\n  at Ledger.close\n15.01.2024 10:30:46,000 +0100 <NOTE> ok\n');
    const config = join(dir, 'ltm.yaml');
    writeFileSync(config, [
      'formats:',
      '  billing:',
      "    regex: '^(?<timestamp>\\S+ \\S+ \\S+) <(?<level>\\w+)> (?<body>.*)$'",
      "    timestamp: '%d.%m.%Y %H:%M:%S,%f %z'",
      '    levels: { CRIT: FATAL, NOTE: INFO }',
      'format: { bill: billing }',
    ].join('\n') + '\n');
    const r = await runCli(['query', '--config', config, '--source', `bill=${file}`, '-t', '2024-01-15T09:30:45.250Z', '-n', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const e = (JSON.parse(r.stdout) as { entries: Entry[] }).entries;
    expect(e.map((x) => [x.timestamp, x.tag, x.body])).toEqual([
      ['2024-01-15T09:30:45.250Z', 'FATAL', 'ledger out of balance\\n  at Ledger.close'],
      ['2024-01-15T09:30:46.000Z', 'INFO', 'ok'],
    ]);
    for (const [def, field] of [
      ["    regex: '^(?<time>\\S+) (?<body>.*)$'\n    timestamp: '%s'", "format 'billing' regex: needs a named group \\(\\?<timestamp>"],
      ["    regex: '^(?<timestamp>(?=\\d)\\S+) (?<body>.*)$'\n    timestamp: '%s'", "format 'billing' regex: .*lookahead and lookbehind are not supported"],
      ["    regex: '^(?<timestamp>\\S+ (?<body>.*)$'\n    timestamp: '%s'", "format 'billing' regex"],
      ["    regex: '^(?<timestamp>\\S+) (?<body>.*)$'\n    timestamp: '%Y-%q'", "format 'billing' timestamp: '%Y-%q': unknown directive %q"],
    ] as const) {
      writeFileSync(config, `formats:\n  billing:\n${def}\n`);
      const bad = await runCli(['query', '--config', config, '--source', file, '-t', '2024-01-15T09:30:45Z']);
      expect(bad.code, def).toBe(2);
      expect(bad.stderr, def).toMatch(new RegExp(field));
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('detects a file whose first line alone is longer than the detection sample', async () => {
    const file = join(dir, 'long-first.log');
    writeFileSync(file, `2024-01-15T10:30:45.000Z [WARN] ${'x'.repeat(100_000)}\n2024-01-15T10:30:46.000Z [ERROR] short\n`);
    const r = await runCli(['query', '--source', file, '-t', '2024-01-15T10:30:46Z', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { entries: Entry[] }).entries[0]).toMatchObject({ tag: 'ERROR', body: 'short', line: 2 });
  });

  it('exits 2 naming a source no format recognizes (one-shot query)', async () => {
    const file = join(dir, 'prose.txt');
    writeFileSync(file, 'Dear team,\nthe build is green again.\nThanks!\n');
    const r = await runCli(['query', '--source', file, '-t', '2024-01-15T10:30:45Z']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--source ${file}: no known format recognizes`);
  });
});
