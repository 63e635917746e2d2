/**
 * Runs one scenario: builds its in-memory store, calls the real triage() (the function the
 * triage_confidence tool calls), and grades the decision against the scenario's label.
 */
import type { EmbeddedStore } from '../../src/store/embedded-store.js';
import { type Block, type Decision, type RunbookCatalog, triage, type TriageParams } from '../../src/triage/index.js';
import { buildStore } from './build-store.js';
import type { Family, Scenario } from './scenarios.js';

/** The numbers behind a decision, kept for --verbose and --json. */
export interface EvidenceSummary {
  errorsInWindow: number;
  burstRatio: number;
  dominant: string | null;
  /** Lines of the dominant signature: estimated, and the count triage is sure of (countLow). */
  dominantEstimated: number;
  dominantCount: number;
  dominantBurstZ: number;
  dominantBurstRatio: number;
  burstShare: number;
  secondBurstShare: number;
  nearestS: number | null;
  runbookFit: number | null;
  clarity: number;
}

export interface ScenarioResult {
  id: number;
  family: Family;
  variant: string;
  description: string;
  /** Incident time, ISO 8601. */
  timestamp: string;
  expected: Decision;
  expectedRunbook: string | null;
  decision: Decision;
  runbook: string | null;
  confidence: number;
  /** The score before a coverage or hard-block cap (DecisionResult.uncapped). */
  uncapped: number;
  /**
   * The Brier label: 1 when auto_execute (with expectedRunbook) is the right action for the
   * scenario, else 0.
   */
  label: 0 | 1;
  /** Decision equals the label's action (and, for auto_execute, the runbook is the expected one). */
  correct: boolean;
  /** auto_execute where it was not the right action, or with another runbook than the right one. */
  wrongAuto: boolean;
  blocks: Block[];
  reasons: string[];
  evidence: EvidenceSummary;
  entries: number;
  buildMs: number;
  triageMs: number;
}

export interface ScenarioRun {
  result: ScenarioResult;
  /** The scenario's store, still open (the caller may query it through MCP, then closes it). */
  store: EmbeddedStore;
}

export async function runScenario(s: Scenario, catalog: RunbookCatalog, params?: TriageParams): Promise<ScenarioRun> {
  const t0 = performance.now();
  const built = buildStore(s.generator, s.untilEpochMs);
  const t1 = performance.now();
  const tr = await triage(built.store, { t: s.t * 1000, catalog, ...(params === undefined ? {} : { params }) });
  const t2 = performance.now();
  const { evidence: e, result: r } = tr;
  const runbook = tr.runbook?.id ?? null;
  const decision = r.decision;
  const rightAuto = decision === 'auto_execute' && s.expected === 'auto_execute' && runbook === s.expectedRunbook;
  const dom = e.dominant;
  return {
    store: built.store,
    result: {
      id: s.id,
      family: s.family,
      variant: s.variant,
      description: s.description,
      timestamp: new Date(s.t).toISOString(),
      expected: s.expected,
      expectedRunbook: s.expectedRunbook,
      decision,
      runbook,
      confidence: r.confidence,
      uncapped: r.uncapped,
      label: s.expected === 'auto_execute' ? 1 : 0,
      correct: decision === 'auto_execute' ? rightAuto : decision === s.expected,
      wrongAuto: decision === 'auto_execute' && !rightAuto,
      blocks: r.blocks,
      reasons: tr.reasons,
      evidence: {
        errorsInWindow: e.errorsInWindow,
        burstRatio: e.burstRatio,
        dominant: dom?.template ?? null,
        dominantEstimated: dom?.estimated ?? 0,
        dominantCount: dom?.countLow ?? 0,
        dominantBurstZ: dom?.burstZ ?? 0,
        dominantBurstRatio: dom?.burstRatio ?? 0,
        burstShare: e.burstShare,
        secondBurstShare: e.secondBurstShare,
        nearestS: dom === null || dom.nearestMs === null ? null : dom.nearestMs / 1000,
        runbookFit: e.runbookFits[0]?.fit ?? null,
        clarity: r.clarity,
      },
      entries: built.entries,
      buildMs: t1 - t0,
      triageMs: t2 - t1,
    },
  };
}
