/**
 * triage(): evidence -> features -> decision -> reasons, for one incident time. The MCP tool
 * and the evaluator both call this, so what is evaluated is what is served.
 */
import type { Store } from '../store/index.js';
import { DEFAULT_PARAMS, type DecisionResult, type TriageFeatures, type TriageParams, decide } from './confidence.js';
import { type Evidence, type EvidenceOptions, gatherEvidence } from './evidence.js';
import { explain } from './reasons.js';
import type { Runbook } from './runbooks.js';

export interface TriageOptions extends EvidenceOptions {
  params?: TriageParams;
}

export interface TriageResult {
  evidence: Evidence;
  /** The best-fitting runbook for the dominant signature, or null. */
  runbook: Runbook | null;
  result: DecisionResult;
  reasons: string[];
}

/** The numbers the score reads, taken from gathered evidence. */
export function featuresFromEvidence(e: Evidence): TriageFeatures {
  const dom = e.dominant;
  return {
    coverageOk: e.coverageOk,
    errorsInWindow: e.errorsInWindow,
    burstRatio: e.burstRatio,
    dominantBurstZ: dom?.burstZ ?? 0,
    dominantCount: dom?.countLow ?? 0,
    signatureShare: e.burstShare,
    secondShare: e.secondBurstShare,
    dominantBurstRatio: dom?.burstRatio ?? 0,
    dominantNearestS: dom === null || dom.nearestMs === null ? null : Math.abs(dom.nearestMs) / 1000,
    runbookFit: e.runbookFits[0]?.fit ?? null,
    runbookCandidates: e.runbookFits.length,
  };
}

export async function triage(store: Store, options: TriageOptions): Promise<TriageResult> {
  const evidence = await gatherEvidence(store, options);
  const runbook = evidence.runbookFits[0]?.runbook ?? null;
  const result = decide(featuresFromEvidence(evidence), runbook, options.params ?? DEFAULT_PARAMS);
  return { evidence, runbook, result, reasons: explain(evidence, runbook, result) };
}
