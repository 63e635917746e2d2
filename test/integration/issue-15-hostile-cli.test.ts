/**
 * Issue 15 (hostile input), the items a one-shot CLI run shows: each test runs the built CLI
 * as a real process with the probe's input and fails on the code before the fix.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, requireBuilt, runCli } from '../helpers/cli.js';

const MAX_RSS = fileURLToPath(new URL('../helpers/max-rss.cjs', import.meta.url));
const MiB = 1024 * 1024;

let dir: string;
let small: string;

beforeAll(() => {
  requireBuilt();
  dir = mkdtempSync(join(tmpdir(), 'ltm-hostile-cli-'));
  small = join(dir, 'small.log');
  writeFileSync(small, '2024-01-15T10:30:44.000Z [INFO] before\n2024-01-15T10:30:45.123Z [ERROR] short\n2024-01-15T10:30:46.000Z [WARN] after\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI and returns its peak RSS in bytes (from the preloaded max-rss.cjs). */
async function runMeasured(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; peak: number }> {
  const file = join(dir, `rss-${Math.random().toString(36).slice(2)}`);
  const r = await runCli(args, { NODE_OPTIONS: `--require ${MAX_RSS}`, MAX_RSS_FILE: file });
  return { ...r, peak: Number(readFileSync(file, 'utf8')) * 1024 };
}

/** A 200 MiB line (the probe's 50 MB, four times over) between two short ones. */
function writeLongLineLog(path: string, mib: number, trailer = true): void {
  const fd = openSync(path, 'w');
  writeSync(fd, '2024-01-15T10:30:44.000Z [INFO] before\n2024-01-15T10:30:45.123Z [ERROR] ');
  const chunk = Buffer.alloc(MiB, 'A');
  for (let i = 0; i < mib; i++) writeSync(fd, chunk);
  if (trailer) writeSync(fd, '\n2024-01-15T10:30:46.000Z [WARN] after\n');
  closeSync(fd);
}

describe('issue 15 item 1: a 200 MB line keeps memory flat', () => {
  it('query --source: kept up to the limit, answered, peak RSS within a small constant of a small file\'s', async () => {
    const long = join(dir, 'long.log');
    writeLongLineLog(long, 200);
    try {
      const base = await runMeasured(['query', '--source', small, '-t', '2024-01-15T10:30:45.123Z', '-n', '3', '--json']);
      expect(base.code, base.stderr).toBe(0);
      const r = await runMeasured(['query', '--source', long, '-t', '2024-01-15T10:30:45.123Z', '-n', '3', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { entries: { tag: string; body: string; truncated: boolean; line: number }[] };
      expect(out.entries.map((e) => [e.tag, e.line])).toEqual([['ERROR', 2], ['WARN', 3], ['INFO', 1]]);
      expect(out.entries[0]!.truncated).toBe(true);
      expect(out.entries[0]!.body).toMatch(/^A{2000,}$/);
      // Before the fix: 10 GB and 226 s for this file (a 1 MiB line limit keeps ~1 MiB).
      expect(r.peak - base.peak).toBeLessThan(64 * MiB);
    } finally {
      rmSync(long, { force: true });
    }
  });

  it('ingest: the long line is cut at --max-line-bytes and counted in status', async () => {
    const long = join(dir, 'long-ingest.log');
    writeLongLineLog(long, 20, false); // unterminated: the writer may still be on it
    const dataDir = join(dir, 'data-long');
    try {
      const r = await runMeasured(['ingest', '--source', `app=${long}`, '--data-dir', dataDir, '--max-line-bytes', '64KiB']);
      expect(r.code, r.stderr).toBe(0);
      const st = await runCli(['status', '--data-dir', dataDir, '--json']);
      const s = JSON.parse(st.stdout) as { sources: { entries: number; long_lines: number; long_line_bytes_skipped: number; bytes_read: number }[] };
      expect(s.sources[0]).toMatchObject({ entries: 2, long_lines: 1, bytes_read: 39 + 33 + 20 * MiB });
      // The ERROR line is "2024-...Z [ERROR] " (33 bytes) + 20 MiB of A: 64 KiB of it kept.
      expect(s.sources[0]!.long_line_bytes_skipped).toBe(33 + 20 * MiB - 64 * 1024);
      const q = await runCli(['query', '--data-dir', dataDir, '-t', '2024-01-15T10:30:45.123Z', '--json']);
      const out = JSON.parse(q.stdout) as { entries: { tag: string; truncated: boolean }[] };
      expect(out.entries[0]).toMatchObject({ tag: 'ERROR', truncated: true });
    } finally {
      rmSync(long, { force: true });
    }
  });
});

describe('issue 15 items 3 and 5: sources that are missing or not regular files', () => {
  it.each([
    ['query', ['query', '-t', '2024-01-15T10:30:45Z']],
    ['ingest', ['ingest', '--ephemeral']],
  ])('%s names a missing source and exits 2', async (_name, args) => {
    for (const source of [join(dir, 'missing.log'), 'my app=x.log', '=small.log']) {
      const r = await runCli([...args, '--source', source]);
      expect(r.code, `${source}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/does not exist/);
      expect(r.stdout).toBe('');
    }
  });

  it('a FIFO, /dev/zero or a piped /dev/stdin is refused at once, one line, exit 2 (query, ingest and serve)', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const args of [
      ['query', '-t', '2024-01-15T10:30:45Z', '--source', fifo],
      ['ingest', '--ephemeral', '--source', fifo],
      ['serve', '--ephemeral', '--source', fifo],
      ['ingest', '--ephemeral', '--source', '/dev/zero'],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ') + r.stderr).toBe(2);
      expect(r.stderr).toMatch(/is a (FIFO \(named pipe\)|character device); give a regular log file/);
    }
    const piped = spawnSync(process.execPath, [CLI, 'ingest', '--ephemeral', '--source', '/dev/stdin'], { input: 'x\n' });
    expect(piped.status).toBe(2);
    expect(piped.stderr.toString()).toMatch(/--source \/dev\/stdin is (a FIFO|a socket|a character device)/);
  }, 60_000);
});

describe('issue 15 items 8, 9, 11, 17: options and times are validated, one line, exit 2', () => {
  it.each([
    [['ingest', '--source', 'SMALL', '--config', 'CONFIG'], {}, /--ephemeral in .*'yes' is not a boolean; accepted: true, false, 1, 0/],
    [['ingest', '--source', 'SMALL'], { LOG_TRIAGE_EPHEMERAL: 'yes' }, /--ephemeral \(LOG_TRIAGE_EPHEMERAL\) 'yes' is not a boolean/],
    [['ingest', '--source', 'SMALL'], { LOG_TRIAGE_EPHEMERAL: 'on' }, /--ephemeral \(LOG_TRIAGE_EPHEMERAL\) 'on' is not a boolean/],
    [['query', '--source', 'SMALL', '-t', '9007199254740991'], {}, /--timestamp 9007199254740991 is out of range; accepted: epoch milliseconds from -8640000000000000 to 8640000000000000/],
    [['serve', '--transport', 'http', '--source', 'SMALL', '--auth-token', ''], {}, /--auth-token is empty/],
    [['serve', '--source', 'SMALL', '--port', '-1'], {}, /--port '-1' must be an integer from 0 to 65535/],
    [['serve', '--source', 'SMALL', '--retention', '-5m'], {}, /--retention '-5m' is not a duration/],
    [['query', '--source', 'SMALL', '--count', '-3', '-t', '2024-01-15T10:30:45Z'], {}, /--count '-3' must be an integer from 1 to 100/],
  ] as const)('%j %j', async (args, env, expected) => {
    const config = join(dir, 'yes.json');
    writeFileSync(config, JSON.stringify({ ephemeral: 'yes' }));
    const dataDir = join(dir, `dd-${Math.random().toString(36).slice(2)}`);
    const argv = args.map((a) => (a === 'SMALL' ? small : a === 'CONFIG' ? config : a));
    const r = await runCli([...argv, '--data-dir', dataDir], { ...env, XDG_STATE_HOME: join(dir, 'xdg') });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(expected);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('-t -1 (epoch -1 ms) is a timestamp, not an ambiguous option', async () => {
    const r = await runCli(['query', '--source', small, '-t', '-1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { query: { timestamp: string } }).query.timestamp).toBe('1969-12-31T23:59:59.999Z');
  });
});

describe('issue 15 item 10: status after a one-shot ingest reflects what was ingested', () => {
  it('shows the bytes, lines, parse errors and format ingest read', async () => {
    const log = join(dir, 'bad.log');
    const text = 'not a log line\nneither is this\n2024-01-15T10:30:44.000Z [INFO] a\n2024-01-15T10:30:45.000Z [ERROR] b\n';
    writeFileSync(log, text);
    const dataDir = join(dir, 'data-status');
    const ing = await runCli(['ingest', '--source', `app=${log}`, '--data-dir', dataDir]);
    expect(ing.code, ing.stderr).toBe(0);
    expect(ing.stderr).toMatch(/2 malformed lines \(see status\)/);
    const st = await runCli(['status', '--data-dir', dataDir, '--json']);
    const s = JSON.parse(st.stdout) as { sources: Record<string, unknown>[] };
    expect(s.sources[0]).toMatchObject({ name: 'app', format: 'iso-bracket', bytes_read: Buffer.byteLength(text), lines_read: 4, parse_errors: 2, entries: 2 });
    expect(s.sources[0]!.last_parse_error).toMatchObject({ line: 2, text: 'neither is this' });
  });
});
