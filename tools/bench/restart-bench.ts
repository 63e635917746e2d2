/**
 * Restart to serving: a data dir holding N entries (written by `ingest`), then `serve` is
 * started on it and timed until its first find_nearest_log answer covering all N entries,
 * beside the time to ingest the same file from scratch. Resident memory per entry is the
 * serving process's RSS over that of a server with an empty data dir: bodies stay in the WAL
 * segments (read with pread, so the page cache holds them, not the process).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, rssBytes, serveStdio, timed } from './processes.js';
import { count, log, ms, ratio, showSpread, type Spread, spread, table } from './table.js';

export interface RestartRow {
  lines: number;
  /** `ingest` of the file into a fresh data dir, whole process, per run. */
  ingest: Spread;
  /** Process start to the first answer covering every entry, per run. */
  restart: Spread;
  /** The server's own time to open the data dir (checkpoint load, WAL open, tail replay). */
  open: Spread;
  /** ingest / restart of the same run (alternated, so both saw the same machine). */
  ratio: Spread;
  openRatio: Spread;
  rssPerEntry: number;
}

async function timeToFirstAnswer(args: string[], expectEntries: number): Promise<{ ms: number; rss: number; openMs: number }> {
  const started = performance.now();
  const served = await serveStdio(args, true);
  try {
    for (;;) {
      const r = await served.client.callTool({ name: 'find_nearest_log', arguments: { timestamp: '2024-01-15T10:00:05Z' } });
      const c = (r.structuredContent as { coverage: { entries: number } }).coverage;
      if (c.entries >= expectEntries) break;
      await new Promise((res) => setTimeout(res, 5));
    }
    const ms = performance.now() - started;
    (globalThis as { gc?: () => void }).gc?.();
    const opened = served.log().split('\n').find((l) => l.includes('"data dir opened"'));
    const openMs = opened === undefined ? NaN : Number((JSON.parse(opened) as { ms: number }).ms);
    return { ms, rss: rssBytes(served.pid), openMs };
  } finally {
    await served.close();
  }
}

export async function runRestartBench(dir: string, file: string, lines: number, runs = 3): Promise<RestartRow> {
  const ingests: number[] = [];
  const restarts: number[] = [];
  const opens: number[] = [];
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    const dataDir = mkdtempSync(join(dir, 'restart-data-'));
    log(`restart bench: run ${i + 1}/${runs}, ingesting ${count(lines)} lines with the WAL on`);
    const ing = await timed(process.execPath, [CLI, 'ingest', '--source', file, '--data-dir', dataDir, '--log-level', 'warn']);
    if (ing.code !== 0) throw new Error(`ingest failed: ${ing.stderr}`);
    ingests.push(ing.ms);
    // One unmeasured start first: the same page cache state a restarted service finds.
    await timeToFirstAnswer(['--source', file, '--data-dir', dataDir], lines);
    const r = await timeToFirstAnswer(['--source', file, '--data-dir', dataDir], lines);
    restarts.push(r.ms);
    opens.push(r.openMs);
    rss = r.rss;
    rmSync(dataDir, { recursive: true, force: true });
  }
  const emptyDir = mkdtempSync(join(dir, 'restart-empty-'));
  const emptyFile = join(emptyDir, 'empty.log');
  writeFileSync(emptyFile, '');
  const base = await timeToFirstAnswer(['--source', emptyFile, '--data-dir', join(emptyDir, 'data')], 0);
  rmSync(emptyDir, { recursive: true, force: true });
  return {
    lines,
    ingest: spread(ingests),
    restart: spread(restarts),
    open: spread(opens),
    ratio: spread(ingests.map((t, i) => t / restarts[i]!)),
    openRatio: spread(ingests.map((t, i) => t / opens[i]!)),
    rssPerEntry: (rss - base.rss) / lines,
  };
}

export function restartTable(r: RestartRow): string {
  return table(
    `Restart with ${count(r.lines)} entries in the data dir, min / median / max of ${r.restart.runs} runs`,
    ['what', 'value', 'target'],
    [
      ['restart to first answer (process start, module loading, data dir open, one find_nearest_log over stdio)', showSpread(r.restart, ms), '<= 1 s'],
      ['of which the data dir open (checkpoint load, WAL open and repair scan, tail replay)', showSpread(r.open, ms), ''],
      ['ingest the same file from scratch (`ingest`, WAL on, whole process)', showSpread(r.ingest, ms), ''],
      ['re-ingest / restart to first answer, run by run', showSpread(r.ratio, ratio), '>= 10x (the min counts)'],
      ['re-ingest / data dir open, run by run', showSpread(r.openRatio, ratio), '>= 10x'],
      ['resident memory per entry, bodies in WAL segments (RSS over an empty server)', `${r.rssPerEntry.toFixed(1)} bytes`, '<= 24 bytes'],
    ],
  );
}
