/**
 * Issue 15's two measured items, printed as tables (run after `npm run build`):
 *
 *   node dist/tools/hostile-bench.js [--line-mib 200] [--runs 3]
 *
 * 1. Peak RSS of `query --source` on a file with one N MiB line, beside the same on a 3-line
 *    file (getrusage maxRSS of the child, through a preloaded exit hook), and its wall time.
 * 2. Worst match time of the probe's runbook patterns on the linear-time engine
 *    (src/text/safe-regex.ts), on the runbook bound (1,024 characters) and on 64 Ki.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSafeRegex } from '../src/text/safe-regex.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const LINE_MIB = opt('line-mib', 200);
const RUNS = opt('runs', 3);
const CLI = fileURLToPath(new URL('../bundle/cli.js', import.meta.url)); // what ships (dist/bundle)

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[], digits: number): string => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;

function measure(dir: string, file: string): { rssMiB: number; wallS: number } {
  const preload = join(dir, 'max-rss.cjs');
  writeFileSync(preload, `process.on('exit', () => { if (require('node:worker_threads').isMainThread) require('node:fs').writeFileSync(process.env.MAX_RSS_FILE, String(process.resourceUsage().maxRSS)); });`);
  const out = join(dir, 'rss');
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'query', '--source', file, '-t', '2024-01-15T10:30:45.123Z', '-n', '3', '--json'], {
    env: { ...process.env, NODE_OPTIONS: `--require ${preload}`, MAX_RSS_FILE: out },
  });
  if (r.status !== 0) throw new Error(`query failed: ${r.stderr.toString()}`);
  return { rssMiB: Number(readFileSync(out, 'utf8')) / 1024, wallS: (performance.now() - started) / 1000 };
}

const dir = mkdtempSync(join(tmpdir(), 'ltm-hostile-bench-'));
try {
  const small = join(dir, 'small.log');
  writeFileSync(small, '2024-01-15T10:30:44.000Z [INFO] before\n2024-01-15T10:30:45.123Z [ERROR] short\n2024-01-15T10:30:46.000Z [WARN] after\n');
  const long = join(dir, 'long.log');
  const fd = openSync(long, 'w');
  writeSync(fd, '2024-01-15T10:30:44.000Z [INFO] before\n2024-01-15T10:30:45.123Z [ERROR] ');
  const mib = Buffer.alloc(1 << 20, 'A');
  for (let i = 0; i < LINE_MIB; i++) writeSync(fd, mib);
  writeSync(fd, '\n2024-01-15T10:30:46.000Z [WARN] after\n');
  closeSync(fd);
  const rows: string[][] = [];
  for (const [label, file] of [['3-line file', small], [`one ${LINE_MIB} MiB line`, long]] as const) {
    const m = Array.from({ length: RUNS }, () => measure(dir, file));
    const rss = m.map((x) => x.rssMiB);
    const wall = m.map((x) => x.wallS);
    rows.push([label, `${median(rss).toFixed(0)} MiB`, `${spread(rss, 0)} MiB`, `${median(wall).toFixed(2)} s`, `${spread(wall, 2)} s`]);
  }
  console.log(`\n### query --source peak RSS (${RUNS} runs; default --max-line-bytes 1MiB)`);
  console.log('| file | peak RSS median | range | wall median | range |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n### Worst match time of hostile runbook patterns (linear-time engine; median of ${RUNS} runs of 20 calls)`);
console.log('| pattern | subject | per match median | range |\n|---|---|---|---|');
for (const pattern of ['(a|aa)+$', '(.*a){20}$', '(\\d|\\d\\d)+x', '(a+)+$', '(\\w+\\s?)*$']) {
  const re = compileSafeRegex(pattern);
  for (const [label, subject] of [['40 a + !', 'a'.repeat(40) + '!'], ['1,024 a + !', 'a'.repeat(1024) + '!'], ['1,024 digits + !', '1'.repeat(1024) + '!'], ['65,536 a + !', 'a'.repeat(65536) + '!']] as const) {
    re.test(subject); // warm-up: the first call compiles the engine's tables
    const runs = Array.from({ length: RUNS }, () => {
      const t = performance.now();
      for (let i = 0; i < 20; i++) re.test(subject);
      return ((performance.now() - t) / 20) * 1000;
    });
    console.log(`| \`${pattern}\` | ${label} | ${median(runs).toFixed(1)} us | ${spread(runs, 1)} us |`);
  }
}
