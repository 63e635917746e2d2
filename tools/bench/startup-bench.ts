/**
 * Start-up (issue 12): what a client pays every time it starts the server, each measured
 * RUNS times and shown as min / median / max, since a target is judged on the worst run.
 *
 *   --version                 spawn to exit, beside `node -e 0` (Node's own start)
 *   first answer              spawn of `serve --ephemeral` on the 3,900-entry sample log to
 *                             the first find_nearest_log answer covering all of it, over stdio
 *                             with the SDK client (initialize, initialized, tools/call)
 *   2M-line catch-up          spawn of `serve --ephemeral` to tail_status showing every entry
 *                             of a 2M-line file, beside lnav 0.11 loading the same file
 *
 * One unmeasured warm-up run of each first: the page cache and the client library are warm,
 * as for a client that starts the server again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { writeLogFile } from '../../src/generate/index.js';
import { BENCH_START_MS } from './dataset.js';
import { CLI, sources, timed } from './processes.js';
import { count, log, ms, ratio, showSpread, type Spread, spread, table } from './table.js';

export const SAMPLE_LOG = fileURLToPath(new URL('../../../test/fixtures/sample.log', import.meta.url));
const SAMPLE_ENTRIES = 3900;

export interface StartupRows {
  runs: number;
  nodeBare: Spread;
  version: Spread;
  firstAnswer: Spread;
  catchup: { lines: number; ours: Spread; lnav: Spread | null; ratio: Spread | null };
}

/** Spawns `serve` over stdio with the SDK client; the clock starts before the spawn. */
async function connect(args: string[]): Promise<{ client: Client; started: number }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', ...args],
    env: { ...(process.env as Record<string, string>), LOG_TRIAGE_LOG_LEVEL: 'warn' },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench-startup', version: '1.0.0' });
  const started = performance.now();
  await client.connect(transport);
  return { client, started };
}

async function firstAnswerMs(): Promise<number> {
  const { client, started } = await connect(['--ephemeral', '--source', SAMPLE_LOG]);
  try {
    for (;;) {
      const r = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: '2024-01-15T10:30:40Z' } });
      if (r.isError) throw new Error(`find_nearest_log failed: ${JSON.stringify(r.content)}`);
      const entries = (r.structuredContent as { coverage: { entries: number } }).coverage.entries;
      if (entries >= SAMPLE_ENTRIES) return performance.now() - started;
    }
  } finally {
    await client.close();
  }
}

async function catchupMs(file: string, lines: number): Promise<number> {
  const { client, started } = await connect(['--ephemeral', '--source', file]);
  try {
    for (;;) {
      const s = await sources(client);
      if (s.every((x) => x.state === 'live' && x.pending_bytes === 0 && x.entries >= lines)) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await client.close();
  }
}

async function lnavMs(file: string, home: string, lines: number): Promise<number | null> {
  const r = await timed('lnav', ['-n', '-c', ';SELECT count(*) AS n FROM all_logs', file], { HOME: home });
  if (r.code !== 0) return null;
  const n = Number(/(\d+)\s*$/.exec(r.stdout.trim())?.[1]);
  if (n !== lines) throw new Error(`lnav counted ${n} lines, expected ${lines}`);
  return r.ms;
}

async function repeat(runs: number, what: string, once: () => Promise<number>): Promise<number[]> {
  await once();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    log(`startup bench: ${what} ${i + 1}/${runs}`);
    out.push(await once());
  }
  return out;
}

async function exitMs(args: string[]): Promise<number> {
  const r = await timed(process.execPath, args);
  if (r.code !== 0) throw new Error(`node ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.ms;
}

export async function runStartupBench(dir: string, catchupLines: number, runs = 3): Promise<StartupRows> {
  const nodeBare = spread(await repeat(runs, 'node -e 0', () => exitMs(['-e', '0'])));
  const version = spread(await repeat(runs, '--version', () => exitMs([CLI, '--version'])));
  const firstAnswer = spread(await repeat(runs, 'first answer', firstAnswerMs));

  const file = join(dir, `startup-${catchupLines}.log`);
  log(`startup bench: writing ${count(catchupLines)} lines`);
  await writeLogFile(file, { lines: catchupLines, start: BENCH_START_MS, seed: 7 });
  const home = mkdtempSync(join(dir, 'lnav-home-'));
  // Alternating runs, so both sides see the same machine.
  const ours: number[] = [];
  const lnav: number[] = [];
  await catchupMs(file, catchupLines);
  await lnavMs(file, home, catchupLines);
  for (let i = 0; i < runs; i++) {
    log(`startup bench: ${count(catchupLines)}-line catch-up ${i + 1}/${runs}`);
    const l = await lnavMs(file, home, catchupLines);
    if (l !== null) lnav.push(l);
    ours.push(await catchupMs(file, catchupLines));
  }
  rmSync(home, { recursive: true, force: true });
  rmSync(file, { force: true });
  return {
    runs,
    nodeBare,
    version,
    firstAnswer,
    catchup: {
      lines: catchupLines,
      ours: spread(ours),
      lnav: lnav.length === runs ? spread(lnav) : null,
      ratio: lnav.length === runs ? spread(ours.map((o, i) => o / lnav[i]!)) : null,
    },
  };
}

export function startupTable(r: StartupRows): string {
  const c = r.catchup;
  return table(
    `Start-up, min / median / max of ${r.runs} runs (a target holds only if the max meets it)`,
    ['what', 'time', 'target'],
    [
      ['`node -e 0` (Node itself, for reference)', showSpread(r.nodeBare, ms), ''],
      ['`log-triage-mcp --version`', showSpread(r.version, ms), '<= 100 ms'],
      [`spawn to first find_nearest_log answer, ${SAMPLE_ENTRIES}-entry sample log, stdio, SDK client`, showSpread(r.firstAnswer, ms), '<= 200 ms'],
      [`lnav 0.11 load of a ${count(c.lines)}-line file (\`lnav -n\`)`, c.lnav === null ? 'lnav not found: apt-get install lnav' : showSpread(c.lnav, ms), ''],
      [`spawn to every entry indexed, same file, \`serve --ephemeral\` (WAL off)`, showSpread(c.ours, ms), ''],
      ['ours / lnav, run by run', c.ratio === null ? '-' : showSpread(c.ratio, ratio), '<= 1.0x'],
    ],
  );
}
