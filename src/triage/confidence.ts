/**
 * Confidence and decision: a small, documented function of the evidence, exported so the
 * evaluator (tools/triage-eval) can score labelled scenarios and recalibrate the parameters.
 *
 * What the number means: the estimated probability that running the matched runbook now is
 * the right response to what the logs show around T. With no matching runbook there is
 * nothing to run, so it is 0; `clarity` separately says how clear the error burst itself is.
 *
 *   clarity    = burst x signature_burst x dominance x competition x volume x proximity
 *   confidence = clarity x runbook_fit                (0 without a matching runbook)
 *
 * The "dominant" signature is the one contributing most to the burst (lines above its own
 * baseline rate), so steady background errors neither dilute nor impersonate an incident.
 *
 * Each factor is a logistic curve 1 / (1 + e^(-k (x - mid))) of one piece of evidence: `mid`
 * is where that evidence alone leaves us at even odds, `k` how quickly it becomes decisive.
 * A product is deliberately conservative: any one weak piece pulls the whole score down, and
 * every factor can be shown to a person as "this is what held it back".
 *
 * Independently of the score, hard blocks (`vetoes` below) force an escalation: competing
 * signatures, a weak burst, errors far from T, too few lines, no or several runbooks. A
 * wrong auto_execute costs far more than a needless escalation, so these do not trade off
 * against a high score elsewhere. A hard block also caps the reported confidence at
 * `blockCap` (below `autoExecuteFloor`, so below what any automatic action needs): the
 * number reads as the probability that automatic execution is right, and a blocked one is
 * not; `uncapped` and `clarity` keep what the evidence alone says.
 *
 * How the parameters were calibrated, with the figures before and after each change, is
 * recorded in tools/triage-eval/CALIBRATION.md; `npm run triage-eval` measures them again.
 */

export type Decision = 'auto_execute' | 'escalate' | 'insufficient_data';

/** The numbers the score depends on; evidence.ts computes them, the evaluator may synthesize them. */
export interface TriageFeatures {
  coverageOk: boolean;
  errorsInWindow: number;
  /** Window error rate (all signatures) over the smoothed baseline rate. */
  burstRatio: number;
  /**
   * Standard deviations the dominant signature's window count sits above what its own
   * baseline rate predicts (evidence burstSignificance()).
   */
  dominantBurstZ: number;
  /**
   * Lines of the dominant signature in the window we are sure of (evidence countLow: the
   * estimate less its sampling error, at least the lines read).
   */
  dominantCount: number;
  /**
   * The dominant signature's share of the burst (errors above each signature's baseline
   * rate; evidence.burstShare), and the runner-up's.
   */
  signatureShare: number;
  secondShare: number;
  /** The dominant signature's own rate ratio against its baseline rate. */
  dominantBurstRatio: number;
  /** |T - nearest line of the dominant signature|, seconds; null when none was seen. */
  dominantNearestS: number | null;
  /** Fraction of the dominant lines the best runbook matches; null when none matches. */
  runbookFit: number | null;
  /** Runbooks that match the dominant signature. */
  runbookCandidates: number;
}

export interface Logistic {
  mid: number;
  k: number;
}

export interface TriageParams {
  /**
   * On the dominant signature's burst significance z (not a ratio of all errors, which steady
   * noise dilutes): z 4 -> 0.5, 6 -> 0.92, 8 -> 0.99. Real incidents have z in the tens or hundreds.
   */
  burst: Logistic;
  /** Same scale on the dominant signature's own ratio: background noise stays near 1x. */
  signatureBurst: Logistic;
  /** On the dominant share: 0.6 -> 0.5, 0.8 -> 0.92, 0.9 -> 0.97. */
  dominance: Logistic;
  /** On the runner-up share (falling): 0.1 -> 0.98, 0.2 -> 0.88, 0.3 -> 0.5. */
  competition: Logistic;
  /** On the dominant line count: 8 -> 0.08, 12 -> 0.5, 15 -> 0.86, 20 -> 0.99; a handful of lines is an anecdote. */
  volume: Logistic;
  /** On seconds from T to the dominant signature (falling): 60 -> 0.95, 120 -> 0.5. */
  proximity: Logistic;
  /** On the runbook's fit to the dominant lines: 0.7 -> 0.5, 0.9 -> 0.95, 1.0 -> 0.99. */
  fit: Logistic;
  /** Confidence ceiling when the window is not fully ingested: partial evidence can change. */
  coverageCap: number;
  /**
   * Confidence ceiling when a hard block (a veto or the runbook's policy, not the score falling
   * short) forces an escalation. The reported confidence then reads as what the decision is,
   * one for a human, rather than as a high probability that running the runbook is right;
   * `uncapped` keeps the score for the reasons.
   */
  blockCap: number;
  /** No auto_execute below this, whatever a runbook's min_confidence says. */
  autoExecuteFloor: number;
  vetoes: {
    /** Escalate when the dominant signature holds less than this share... */
    minShare: number;
    /** ...or the runner-up holds at least this share (two competing problems). */
    maxSecondShare: number;
    /**
     * Escalate when all errors together rose by less than this factor (1: they did not rise at
     * all). Steady background errors dilute this ratio, so the per-signature checks below do
     * the real work...
     */
    minBurst: number;
    /** ...or the dominant signature is within this many standard deviations of its usual count... */
    minBurstZ: number;
    /** ...or the dominant signature itself is not bursting (it is background noise). */
    minSignatureBurst: number;
    /** Escalate when the dominant signature's nearest line is farther than this from T, seconds. */
    maxNearestS: number;
    /** Escalate below this many dominant lines. */
    minDominantCount: number;
  };
}

export const DEFAULT_PARAMS: TriageParams = {
  burst: { mid: 4, k: 1.2 },
  signatureBurst: { mid: 2, k: 2 },
  dominance: { mid: 0.6, k: 12 },
  competition: { mid: 0.3, k: -20 },
  // volume, blockCap and the minBurst / minDominantCount vetoes: measured reasons in
  // tools/triage-eval/CALIBRATION.md (a handful of lines is an anecdote; a blocked result
  // must not read as a likely-right automatic action).
  volume: { mid: 12, k: 0.6 },
  proximity: { mid: 120, k: -0.05 },
  fit: { mid: 0.7, k: 15 },
  coverageCap: 0.3,
  blockCap: 0.3,
  autoExecuteFloor: 0.5,
  vetoes: { minShare: 0.5, maxSecondShare: 0.3, minBurst: 1, minBurstZ: 3, minSignatureBurst: 3, maxNearestS: 180, minDominantCount: 10 },
};

export function logistic(x: number, { mid, k }: Logistic): number {
  return 1 / (1 + Math.exp(-k * (x - mid)));
}

const log2 = (x: number): number => Math.log2(Math.max(x, 1e-9));

export interface Factors {
  burst: number;
  signatureBurst: number;
  dominance: number;
  competition: number;
  volume: number;
  proximity: number;
  fit: number;
}

export interface Score {
  /** P(the matched runbook is the right response), before vetoes and caps. */
  confidence: number;
  /** How clear the error burst at T is, runbook aside. */
  clarity: number;
  factors: Factors;
}

/** The score alone: a pure function of the features, for the evaluator to call and fit. */
export function scoreFeatures(f: TriageFeatures, params: TriageParams = DEFAULT_PARAMS): Score {
  if (f.errorsInWindow === 0) {
    const zero: Factors = { burst: 0, signatureBurst: 0, dominance: 0, competition: 0, volume: 0, proximity: 0, fit: 0 };
    return { confidence: 0, clarity: 0, factors: zero };
  }
  const factors: Factors = {
    burst: logistic(f.dominantBurstZ, params.burst),
    signatureBurst: logistic(log2(f.dominantBurstRatio), params.signatureBurst),
    dominance: logistic(f.signatureShare, params.dominance),
    competition: logistic(f.secondShare, params.competition),
    volume: logistic(f.dominantCount, params.volume),
    proximity: f.dominantNearestS === null ? 0 : logistic(f.dominantNearestS, params.proximity),
    fit: f.runbookFit === null ? 0 : logistic(f.runbookFit, params.fit),
  };
  const clarity = factors.burst * factors.signatureBurst * factors.dominance * factors.competition * factors.volume * factors.proximity;
  return { confidence: clarity * factors.fit, clarity, factors };
}

/** Why a decision is not auto_execute. Codes are stable; reasons.ts turns them into words. */
export type Block =
  | 'no_coverage'
  | 'no_errors'
  | 'no_runbook'
  | 'ambiguous_runbook'
  | 'manual_runbook'
  | 'competing_signatures'
  | 'weak_burst'
  | 'background_signature'
  | 'far_from_burst'
  | 'too_few_errors'
  | 'below_min_confidence'
  | 'below_floor'
  | 'llm_veto'
  | 'llm_lowered';

/** What decide() needs of the matched runbook. */
export interface RunbookPolicy {
  autoExecute: boolean;
  minConfidence: number;
}

export interface DecisionResult extends Score {
  decision: Decision;
  /** Everything that kept the decision from auto_execute, most fundamental first. */
  blocks: Block[];
  /** The score's confidence before the coverage or block cap (equal to `confidence` when none applied). */
  uncapped: number;
  /** Which ceiling applies to `confidence`: coverageCap, blockCap, or none. */
  cap: 'coverage' | 'block' | null;
}

/** Blocks that say the score itself fell short; every other block is a hard one. */
const SCORE_BLOCKS: ReadonlySet<Block> = new Set<Block>(['below_min_confidence', 'below_floor', 'llm_lowered']);

/** True when a block other than the score falling short keeps the decision from auto_execute. */
function hasHardBlock(blocks: readonly Block[]): boolean {
  return blocks.some((b) => !SCORE_BLOCKS.has(b));
}

/**
 * The decision as the README states it (MCP tools, triage_confidence): auto_execute only when a runbook with auto_execute: true
 * matches the dominant error signature and confidence >= its min_confidence, and nothing
 * else blocks it; missing coverage gives insufficient_data; everything else escalates.
 */
export function decide(f: TriageFeatures, runbook: RunbookPolicy | null, params: TriageParams = DEFAULT_PARAMS): DecisionResult {
  const score = scoreFeatures(f, params);
  if (!f.coverageOk) {
    return { ...score, confidence: Math.min(score.confidence, params.coverageCap), decision: 'insufficient_data', blocks: ['no_coverage'], uncapped: score.confidence, cap: 'coverage' };
  }
  const v = params.vetoes;
  const blocks: Block[] = [];
  if (f.errorsInWindow === 0) {
    blocks.push('no_errors');
  } else {
    if (f.runbookCandidates === 0 || runbook === null) blocks.push('no_runbook');
    else if (f.runbookCandidates > 1) blocks.push('ambiguous_runbook');
    if (f.signatureShare < v.minShare || f.secondShare >= v.maxSecondShare) blocks.push('competing_signatures');
    if (f.burstRatio < v.minBurst || f.dominantBurstZ < v.minBurstZ) blocks.push('weak_burst');
    if (f.dominantBurstRatio < v.minSignatureBurst) blocks.push('background_signature');
    if (f.dominantNearestS === null || f.dominantNearestS > v.maxNearestS) blocks.push('far_from_burst');
    if (f.dominantCount < v.minDominantCount) blocks.push('too_few_errors');
  }
  if (runbook !== null) {
    if (!runbook.autoExecute) blocks.push('manual_runbook');
    if (score.confidence < runbook.minConfidence) blocks.push('below_min_confidence');
    else if (score.confidence < params.autoExecuteFloor) blocks.push('below_floor');
  }
  const decision: Decision = blocks.length === 0 && runbook !== null ? 'auto_execute' : 'escalate';
  const hard = hasHardBlock(blocks);
  const confidence = hard ? Math.min(score.confidence, params.blockCap) : score.confidence;
  return { ...score, confidence, decision, blocks, uncapped: score.confidence, cap: hard ? 'block' : null };
}

/** A second opinion from a model: a score in [0, 1] and an optional veto. */
export interface Opinion {
  score: number;
  veto: boolean;
}

/**
 * Folds a model's opinion in. It can only make the result more careful: confidence becomes
 * min(ours, the model's), a veto or a lowered confidence turns auto_execute into escalate,
 * and nothing the model says turns escalate or insufficient_data into auto_execute.
 */
export function applyOpinion(
  result: DecisionResult,
  opinion: Opinion,
  runbook: RunbookPolicy | null,
  params: TriageParams = DEFAULT_PARAMS,
): DecisionResult {
  const confidence = Math.min(result.confidence, Math.max(0, Math.min(1, opinion.score)));
  const blocks = [...result.blocks];
  let decision = result.decision;
  if (decision === 'auto_execute') {
    if (opinion.veto) {
      blocks.push('llm_veto');
      decision = 'escalate';
    } else if (runbook === null || confidence < runbook.minConfidence || confidence < params.autoExecuteFloor) {
      blocks.push('llm_lowered');
      decision = 'escalate';
    }
  }
  return { ...result, confidence, decision, blocks };
}
