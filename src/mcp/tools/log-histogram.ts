/**
 * log_histogram: entry counts per level per time bucket around a moment, with a sparkline per
 * level in the text so a burst is visible at a glance. All cells come from one countInRanges
 * call (binary searches per chunk in memory, one GROUP BY on ClickHouse), so a 240-bucket
 * histogram over millions of entries stays cheap.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { LEVEL_NAMES, levelFromName, formatTimestamp, MAX_EPOCH_MS } from '../../parse/index.js';
import type { Store } from '../../store/index.js';
import {
  checkTags, coverageJson, coverageOutput, intField, queryOutput, requireTimestamp, sourceInput, strictInput, tagInput, tagList, timestampInput, ToolInputError,
} from '../schemas.js';
import { INCIDENT_VIEW_TOOL_META } from '../incident-view.js';

export interface LogHistogramDeps {
  store: Store;
}

export const MAX_BUCKETS = 240;
const US = 1_000_000;

const inputSchema = {
  timestamp: timestampInput,
  bucket_s: intField('bucket_s', 1, 86_400).default(60).describe('Bucket width in seconds, 1 to 86400 (default 60). Buckets are aligned to multiples of it in UTC.'),
  buckets_before: intField('buckets_before', 0, MAX_BUCKETS - 1)
    .default(30)
    .describe(`Buckets before the one holding the timestamp (default 30). Before + after + 1 is at most ${MAX_BUCKETS}.`),
  buckets_after: intField('buckets_after', 0, MAX_BUCKETS - 1)
    .default(10)
    .describe(`Buckets after the one holding the timestamp (default 10). Before + after + 1 is at most ${MAX_BUCKETS}.`),
  tag: tagInput.describe('Levels or tags to count, one series each (case-insensitive). Default: TRACE, DEBUG, INFO, WARN, ERROR, FATAL.'),
  source: sourceInput,
};

const outputSchema = {
  query: queryOutput,
  bucket_s: z.number(),
  /** Index of the bucket that holds the timestamp. */
  incident_bucket: z.number(),
  buckets: z.array(z.object({ start: z.string(), total: z.number() })),
  series: z.array(z.object({ tag: z.string(), counts: z.array(z.number()), total: z.number(), max: z.number() })),
  coverage: coverageOutput,
  notes: z.array(z.string()).optional(),
};

type Structured = z.infer<z.ZodObject<typeof outputSchema>>;

const BARS = '▁▂▃▄▅▆▇█';

/** One character per count, scaled to the series maximum; a zero is a space, so "none" and "few" differ. */
export function sparkline(counts: readonly number[]): string {
  const max = Math.max(0, ...counts);
  return counts.map((c) => (c <= 0 || max === 0 ? ' ' : BARS[Math.min(7, Math.ceil((c / max) * 8) - 1)]!)).join('');
}

export function renderHistogram(s: Structured): string {
  const first = s.buckets[0]?.start ?? '-';
  const last = s.buckets[s.buckets.length - 1]?.start ?? '-';
  const head = `log_histogram ${s.query.timestamp}: ${s.buckets.length} buckets of ${s.bucket_s} s from ${first} to ${last} (the timestamp is in the bucket marked ^)`;
  const rows = [...s.series.map((x) => ({ label: x.tag, counts: x.counts, total: x.total, max: x.max }))];
  const totals = s.buckets.map((b) => b.total);
  rows.push({ label: 'all', counts: totals, total: totals.reduce((a, b) => a + b, 0), max: Math.max(0, ...totals) });
  const width = Math.max(...rows.map((r) => r.label.length));
  const lines = rows.map((r) => `${r.label.padEnd(width)} |${sparkline(r.counts)}| max ${r.max}/bucket, total ${r.total}`);
  lines.push(`${''.padEnd(width)}  ${' '.repeat(s.incident_bucket)}^`);
  const notes = (s.notes ?? []).map((n) => `note: ${n}`);
  return [head, ...lines, ...notes].join('\n');
}

function canonicalTag(tag: string): string {
  const level = levelFromName(tag);
  return level >= 0 ? LEVEL_NAMES[level]! : tag.toUpperCase();
}

/** The arguments after parsing (defaults applied). */
export type LogHistogramArgs = z.infer<z.ZodObject<typeof inputSchema>>;

export async function logHistogram(deps: LogHistogramDeps, args: LogHistogramArgs): Promise<CallToolResult & { structuredContent: Structured }> {
  const t = requireTimestamp(args.timestamp);
  const n = args.buckets_before + args.buckets_after + 1;
  if (n > MAX_BUCKETS) {
    throw new ToolInputError('buckets_before', `buckets_before + buckets_after + 1 is ${n}; at most ${MAX_BUCKETS} buckets are accepted (widen bucket_s instead)`);
  }
  checkTags(deps.store.knownTags(), tagList(args.tag));
  const width = args.bucket_s * US;
  const start = Math.floor(t / width) * width - args.buckets_before * width;
  if (Math.abs(start) > MAX_EPOCH_MS * 1000 || Math.abs(start + n * width) > MAX_EPOCH_MS * 1000) {
    throw new ToolInputError('timestamp', `the buckets around it leave the range of epoch milliseconds -${MAX_EPOCH_MS} to ${MAX_EPOCH_MS}`);
  }
  const tags = [...new Set((tagList(args.tag) ?? LEVEL_NAMES).map(canonicalTag))];
  const source = args.source === undefined ? {} : { source: args.source };
  const coverage = await deps.store.coverage(args.source);
  // One call for every bucket and series: a remote store answers it with one query.
  const edges = Array.from({ length: n + 1 }, (_, i) => start + i * width);
  const [totals, ...perTag] = await deps.store.countInRanges({ edges, series: [null, ...tags.map((tag) => [tag])], ...source });
  const series: Structured['series'] = tags.map((tag, k) => {
    const counts = perTag[k]!;
    return { tag, counts, total: counts.reduce((a, b) => a + b, 0), max: Math.max(0, ...counts) };
  });

  const notes: string[] = [];
  const end = start + n * width;
  if (coverage.lastTs === null) notes.push('nothing has been ingested yet');
  else if (coverage.lastTs < end - 1) {
    notes.push(`ingestion has reached ${formatTimestamp(coverage.lastTs, 3)}: later buckets are not final`);
  }
  if (coverage.firstTs !== null && coverage.firstTs > start) {
    notes.push(`the earliest ingested entry is ${formatTimestamp(coverage.firstTs, 3)}: earlier buckets hold no data`);
  }
  const structured: Structured = {
    query: { timestamp: formatTimestamp(t), epoch_ms: t / 1000 },
    bucket_s: args.bucket_s,
    incident_bucket: args.buckets_before,
    buckets: totals!.map((total, i) => ({ start: formatTimestamp(start + i * width, 0), total })),
    series,
    coverage: coverageJson(coverage),
    ...(notes.length > 0 ? { notes } : {}),
  };
  return { content: [{ type: 'text', text: renderHistogram(structured) }], structuredContent: structured };
}

export function registerLogHistogramTool(server: McpServer, deps: LogHistogramDeps): void {
  server.registerTool(
    'log_histogram',
    {
      title: 'Log volume per level over time around a moment',
      description:
        'Counts entries per level (or tag) in equal time buckets around a timestamp, with a sparkline per ' +
        'level in the text, so a burst of errors and its start are visible at a glance. Use it to see ' +
        'whether an alert time sits on a burst, and how the error rate compares with before.',
      inputSchema: strictInput(inputSchema),
      outputSchema,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      // Hosts with MCP Apps render the incident view beside the result; others ignore it.
      _meta: INCIDENT_VIEW_TOOL_META,
    },
    async (args) => logHistogram(deps, args),
  );
}
