/**
 * What the view reads from the three tools' structuredContent (the subset it shows; the
 * server's zod output schemas are the full truth), and the pure arithmetic of the timeline:
 * which histogram to ask for, where a bucket is, where T moves.
 */

export interface ContextLine {
  timestamp: string;
  tag: string;
  body: string;
  line: number;
}

export interface NearestEntry extends ContextLine {
  epoch_ms: number;
  truncated: boolean;
  distance_ms: number;
  source: string;
  context_before?: ContextLine[];
  context_after?: ContextLine[];
}

export interface Coverage {
  first_timestamp: string | null;
  last_timestamp: string | null;
  entries: number;
  lag_ms: number | null;
}

export interface Query {
  timestamp: string;
  epoch_ms: number;
}

export interface NearestResult {
  query: Query;
  status: string;
  entries: NearestEntry[];
  coverage: Coverage;
  notes?: string[];
}

export interface HistogramResult {
  query: Query;
  bucket_s: number;
  incident_bucket: number;
  buckets: { start: string; total: number }[];
  series: { tag: string; counts: number[]; total: number; max: number }[];
  coverage: Coverage;
  notes?: string[];
}

export interface TriageResult {
  query: Query;
  confidence: number;
  decision: 'auto_execute' | 'escalate' | 'insufficient_data';
  runbook: { id: string; title: string; steps: string[]; auto_execute: boolean; min_confidence: number } | null;
  evidence: {
    errors_in_window: number;
    window: { from: string; to: string; window_s: number };
    baseline_errors_per_min: number | null;
    window_errors_per_min: number;
    burst_ratio: number;
    dominant_signature: { template: string; share: number } | null;
    distinct_signatures: number;
    coverage_ok: boolean;
  };
  reasons: string[];
}

export type ToolName = 'find_nearest_log' | 'log_histogram' | 'triage_confidence';

/** Which tool produced a structuredContent, told by its shape (hosts do not always say). */
export function kindOf(structured: unknown): ToolName | null {
  if (structured === null || typeof structured !== 'object') return null;
  const s = structured as Record<string, unknown>;
  if (Array.isArray(s.series) && Array.isArray(s.buckets)) return 'log_histogram';
  if (typeof s.decision === 'string' && typeof s.evidence === 'object') return 'triage_confidence';
  if (Array.isArray(s.entries) && typeof s.status === 'string') return 'find_nearest_log';
  return null;
}

/** The incident window of triage_confidence: [T - window_s, T + 60 s]. */
export const WINDOW_AFTER_S = 60;
export const DEFAULT_WINDOW_S = 300;

const BUCKET_LADDER_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400];

export interface HistogramPlan {
  bucket_s: number;
  buckets_before: number;
  buckets_after: number;
}

/**
 * A histogram that shows the incident window with as much again before it (the normal rate
 * to compare with) and a little after, in about 48 buckets: enough to see a burst start,
 * few enough to click in a chat column.
 */
export function planHistogram(windowS: number): HistogramPlan {
  const spanS = windowS * 2 + WINDOW_AFTER_S * 2;
  const bucket = BUCKET_LADDER_S.find((b) => spanS / b <= 48) ?? 86_400;
  return {
    bucket_s: bucket,
    buckets_before: Math.min(200, Math.ceil((windowS * 2) / bucket)),
    buckets_after: Math.min(39, Math.ceil((WINDOW_AFTER_S * 2) / bucket)),
  };
}

/** Epoch ms of a bucket's start. */
export function bucketStartMs(h: HistogramResult, i: number): number {
  return Date.parse(h.buckets[i]!.start);
}

/** The moment a click on bucket i moves T to: the bucket's middle. */
export function bucketMiddleMs(h: HistogramResult, i: number): number {
  return bucketStartMs(h, i) + (h.bucket_s * 1000) / 2;
}

/** Index of the bucket holding epoch ms t, or -1 outside the histogram. */
export function bucketOf(h: HistogramResult, t: number): number {
  if (h.buckets.length === 0) return -1;
  const i = Math.floor((t - bucketStartMs(h, 0)) / (h.bucket_s * 1000));
  return i >= 0 && i < h.buckets.length ? i : -1;
}

/** Counts of one level per bucket (zeros when the histogram has no such series). */
export function countsOf(h: HistogramResult, tag: string): number[] {
  return h.series.find((s) => s.tag === tag)?.counts ?? h.buckets.map(() => 0);
}

/** ISO 8601 UTC with milliseconds, the form tool arguments take. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Accepts what a person types for T: ISO 8601 with a zone, or epoch milliseconds. */
export function parseMoment(text: string): number | null {
  const s = text.trim();
  if (/^\d{10,16}$/.test(s)) return Number(s);
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(s)) return null;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : null;
}
