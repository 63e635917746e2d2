/**
 * The command line as a user meets it, run as real processes (issue 18: untested until now):
 * --help, `query` over files and over a data dir, `ingest` with its progress line, `status`,
 * the start-up checks on sources, `serve --runbooks` end to end with the catalog's limits,
 * --allowed-host, and `demo` (what `npm start` runs).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, connectStdio, rawRequest, requireBuilt, runCli, startServe, waitLive, writeSecondsLog } from '../helpers/cli.js';
import { DEADLINE_MS, waitFor } from '../helpers/ingest-stack.js';

const dir = mkdtempSync(join(tmpdir(), 'ltm-cli-'));
const log = join(dir, 'app.log');
const QUIET = { LOG_TRIAGE_LOG_LEVEL: 'warn' };

beforeAll(() => {
  requireBuilt();
  // One entry a second from 10:00:00Z, every 20th an ERROR ("event N").
  writeSecondsLog(log, 2000);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A usage error: exit code 2 and exactly one line on stderr, matching `message`. */
async function expectUsageError(args: string[], message: RegExp, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const r = await runCli(args, { ...QUIET, ...env });
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(r.stdout).toBe('');
}

describe('--help and --version', () => {
  it('print usage on stderr, per command, and exit 0; nothing on stdout', async () => {
    const all = await runCli(['--help']);
    expect(all.code).toBe(0);
    expect(all.stdout).toBe('');
    expect(all.stderr).toMatch(/^log-triage-mcp: find the log lines nearest/);
    expect(all.stderr).toContain('--source VALUE');
    const query = await runCli(['query', '--help']);
    expect(query.code).toBe(0);
    expect(query.stderr).toContain('-t, --timestamp VALUE');
    expect(query.stderr.split('options (')[1]).not.toContain('--fsync');
    const version = await runCli(['--version']);
    expect(version).toMatchObject({ code: 0, stderr: '' });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('query over files (in memory)', () => {
  it('prints the nearest entries as a table, ties earlier first, with context', async () => {
    const r = await runCli(['query', '--source', `app=${log}`, '-t', '2024-01-15T10:00:10.500Z', '-n', '2', '-C', '1'], QUIET);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ok: 2 entries nearest 2024-01-15T10:00:10\.500Z \(\d+ us\); coverage 2024-01-15T10:00:00\.000Z \.\. 2024-01-15T10:33:19\.000Z, 2000 entries$/);
    expect(lines[1]).toMatch(/^DISTANCE\s+TIMESTAMP\s+TAG\s+SOURCE:LINE\s+BODY$/);
    // 10.5 s sits exactly between events 10 and 11: the earlier one first.
    expect(lines.slice(2)).toEqual([
      expect.stringMatching(/\| 2024-01-15T10:00:09\.000Z \[INFO\] app:10 event 9$/),
      expect.stringMatching(/^-500\.000ms\s+2024-01-15T10:00:10\.000Z\s+INFO\s+app:11\s+event 10$/),
      expect.stringMatching(/\| 2024-01-15T10:00:11\.000Z \[INFO\] app:12 event 11$/),
      expect.stringMatching(/\| 2024-01-15T10:00:10\.000Z \[INFO\] app:11 event 10$/),
      expect.stringMatching(/^\+500\.000ms\s+2024-01-15T10:00:11\.000Z\s+INFO\s+app:12\s+event 11$/),
      expect.stringMatching(/\| 2024-01-15T10:00:12\.000Z \[INFO\] app:13 event 12$/),
    ]);
  });

  it('--json prints the tool\'s structured result; --tag, --direction and epoch milliseconds work', async () => {
    const r = await runCli(['query', '--source', log, '--timestamp', String(Date.parse('2024-01-15T10:00:41Z')), '--tag', 'error', '--direction', 'before', '--json'], QUIET);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { status: string; entries: { body: string; tag: string; distance_ms: number; source: string }[] };
    expect(s.status).toBe('ok');
    expect(s.entries).toEqual([expect.objectContaining({ body: 'event 40', tag: 'ERROR', distance_ms: -1000, source: 'app.log' })]);
  });

  it('a text filter the tool refuses is a usage error naming the flag (--field, not the tool\'s `fields`)', async () => {
    const t = '2024-01-15T10:00:41Z';
    await expectUsageError(['query', '--source', log, '-t', t, '--field', `k=${'a'.repeat(2000)}`], /^log-triage-mcp: --field: field 'k' needs a string value of at most/);
    await expectUsageError(['query', '--source', log, '-t', t, '--pattern', '(a'], /^log-triage-mcp: --pattern: /);
  });
});

describe('ingest, then query and status over the data dir', () => {
  const data = join(dir, 'data');

  it('ingest prints a progress line and a summary on stderr and exits 0', async () => {
    const r = await runCli(['ingest', '--source', `app=${log}`, '--data-dir', data], QUIET);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    // Not a terminal: whole lines, the last one at 100 %.
    const progress = r.stderr.split('\n').filter((l) => l.startsWith('['));
    expect(progress.at(-1)).toMatch(/^\[#{24}\] 100\.0%  2k lines  [\d.]+k? lines\/s  ETA <1s$/);
    expect(r.stderr).toMatch(new RegExp(`ingested 2000 new entries from 1 source\\(s\\) in [\\d.]+s; ${data.replace(/[/.]/g, '\\$&')} now holds 2000`));
    // A second run finds nothing new.
    const again = await runCli(['ingest', '--source', `app=${log}`, '--data-dir', data], QUIET);
    expect(again.stderr).toMatch(/ingested 0 new entries/);
  });

  it('query --data-dir and status --json read what ingest wrote', async () => {
    const q = await runCli(['query', '--data-dir', data, '-t', '2024-01-15T10:05:00Z', '--json'], QUIET);
    expect(q.code, q.stderr).toBe(0);
    expect((JSON.parse(q.stdout) as { entries: { body: string }[] }).entries.map((e) => e.body)).toEqual(['event 300']);
    const st = await runCli(['status', '--data-dir', data, '--json'], QUIET);
    expect(st.code, st.stderr).toBe(0);
    const json = JSON.parse(st.stdout) as { sources: { name: string; entries: number }[]; index: { entries: number }; wal: { enabled: boolean; unsynced_entries: number } };
    expect(json.sources).toEqual([expect.objectContaining({ name: 'app', entries: 2000 })]);
    expect(json.wal).toMatchObject({ enabled: true, unsynced_entries: 0 });
    const text = await runCli(['status', '--data-dir', data], QUIET);
    expect(text.stdout).toMatch(/app/);
    await expectUsageError(['status', '--data-dir', join(dir, 'no-data-here')], /holds no data yet/);
  });
});

describe('start-up checks on sources', () => {
  it('a directory or a path through a file is refused: exit 2, one line naming the source', async () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub, { recursive: true });
    for (const command of ['serve', 'ingest', 'query']) {
      const extra = command === 'query' ? ['-t', '2024-01-15T10:00:00Z'] : command === 'ingest' ? ['--ephemeral'] : [];
      await expectUsageError([command, '--source', sub, ...extra], new RegExp(`--source ${sub} is a directory; give a log file`));
      await expectUsageError([command, '--source', `${log}/x.log`, ...extra], /--source .*app\.log\/x\.log: cannot read it \(ENOTDIR\)/);
    }
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable file is refused: exit 2, one line (EACCES)', async () => {
    const locked = join(dir, 'locked.log');
    writeFileSync(locked, 'x\n');
    chmodSync(locked, 0o000);
    await expectUsageError(['serve', '--source', locked], /cannot read it \(EACCES\)/);
  });

  it('a bad option from the environment is refused like a flag', async () => {
    await expectUsageError(['serve', '--source', log], /^log-triage-mcp: --fsync 'sometimes' is not one of: batch, always, off$/, { LOG_TRIAGE_FSYNC: 'sometimes' });
    await expectUsageError(['serve', '--source', log, '--retention', '24'], /^log-triage-mcp: --retention '24' is not a duration/);
  });
});

describe('serve --runbooks, end to end', () => {
  const runbooks = join(dir, 'runbooks.yaml');
  beforeAll(() => {
    writeFileSync(runbooks, [
      'runbooks:',
      '  - id: events-failing',
      '    title: Event errors',
      '    match: { pattern: "^event \\\\d+0$" }',
      '    steps: ["Restart the event worker", "Check the queue depth"]',
      '    auto_execute: false',
    ].join('\n') + '\n');
  });

  it('serves the catalog as resources and uses it in triage_confidence', async () => {
    const { client, close } = await connectStdio(['--source', `app=${log}`, '--ephemeral', '--runbooks', runbooks]);
    try {
      await waitLive(client);
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.uri).filter((uri) => uri.startsWith('runbook://'))).toEqual(['runbook://events-failing']);
      const read = await client.readResource({ uri: 'runbook://events-failing' });
      expect(JSON.stringify(read.contents)).toContain('Restart the event worker');
      const r = await client.callTool({ name: 'triage_confidence', arguments: { timestamp: '2024-01-15T10:20:00Z' } });
      const s = r.structuredContent as { decision: string; runbook: { id: string; steps: string[]; auto_execute: boolean } | null };
      // Every 20th line is an ERROR "event N0": the runbook matches, and is manual.
      expect(s.runbook).toMatchObject({ id: 'events-failing', auto_execute: false, steps: ['Restart the event worker', 'Check the queue depth'] });
      expect(s.decision).toBe('escalate');
    } finally {
      await close();
    }
  });

  it('a catalog over its limits is refused at start-up: exit 2, one line naming the runbook and the field', async () => {
    const big = join(dir, 'big-runbooks.json');
    writeFileSync(big, JSON.stringify({ runbooks: [{ id: 'huge', title: 'Huge', match: { pattern: 'x' }, steps: Array.from({ length: 100 }, () => 's'.repeat(2000)) }] }));
    await expectUsageError(['serve', '--source', log, '--runbooks', big], /runbook 'huge' \(runbooks\[0\]\): steps: must total at most 8,192 bytes/);
    const many = join(dir, 'many-steps.json');
    writeFileSync(many, JSON.stringify({ runbooks: [{ id: 'many', title: 'Many', match: { pattern: 'x' }, steps: Array.from({ length: 101 }, () => 'step') }] }));
    await expectUsageError(['serve', '--source', log, '--runbooks', many], /runbook 'many' \(runbooks\[0\]\): steps: must list at most 100 steps/);
  });
});

describe('--allowed-host', () => {
  it('accepts the named Host (any port) besides the loopback names, and still refuses others', async () => {
    const srv = await startServe(['--transport', 'http', '--source', `app=${log}`, '--ephemeral', '--allowed-host', 'logs.example.com']);
    try {
      await waitFor(async () => (await fetch(`${srv.base}/healthz`)).status === 200);
      const named = await rawRequest(srv.base, { path: '/healthz', headers: { Host: 'logs.example.com:443' } });
      expect(named.status).toBe(200);
      expect(JSON.parse(named.body).status).toBe('ready');
      const other = await rawRequest(srv.base, { path: '/healthz', headers: { Host: 'evil.example.com' } });
      expect(other.status).toBe(403);
      expect(JSON.parse(other.body).error.message).toMatch(/Host 'evil\.example\.com' is not this server/);
    } finally {
      await srv.stop();
    }
    await expectUsageError(['serve', '--transport', 'http', '--source', log, '--allowed-host', 'https://logs.example.com'], /--allowed-host 'https:\/\/logs\.example\.com' must be a host name or address without port or scheme/);
  });
});

describe('demo (npm start)', () => {
  it('serves a live log over HTTP, prints a client config and real answers, and stops cleanly on Ctrl-C', async () => {
    const child = spawn(process.execPath, [CLI, 'demo', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => stdout.includes('the server stays up') || child.exitCode !== null, 4 * DEADLINE_MS, () => ({ stdout, stderr }));
      expect(stdout).toContain('the server stays up');
      const url = /serving MCP over Streamable HTTP at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stdout)?.[1];
      expect(url).toBeDefined();
      expect(stdout).toContain(JSON.stringify({ mcpServers: { 'log-triage': { type: 'http', url } } }, null, 2));
      expect(stdout).toMatch(/find_nearest_log \{.*"tag":"ERROR","count":3\}:\nfind_nearest_log \S+: ok, 3 entries/);
      expect(stdout).toMatch(/\[ERROR\] app:\d+ database query exceeded \d+s threshold/);
      expect(stdout).toMatch(/triage_confidence \{.*\}: auto_execute \(confidence 0\.\d+, runbook db-timeout\)/);
      const temp = /writing four minutes of history with an incident to (\S+)\/app\.log/.exec(stdout)![1]!;
      expect(existsSync(temp)).toBe(true);
      // It really serves: a client of our own gets an answer.
      const health = await fetch(url!.replace(/\/mcp$/, '/healthz'));
      expect(health.status).toBe(200);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stdout).toContain('stopping: writer, server, engine');
      expect(existsSync(temp)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 600_000);
});
