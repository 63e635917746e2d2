/**
 * Scores for a graded scenario set: the confusion matrix, precision and recall per decision,
 * the wrong auto_execute count, the share of clear runbook incidents auto-executed, and the
 * Brier score of the confidence with its reliability table.
 *
 * Brier label: y = 1 when auto_execute (with the scenario's runbook) is the right action for
 * the scenario, else 0; Brier = mean (confidence - y)^2. The confidence is read as "the
 * probability that automatic execution of the matched runbook is right", so an escalation
 * reported at 0.95 costs as much as a clear incident reported at 0.05. The reference is the
 * constant forecast of the base rate (mean y); skill = 1 - Brier / reference.
 */
import type { Decision } from '../../src/triage/index.js';
import type { ScenarioResult } from './run.js';
import { FAMILIES, type Family } from './scenarios.js';

export const DECISIONS: readonly Decision[] = ['auto_execute', 'escalate', 'insufficient_data'];

export interface DecisionStats {
  decision: Decision;
  /** Scenarios labelled with this decision. */
  support: number;
  /** Scenarios that got this decision. */
  predicted: number;
  /** Both (for auto_execute: with the right runbook). */
  hits: number;
  /** null when nothing got (precision) or was labelled (recall) this decision. */
  precision: number | null;
  recall: number | null;
}

export interface Share {
  hits: number;
  total: number;
  /** null when total is 0. */
  share: number | null;
}

export interface FamilyStats {
  family: Family;
  expected: Decision;
  n: number;
  decisions: Record<Decision, number>;
  correct: number;
  wrongAuto: number;
  meanConfidence: number;
  brier: number;
}

export interface ReliabilityBin {
  from: number;
  to: number;
  n: number;
  meanConfidence: number | null;
  /** Share of the bin's scenarios labelled auto_execute. */
  observed: number | null;
}

export interface Metrics {
  total: number;
  correct: number;
  accuracy: number;
  /** confusion[expected][decided]. */
  confusion: Record<Decision, Record<Decision, number>>;
  perDecision: DecisionStats[];
  /** auto_execute where it was wrong (label not auto_execute, or another runbook). */
  wrongAutoExecute: number;
  wrongAutoIds: number[];
  /** Family `clear`: one auto-runbook signature bursting over T on a normal baseline. */
  clearAutoExecuted: Share;
  /** Family `late-alert`: the same, T 5-12 min after the onset (the burst began before the window). */
  lateAutoExecuted: Share;
  /** Wrong auto_execute decisions within the late-alert family (counted in wrongAutoExecute too). */
  lateWrongAuto: number;
  /** Every scenario labelled auto_execute (clear and noisy-clear). */
  labelledAutoExecuted: Share;
  brier: {
    score: number;
    label: string;
    baseRate: number;
    reference: number;
    skill: number | null;
  };
  reliability: ReliabilityBin[];
  byFamily: FamilyStats[];
  /**
   * The safety margin: of the scenarios where auto_execute would be wrong but the matched
   * runbook allows it and the window is covered (so only the score and the vetoes stood in
   * the way), the one whose uncapped score came closest to min_confidence.
   */
  closestCall: { id: number; family: Family; variant: string; score: number; blocks: string[] } | null;
}

export const BRIER_LABEL = '1 when auto_execute (with the scenario\'s runbook) is the right action, else 0';
const BIN_EDGES = [0, 0.1, 0.3, 0.5, 0.8, 0.9, 1.0000001];

const ratio = (hits: number, total: number): number | null => (total === 0 ? null : hits / total);
const share = (hits: number, total: number): Share => ({ hits, total, share: ratio(hits, total) });
const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const sq = (r: ScenarioResult): number => (r.confidence - r.label) ** 2;

function emptyRow(): Record<Decision, number> {
  return { auto_execute: 0, escalate: 0, insufficient_data: 0 };
}

export function computeMetrics(results: readonly ScenarioResult[]): Metrics {
  const confusion = { auto_execute: emptyRow(), escalate: emptyRow(), insufficient_data: emptyRow() };
  for (const r of results) confusion[r.expected][r.decision]++;
  const perDecision = DECISIONS.map((decision): DecisionStats => {
    const support = results.filter((r) => r.expected === decision).length;
    const predicted = results.filter((r) => r.decision === decision).length;
    const hits = results.filter((r) => r.decision === decision && r.correct).length;
    return { decision, support, predicted, hits, precision: ratio(hits, predicted), recall: ratio(hits, support) };
  });
  const wrong = results.filter((r) => r.wrongAuto);
  const autoExecutedRight = (rs: readonly ScenarioResult[]): Share => share(rs.filter((r) => r.decision === 'auto_execute' && r.correct).length, rs.length);

  const baseRate = mean(results.map((r) => r.label));
  const score = mean(results.map(sq));
  const reference = mean(results.map((r) => (baseRate - r.label) ** 2));

  const reliability: ReliabilityBin[] = [];
  for (let i = 0; i + 1 < BIN_EDGES.length; i++) {
    const from = BIN_EDGES[i]!;
    const to = BIN_EDGES[i + 1]!;
    const bin = results.filter((r) => r.confidence >= from && r.confidence < to);
    reliability.push({
      from,
      to: Math.min(1, to),
      n: bin.length,
      meanConfidence: bin.length === 0 ? null : mean(bin.map((r) => r.confidence)),
      observed: bin.length === 0 ? null : mean(bin.map((r) => r.label)),
    });
  }

  const byFamily: FamilyStats[] = [];
  for (const family of FAMILIES) {
    const rs = results.filter((r) => r.family === family);
    if (rs.length === 0) continue;
    const decisions = emptyRow();
    for (const r of rs) decisions[r.decision]++;
    byFamily.push({
      family,
      expected: rs[0]!.expected,
      n: rs.length,
      decisions,
      correct: rs.filter((r) => r.correct).length,
      wrongAuto: rs.filter((r) => r.wrongAuto).length,
      meanConfidence: mean(rs.map((r) => r.confidence)),
      brier: mean(rs.map(sq)),
    });
  }

  let closest: ScenarioResult | null = null;
  for (const r of results) {
    const policyStop = r.blocks.some((b) => b === 'manual_runbook' || b === 'no_runbook' || b === 'no_coverage' || b === 'no_errors');
    if (r.label === 1 || r.runbook === null || policyStop || r.wrongAuto) continue;
    if (closest === null || r.uncapped > closest.uncapped) closest = r;
  }

  const correct = results.filter((r) => r.correct).length;
  return {
    total: results.length,
    correct,
    accuracy: results.length === 0 ? 0 : correct / results.length,
    confusion,
    perDecision,
    wrongAutoExecute: wrong.length,
    wrongAutoIds: wrong.map((r) => r.id),
    clearAutoExecuted: autoExecutedRight(results.filter((r) => r.family === 'clear')),
    lateAutoExecuted: autoExecutedRight(results.filter((r) => r.family === 'late-alert')),
    lateWrongAuto: wrong.filter((r) => r.family === 'late-alert').length,
    labelledAutoExecuted: autoExecutedRight(results.filter((r) => r.expected === 'auto_execute')),
    brier: { score, label: BRIER_LABEL, baseRate, reference, skill: reference === 0 ? null : 1 - score / reference },
    reliability,
    byFamily,
    closestCall: closest === null ? null : { id: closest.id, family: closest.family, variant: closest.variant, score: closest.uncapped, blocks: [...closest.blocks] },
  };
}
