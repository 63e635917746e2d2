/**
 * triage_confidence's input and output shapes. The input's field builders are shared with
 * the other tools (../schemas.ts); the output mirrors TriageResult (src/triage) in
 * snake_case, numbers rounded to three decimals.
 */
import { z } from 'zod';
import { DEFAULT_BASELINE_S, DEFAULT_WINDOW_S, MAX_ALERT_CHARS } from '../../triage/limits.js';
import { booleanField, coverageOutput, queryOutput, secondsField, sourceInput, timestampInput } from '../schemas.js';

export const inputSchema = {
  timestamp: timestampInput,
  window_s: secondsField('window_s', 10, 21_600)
    .default(DEFAULT_WINDOW_S)
    .describe('Seconds before the timestamp that belong to the incident (default 300): the window is [T - window_s, T + 60 s].'),
  baseline_s: secondsField('baseline_s', 60, 86_400)
    .default(DEFAULT_BASELINE_S)
    .describe('Seconds before the window used as the normal error rate (default 3600).'),
  source: sourceInput,
  alert: z
    .string({ error: `alert must be text of at most ${MAX_ALERT_CHARS} characters` })
    .max(MAX_ALERT_CHARS, { error: `alert must be text of at most ${MAX_ALERT_CHARS} characters` })
    .optional()
    .describe('Free text of the alert. Untrusted: it never changes the score and is only shown, fenced, to the model when use_llm is true.'),
  use_llm: booleanField('use_llm')
    .default(false)
    .describe("Ask the client's model for a second opinion through MCP sampling (default false). It can lower the confidence or veto, never promote the decision."),
};

export const signatureOutput = z.object({
  id: z.string(),
  template: z.string(),
  count: z.number(),
  share: z.number(),
  burst_share: z.number(),
  burst_ratio: z.number(),
  burst_z: z.number(),
  baseline_count: z.number(),
  baseline_excluded_s: z.number(),
  nearest_ms: z.number().nullable(),
  examples: z.array(z.string()).optional(),
});

export const outputSchema = {
  query: queryOutput,
  confidence: z.number(),
  decision: z.enum(['auto_execute', 'escalate', 'insufficient_data']),
  runbook: z
    .object({
      id: z.string(),
      title: z.string(),
      steps: z.array(z.string()),
      auto_execute: z.boolean(),
      min_confidence: z.number(),
      match: z.object({ tags: z.array(z.string()), pattern: z.string(), ignore_case: z.boolean() }),
    })
    .nullable(),
  evidence: z.object({
    nearest_error: z
      .object({
        timestamp: z.string(),
        tag: z.string(),
        body: z.string(),
        truncated: z.boolean(),
        source: z.string(),
        line: z.number(),
        distance_ms: z.number(),
        signature: z.string().nullable(),
      })
      .nullable(),
    errors_in_window: z.number(),
    window: z.object({ from: z.string(), to: z.string(), window_s: z.number() }),
    window_errors_per_min: z.number(),
    baseline_errors_per_min: z.number().nullable(),
    baseline: z.object({ from: z.string(), to: z.string(), span_s: z.number(), slice_s: z.number(), errors: z.number(), excluded_s: z.number() }),
    burst_ratio: z.number(),
    burst_z: z.number(),
    dominant_signature: signatureOutput.nullable(),
    signature_share: z.number(),
    second_signature_share: z.number(),
    burst_share: z.number(),
    second_burst_share: z.number(),
    distinct_signatures: z.number(),
    signatures: z.array(signatureOutput),
    sample: z.object({ size: z.number(), sampled: z.boolean() }),
    coverage_ok: z.boolean(),
    coverage_problems: z.array(z.string()),
    coverage: coverageOutput,
    runbook_candidates: z.array(z.object({ id: z.string(), fit: z.number(), matched: z.number(), tested: z.number() })),
    error_profile: z.object({ bucket_s: z.number(), counts: z.array(z.number()), peak_offset_s: z.number().nullable() }),
    clarity: z.number(),
    factors: z.record(z.string(), z.number()),
  }),
  blocks: z.array(z.string()),
  reasons: z.array(z.string()),
  llm: z
    .object({
      used: z.boolean(),
      status: z.enum(['applied', 'unsupported', 'failed', 'unparseable']),
      score: z.number().nullable(),
      veto: z.boolean().nullable(),
      rationale: z.string().nullable(),
    })
    .optional(),
  notes: z.array(z.string()).optional(),
};

export type TriageStructured = z.infer<z.ZodObject<typeof outputSchema>>;
export type LlmOutput = NonNullable<TriageStructured['llm']>;

/** The arguments after parsing (defaults applied). */
export type TriageConfidenceArgs = z.infer<z.ZodObject<typeof inputSchema>>;
