/**
 * Reasons in plain words for a triage result. Signatures are named by id only: templates are
 * derived from log text, which is untrusted, and reasons are read by a model as the server's
 * own words. The templates themselves travel in evidence and in the fenced text rendering.
 */
import { formatTimestamp } from '../parse/index.js';
import type { Block, DecisionResult, Factors } from './confidence.js';
import type { Evidence } from './evidence.js';
import type { Runbook } from './runbooks.js';

const iso = (us: number): string => formatTimestamp(us, 3);
const pct = (x: number): string => `${Math.round(x * 100)}%`;
const num = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (x: number): string => `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}x`;

/** A signed distance as "+1.2 s", "-3.4 min". */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${abs.toFixed(0)} ms`;
  if (abs < 120_000) return `${sign}${(abs / 1000).toFixed(1)} s`;
  return `${sign}${(abs / 60_000).toFixed(1)} min`;
}

const FACTOR_WORDS: Record<keyof Factors, string> = {
  burst: "significance of the dominant signature's burst",
  signatureBurst: "the dominant signature's own burst",
  dominance: 'dominance of one signature',
  competition: 'absence of a competing signature',
  volume: 'number of dominant lines',
  proximity: 'closeness of the errors to T',
  fit: "the runbook's fit to the dominant lines",
};

function weakest(factors: Factors, withFit: boolean): string {
  let name: keyof Factors = 'burst';
  for (const key of Object.keys(factors) as Array<keyof Factors>) {
    if (key === 'fit' && !withFit) continue;
    if (factors[key] < factors[name]) name = key;
  }
  return `${FACTOR_WORDS[name]} (${factors[name].toFixed(2)})`;
}

function blockReason(block: Block, e: Evidence, runbook: Runbook | null, r: DecisionResult): string | null {
  const dom = e.dominant;
  switch (block) {
    case 'no_coverage':
      return null;
    case 'no_errors':
      return `No ERROR or FATAL entries between ${iso(e.window.from)} and ${iso(e.window.to)}: the logs do not show this incident, so a human should check other signals.`;
    case 'no_runbook':
      if (dom === null) return 'No runbook applies.';
      // "Novel" only for what the baseline did not have: a routine error is not a new one.
      return dom.baselineEstimated > 0 && dom.burstRatio < 3
        ? `No runbook matches the dominant error signature ${dom.id}, a routine error at ${ratio(dom.burstRatio)} its usual rate: nothing here for a runbook, a human should look.`
        : `No runbook matches the dominant error signature ${dom.id}: this is a novel error for the catalog, a human should look.`;
    case 'ambiguous_runbook':
      return `${e.runbookFits.length} runbooks match the dominant signature (${e.runbookFits.map((f) => f.runbook.id).join(', ')}): the catalog is ambiguous here, a human must choose.`;
    case 'manual_runbook':
      return runbook === null ? null : `Runbook '${runbook.id}' is marked auto_execute: false, so a human runs its steps.`;
    case 'competing_signatures':
      return `Competing error signatures: the dominant one accounts for ${pct(e.burstShare)} of the errors above the baseline rate and the next for ${pct(e.secondBurstShare)} (${e.distinctSignatures} distinct), so there may be more than one problem.`;
    case 'weak_burst':
      return `Weak burst: ${num(e.windowErrorsPerMin)} errors/min in the window against ${e.baseline.errorsPerMin === null ? 'no baseline' : `${num(e.baseline.errorsPerMin)}/min before it`} (${ratio(e.burstRatio)}); the dominant signature is ${(dom?.burstZ ?? 0).toFixed(1)} standard deviations above its usual count.`;
    case 'background_signature':
      return dom === null ? null : `The dominant signature ${dom.id} runs at only ${ratio(dom.burstRatio)} its own baseline rate: it looks like background noise, not the incident.`;
    case 'far_from_burst':
      return dom === null || dom.nearestMs === null
        ? 'The incident time is far from the errors.'
        : `The incident time is far from the errors: the dominant signature's nearest line is ${formatOffset(dom.nearestMs)} from T.`;
    case 'too_few_errors':
      return `Only about ${Math.round(dom?.countLow ?? 0)} lines of the dominant signature: too few to act on automatically.`;
    case 'below_min_confidence':
      return runbook === null ? null : `Confidence ${r.uncapped.toFixed(2)} is below runbook '${runbook.id}' min_confidence ${runbook.minConfidence}; weakest evidence: ${weakest(r.factors, true)}.`;
    case 'below_floor':
      return `Confidence ${r.uncapped.toFixed(2)} is below the floor of any automatic action; weakest evidence: ${weakest(r.factors, true)}.`;
    case 'llm_veto':
      return "The client's model vetoed automatic execution (see llm.rationale).";
    case 'llm_lowered':
      return "The client's model lowered the confidence below what automatic execution needs (see llm).";
  }
}

/** The decision first, then what blocked it, then the facts it rests on. */
export function explain(e: Evidence, runbook: Runbook | null, r: DecisionResult): string[] {
  const reasons: string[] = [];
  if (r.decision === 'insufficient_data') {
    reasons.push(`Not enough data to decide: ${e.coverageProblems.join('; ')}. Retry once ingestion covers the window (see tail_status).`);
  } else if (r.decision === 'auto_execute' && runbook !== null) {
    reasons.push(
      `Runbook '${runbook.id}' (${runbook.title}) matches the dominant error signature, confidence ${r.confidence.toFixed(2)} >= its min_confidence ${runbook.minConfidence}, and it allows automatic execution.`,
    );
  } else {
    reasons.push('Escalate to a human: the evidence does not support running a runbook automatically.');
  }
  for (const block of r.blocks) {
    const text = blockReason(block, e, runbook, r);
    if (text !== null) reasons.push(text);
  }

  const left = e.baseline.excludedS > 0 ? ` (less its last ${Math.round(e.baseline.excludedS / 60)} min, where errors already ran high)` : '';
  const base =
    e.baseline.errorsPerMin === null
      ? 'no baseline before the window'
      : `a baseline of ${num(e.baseline.errorsPerMin)}/min over the previous ${Math.round(e.baseline.spanS / 60)} min${left}`;
  reasons.push(
    `${e.errorsInWindow} ERROR/FATAL entries in the window ${iso(e.window.from)} .. ${iso(e.window.to)} (${num(e.windowErrorsPerMin)}/min) against ${base}: burst ratio ${ratio(e.burstRatio)}, ${e.burstZ.toFixed(1)} standard deviations above the baseline's prediction.`,
  );
  const dom = e.dominant;
  if (dom !== null) {
    const seen =
      (dom.baselineEstimated > 0 ? `also seen in the baseline (about ${Math.round(dom.baselineEstimated)} lines)` : 'absent from the baseline') +
      (dom.baselineExcludedS > 0 ? ` before it began ${Math.round((dom.baselineExcludedS + e.windowS) / 60)} min before T (its last ${Math.round(dom.baselineExcludedS / 60)} min of baseline left out of its usual rate)` : '');
    const sampled = e.sampled ? ` (from a sample of ${e.sampleSize})` : '';
    reasons.push(
      `Dominant signature ${dom.id}: ${pct(dom.burstShare)} of the errors above the baseline rate and ${pct(dom.share)} of all the window's errors${sampled}, ` +
        `${e.distinctSignatures} distinct signature${e.distinctSignatures === 1 ? '' : 's'}; ${ratio(dom.burstRatio)} its baseline rate (${dom.burstZ.toFixed(0)} standard deviations above its usual count), ${seen}` +
        `${dom.nearestMs === null ? '' : `; nearest line ${formatOffset(dom.nearestMs)} from T`}.`,
    );
  }
  if (e.nearestError !== null) reasons.push(`Nearest ERROR/FATAL entry: ${formatOffset(e.nearestError.distanceMs)} from T (${e.nearestError.source}:${e.nearestError.line}).`);
  const best = e.runbookFits[0];
  if (best !== undefined) reasons.push(`Runbook '${best.runbook.id}' matches ${best.matched} of ${best.tested} dominant lines tested (tags and pattern).`);
  if (e.errorsInWindow > 0 && e.coverageOk) {
    reasons.push(
      best === undefined
        ? `Clarity of the burst ${r.clarity.toFixed(2)}; confidence 0 because no runbook applies.`
        : `Confidence ${r.uncapped.toFixed(2)} = clarity ${r.clarity.toFixed(2)} x runbook fit ${r.factors.fit.toFixed(2)}; weakest evidence: ${weakest(r.factors, true)}.` +
            (r.cap === 'block' && r.confidence < r.uncapped ? ` Reported as ${r.confidence.toFixed(2)}: a hard block above leaves this decision to a human.` : ''),
    );
  }
  return reasons;
}
