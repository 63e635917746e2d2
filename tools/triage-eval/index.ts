/**
 * tools/triage-eval: a labelled scenario set built with the project's log generator, graded
 * against the real triage decision. This folder owns the scenario families (scenarios.ts),
 * the eval runbook catalog (catalog.ts), the in-memory store builder (build-store.ts), the
 * per-scenario run (run.ts), the scores (metrics.ts), the MCP end-to-end check
 * (mcp-check.ts) and the text report (report.ts). The CLI is tools/triage-eval.ts.
 */
import type { TriageParams } from '../../src/triage/index.js';
import { evalCatalog } from './catalog.js';
import { checkThroughMcp, type McpCheck } from './mcp-check.js';
import { computeMetrics, type Metrics } from './metrics.js';
import { runScenario, type ScenarioResult } from './run.js';
import { FAMILIES, FAMILY_EXPECTED, FAMILY_WEIGHTS, type Family, makeScenarios, type Scenario } from './scenarios.js';

export { evalCatalog, evalCatalogYaml } from './catalog.js';
export { BRIER_LABEL, computeMetrics, DECISIONS, type Metrics } from './metrics.js';
export type { McpCheck } from './mcp-check.js';
export { renderReport, renderScenarioLine } from './report.js';
export type { ScenarioResult } from './run.js';
export { FAMILIES, FAMILY_EXPECTED, FAMILY_WEIGHTS, type Family, makeScenario, makeScenarios, type Scenario } from './scenarios.js';

export interface EvalOptions {
  /** Scenarios to generate and grade. */
  scenarios: number;
  /** Seed of the whole set: the same seed and count give the same scenarios. */
  seed: number;
  /**
   * Grade only these families' scenarios among the first `scenarios` (same ids and scenarios
   * as in the whole set; e.g. 2,400 scenarios with late-alert grades its 120 late alerts).
   */
  families?: readonly Family[];
  /** Scenarios also checked through the MCP tool (one per family first; default: one per family). */
  mcpCheck?: number;
  /** Triage parameters (default DEFAULT_PARAMS). The MCP check only runs with the defaults. */
  params?: TriageParams;
  /** Called after each scenario, e.g. for --verbose or progress. */
  onResult?: (result: ScenarioResult, done: number, total: number) => void;
}

export interface EvalReport {
  options: { scenarios: number; seed: number; mcpCheck: number; families: Family[] | null };
  mix: Array<{ family: Family; weight: number; expected: string; n: number }>;
  metrics: Metrics;
  mcp: McpCheck[];
  results: ScenarioResult[];
  runtime: { totalS: number; buildS: number; triageS: number; entries: number };
}

/** The scenario ids checked through MCP: the first of each family, then the next ones in order. */
function mcpIds(scenarios: readonly Scenario[], count: number): Set<number> {
  const ids = new Set<number>();
  const seen = new Set<Family>();
  for (const s of scenarios) {
    if (ids.size < count && !seen.has(s.family)) {
      seen.add(s.family);
      ids.add(s.id);
    }
  }
  for (let i = 0; i < scenarios.length && ids.size < count; i++) ids.add(scenarios[i]!.id);
  return ids;
}

export async function runEval(options: EvalOptions): Promise<EvalReport> {
  const started = performance.now();
  const catalog = evalCatalog();
  const only = options.families === undefined || options.families.length === 0 ? null : new Set(options.families);
  const scenarios = makeScenarios(options.scenarios, options.seed).filter((s) => only === null || only.has(s.family));
  const mcpCount = options.params === undefined ? (options.mcpCheck ?? FAMILIES.length) : 0;
  const check = mcpIds(scenarios, mcpCount);
  const results: ScenarioResult[] = [];
  const mcp: McpCheck[] = [];
  for (const scenario of scenarios) {
    const { result, store } = await runScenario(scenario, catalog, options.params);
    try {
      if (check.has(scenario.id)) mcp.push(await checkThroughMcp(store, catalog, result));
    } finally {
      await store.close();
    }
    results.push(result);
    options.onResult?.(result, results.length, scenarios.length);
  }
  const mix = FAMILIES.map((family) => ({
    family,
    weight: FAMILY_WEIGHTS[family],
    expected: FAMILY_EXPECTED[family],
    n: scenarios.filter((s) => s.family === family).length,
  }));
  return {
    options: { scenarios: options.scenarios, seed: options.seed, mcpCheck: mcpCount, families: only === null ? null : [...only] },
    mix,
    metrics: computeMetrics(results),
    mcp,
    results,
    runtime: {
      totalS: (performance.now() - started) / 1000,
      buildS: results.reduce((a, r) => a + r.buildMs, 0) / 1000,
      triageS: results.reduce((a, r) => a + r.triageMs, 0) / 1000,
      entries: results.reduce((a, r) => a + r.entries, 0),
    },
  };
}

/** Targets: what makes the eval fail (empty when it passes). */
export interface EvalTargets {
  /** Wrong auto_execute decisions tolerated (default 0). */
  maxWrongAuto: number;
  /** Share of clear runbook incidents that must auto-execute (default 0.85). */
  minClearAuto: number;
  /** Share of late-alert incidents (T 5-12 min after the onset) that must auto-execute (default 0.85). */
  minLateAuto: number;
}

export const DEFAULT_TARGETS: EvalTargets = { maxWrongAuto: 0, minClearAuto: 0.85, minLateAuto: 0.85 };

/** Why the eval fails, one line per missed target; an MCP disagreement fails it too. */
export function evalFailures(report: EvalReport, given: Partial<EvalTargets> = {}): string[] {
  const targets: EvalTargets = { ...DEFAULT_TARGETS, ...given };
  const m = report.metrics;
  const out: string[] = [];
  if (m.wrongAutoExecute > targets.maxWrongAuto) {
    out.push(`${m.wrongAutoExecute} wrong auto_execute (at most ${targets.maxWrongAuto} allowed): scenarios #${m.wrongAutoIds.join(', #')}`);
  }
  const share = m.clearAutoExecuted.share;
  // A set narrowed to other families (--family) has no clear incidents to hold to the target.
  const wantsClear = report.options.families === null || report.options.families.includes('clear');
  if (share === null && wantsClear) out.push('no clear runbook incident in the set (use at least 5 scenarios)');
  else if (share !== null && share < targets.minClearAuto) {
    out.push(`${(share * 100).toFixed(1)}% of clear runbook incidents auto-executed (at least ${(targets.minClearAuto * 100).toFixed(1)}% required)`);
  }
  const late = m.lateAutoExecuted.share;
  if (late !== null && late < targets.minLateAuto) {
    out.push(`${(late * 100).toFixed(1)}% of late-alert incidents auto-executed (at least ${(targets.minLateAuto * 100).toFixed(1)}% required)`);
  }
  const disagree = report.mcp.filter((c) => !c.agree);
  if (disagree.length > 0) out.push(`the MCP tool disagreed with the library on scenarios #${disagree.map((c) => c.id).join(', #')}`);
  return out;
}
