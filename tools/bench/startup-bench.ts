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
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { writeLogFile } from '../../src/generate/index.js';
import { BENCH_START_MS } from './dataset.js';
import { CLI, cpuMs, sources, timed, withCpuTime } from './processes.js';
import { count, log, ms, ratio, showSpread, type Spread, spread, table } from './table.js';

export const SAMPLE_LOG = fileURLToPath(new URL('../../../test/fixtures/sample.log', import.meta.url));
const SAMPLE_ENTRIES = 3900;
const QUERY_AT = '2024-01-15T10:30:40Z';

/** The line of the entry nearest to `at` in a `TIMESTAMP [TAG] ...` file, by brute force (ties: first). */
function nearestLine(file: string, at: string): number {
  const t = Date.parse(at);
  let best = { line: 0, d: Infinity };
  readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
    const m = /^(\S+Z) \[/.exec(text);
    const d = m ? Math.abs(Date.parse(m[1]!) - t) : NaN;
    if (d < best.d) best = { line: i + 1, d };
  });
  return best.line;
}

/** Wall time (what the target is about) and CPU time (user + system) of the same runs. */
export interface Timing {
  wall: Spread;
  cpu: Spread;
}

export interface StartupRows {
  runs: number;
  nodeBare: Timing;
  version: Timing;
  firstAnswer: Timing;
  catchup: { lines: number; ours: Timing; lnav: Timing | null; ratio: Spread | null; cpuRatio: Spread | null };
}

interface Run {
  ms: number;
  cpuMs: number;
}

/**
 * Spawns `serve` over stdio with the SDK client, runs `until` against it, and closes it; the
 * clock starts before the spawn and stops when `until` returns. CPU: the whole process.
 */
async function session(args: string[], until: (client: Client) => Promise<void>): Promise<Run> {
  const [command, wrapped] = withCpuTime(process.execPath, [CLI, 'serve', ...args]);
  const transport = new StdioClientTransport({
    command,
    args: wrapped,
    env: { ...(process.env as Record<string, string>), LOG_TRIAGE_LOG_LEVEL: 'warn' },
    stderr: 'pipe',
  });
  let stderr = '';
  const stderrDone = new Promise<void>((resolve) => {
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    transport.stderr?.on('end', resolve);
    transport.stderr?.on('close', resolve);
  });
  const client = new Client({ name: 'bench-startup', version: '1.0.0' });
  const started = performance.now();
  let ms: number;
  try {
    await client.connect(transport);
    await until(client);
    ms = performance.now() - started;
  } finally {
    await client.close();
  }
  await stderrDone;
  return { ms, cpuMs: cpuMs(stderr) };
}

function firstAnswer(expectedLine: number): Promise<Run> {
  return session(['--ephemeral', '--source', SAMPLE_LOG], async (client) => {
    for (;;) {
      const r = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: QUERY_AT } });
      if (r.isError) throw new Error(`find_nearest_log failed: ${JSON.stringify(r.content)}`);
      const s = r.structuredContent as { status: string; entries: { line: number }[] };
      // The first answer, checked against the file (a call before the file is read: "empty").
      if (s.status === 'ok') {
        if (s.entries[0]?.line !== expectedLine) throw new Error(`wrong first answer: ${JSON.stringify(s.entries[0])}, expected line ${expectedLine}`);
        return;
      }
    }
  });
}

function catchup(file: string, lines: number): Promise<Run> {
  return session(['--ephemeral', '--source', file], async (client) => {
    for (;;) {
      const s = await sources(client);
      if (s.every((x) => x.state === 'live' && x.pending_bytes === 0 && x.entries >= lines)) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  });
}

async function lnav(file: string, home: string, lines: number): Promise<Run | null> {
  const r = await timed('lnav', ['-n', '-c', ';SELECT count(*) AS n FROM all_logs', file], { HOME: home });
  if (r.code !== 0) return null;
  const n = Number(/(\d+)\s*$/.exec(r.stdout.trim())?.[1]);
  if (n !== lines) throw new Error(`lnav counted ${n} lines, expected ${lines}`);
  return r;
}

async function exit(args: string[]): Promise<Run> {
  const r = await timed(process.execPath, args);
  if (r.code !== 0) throw new Error(`node ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** One unmeasured warm-up run, then `runs` measured ones. */
async function repeat(runs: number, what: string, once: () => Promise<Run>): Promise<Timing> {
  await once();
  const out: Run[] = [];
  for (let i = 0; i < runs; i++) {
    log(`startup bench: ${what} ${i + 1}/${runs}`);
    out.push(await once());
  }
  return timing(out);
}

function timing(runs: Run[]): Timing {
  return { wall: spread(runs.map((r) => r.ms)), cpu: spread(runs.map((r) => r.cpuMs)) };
}

export async function runStartupBench(dir: string, catchupLines: number, runs = 3): Promise<StartupRows> {
  const nodeBare = await repeat(runs, 'node -e 0', () => exit(['-e', '0']));
  const version = await repeat(runs, '--version', () => exit([CLI, '--version']));
  const expectedLine = nearestLine(SAMPLE_LOG, QUERY_AT);
  const first = await repeat(runs, 'first answer', () => firstAnswer(expectedLine));

  const file = join(dir, `startup-${catchupLines}.log`);
  log(`startup bench: writing ${count(catchupLines)} lines`);
  await writeLogFile(file, { lines: catchupLines, start: BENCH_START_MS, seed: 7 });
  const home = mkdtempSync(join(dir, 'lnav-home-'));
  // Alternating runs, so both sides see the same machine.
  const ours: Run[] = [];
  const theirs: Run[] = [];
  await catchup(file, catchupLines);
  await lnav(file, home, catchupLines);
  for (let i = 0; i < runs; i++) {
    log(`startup bench: ${count(catchupLines)}-line catch-up ${i + 1}/${runs}`);
    const l = await lnav(file, home, catchupLines);
    if (l !== null) theirs.push(l);
    ours.push(await catchup(file, catchupLines));
  }
  rmSync(home, { recursive: true, force: true });
  rmSync(file, { force: true });
  const both = theirs.length === runs;
  return {
    runs,
    nodeBare,
    version,
    firstAnswer: first,
    catchup: {
      lines: catchupLines,
      ours: timing(ours),
      lnav: both ? timing(theirs) : null,
      ratio: both ? spread(ours.map((o, i) => o.ms / theirs[i]!.ms)) : null,
      cpuRatio: both ? spread(ours.map((o, i) => o.cpuMs / theirs[i]!.cpuMs)) : null,
    },
  };
}

export function startupTable(r: StartupRows): string {
  const c = r.catchup;
  const row = (what: string, t: Timing | null, target: string): string[] =>
    t === null ? [what, 'lnav not found: apt-get install lnav', '-', target] : [what, showSpread(t.wall, ms), showSpread(t.cpu, ms), target];
  return table(
    `Start-up, min / median / max of ${r.runs} runs after one warm-up (a target holds only if the max meets it)`,
    ['what', 'wall time', 'CPU (user + system)', 'target'],
    [
      row('`node -e 0` (Node itself, for reference)', r.nodeBare, ''),
      row('`log-triage-mcp --version`', r.version, '<= 100 ms'),
      row(`spawn to first find_nearest_log answer, ${SAMPLE_ENTRIES}-entry sample log, stdio, SDK client`, r.firstAnswer, '<= 200 ms'),
      row(`lnav 0.11 load of a ${count(c.lines)}-line file (\`lnav -n\`)`, c.lnav, ''),
      row('spawn to every entry indexed, same file, `serve --ephemeral` (WAL off)', c.ours, ''),
      ['ours / lnav, run by run', c.ratio === null ? '-' : showSpread(c.ratio, ratio), c.cpuRatio === null ? '-' : showSpread(c.cpuRatio, ratio), '<= 1.0x'],
    ],
  );
}
