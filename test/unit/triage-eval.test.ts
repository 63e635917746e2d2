/**
 * tools/triage-eval on a small set (30 scenarios, every family represented): no wrong
 * auto_execute, the report's fields and their consistency, the MCP tool agreeing with the
 * library, and the CLI's flags and exit codes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DECISIONS,
  type EvalReport,
  evalFailures,
  FAMILIES,
  FAMILY_EXPECTED,
  makeScenarios,
  renderReport,
  renderScenarioLine,
  runEval,
} from '../../tools/triage-eval/index.js';
import { linesInWindow } from '../../tools/triage-eval/scenarios.js';

const EVAL_CLI = fileURLToPath(new URL('../../dist/tools/triage-eval.js', import.meta.url));

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [EVAL_CLI, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('scenario set', () => {
  it('is deterministic, keeps the family mix in a 30-scenario prefix, and labels by construction', () => {
    const a = makeScenarios(30, 7);
    expect(JSON.stringify(makeScenarios(30, 7))).toBe(JSON.stringify(a));
    expect(new Set(a.map((s) => s.family))).toEqual(new Set(FAMILIES));
    for (const s of a) {
      expect(s.expected).toBe(FAMILY_EXPECTED[s.family]);
      expect(s.expectedRunbook === null).toBe(s.expected !== 'auto_execute');
      const incidents = s.generator.incidents ?? [];
      if (s.family === 'uncovered') expect(s.untilEpochMs).toBeLessThan(s.t + 60_000);
      else expect(s.untilEpochMs).toBeGreaterThanOrEqual(s.t + 60_000);
      if (s.family === 'far') expect(incidents.every((inc) => linesInWindow(inc, s.t) === 0)).toBe(true);
      if (s.family === 'competing') {
        const [x, y] = incidents.map((inc) => linesInWindow(inc, s.t));
        expect(Math.max(x!, y!) / Math.min(x!, y!)).toBeLessThanOrEqual(2.05);
      }
    }
  });
});

describe('triage-eval on 30 scenarios', () => {
  let report: EvalReport;
  beforeAll(async () => {
    report = await runEval({ scenarios: 30, seed: 1, mcpCheck: 11 });
    // Generating and indexing ~10M log lines: 25 s on a quiet 2-core machine, over 60 s when shared.
  }, 300_000);

  it('makes no wrong auto_execute and auto-executes the clear runbook incidents', () => {
    const m = report.metrics;
    expect(m.wrongAutoExecute).toBe(0);
    expect(m.wrongAutoIds).toEqual([]);
    expect(m.clearAutoExecuted.total).toBeGreaterThanOrEqual(5);
    expect(m.clearAutoExecuted.share).toBeGreaterThanOrEqual(0.85);
    // Late alerts (T 5-12 min after the onset) are reported on their own.
    expect(m.lateAutoExecuted.total).toBe(report.results.filter((r) => r.family === 'late-alert').length);
    expect(m.lateAutoExecuted.total).toBeGreaterThanOrEqual(1);
    expect(m.lateAutoExecuted.share).toBe(1);
    expect(m.lateWrongAuto).toBe(0);
    expect(evalFailures(report)).toEqual([]);
    // Every auto_execute names the runbook of the signature that burst.
    for (const r of report.results.filter((x) => x.decision === 'auto_execute')) expect(r.runbook).toBe(r.expectedRunbook);
  });

  it('reports the confusion matrix, precision and recall per decision, and the Brier score', () => {
    const m = report.metrics;
    expect(m.total).toBe(30);
    let cells = 0;
    for (const e of DECISIONS) for (const d of DECISIONS) cells += m.confusion[e][d];
    expect(cells).toBe(30);
    expect(m.perDecision.map((d) => d.decision)).toEqual(DECISIONS);
    for (const d of m.perDecision) {
      expect(d.support).toBe(DECISIONS.reduce((a, x) => a + m.confusion[d.decision][x], 0));
      expect(d.predicted).toBe(DECISIONS.reduce((a, x) => a + m.confusion[x][d.decision], 0));
      for (const v of [d.precision, d.recall]) {
        if (v === null) continue;
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    const brier = report.results.reduce((a, r) => a + (r.confidence - (r.expected === 'auto_execute' ? 1 : 0)) ** 2, 0) / 30;
    expect(m.brier.score).toBeCloseTo(brier, 12);
    expect(m.brier.label).toMatch(/1 when auto_execute .* is the right action, else 0/);
    expect(m.brier.skill).not.toBeNull();
    expect(m.reliability.reduce((a, b) => a + b.n, 0)).toBe(30);
    expect(m.byFamily.map((f) => f.family)).toEqual([...FAMILIES]);
    expect(m.closestCall === null || m.closestCall.score < 0.8).toBe(true);
  });

  it('every scenario line carries the decision, confidence and reasons', () => {
    for (const r of report.results) {
      expect(r.confidence).toBeGreaterThanOrEqual(0);
      expect(r.confidence).toBeLessThanOrEqual(r.uncapped);
      expect(r.reasons.length).toBeGreaterThan(0);
      const line = renderScenarioLine(r);
      expect(line).toContain(`got ${r.decision}`);
      expect(line).toContain(`conf ${r.confidence.toFixed(3)}`);
    }
  });

  it('the triage_confidence MCP tool agrees with the library, one scenario per family', () => {
    expect(report.mcp).toHaveLength(11);
    expect(new Set(report.mcp.map((c) => c.family))).toEqual(new Set(FAMILIES));
    for (const c of report.mcp) expect(c.problem).toBeNull();
  });

  it('fails on a wrong auto_execute, too few clear incidents auto-executed, or an MCP disagreement', () => {
    const m = report.metrics;
    const failing: EvalReport = {
      ...report,
      metrics: { ...m, wrongAutoExecute: 1, wrongAutoIds: [4], clearAutoExecuted: { hits: 4, total: 7, share: 4 / 7 }, lateAutoExecuted: { hits: 1, total: 2, share: 0.5 } },
      mcp: [{ ...report.mcp[0]!, agree: false, problem: 'decision escalate vs auto_execute' }],
    };
    const problems = evalFailures(failing);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/1 wrong auto_execute \(at most 0 allowed\): scenarios #4/);
    expect(problems[1]).toMatch(/57.1% of clear runbook incidents auto-executed \(at least 85.0% required\)/);
    expect(problems[2]).toMatch(/50.0% of late-alert incidents auto-executed \(at least 85.0% required\)/);
    expect(problems[3]).toMatch(/MCP tool disagreed/);
    expect(evalFailures(failing, { maxWrongAuto: 1, minClearAuto: 0.5, minLateAuto: 0.5 })).toHaveLength(1);
  });

  it('renders the tables', () => {
    const text = renderReport(report, { maxWrongAuto: 0, minClearAuto: 0.85 });
    for (const title of ['Confusion matrix', 'Per decision', 'Targets', 'Reliability', 'MCP end-to-end', 'Runtime']) expect(text).toContain(title);
    expect(text).toMatch(/\| wrong auto_execute +\| 0 +\| <= 0 +\| PASS/);
    expect(text).toMatch(/\| late alerts \(T 5-12 min after the onset\) auto-executed +\| \d+\/\d+ \(100.0%\) +\| >= 85.0% +\| PASS/);
    expect(text).toMatch(/\| wrong auto_execute among late alerts +\| 0 /);
    expect(text).toContain('Brier label: 1 when auto_execute');
  });
});

describe('triage-eval --family', () => {
  it('grades only that family, the same scenarios (ids and all) as in the whole set', async () => {
    const report = await runEval({ scenarios: 45, seed: 2, families: ['late-alert'], mcpCheck: 0 });
    const expected = makeScenarios(45, 2).filter((s) => s.family === 'late-alert');
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(report.results.map((r) => r.id)).toEqual(expected.map((s) => s.id));
    expect(report.options.families).toEqual(['late-alert']);
    expect(report.metrics.lateAutoExecuted.total).toBe(expected.length);
    // A late-alert-only set has no clear incidents: that is not held against it.
    expect(evalFailures(report).some((p) => p.includes('no clear runbook incident'))).toBe(false);
    expect(renderReport(report)).toContain(`the ${expected.length} late-alert scenarios among the first 45`);
  }, 300_000);
});

describe('triage-eval CLI', () => {
  beforeAll(() => {
    if (!existsSync(EVAL_CLI)) throw new Error(`${EVAL_CLI} missing: run npm run build first`);
  });

  it.each([
    [['--scenarios', '0'], /--scenarios must be an integer from 1 to 10000 \(got '0'\)/],
    [['--scenarios', 'many'], /--scenarios must be an integer/],
    [['--min-clear-auto', '120%'], /--min-clear-auto must be a share such as 0.85 or 85%/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--family', 'late'], /--family must be one of clear, late-alert, /],
  ])('bad flags %j exit 2 with one line naming the flag', async (args, message) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });

  it('--json prints one object, and the exit code follows its verdict', async () => {
    const { code, stdout } = await runCli(['--scenarios', '8', '--json', '--mcp-check', '1', '--min-clear-auto', '100%']);
    const out = JSON.parse(stdout) as { pass: boolean; failures: string[]; metrics: { wrongAutoExecute: number } };
    expect(out.metrics.wrongAutoExecute).toBe(0);
    expect(code).toBe(out.pass ? 0 : 1);
  });
});
