/**
 * tools/mutants: shows that the suite fails when a rule it names breaks (issue 18). Copies
 * the repository into a scratch directory, runs the chosen test files once unmutated (they
 * must pass there, or a "caught" mutation proves nothing), then for each named mutation in
 * tools/mutants/catalog.ts replaces one exact piece of source, runs its test files and lists
 * the tests that failed. The working tree is never touched.
 *
 *   npm run test:mutants                       # every mutation
 *   npm run test:mutants -- tie-merge-line     # some, by name
 *   npm run test:mutants -- --list
 *
 * Exit 0 when every mutation was caught; 1 when one survived, no longer applies (its text is
 * gone: update the catalog with the code) or broke the test run instead of a test; 2 on bad
 * flags.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MUTATIONS, type Mutation } from './mutants/catalog.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COPIED = ['src', 'test', 'tools', 'package.json', 'tsconfig.json', 'tsconfig.test.json', 'vitest.config.ts'];

const HELP = `Usage: npm run test:mutants -- [names...] [--repeat N] [--list] [--keep]

Applies each named mutation (default: all) in a scratch copy of the repository and checks
that its test files fail.

  --repeat N  run each mutation's tests N times: a mutation caught in only some runs
              (property tests are random) is reported as such and fails the check
  --list      print the mutations and exit
  --keep      keep the scratch directory
  -h          this help`;

interface RunResult {
  ok: boolean;
  failed: string[];
  /** Set when vitest failed without any failing test (a broken mutation, a crash). */
  error: string | null;
  ms: number;
}

/** Applies a mutation to text; throws when its text is not found (exactly `occurrence` times or more). */
export function mutate(text: string, m: Mutation): string {
  const n = m.occurrence ?? 1;
  let at = -1;
  for (let k = 0; k < n; k++) {
    at = text.indexOf(m.from, at + 1);
    if (at < 0) throw new Error(`${m.name}: occurrence ${n} of ${JSON.stringify(m.from)} not found in ${m.file}`);
  }
  return text.slice(0, at) + m.to + text.slice(at + m.from.length);
}

function runVitest(dir: string, files: readonly string[], build: boolean): RunResult {
  const started = Date.now();
  const out = join(dir, '.mutant-report.json');
  rmSync(out, { force: true });
  const r = spawnSync(process.execPath, [join(dir, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...files, '--reporter=json', `--outputFile=${out}`], {
    cwd: dir,
    encoding: 'utf8',
    // Without `dist`, the global setup does not rebuild: those tests import the sources.
    env: { ...process.env, CI: 'true', ...(build ? {} : { LOG_TRIAGE_TEST_SKIP_BUILD: '1' }) },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Date.now() - started;
  if (!existsSync(out)) return { ok: false, failed: [], error: (r.stderr || r.stdout || `exit ${r.status}`).slice(-2000), ms };
  const report = JSON.parse(readFileSync(out, 'utf8')) as {
    success: boolean;
    testResults: { name: string; status: string; message?: string; assertionResults: { fullName: string; status: string }[] }[];
  };
  const failed: string[] = [];
  for (const file of report.testResults) {
    const short = file.name.slice(dir.length + 1);
    for (const a of file.assertionResults) if (a.status === 'failed') failed.push(`${short} > ${a.fullName}`);
  }
  const suiteErrors = report.testResults.filter((f) => f.status === 'failed' && f.assertionResults.every((a) => a.status !== 'failed'));
  const error = suiteErrors.length > 0 ? suiteErrors.map((f) => `${f.name}: ${(f.message ?? '').slice(0, 500)}`).join('\n') : null;
  return { ok: report.success && r.status === 0, failed, error, ms };
}

function main(): number {
  let parsed;
  try {
    parsed = parseArgs({ options: { list: { type: 'boolean' }, keep: { type: 'boolean' }, repeat: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  } catch (err) {
    process.stderr.write(`test:mutants: ${(err as Error).message}\n`);
    return 2;
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (parsed.values.list === true) {
    for (const m of MUTATIONS) process.stdout.write(`${m.name.padEnd(30)} ${m.rule}\n`);
    return 0;
  }
  const unknown = parsed.positionals.filter((n) => !MUTATIONS.some((m) => m.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`test:mutants: unknown mutation ${unknown.join(', ')} (see --list)\n`);
    return 2;
  }
  const chosen = parsed.positionals.length === 0 ? MUTATIONS : MUTATIONS.filter((m) => parsed.positionals.includes(m.name));
  const repeat = Number(parsed.values.repeat ?? '1');
  if (!Number.isInteger(repeat) || repeat < 1) {
    process.stderr.write(`test:mutants: --repeat '${parsed.values.repeat}' must be a positive integer\n`);
    return 2;
  }

  const dir = mkdtempSync(join(tmpdir(), 'ltm-mutants-'));
  // Timestamps kept: dist/ stays current for the global setup, which rebuilds only for a
  // mutation whose tests run the built CLI.
  for (const name of [...COPIED, 'dist']) cpSync(join(ROOT, name), join(dir, name), { recursive: true, preserveTimestamps: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  process.stderr.write(`scratch copy: ${dir}\n`);

  let exit = 0;
  try {
    const files = [...new Set(chosen.flatMap((m) => m.tests))];
    const baseline = runVitest(dir, files, true);
    if (!baseline.ok) {
      process.stderr.write(`test:mutants: the unmutated tests fail in the scratch copy; fix that first:\n${baseline.failed.join('\n')}\n${baseline.error ?? ''}\n`);
      return 1;
    }
    process.stdout.write(`baseline: ${files.length} test files pass unmutated (${(baseline.ms / 1000).toFixed(0)} s)\n\n`);
    const rows: string[][] = [];
    for (const m of chosen) {
      const path = join(dir, m.file);
      const pristine = readFileSync(join(ROOT, m.file), 'utf8');
      const { atime, mtime } = statSync(join(ROOT, m.file));
      let verdict: string;
      let detail: string;
      try {
        writeFileSync(path, mutate(pristine, m));
        let caught = 0;
        let broken: string | null = null;
        let failed: string[] = [];
        let ms = 0;
        for (let k = 0; k < repeat && broken === null; k++) {
          const r = runVitest(dir, m.tests, m.dist === true);
          ms += r.ms;
          if (r.failed.length > 0) {
            caught++;
            if (failed.length === 0) failed = r.failed;
          } else if (r.error !== null || !r.ok) {
            broken = (r.error ?? 'vitest failed without a failing test').split('\n')[0]!.slice(0, 200);
          }
        }
        const tally = repeat > 1 ? ` [${caught}/${repeat} runs]` : '';
        if (broken !== null) {
          verdict = 'BROKEN';
          detail = broken;
          exit = 1;
        } else if (caught === repeat) {
          verdict = 'caught';
          detail = failed.slice(0, 2).join('; ') + (failed.length > 2 ? `; +${failed.length - 2} more` : '') + tally;
        } else if (caught > 0) {
          verdict = 'SOMETIMES';
          detail = `caught in ${caught} of ${repeat} runs by ${failed[0]}`;
          exit = 1;
        } else {
          verdict = 'SURVIVED';
          detail = `${m.tests.join(', ')} all passed${tally}`;
          exit = 1;
        }
        detail += ` (${(ms / 1000).toFixed(0)} s)`;
      } catch (err) {
        verdict = 'STALE';
        detail = (err as Error).message;
        exit = 1;
      } finally {
        writeFileSync(path, pristine);
        utimesSync(path, atime, mtime);
        // A rebuild from the mutated source must not outlive it.
        if (m.dist === true) cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true, preserveTimestamps: true });
      }
      rows.push([m.name, verdict, detail]);
      process.stdout.write(`${m.name.padEnd(30)} ${verdict.padEnd(9)} ${detail}\n`);
    }
    const caught = rows.filter((r) => r[1] === 'caught').length;
    process.stdout.write(`\n${caught} of ${rows.length} mutations caught${caught === rows.length ? '' : '; the others are listed above'}\n`);
  } finally {
    if (parsed.values.keep === true || exit !== 0) process.stderr.write(`scratch copy kept: ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return exit;
}

process.exitCode = main();
