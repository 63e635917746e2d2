/**
 * tools/triage-eval: how good is the triage decision? Generates a labelled scenario set with
 * the project's log generator (clear runbook incidents, manual runbooks, novel errors, two
 * competing bursts, an incident time far from the burst, a window past the ingested data,
 * noisy baselines, a handful of lines; families and mix in tools/triage-eval/scenarios.ts),
 * runs the real triage() on each from an in-memory index, and checks a few end to end
 * through the triage_confidence MCP tool.
 *
 *   node dist/tools/triage-eval.js                       # 240 scenarios, seed 1
 *   node dist/tools/triage-eval.js --scenarios 500 --seed 7 --verbose
 *   node dist/tools/triage-eval.js --json > eval.json
 *   node dist/tools/triage-eval.js --scenarios 2400 --family late-alert   # its 120 late alerts
 *
 * Prints tables (or, with --json, one JSON object) on stdout. Exit 0 when the targets hold,
 * 1 when a wrong auto_execute occurs (more than --max-wrong-auto), fewer than
 * --min-clear-auto of the clear runbook incidents or --min-late-auto of the late alerts
 * auto-execute, or the MCP tool disagrees with the library; 2 on bad flags.
 */
import { parseArgs } from 'node:util';
import { evalFailures, FAMILIES, type Family, renderReport, renderScenarioLine, runEval } from './triage-eval/index.js';

const OPTIONS = {
  scenarios: { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  'max-wrong-auto': { type: 'string' },
  'min-clear-auto': { type: 'string' },
  'min-late-auto': { type: 'string' },
  family: { type: 'string', multiple: true },
  'mcp-check': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const HELP = `Usage: node dist/tools/triage-eval.js [options]

Generates labelled incident scenarios, scores the real triage decision on each, and reports
precision and recall per decision, the confusion matrix, wrong auto_execute count, the share
of clear runbook incidents auto-executed, and the Brier score of the confidence.

  --scenarios N         scenarios to generate (default 240; 1..10000)
  --seed N              seed of the scenario set (default 1)
  --json                one JSON object on stdout instead of tables
  -v, --verbose         one line per scenario: decision, confidence, runbook, blocks, reason
  --max-wrong-auto N    wrong auto_execute decisions tolerated (default 0)
  --min-clear-auto F    share of clear runbook incidents that must auto-execute: 0.85 or 85% (default 0.85)
  --min-late-auto F     share of late alerts (T 5-12 min after the burst began) that must auto-execute
                        (default 0.85)
  --family NAME         grade only this family's scenarios among the first N (repeatable; the same
                        scenarios as in the whole set): ${FAMILIES.join(', ')}
  --mcp-check N         scenarios also checked through the triage_confidence MCP tool: the first
                        of each family, then the next ones (default 11, one per family; 0 = none)
  -h, --help            this help

Exit code: 0 targets met, 1 a target missed, the MCP tool disagreed or the eval failed, 2 bad flags.
`;

class FlagError extends Error {}

function integer(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new FlagError(`--${flag} must be an integer from ${min} to ${max} (got '${value}')`);
  }
  return n;
}

function fraction(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const text = value.trim();
  const percent = text.endsWith('%');
  const n = Number(percent ? text.slice(0, -1) : text);
  const f = percent || n > 1 ? n / 100 : n;
  if (text === '' || !Number.isFinite(n) || f < 0 || f > 1) throw new FlagError(`--${flag} must be a share such as 0.85 or 85% (got '${value}')`);
  return f;
}

interface Cli {
  scenarios: number;
  seed: number;
  json: boolean;
  verbose: boolean;
  maxWrongAuto: number;
  minClearAuto: number;
  minLateAuto: number;
  mcpCheck: number;
  families: Family[];
}

function parse(argv: string[]): Cli | null {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new FlagError((err as Error).message.split('\n')[0] ?? 'bad flags');
  }
  if (values.help === true) return null;
  return {
    scenarios: integer('scenarios', values.scenarios, 240, 1, 10_000),
    seed: integer('seed', values.seed, 1, 0, 2 ** 32 - 1),
    json: values.json === true,
    verbose: values.verbose === true,
    maxWrongAuto: integer('max-wrong-auto', values['max-wrong-auto'], 0, 0, 10_000),
    minClearAuto: fraction('min-clear-auto', values['min-clear-auto'], 0.85),
    minLateAuto: fraction('min-late-auto', values['min-late-auto'], 0.85),
    families: (values.family ?? []).map((f) => {
      if (!(FAMILIES as readonly string[]).includes(f)) throw new FlagError(`--family must be one of ${FAMILIES.join(', ')} (got '${f}')`);
      return f as Family;
    }),
    mcpCheck: integer('mcp-check', values['mcp-check'], FAMILIES.length, 0, 10_000),
  };
}

// A closed pipe (`... | head`) ends the run quietly rather than with an EPIPE stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

async function main(): Promise<number> {
  let cli: Cli | null;
  try {
    cli = parse(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`triage-eval: ${err.message}\n`);
    return 2;
  }
  if (cli === null) {
    process.stdout.write(HELP);
    return 0;
  }
  const progress = process.stderr.isTTY === true && !cli.verbose;
  const verboseOut = cli.json ? process.stderr : process.stdout;
  const report = await runEval({
    scenarios: cli.scenarios,
    seed: cli.seed,
    mcpCheck: cli.mcpCheck,
    families: cli.families,
    onResult: (r, done, total) => {
      if (cli.verbose) verboseOut.write(renderScenarioLine(r) + '\n');
      if (progress && (done % 10 === 0 || done === total)) process.stderr.write(`\r[triage-eval] ${done}/${total} scenarios`);
    },
  });
  if (progress) process.stderr.write('\n');
  const problems = evalFailures(report, cli);
  if (cli.json) {
    process.stdout.write(JSON.stringify({ ...report, thresholds: { maxWrongAuto: cli.maxWrongAuto, minClearAuto: cli.minClearAuto, minLateAuto: cli.minLateAuto }, pass: problems.length === 0, failures: problems }) + '\n');
  } else {
    process.stdout.write(renderReport(report, cli));
    process.stdout.write(problems.length === 0 ? '\nResult: PASS\n' : `\nResult: FAIL\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  }
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`triage-eval: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
