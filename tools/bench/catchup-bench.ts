/**
 * Catch-up of a big existing file: `log-triage-mcp ingest` (WAL off, and WAL on with the
 * default fsync policy) beside lnav loading the same file, alternating runs in one session.
 * Times are whole-process wall times: both sides pay their start-up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeLogFile } from '../../src/generate/index.js';
import { BENCH_START_MS } from './dataset.js';
import { CLI, timed } from './processes.js';
import { count, log, median, ratio, secs, table } from './table.js';

export interface CatchupRow {
  format: string;
  lines: number;
  bytes: number;
  walOff: number;
  walOn: number;
  lnav: number | null;
  lnavCount: number | null;
  note: string;
  /** Per-run times (s), for the spread. */
  offRuns: number[];
  onRuns: number[];
  lnavRuns: number[];
}

async function lnavLoad(file: string, home: string): Promise<{ ms: number; count: number } | null> {
  const r = await timed('lnav', ['-n', '-c', ';SELECT count(*) AS n FROM all_logs', file], { HOME: home });
  if (r.code !== 0) return null;
  const m = /(\d+)\s*$/.exec(r.stdout.trim());
  return { ms: r.ms, count: m ? Number(m[1]) : NaN };
}

export async function runCatchupBench(dir: string, lines: number, runs: number, format = 'iso-bracket'): Promise<CatchupRow> {
  const file = join(dir, format === 'iso-bracket' ? `catchup-${lines}.log` : `catchup-${lines}-${format}.log`);
  log(`catch-up bench: writing ${count(lines)} ${format} lines`);
  const stats = await writeLogFile(file, { lines, start: BENCH_START_MS, seed: 5, format });
  const home = mkdtempSync(join(dir, 'lnav-home-'));
  const off: number[] = [];
  const on: number[] = [];
  const lnav: number[] = [];
  let lnavCount: number | null = null;
  let note = '';
  // Warm the page cache once so no side pays for the first read from disk.
  await timed('cat', [file], {}, false);
  for (let run = 0; run < runs; run++) {
    log(`catch-up bench (${format}): run ${run + 1}/${runs}`);
    const l = await lnavLoad(file, home);
    if (l === null) note = 'lnav not found: apt-get install lnav';
    else {
      lnav.push(l.ms);
      lnavCount = l.count;
    }
    const a = await timed(process.execPath, [CLI, 'ingest', '--ephemeral', '--source', file, '--log-level', 'warn']);
    if (a.code !== 0) throw new Error(`ingest --ephemeral failed: ${a.stderr}`);
    off.push(a.ms);
    const dataDir = mkdtempSync(join(dir, 'catchup-data-'));
    const b = await timed(process.execPath, [CLI, 'ingest', '--source', file, '--data-dir', dataDir, '--log-level', 'warn']);
    if (b.code !== 0) throw new Error(`ingest with the WAL failed: ${b.stderr}`);
    on.push(b.ms);
    rmSync(dataDir, { recursive: true, force: true });
  }
  rmSync(home, { recursive: true, force: true });
  if (format !== 'iso-bracket') rmSync(file, { force: true });
  return {
    format, lines, bytes: stats.bytes, walOff: median(off) / 1000, walOn: median(on) / 1000,
    lnav: lnav.length > 0 ? median(lnav) / 1000 : null, lnavCount, note,
    offRuns: off.map((v) => v / 1000), onRuns: on.map((v) => v / 1000), lnavRuns: lnav.map((v) => v / 1000),
  };
}

const spread = (runs: number[]): string => (runs.length < 2 ? '' : ` (${Math.min(...runs).toFixed(2)}..${Math.max(...runs).toFixed(2)})`);

/** One table of catch-up per format: lnav, WAL off, WAL on, each median (min..max) of the runs. */
export function formatCatchupTable(rows: CatchupRow[]): string {
  return table(
    `Catch-up of ${count(rows[0]?.lines ?? 0)}-line files per format, median wall time (min..max) of ${rows[0]?.offRuns.length ?? 0} runs, shared machine`,
    ['format', 'MB', 'lnav 0.11 -n', 'ours WAL off', 'vs lnav', 'ours WAL on', 'vs lnav', 'lnav counted', 'target (WAL off)'],
    rows.map((r) => [
      r.format, (r.bytes / 1e6).toFixed(0),
      r.lnav === null ? r.note : secs(r.lnav) + spread(r.lnavRuns),
      secs(r.walOff) + spread(r.offRuns), r.lnav === null ? '-' : ratio(r.walOff / r.lnav),
      secs(r.walOn) + spread(r.onRuns), r.lnav === null ? '-' : ratio(r.walOn / r.lnav),
      r.lnavCount ?? '-', r.format === 'syslog' || r.format === 'combined' ? '<= 1.0x' : '-',
    ]),
  );
}

/** Ratio of each run to the lnav run beside it, as min..max (a target is judged on its worst run). */
function runRatios(ours: number[], lnav: number[]): string {
  const n = Math.min(ours.length, lnav.length);
  if (n < 2) return '';
  const r = Array.from({ length: n }, (_, i) => ours[i]! / lnav[i]!);
  return ` (${Math.min(...r).toFixed(2)}..${Math.max(...r).toFixed(2)})`;
}

export function catchupTable(r: CatchupRow): string {
  return table(
    `Catch-up of a ${count(r.lines)}-line file (${(r.bytes / 1e6).toFixed(0)} MB), median wall time (min..max) of ${r.offRuns.length} runs; vs lnav: ratio of the medians (min..max of the run-by-run ratios)`,
    ['what', 'time', 'lines/s', 'vs lnav', 'target'],
    [
      ['lnav 0.11 load (`lnav -n -c ";SELECT count(*) FROM all_logs"`)', r.lnav === null ? r.note : secs(r.lnav) + spread(r.lnavRuns), r.lnav === null ? '-' : `${((r.lines / r.lnav) / 1e6).toFixed(2)}M`, '1.00x', `counted ${r.lnavCount ?? '-'}`],
      ['ours, WAL off (`ingest --ephemeral`)', secs(r.walOff) + spread(r.offRuns), `${((r.lines / r.walOff) / 1e6).toFixed(2)}M`, r.lnav === null ? '-' : ratio(r.walOff / r.lnav) + runRatios(r.offRuns, r.lnavRuns), '<= 0.5x (issue 12)'],
      ['ours, WAL on, fsync batch (`ingest`)', secs(r.walOn) + spread(r.onRuns), `${((r.lines / r.walOn) / 1e6).toFixed(2)}M`, r.lnav === null ? '-' : ratio(r.walOn / r.lnav) + runRatios(r.onRuns, r.lnavRuns), '<= 0.7x (issue 12)'],
    ],
  );
}
