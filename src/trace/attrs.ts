/**
 * Span attributes of the background work (ingest batches, WAL fsyncs, checkpoints), built
 * here so each boundary only adds one span() call. Plain objects: cheap when tracing is off.
 */
import type { Attrs } from './index.js';

/**
 * What a span says about an ingest batch: the parts of src/ingest's IngestBatch it reads,
 * named here so that tracing, which ingestion and the WAL import, imports nothing of them.
 */
export interface BatchFacts {
  source: string;
  firstLine: number;
  chunk: { length: number };
  parsed: { count: number; lines: number; errors: number; ts: ArrayLike<number> };
}

/** An ingest batch: its source, size, parse errors, and how far its newest entry lags now. */
export function batchAttrs(batch: BatchFacts): Attrs {
  const p = batch.parsed;
  const last = p.count > 0 ? p.ts[p.count - 1] : undefined;
  return {
    'log_triage.source': batch.source,
    'log_triage.entries': p.count,
    'log_triage.lines': p.lines,
    'log_triage.bytes': batch.chunk.length,
    'log_triage.parse_errors': p.errors,
    'log_triage.first_line': batch.firstLine,
    'log_triage.lag_ms': last === undefined ? null : Math.round(Date.now() - last / 1000),
  };
}
