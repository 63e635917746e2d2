/**
 * triage_confidence's answer as data and as text: the structured content built from a
 * TriageResult (log-derived text escaped), the compact text rendering with log-derived text
 * fenced, and the trimming that keeps both under the 64 KiB response budget.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { formatTimestamp } from '../../parse/index.js';
import { escapeLogText, fenceLogLines } from '../../text/index.js';
import { formatOffset, runbookJson, type SignatureEvidence, type TriageResult } from '../../triage/index.js';
import { fitsBudget } from '../response-budget.js';
import { coverageJson } from '../schemas.js';
import type { LlmOutput, signatureOutput, TriageStructured } from './triage-confidence-schema.js';

/** Rounds to three decimals, as every score and share in the output is. */
export const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function signatureJson(s: SignatureEvidence, withExamples: boolean): z.infer<typeof signatureOutput> {
  return {
    id: s.id,
    template: escapeLogText(s.template),
    count: Math.round(s.estimated),
    share: r3(s.share),
    burst_share: r3(s.burstShare),
    burst_ratio: r3(s.burstRatio),
    burst_z: r3(s.burstZ),
    baseline_count: Math.round(s.baselineEstimated),
    baseline_excluded_s: r3(s.baselineExcludedS),
    nearest_ms: s.nearestMs === null ? null : r3(s.nearestMs),
    ...(withExamples ? { examples: s.examples.map(escapeLogText) } : {}),
  };
}

export function structuredOf(tr: TriageResult, t: number, reasons: string[], llm: LlmOutput | undefined): TriageStructured {
  const { evidence: e, result: r, runbook } = tr;
  const ne = e.nearestError;
  const iso = (us: number): string => formatTimestamp(us, 3);
  const factors: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.factors)) factors[k] = r3(v);
  return {
    query: { timestamp: formatTimestamp(t), epoch_ms: t / 1000 },
    confidence: r3(r.confidence),
    decision: r.decision,
    runbook: runbook === null ? null : runbookJson(runbook),
    evidence: {
      nearest_error:
        ne === null
          ? null
          : {
              timestamp: formatTimestamp(ne.ts, ne.precision),
              tag: escapeLogText(ne.tag),
              body: escapeLogText(ne.body),
              truncated: ne.truncated,
              source: ne.source,
              line: ne.line,
              distance_ms: r3(ne.distanceMs),
              signature: ne.signature,
            },
      errors_in_window: e.errorsInWindow,
      window: { from: iso(e.window.from), to: iso(e.window.to), window_s: e.windowS },
      window_errors_per_min: r3(e.windowErrorsPerMin),
      baseline_errors_per_min: e.baseline.errorsPerMin === null ? null : r3(e.baseline.errorsPerMin),
      baseline: {
        from: iso(e.baseline.from), to: iso(e.baseline.to), span_s: r3(e.baseline.spanS), slice_s: r3(e.baseline.sliceS),
        errors: e.baseline.errors, excluded_s: r3(e.baseline.excludedS),
      },
      burst_ratio: r3(e.burstRatio),
      burst_z: r3(e.burstZ),
      dominant_signature: e.dominant === null ? null : signatureJson(e.dominant, true),
      signature_share: r3(e.signatureShare),
      second_signature_share: r3(e.secondShare),
      burst_share: r3(e.burstShare),
      second_burst_share: r3(e.secondBurstShare),
      distinct_signatures: e.distinctSignatures,
      signatures: e.signatures.map((s) => signatureJson(s, false)),
      sample: { size: e.sampleSize, sampled: e.sampled },
      coverage_ok: e.coverageOk,
      coverage_problems: e.coverageProblems,
      coverage: coverageJson(e.coverage),
      runbook_candidates: e.runbookFits.map((f) => ({ id: f.runbook.id, fit: r3(f.fit), matched: f.matched, tested: f.tested })),
      error_profile: { bucket_s: r3(e.profile.bucketS), counts: e.profile.counts, peak_offset_s: e.profile.peakOffsetS === null ? null : r3(e.profile.peakOffsetS) },
      clarity: r3(r.clarity),
      factors,
    },
    blocks: r.blocks,
    reasons,
    ...(llm === undefined ? {} : { llm }),
  };
}

/** Compact text: the decision, the reasons, the runbook steps, then log-derived text fenced. */
export function renderTriage(s: TriageStructured): string {
  const e = s.evidence;
  const head =
    `triage_confidence ${s.query.timestamp}: ${s.decision} (confidence ${s.confidence.toFixed(2)})` +
    (s.runbook === null ? ', no runbook' : `, runbook ${s.runbook.id} "${s.runbook.title}"${s.runbook.auto_execute ? '' : ' (manual)'}`);
  const out = [head, ...s.reasons.map((r) => `- ${r}`)];
  if (s.runbook !== null) out.push('steps:', ...s.runbook.steps.map((step, i) => `  ${i + 1}. ${step}`));
  if (s.llm !== undefined) {
    out.push(`llm: ${s.llm.status}${s.llm.score === null ? '' : `, score ${s.llm.score}`}${s.llm.veto ? ', veto' : ''}`);
  }
  const data: string[] = [];
  if (e.dominant_signature !== null) {
    data.push(`dominant ${e.dominant_signature.id} (${Math.round(e.burst_share * 100)}% of the burst): ${e.dominant_signature.template}`);
    for (const ex of e.dominant_signature.examples ?? []) data.push(`  e.g. ${ex}`);
  }
  for (const sig of e.signatures.slice(1, 4)) data.push(`other ${sig.id} (${Math.round(sig.burst_share * 100)}% of the burst): ${sig.template}`);
  if (e.nearest_error !== null) {
    const n = e.nearest_error;
    data.push(`nearest ${formatOffset(n.distance_ms)} ${n.timestamp} [${n.tag}] ${n.source}:${n.line} ${n.body}${n.truncated ? ' [truncated]' : ''}`);
  }
  if (s.llm?.rationale) data.push(`model rationale: ${s.llm.rationale}`);
  if (data.length > 0) out.push(fenceLogLines(data));
  for (const note of s.notes ?? []) out.push(`note: ${note}`);
  return out.join('\n');
}

export type TriageToolResult = CallToolResult & { structuredContent: TriageStructured };

function resultOf(structured: TriageStructured): TriageToolResult {
  return { content: [{ type: 'text' as const, text: renderTriage(structured) }], structuredContent: structured };
}

/**
 * The result, trimmed when it does not fit in 64 KiB: log-derived extras go first; the
 * decision, reasons and runbook steps always stay.
 */
export function fitTriageResult(full: TriageStructured): TriageToolResult {
  const result = resultOf(full);
  if (fitsBudget(result)) return result;
  const structured: TriageStructured = {
    ...full,
    evidence: { ...full.evidence, signatures: [], dominant_signature: full.evidence.dominant_signature === null ? null : { ...full.evidence.dominant_signature, examples: [] } },
    notes: ['signature list and examples left out to keep the response under 64 KiB'],
  };
  if (structured.evidence.nearest_error !== null) {
    structured.evidence.nearest_error = { ...structured.evidence.nearest_error, body: structured.evidence.nearest_error.body.slice(0, 256), truncated: true };
  }
  return resultOf(structured);
}
