/**
 * tools/test-repeat: runs test files N times in a row and reports failures per test, to
 * prove the suite stable (issue 9) or to catch a flaky test in the act.
 *
 *   npm run test:repeat -- 20 test/integration
 *   npm run test:repeat -- 10 test/integration/follow-rotation.test.ts --json
 *
 * Each run is one `vitest run <files>` (its JSON report read back). Prints one line per run
 * on stderr, then a table of every test that failed at least once (runs, failures, the first
 * line of the first failure), and the totals. Exit 0 when nothing failed, 1 otherwise, 2 on
 * bad arguments.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const HELP = `Usage: npm run test:repeat -- N <test files or folders...> [--json]

Runs the given test files N times in a row (one vitest run each) and reports, per test, how
many runs it failed in. Exit 0 when no test failed in any run.`;

interface TestTally {
  runs: number;
  failures: number;
  firstFailure: string;
  /** Which runs (1-based) it failed in. */
  failedRuns: number[];
}

interface VitestReport {
  numTotalTests: number;
  numFailedTests: number;
  testResults: { name: string; status: string; message?: string; assertionResults: { fullName: string; status: string; failureMessages?: string[] }[] }[];
}

/** Runs vitest once; the report, or null with the reason when there was none. */
function runOnce(files: readonly string[], out: string): { report: VitestReport | null; ms: number; error: string } {
  const started = Date.now();
  rmSync(out, { force: true });
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...files, '--reporter=json', `--outputFile=${out}`], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Date.now() - started;
  try {
    return { report: JSON.parse(readFileSync(out, 'utf8')) as VitestReport, ms, error: '' };
  } catch {
    return { report: null, ms, error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-5).join(' | ') };
  }
}

function firstLine(text: string | undefined): string {
  return (text ?? '').replace(/\u001b\[[0-9;]*m/g, '').trim().split('\n')[0]!.slice(0, 160);
}

function main(): number {
  let parsed;
  try {
    parsed = parseArgs({ options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  } catch (err) {
    process.stderr.write(`test:repeat: ${(err as Error).message}\n`);
    return 2;
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const [count, ...files] = parsed.positionals;
  const n = Number(count);
  if (count === undefined || !Number.isInteger(n) || n < 1) {
    process.stderr.write(`test:repeat: the first argument is the number of runs, a positive integer (got ${count === undefined ? 'nothing' : `'${count}'`})\n`);
    return 2;
  }
  if (files.length === 0) {
    process.stderr.write('test:repeat: name the test files or folders to run after the count\n');
    return 2;
  }

  const dir = mkdtempSync(join(tmpdir(), 'ltm-repeat-'));
  const tallies = new Map<string, TestTally>();
  const runs: { run: number; ms: number; tests: number; failed: number; error: string }[] = [];
  try {
    for (let run = 1; run <= n; run++) {
      const { report, ms, error } = runOnce(files, join(dir, `run-${run}.json`));
      if (report === null) {
        // No report at all (vitest itself failed): counted against the whole run.
        const t = tallies.get('(vitest run)') ?? { runs: 0, failures: 0, firstFailure: error, failedRuns: [] };
        t.runs++;
        t.failures++;
        t.failedRuns.push(run);
        tallies.set('(vitest run)', t);
        runs.push({ run, ms, tests: 0, failed: 1, error });
        process.stderr.write(`run ${run}/${n}: no report (${error})\n`);
        continue;
      }
      let failed = 0;
      for (const file of report.testResults) {
        const short = file.name.startsWith(ROOT) ? file.name.slice(ROOT.length) : file.name;
        // A file that failed outside any test (import error, a failing hook) has a message.
        const entries: { key: string; failed: boolean; message: string | undefined }[] = file.assertionResults.map((a) => ({
          key: `${short} > ${a.fullName}`,
          failed: a.status === 'failed',
          message: a.failureMessages?.[0],
        }));
        if (file.status === 'failed' && file.assertionResults.every((a) => a.status !== 'failed')) {
          entries.push({ key: `${short} (outside a test)`, failed: true, message: file.message });
        }
        for (const e of entries) {
          const t = tallies.get(e.key) ?? { runs: 0, failures: 0, firstFailure: '', failedRuns: [] };
          t.runs++;
          if (e.failed) {
            t.failures++;
            t.failedRuns.push(run);
            if (t.firstFailure === '') t.firstFailure = firstLine(e.message);
            failed++;
          }
          tallies.set(e.key, t);
        }
      }
      runs.push({ run, ms, tests: report.numTotalTests, failed, error: '' });
      process.stderr.write(`run ${run}/${n}: ${report.numTotalTests} tests, ${failed} failed, ${(ms / 1000).toFixed(0)} s\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const failing = [...tallies].filter(([, t]) => t.failures > 0).sort((a, b) => b[1].failures - a[1].failures);
  const totalFailures = failing.reduce((s, [, t]) => s + t.failures, 0);
  if (parsed.values.json === true) {
    process.stdout.write(`${JSON.stringify({ runs, tests: tallies.size, failing: Object.fromEntries(failing) }, null, 2)}\n`);
  } else {
    const secs = runs.map((r) => r.ms / 1000).sort((a, b) => a - b);
    process.stdout.write(`${n} runs of ${files.join(' ')}: ${tallies.size} tests, ${totalFailures} failures in ${failing.length} tests\n`);
    process.stdout.write(`run time: median ${secs[Math.floor(secs.length / 2)]!.toFixed(0)} s, min ${secs[0]!.toFixed(0)} s, max ${secs.at(-1)!.toFixed(0)} s\n`);
    if (failing.length > 0) {
      process.stdout.write('\n| test | runs | failed | in runs | first failure |\n|---|---|---|---|---|\n');
      for (const [name, t] of failing) {
        process.stdout.write(`| ${name} | ${t.runs} | ${t.failures} | ${t.failedRuns.join(',')} | ${t.firstFailure.replace(/\|/g, '\\|')} |\n`);
      }
    }
  }
  return failing.length === 0 ? 0 : 1;
}

process.exitCode = main();
