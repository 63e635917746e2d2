/**
 * `npm run bench`: prints the rows of the performance targets (README, Benchmarks), ours beside the references measured in the
 * same run. Quote ratios: absolute times drift between machines and runs.
 *
 *   node dist/tools/bench/index.js [--quick | --full] [--only startup,query,stdio,catchup,live,restart,parse,formats,clickhouse,text]
 *
 *   default  start-up (--version, first answer, 2M-line catch-up beside lnav), query at
 *            1k/100k/1M/5M/10M, stdio at 1M, catch-up and restart at 10M lines,
 *            live lag at 11,667 and 116,670 lines/s (about 6 minutes)
 *   clickhouse  starts two local clickhouse-server shards: agent rows/s, nearest p50/p99 at
 *            10M rows beside the embedded store, line-to-queryable at 11,667 lines/s
 *   --quick  small sizes, for a smoke run (about a minute)
 *   --full   adds 42M entries (one production hour) and stdio at 10M (needs ~16 GB RAM)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type CatchupRow, catchupTable, formatCatchupTable, runCatchupBench } from './catchup-bench.js';
import { clickhouseTable, runClickHouseBench } from './clickhouse-bench.js';
import { parseTable, runParseBench } from './parse-bench.js';
import { liveTable, runLiveBench } from './live-bench.js';
import { memoryTable, queryTable, runQueryBench } from './query-bench.js';
import { restartTable, runRestartBench } from './restart-bench.js';
import { clickhouseSkipReason } from '../clickhouse-cluster.js';
import { runStartupBench, startupTable } from './startup-bench.js';
import { runStdioBench, stdioTable } from './stdio-bench.js';
import { runTextBench, textTable } from './text-bench.js';

const SECTIONS = ['startup', 'query', 'stdio', 'catchup', 'live', 'restart', 'parse', 'formats', 'clickhouse', 'text'];

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({ options: { quick: { type: 'boolean' }, full: { type: 'boolean' }, only: { type: 'string' }, dir: { type: 'string' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message.split('\n')[0]}\n`);
    process.exit(2);
  }
  const only = new Set((values.only ?? SECTIONS.join(',')).split(','));
  for (const s of only) if (!SECTIONS.includes(s)) {
    process.stderr.write(`bench: --only '${s}' is not one of ${SECTIONS.join(', ')}\n`);
    process.exit(2);
  }
  const quick = values.quick === true;
  const full = values.full === true;
  const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'ltm-bench-'));
  const out: string[] = [];
  const print = (s: string): void => {
    out.push(s);
    process.stdout.write(s + '\n');
  };
  print(`# log-triage-mcp bench, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  try {
    if (only.has('startup')) print(startupTable(await runStartupBench(dir, quick ? 500_000 : 2_000_000)));
    if (only.has('query')) {
      const sizes = quick ? [1_000, 100_000, 1_000_000] : full ? [1_000, 100_000, 1_000_000, 5_000_000, 10_000_000, 42_000_000] : [1_000, 100_000, 1_000_000, 5_000_000, 10_000_000];
      const rows = runQueryBench(sizes, new Set([1_000_000, 5_000_000]), quick ? 50_000 : 200_000);
      print(queryTable(rows));
      print(memoryTable(rows));
    }
    if (only.has('stdio')) {
      const rows = await runStdioBench(dir, quick ? 100_000 : 1_000_000, quick ? 500 : 3000);
      if (full) rows.push(...(await runStdioBench(dir, 10_000_000, 3000)));
      print(stdioTable(rows));
    }
    const catchupLines = quick ? 1_000_000 : 10_000_000;
    if (only.has('catchup') || only.has('restart')) {
      const row = await runCatchupBench(dir, catchupLines, quick ? 1 : 3);
      if (only.has('catchup')) print(catchupTable(row));
      if (only.has('restart')) print(restartTable(await runRestartBench(dir, join(dir, `catchup-${catchupLines}.log`), catchupLines)));
    }
    if (only.has('text')) {
      print(textTable(runTextBench(dir, quick ? 1_000_000 : 10_000_000, quick ? 50 : 200)));
    }
    if (only.has('parse')) {
      const runs = quick ? 3 : 5;
      print(parseTable(runParseBench(quick ? 100_000 : 400_000, runs), runs));
    }
    if (only.has('formats')) {
      // Catch-up of the formats the performance targets name (pino JSON, syslog 3164, combined access) beside lnav.
      const rows: CatchupRow[] = [];
      for (const format of ['iso-bracket', 'pino', 'syslog', 'combined']) rows.push(await runCatchupBench(dir, catchupLines, quick ? 1 : 3, format));
      print(formatCatchupTable(rows));
    }
    if (only.has('clickhouse')) {
      // Needs clickhouse-server (Debian's package); the section says so instead of failing.
      if (clickhouseSkipReason() !== null) print('ClickHouse store: skipped (clickhouse-server is not installed)');
      else print(clickhouseTable(await runClickHouseBench(dir, quick ? 1_000_000 : 10_000_000, quick ? 200 : 1000, quick ? 5 : 20)));
    }
    if (only.has('live')) {
      const seconds = quick ? 5 : 20;
      print(liveTable([await runLiveBench(dir, 11_667, seconds), await runLiveBench(dir, 116_670, seconds)]));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
