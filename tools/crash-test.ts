/**
 * tools/crash-test: proves exact resume with real processes and real files (issue 4).
 *
 * A live writer (the generator, every entry tagged `seq=<n>`) appends to a log at production
 * rate, optionally rotating it. `serve --source <log> --data-dir <dir>` (stdio, stdin held open
 * on a pipe) is killed with SIGKILL at random, seeded moments (some before its data dir is
 * open, some while it replays or catches up, some while it is live) and restarted, N times.
 * A share of the rounds is stopped with SIGTERM instead (and half of those SIGKILLed during
 * the shutdown), so checkpoints are written, loaded, and interrupted too. Then the writer
 * stops, the last server catches up (tail_status polled over MCP) and gets SIGTERM, and the
 * data dir is read back in-process and compared with the files (current and rotated):
 * every seq indexed exactly once, with the file's body, time, tag and line number.
 *
 *   node dist/tools/crash-test.js --rounds 10
 *   node dist/tools/crash-test.js --rounds 100 --rotate-bytes 16MiB --rotate-mode copytruncate
 *
 * Prints a summary table (or, with --json, one JSON object) on stdout; exit 0 when nothing
 * was lost, duplicated or corrupted, 1 otherwise, 2 on bad flags.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { parseBytes } from '../src/config.js';
import { DEFAULT_RATE, type LiveStats, type RotateOptions, startLiveWriter } from '../src/generate/index.js';
import { Prng } from '../src/generate/prng.js';
import { type Recovery, ServeProc } from './crash-test/serve-proc.js';
import { logFiles, scanFiles, type Verdict, verifyDataDir } from './crash-test/verify.js';

const CLI = fileURLToPath(new URL('../bundle/cli.js', import.meta.url));

const HELP = `Usage: node dist/tools/crash-test.js [options]

Kills \`serve\` with SIGKILL at random moments while a writer appends to its source, restarts
it, and at the end checks every line of the files was indexed exactly once and intact.

  --rounds N            kill/restart rounds (default 100)
  --seed N              seed of the kill moments, downtimes and log content (default 1)
  --rate N              lines per second the writer appends (default ${DEFAULT_RATE})
  --rotate-bytes SIZE   rotate the log at this size (default: no rotation); 16MiB = every
                        13 s at the default rate; 1MiB rotates it several times during
                        one outage (every file the server never saw must still be read)
  --rotate-mode M       rename (default) or copytruncate
  --min-up-ms N         earliest kill after a start (default 50)
  --max-up-ms N         latest kill after a start (default 3000)
  --max-down-ms N       longest pause before the restart (default 500)
  --up-from WHEN        spawn (default) or opened: count the up time from the process
                        start, or from its 'data dir opened' line (kills then land during
                        replay, catch-up or live reading on a machine of any speed; a
                        server that has not opened after 60 s is killed then)
  --sigterm-share F     share of rounds stopped with SIGTERM instead (default 0.1; half of
                        those get a SIGKILL during the shutdown)
  --fsync P             serve's --fsync: batch (default), always, off
  --segment-bytes SIZE  serve's --segment-bytes (default 8MiB, so segments get cut)
  --catch-up-s N        how long the last server may take to catch up (default 120)
  --dir D               work directory (default: a new temp dir)
  --keep                keep the work directory (it is always kept when the check fails)
  --json                print the report as one JSON object instead of the table
  -h, --help            this help

The work directory holds logs/ (the log and its rotated copies), data/ (the data dir) and
serve/round-N.log (each server's stderr), for a post-mortem when the check fails.
`;

export interface CrashTestOptions {
  rounds: number;
  seed: number;
  rate: number;
  rotate: RotateOptions | null;
  minUpMs: number;
  maxUpMs: number;
  /** Where the up time counts from: the spawn, or the data dir having opened. */
  upFrom: 'spawn' | 'opened';
  maxDownMs: number;
  sigtermShare: number;
  fsync: 'batch' | 'always' | 'off';
  segmentBytes: number;
  catchUpMs: number;
  dir: string | null;
  keep: boolean;
}

export const DEFAULTS: CrashTestOptions = {
  rounds: 100, seed: 1, rate: DEFAULT_RATE, rotate: null, minUpMs: 50, maxUpMs: 3000, upFrom: 'spawn', maxDownMs: 500,
  sigtermShare: 0.1, fsync: 'batch', segmentBytes: 8 << 20, catchUpMs: 120_000, dir: null, keep: false,
};

interface Round {
  upMs: number;
  stop: 'SIGKILL' | 'SIGTERM' | 'SIGTERM+SIGKILL';
  /** How far the server got before it was stopped. */
  phase: 'starting' | 'opened' | 'serving' | 'exited';
  recovery: Recovery | null;
  servingMs: number | null;
  exit: string;
}

export interface CrashReport {
  options: CrashTestOptions;
  dir: string;
  rounds: Round[];
  writer: Pick<LiveStats, 'entries' | 'bytes' | 'rotations' | 'firstSeq' | 'lastSeq'>;
  /** Server exits the test did not cause (crashes, refusals): each one is a failure. */
  unexpectedExits: string[];
  final: { caughtUp: boolean; catchUpMs: number; exit: string; rotationsSeen: number };
  verdict: Verdict;
  files: { count: number; lines: number; unparsable: number; fileDuplicates: number; outOfRange: number };
  seconds: number;
  ok: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function describeExit(e: { code: number | null; signal: NodeJS.Signals | null }): string {
  return e.signal !== null ? e.signal : `exit ${e.code}`;
}

/** Waits for the process to end, escalating to SIGKILL after a deadline. */
async function reap(p: ServeProc, deadlineMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }> {
  const timer = sleep(deadlineMs).then(() => 'timeout' as const);
  const r = await Promise.race([p.exited, timer]);
  if (r !== 'timeout') return { ...r, forced: false };
  p.signal('SIGKILL');
  return { ...(await p.exited), forced: true };
}

interface SourceJson {
  state: string;
  pending_bytes: number;
  bytes_read: number;
  file_bytes: number;
  entries: number;
  rotations: number;
  error?: string;
}

/**
 * Polls tail_status until the source read all of the (stopped) writer's file and indexed
 * what it read: live, nothing pending, read up to the file's size on disk, and either every
 * seq counted or the entry count steady for 2 s (a loss would otherwise wait forever).
 */
async function waitCaughtUp(client: Client, log: string, expected: number, timeoutMs: number): Promise<{ ok: boolean; rotations: number; last: SourceJson | null }> {
  const deadline = Date.now() + timeoutMs;
  let last: SourceJson | null = null;
  let steadySince = Date.now();
  for (;;) {
    const r = await client.callTool({ name: 'tail_status', arguments: {} });
    const src = (r.structuredContent as { sources: SourceJson[] }).sources[0] ?? null;
    if (src !== null) {
      if (last === null || src.entries !== last.entries) steadySince = Date.now();
      last = src;
      const size = existsSync(log) ? statSync(log).size : 0;
      const done = src.state === 'live' && src.pending_bytes === 0 && src.bytes_read === size && src.file_bytes === size;
      if (done && (src.entries >= expected || Date.now() - steadySince >= 2000)) return { ok: true, rotations: src.rotations, last };
    }
    if (Date.now() > deadline) return { ok: false, rotations: last?.rotations ?? 0, last };
    await sleep(100);
  }
}

export async function runCrashTest(options: Partial<CrashTestOptions> = {}, progress: (line: string) => void = () => undefined): Promise<CrashReport> {
  const o: CrashTestOptions = { ...DEFAULTS, ...options };
  const started = performance.now();
  const rng = new Prng(o.seed);
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'crash-test-'));
  mkdirSync(join(dir, 'logs'), { recursive: true });
  mkdirSync(join(dir, 'serve'), { recursive: true });
  const log = join(dir, 'logs', 'app.log');
  const dataDir = join(dir, 'data');
  const args = ['--source', log, '--data-dir', dataDir, '--fsync', o.fsync, '--segment-bytes', String(o.segmentBytes)];
  if (o.rotate !== null) {
    // The source is followed (registered in the data dir) before the log first rotates: rotated
    // files last written before a source was first followed are history it passes over, and
    // with small --rotate-bytes the first servers can be killed before they register it.
    writeFileSync(log, '');
    const reg = spawnSync(process.execPath, [CLI, 'ingest', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (reg.status !== 0) throw new Error(`registering the source failed: ${reg.stderr.toString()}`);
  }
  // keep: every rotated file stays, so the check can see every line ever written.
  const writer = startLiveWriter(log, {
    sequence: true, rate: o.rate, seed: o.seed, ...(o.rotate === null ? {} : { rotate: { keep: 1000, ...o.rotate } }),
  });
  const rounds: Round[] = [];
  const unexpectedExits: string[] = [];
  try {
    // The first server finds a file that already holds something.
    for (const deadline = Date.now() + 5000; !existsSync(log) && Date.now() < deadline; ) await sleep(10);
    for (let r = 0; r < o.rounds; r++) {
      const p = new ServeProc(CLI, args, join(dir, 'serve', `round-${r + 1}.log`));
      const upMs = rng.range(o.minUpMs, o.maxUpMs);
      const term = rng.float() < o.sigtermShare;
      const escalate = term && rng.float() < 0.5;
      const escalateMs = rng.range(0, 300);
      const downMs = rng.range(0, o.maxDownMs);
      // With --up-from opened the clock starts once the data dir is open (or 60 s have passed).
      if (o.upFrom === 'opened') await Promise.race([p.exited, p.waitFor('data dir opened'), sleep(60_000)]);
      const early = await Promise.race([p.exited, sleep(upMs).then(() => null)]);
      const round: Round = {
        upMs, stop: term ? (escalate ? 'SIGTERM+SIGKILL' : 'SIGTERM') : 'SIGKILL',
        phase: early !== null ? 'exited' : p.servingMs !== null ? 'serving' : p.recovery !== null ? 'opened' : 'starting',
        recovery: null, servingMs: null, exit: '',
      };
      if (early !== null) {
        unexpectedExits.push(`round ${r + 1}: serve ${describeExit(early)} on its own after ${Math.round(performance.now() - p.spawnedAt)} ms:\n${p.stderrTail()}`);
      } else {
        p.signal(term ? 'SIGTERM' : 'SIGKILL');
        if (escalate) void sleep(escalateMs).then(() => p.signal('SIGKILL'));
      }
      const e = await reap(p, 30_000);
      round.exit = describeExit(e) + (e.forced ? ' (forced after 30 s)' : '');
      // Before 'serving' the server has no signal handlers yet: SIGTERM ends it like a kill
      // (which is safe, and what this test checks). Once serving, it must exit 0.
      const graceful = round.phase === 'serving';
      if (term && !escalate && graceful && (e.forced || e.code !== 0)) unexpectedExits.push(`round ${r + 1}: SIGTERM gave ${round.exit}:\n${p.stderrTail()}`);
      round.recovery = p.recovery;
      round.servingMs = p.servingMs;
      rounds.push(round);
      progress(`round ${r + 1}/${o.rounds}: up ${upMs} ms${o.upFrom === 'opened' ? ' after open' : ''}, ${round.stop} while ${round.phase}` +
        (p.recovery === null ? '' : `, opened in ${Math.round(p.recovery.sinceSpawnMs)} ms (replayed ${p.recovery.replayedEntries}, ${p.recovery.entries} entries)`));
      await sleep(downMs);
    }

    // The last server: runs a moment with the writer, then catches up with the stopped writer.
    const p = new ServeProc(CLI, args, join(dir, 'serve', 'final.log'));
    const client = new Client({ name: 'crash-test', version: '1.0.0' });
    let final: CrashReport['final'];
    try {
      await client.connect(p.transport());
      await sleep(rng.range(500, 1500));
      const stats = await writer.stop();
      const expected = stats.lastSeq === null ? 0 : stats.lastSeq - stats.firstSeq! + 1;
      const catchUpStart = performance.now();
      const c = await waitCaughtUp(client, log, expected, o.catchUpMs);
      const catchUpMs = Math.round(performance.now() - catchUpStart);
      if (!c.ok) unexpectedExits.push(`final: not caught up after ${o.catchUpMs} ms: ${JSON.stringify(c.last)}`);
      await client.close();
      p.signal('SIGTERM');
      const e = await reap(p, 30_000);
      final = { caughtUp: c.ok, catchUpMs, exit: describeExit(e) + (e.forced ? ' (forced)' : ''), rotationsSeen: c.rotations };
      if (e.forced || e.code !== 0) unexpectedExits.push(`final: SIGTERM gave ${final.exit}:\n${p.stderrTail()}`);
    } catch (err) {
      p.signal('SIGKILL');
      await p.exited;
      throw new Error(`the last server failed: ${(err as Error).message}\n${p.stderrTail()}`);
    }

    const stats = await writer.stop();
    const firstSeq = stats.firstSeq ?? 1;
    const count = stats.lastSeq === null ? 0 : stats.lastSeq - firstSeq + 1;
    progress(`verifying ${count} seqs against ${dataDir}`);
    const ex = scanFiles(logFiles(log), firstSeq, count);
    const verdict = await verifyDataDir(dataDir, ex);
    const ok = verdict.lost === 0 && verdict.duplicated === 0 && verdict.corrupt === 0 && verdict.wrongLine === 0 &&
      verdict.missingFromFiles === 0 && ex.unparsable === 0 && ex.fileDuplicates === 0 && ex.outOfRange === 0 && unexpectedExits.length === 0;
    const report: CrashReport = {
      options: o, dir, rounds, unexpectedExits, final, verdict,
      writer: { entries: stats.entries, bytes: stats.bytes, rotations: stats.rotations, firstSeq: stats.firstSeq, lastSeq: stats.lastSeq },
      files: { count: ex.files.length, lines: ex.lines, unparsable: ex.unparsable, fileDuplicates: ex.fileDuplicates, outOfRange: ex.outOfRange },
      seconds: (performance.now() - started) / 1000,
      ok,
    };
    if (ok && !o.keep && o.dir === null) rmSync(dir, { recursive: true, force: true });
    return report;
  } finally {
    await writer.stop();
  }
}

function percentiles(values: number[]): string {
  if (values.length === 0) return '-';
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `min ${Math.round(s[0]!)}  p50 ${Math.round(at(0.5))}  p95 ${Math.round(at(0.95))}  max ${Math.round(s[s.length - 1]!)}`;
}

export function renderReport(r: CrashReport): string {
  const v = r.verdict;
  const opened = r.rounds.filter((x) => x.recovery !== null);
  const phases = ['starting', 'opened', 'serving', 'exited'].map((ph) => `${ph} ${r.rounds.filter((x) => x.phase === ph).length}`).join(', ');
  const stops = ['SIGKILL', 'SIGTERM', 'SIGTERM+SIGKILL'].map((s) => `${s} ${r.rounds.filter((x) => x.stop === s).length}`).join(', ');
  const rows: [string, string][] = [
    ['rounds', `${r.rounds.length} (${stops}); stopped while ${phases}`],
    ['writer', `${r.writer.entries} entries, ${(r.writer.bytes / 1e6).toFixed(1)} MB, seq ${r.writer.firstSeq}..${r.writer.lastSeq}, ${r.writer.rotations} rotations` +
      (r.options.rotate === null ? '' : ` (${r.options.rotate.mode ?? 'rename'} every ${r.options.rotate.everyBytes} bytes)`)],
    ['files', `${r.files.count} file(s), ${r.files.lines} lines, ${r.files.unparsable} unparsable`],
    ['written', String(v.written)],
    ['indexed', `${v.indexed} (${v.readBack} read back)`],
    ['lost', String(v.lost)],
    ['duplicated', String(v.duplicated)],
    ['corrupt', String(v.corrupt)],
    ['wrong line', String(v.wrongLine)],
    ['missing from files', String(v.missingFromFiles)],
    ['unexpected exits', String(r.unexpectedExits.length)],
    ['spawn -> data dir open', `${percentiles(opened.map((x) => x.recovery!.sinceSpawnMs))} ms (${opened.length} rounds)`],
    ['  of which recovery', `${percentiles(opened.map((x) => x.recovery!.ms))} ms`],
    ['  replayed entries', percentiles(opened.map((x) => x.recovery!.replayedEntries))],
    ['  from a checkpoint', `${opened.filter((x) => x.recovery!.checkpoint !== null).length} of ${opened.length} starts`],
    ['spawn -> serving', `${percentiles(r.rounds.flatMap((x) => (x.servingMs === null ? [] : [x.servingMs])))} ms`],
    ['final catch-up', `${r.final.caughtUp ? 'caught up' : 'NOT caught up'} in ${r.final.catchUpMs} ms, ${r.final.exit} on SIGTERM, ${r.final.rotationsSeen} rotations seen`],
    ['fsync / segment', `${r.options.fsync} / ${r.options.segmentBytes} bytes`],
    ['time', `${r.seconds.toFixed(1)} s`],
    ['result', r.ok ? 'PASS' : `FAIL (work dir kept: ${r.dir})`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, val]) => `${k.padEnd(w)}  ${val}`);
  for (const s of v.samples) lines.push(`  ${s}`);
  for (const e of r.unexpectedExits) lines.push(`  ${e.split('\n').slice(0, 8).join('\n    ')}`);
  return lines.join('\n') + '\n';
}

function fail(message: string): never {
  process.stderr.write(`crash-test: ${message}\n`);
  process.exit(2);
}

function int(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${flag} '${text}' must be an integer from ${min} to ${max}`);
  return n;
}

function parseOptions(argv: string[]): { options: CrashTestOptions; json: boolean } {
  let v;
  try {
    v = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        rounds: { type: 'string' }, seed: { type: 'string' }, rate: { type: 'string' }, 'rotate-bytes': { type: 'string' },
        'rotate-mode': { type: 'string' }, 'min-up-ms': { type: 'string' }, 'max-up-ms': { type: 'string' },
        'max-down-ms': { type: 'string' }, 'up-from': { type: 'string' }, 'sigterm-share': { type: 'string' }, fsync: { type: 'string' },
        'segment-bytes': { type: 'string' }, 'catch-up-s': { type: 'string' }, dir: { type: 'string' },
        keep: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    fail(`${(err as Error).message.split('\n')[0]}; see --help`);
  }
  if (v.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const size = (flag: string, text: string): number => {
    try {
      return parseBytes(flag, text);
    } catch (err) {
      fail((err as Error).message);
    }
  };
  const mode = v['rotate-mode'] ?? 'rename';
  if (mode !== 'rename' && mode !== 'copytruncate') fail(`--rotate-mode '${mode}' must be rename or copytruncate`);
  if (v['rotate-mode'] !== undefined && v['rotate-bytes'] === undefined) fail('--rotate-mode needs --rotate-bytes');
  const fsync = v.fsync ?? 'batch';
  if (fsync !== 'batch' && fsync !== 'always' && fsync !== 'off') fail(`--fsync '${fsync}' must be batch, always or off`);
  const share = v['sigterm-share'] === undefined ? DEFAULTS.sigtermShare : Number(v['sigterm-share']);
  if (!(share >= 0 && share <= 1)) fail(`--sigterm-share '${v['sigterm-share']}' must be a number from 0 to 1`);
  const minUp = int('min-up-ms', v['min-up-ms'], DEFAULTS.minUpMs, 0, 600_000);
  const upFrom = v['up-from'] ?? DEFAULTS.upFrom;
  if (upFrom !== 'spawn' && upFrom !== 'opened') fail(`--up-from '${upFrom}' must be spawn or opened`);
  const options: CrashTestOptions = {
    rounds: int('rounds', v.rounds, DEFAULTS.rounds, 0, 100_000),
    seed: int('seed', v.seed, DEFAULTS.seed, 0, 0xffff_ffff),
    rate: int('rate', v.rate, DEFAULTS.rate, 1, 1_000_000),
    rotate: v['rotate-bytes'] === undefined ? null : { everyBytes: size('rotate-bytes', v['rotate-bytes']), mode },
    minUpMs: minUp,
    maxUpMs: int('max-up-ms', v['max-up-ms'], Math.max(minUp, DEFAULTS.maxUpMs), minUp, 600_000),
    upFrom,
    maxDownMs: int('max-down-ms', v['max-down-ms'], DEFAULTS.maxDownMs, 0, 600_000),
    sigtermShare: share,
    fsync,
    segmentBytes: v['segment-bytes'] === undefined ? DEFAULTS.segmentBytes : size('segment-bytes', v['segment-bytes']),
    catchUpMs: int('catch-up-s', v['catch-up-s'], DEFAULTS.catchUpMs / 1000, 1, 3600) * 1000,
    dir: v.dir ?? null,
    keep: v.keep === true,
  };
  return { options, json: v.json === true };
}

async function main(argv: string[]): Promise<number> {
  const { options, json } = parseOptions(argv);
  if (!existsSync(CLI)) fail(`${CLI} is missing: run npm run build first`);
  const report = await runCrashTest(options, (line) => process.stderr.write(line + '\n'));
  process.stdout.write(json ? JSON.stringify(report) + '\n' : renderReport(report));
  if (json) process.stderr.write(renderReport(report));
  return report.ok ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`crash-test: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
