/**
 * How much each signature bursts: its count in the window against what its own baseline
 * rate predicts, with the noise a count must clear before it is evidence, and the share of
 * the burst each signature carries (evidence.ts gathers the counts; confidence.ts scores
 * these figures).
 */
import { robustBaseline, type Slice } from './baseline.js';
import type { Signature, SignatureMiner } from './signatures.js';

/**
 * Standard deviations of noise a count must clear before it is evidence:
 * - a signature's excess (its part of the burst) counts only beyond NOISE_SD of noise. Without
 *   it the positive part of the noise of every steady background signature (Poisson, plus the
 *   sampling of a busy window) counted as burst: measured with tools/triage-eval (240
 *   scenarios, seed 1), 13-20 steady signatures took 25-45 % of the "burst" from clear
 *   incidents at 0.2-0.35x the background error rate, which then read as a weak dominance or
 *   competing signatures; and a handful of new lines in a busy service was escalated as
 *   "competing signatures" rather than as "too few lines".
 * - countLow, the line count the volume check reads, is the estimate less NOISE_SD sampling
 *   deviations (never below the lines actually read): in a busy window 5 lines of a new
 *   signature read at the sampling weight of ~7 are estimated at 37, enough to pass for a
 *   burst (test/unit/triage-evidence.test.ts).
 */
export const NOISE_SD = 2;

export interface SignatureEvidence {
  id: string;
  template: string;
  /** Lines of this signature in the window sample. */
  sampled: number;
  /** Estimated lines in the whole window (sampled share times errors_in_window). */
  estimated: number;
  /** Lines in the window we are sure of: the estimate less NOISE_SD sampling deviations, at least `sampled`. */
  countLow: number;
  /** Share of the window's errors. */
  share: number;
  /**
   * Estimated lines of this signature in its baseline: the baseline less any run of slices
   * just before the window where it already ran high (see baseline.ts).
   */
  baselineEstimated: number;
  /** Seconds its baseline rate is measured over, and seconds left out as the burst already under way. */
  baselineSpanS: number;
  baselineExcludedS: number;
  /**
   * Lines above what its baseline rate predicts for the window, beyond NOISE_SD standard
   * deviations of noise: its part of the burst. Steady signatures get ~0 rather than their noise.
   */
  excess: number;
  /** Share of all signatures' excess (the burst), or of the window's errors when there is no excess. */
  burstShare: number;
  /** Its rate in the window over its (smoothed) rate in the baseline. */
  burstRatio: number;
  /** Standard deviations its window count sits above what its baseline rate predicts. */
  burstZ: number;
  /** Signed distance from T to its nearest line seen, milliseconds. */
  nearestMs: number | null;
  examples: readonly string[];
}

/** The window's sampled errors mined into signatures, with each signature's weight and sampling variance. */
export interface WindowSignatures {
  miner: SignatureMiner;
  assigned: readonly { weight: number; sig: Signature | null }[];
  windowWeight: ReadonlyMap<string, number>;
  windowSamplingVar: ReadonlyMap<string, number>;
}

/** The baseline's slices and each signature's weight per slice (values) with its sampling variance (vars). */
export interface BaselineSeries {
  slices: readonly Slice[];
  sliceWeights: readonly number[];
  perSlice: ReadonlyMap<string, { values: number[]; vars: number[] }>;
}

/**
 * Rate ratio with add-one smoothing on the baseline: a quiet baseline (0 errors in an hour)
 * reads as "one error in the span" instead of dividing by zero, and a short baseline (data
 * started recently) can only support a modest ratio. Spans under a minute count as a minute.
 */
export function burstRatio(windowCount: number, windowS: number, baselineCount: number, baselineS: number): number {
  const windowRate = windowCount / (windowS / 60);
  const baselineRate = (baselineCount + 1) / (Math.max(baselineS, 60) / 60);
  return windowRate / baselineRate;
}

/**
 * How many standard deviations the window's error count sits above what the baseline rate
 * predicts (Poisson: the variance equals the mean; same add-one smoothing as burstRatio).
 * Unlike the ratio it is not diluted by steady background noise: 60 new errors/min on top of
 * 60 routine ones is a 2x ratio but z = 19, while 18 errors where 12 were expected is z = 1.7.
 * Per signature it is sharper still: a new signature has an expected count near 0, so even
 * 12/min of it stands out from 60/min of routine errors that hide it in the total.
 */
export function burstSignificance(windowCount: number, windowS: number, baselineCount: number, baselineS: number): number {
  const expected = ((baselineCount + 1) * windowS) / Math.max(baselineS, 60);
  return (windowCount - expected) / Math.sqrt(expected + 1);
}

/** Each signature's counts against its baseline, ranked by its contribution to the burst. */
export function rankSignatures(
  spanS: number,
  errorsInWindow: number,
  window: WindowSignatures,
  baseline: BaselineSeries,
  nearestBySig: ReadonlyMap<string, number>,
  baselineSpanS: number,
): SignatureEvidence[] {
  const { miner, assigned, windowWeight, windowSamplingVar } = window;
  const noBaseline = { count: 0, samplingVar: 0, spanS: baselineSpanS, excludedS: 0 };
  const totalWeight = Math.max(1e-9, assigned.reduce((a, s) => a + s.weight, 0));
  // Two clusters can generalize into the same template, hence the same id: report it once.
  const seenIds = new Set<string>();
  const unique = miner.signatures().filter((sig) => !seenIds.has(sig.id) && seenIds.add(sig.id) !== undefined);
  const signatures: SignatureEvidence[] = unique.map((sig) => {
    const share = (windowWeight.get(sig.id) ?? 0) / totalWeight;
    const estimated = share * errorsInWindow;
    const series = baseline.perSlice.get(sig.id);
    const base = series === undefined ? noBaseline : robustBaseline(series.values, baseline.sliceWeights, series.vars, baseline.slices);
    const baselineEstimated = base.count;
    const scale = base.spanS > 0 ? spanS / base.spanS : 0;
    const expected = baselineEstimated * scale;
    // How far the window estimate may stray from `expected` with no change at all: Poisson
    // noise of the window count, the baseline estimate's own uncertainty (Poisson plus
    // sampling), window sampling.
    const noiseSd = Math.sqrt(expected + scale * scale * (baselineEstimated + base.samplingVar) + (windowSamplingVar.get(sig.id) ?? 0));
    const sampled = assigned.reduce((n, a) => n + (a.sig?.id === sig.id ? 1 : 0), 0);
    return {
      id: sig.id,
      template: sig.template,
      sampled,
      estimated,
      countLow: Math.max(sampled, estimated - NOISE_SD * Math.sqrt(windowSamplingVar.get(sig.id) ?? 0)),
      share,
      baselineEstimated,
      baselineSpanS: base.spanS,
      baselineExcludedS: base.excludedS,
      excess: Math.max(0, estimated - expected - NOISE_SD * noiseSd),
      burstShare: 0,
      burstRatio: burstRatio(estimated, spanS, baselineEstimated, base.spanS),
      burstZ: burstSignificance(estimated, spanS, baselineEstimated, base.spanS),
      nearestMs: nearestBySig.get(sig.id) ?? null,
      examples: sig.examples,
    };
  });
  // Rank by contribution to the burst; with less than one line of excess in all there is no
  // burst to apportion, and plain shares stand in (weak_burst then blocks anyway).
  const totalExcess = signatures.reduce((a, s) => a + s.excess, 0);
  for (const sig of signatures) sig.burstShare = totalExcess >= 1 ? sig.excess / totalExcess : sig.share;
  signatures.sort((a, b) => b.burstShare - a.burstShare || b.sampled - a.sampled);
  return signatures;
}
