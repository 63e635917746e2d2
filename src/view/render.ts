/**
 * Rendering: the timeline (log_histogram), the nearest entries (find_nearest_log) and the
 * triage panel (triage_confidence). Pure functions of the data; every piece of log text
 * goes through dom.ts as text.
 */
import { byId, fill, h } from './dom.js';
import { type HistogramResult, type NearestEntry, type NearestResult, type TriageResult, bucketOf, bucketStartMs, countsOf } from './model.js';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
/** The upper row: what a burst is made of. */
const ERROR_LEVELS = ['FATAL', 'ERROR'] as const;

export interface TimelineMarks {
  /** The alert moment (the T the view opened with). */
  alertMs: number | null;
  /** The current T. */
  cursorMs: number;
  /** The incident window [from, to), epoch ms. */
  window: { from: number; to: number } | null;
}

/** HH:MM:SS in UTC (the axis); with milliseconds where a line needs them. */
export function clock(ms: number, withMs = false): string {
  const s = new Date(ms).toISOString();
  return withMs ? s.slice(11, 23) : s.slice(11, 19);
}

function segment(level: string, count: number, scale: number): HTMLElement {
  const seg = h('span', { class: `seg lvl-${level}` });
  // CSSOM, not a style attribute: allowed under the page's CSP.
  seg.style.height = `${scale > 0 ? (count / scale) * 100 : 0}%`;
  return seg;
}

/**
 * One column per bucket, a button each (click or Enter moves T there): the upper bar stacks
 * ERROR and FATAL, scaled to their own maximum so a burst stands out even when errors are
 * 5 % of the volume; the lower bar stacks every level, scaled to the busiest bucket.
 */
export function renderTimeline(h0: HistogramResult, marks: TimelineMarks, onPick: (i: number) => void): void {
  const errors = h0.buckets.map((_, i) => ERROR_LEVELS.reduce((a, l) => a + (countsOf(h0, l)[i] ?? 0), 0));
  const errMax = Math.max(1, ...errors);
  const totalMax = Math.max(1, ...h0.buckets.map((b) => b.total));
  const alertBucket = marks.alertMs === null ? -1 : bucketOf(h0, marks.alertMs);
  const cursorBucket = bucketOf(h0, marks.cursorMs);
  const width = h0.bucket_s * 1000;
  const columns = h0.buckets.map((b, i) => {
    const start = bucketStartMs(h0, i);
    const inWindow = marks.window !== null && start < marks.window.to && start + width > marks.window.from;
    const counts: Record<string, number> = {};
    for (const l of LEVELS) counts[l] = countsOf(h0, l)[i] ?? 0;
    const label = `${clock(start)}: ${b.total} entries` + LEVELS.filter((l) => counts[l]! > 0).map((l) => `, ${l} ${counts[l]}`).join('');
    const classes = ['bucket', inWindow ? 'in-window' : '', i === alertBucket ? 'alert' : '', i === cursorBucket ? 'cursor' : ''].filter(Boolean).join(' ');
    const col = h(
      'button',
      {
        class: classes,
        title: label,
        attrs: { type: 'button', 'aria-label': label, ...(i === cursorBucket ? { 'aria-current': 'true' } : {}) },
        data: { index: i, start: b.start, total: b.total, ...Object.fromEntries(LEVELS.map((l) => [l.toLowerCase(), counts[l]!])) },
      },
      h('span', { class: 'bar errors' }, ...ERROR_LEVELS.map((l) => segment(l, counts[l]!, errMax))),
      h('span', { class: 'bar volume' }, ...[...LEVELS].reverse().map((l) => segment(l, counts[l]!, totalMax))),
    );
    col.addEventListener('click', () => onPick(i));
    return col;
  });
  const first = h0.buckets[0];
  const last = h0.buckets[h0.buckets.length - 1];
  fill(byId('bars'), ...columns);
  fill(
    byId('axis'),
    h('span', {}, first ? clock(Date.parse(first.start)) : ''),
    h('span', { class: 'axis-mid' }, `${h0.bucket_s} s buckets, UTC; upper bars: ERROR+FATAL (max ${errMax}), lower: all levels (max ${totalMax})`),
    h('span', {}, last ? clock(Date.parse(last.start) + width) : ''),
  );
  fill(byId('timeline-notes'), ...(h0.notes ?? []).map((n) => h('li', {}, n)));
}

/** A lag or age in the largest unit that keeps it readable. */
export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  if (s < 86_400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} days`;
}

function signedDistance(ms: number): string {
  const sign = ms < 0 ? '−' : '+';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${abs.toFixed(1)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(3)} s`;
  return `${sign}${(abs / 60_000).toFixed(1)} min`;
}

function contextRow(c: { timestamp: string; tag: string; body: string; line: number }, source: string): HTMLElement {
  return h(
    'div',
    { class: `row ctx lvl-${c.tag}`, data: { line: c.line } },
    h('span', { class: 'dist' }, ''),
    h('span', { class: 'ts' }, c.timestamp),
    h('span', { class: 'lvl' }, c.tag),
    h('span', { class: 'loc' }, `${source}:${c.line}`),
    h('bdi', { class: 'body', attrs: { dir: 'ltr' } }, c.body),
  );
}

function entryItem(e: NearestEntry): HTMLElement {
  return h(
    'li',
    { class: 'entry', data: { timestamp: e.timestamp, line: e.line, source: e.source, tag: e.tag } },
    ...(e.context_before ?? []).map((c) => contextRow(c, e.source)),
    h(
      'div',
      { class: `row hit lvl-${e.tag}`, data: { line: e.line } },
      h('span', { class: 'dist' }, signedDistance(e.distance_ms)),
      h('span', { class: 'ts' }, e.timestamp),
      h('span', { class: 'lvl' }, e.tag),
      h('span', { class: 'loc' }, `${e.source}:${e.line}`),
      h('bdi', { class: 'body', attrs: { dir: 'ltr' } }, e.body, e.truncated ? h('span', { class: 'cut' }, ' [truncated]') : null),
    ),
    ...(e.context_after ?? []).map((c) => contextRow(c, e.source)),
  );
}

const STATUS_TEXT: Record<string, string> = {
  ok: '',
  empty: 'nothing has been ingested yet',
  no_match: 'no entry matches the filter',
  not_yet_ingested: 'T is later than everything ingested so far',
  before_retention: 'T is before the retention horizon',
};

export function renderEntries(r: NearestResult): void {
  const list = byId('entries');
  fill(list, ...r.entries.map(entryItem));
  list.dataset.query = r.query.timestamp;
  const lag = r.coverage.lag_ms === null ? '' : `, ingestion ${duration(r.coverage.lag_ms)} behind now`;
  const status = STATUS_TEXT[r.status] ?? r.status;
  fill(
    byId('entries-head'),
    `Nearest to ${r.query.timestamp}`,
    h('span', { class: 'muted' }, ` (${r.entries.length} entr${r.entries.length === 1 ? 'y' : 'ies'}; ${r.coverage.entries} indexed${lag})`),
    status ? h('span', { class: 'warn' }, ` ${status}`) : null,
  );
  fill(byId('entries-notes'), ...(r.notes ?? []).map((n) => h('li', {}, n)));
}

const DECISION_TEXT: Record<TriageResult['decision'], string> = {
  auto_execute: 'auto-execute',
  escalate: 'escalate to a human',
  insufficient_data: 'insufficient data',
};

export function renderTriage(t: TriageResult | null): void {
  const panel = byId('triage');
  panel.hidden = t === null;
  if (t === null) return;
  const e = t.evidence;
  const fmt = (x: number | null, digits = 1): string => (x === null ? 'n/a' : x.toFixed(digits));
  const facts: [string, string][] = [
    ['errors in window', `${e.errors_in_window} (${e.window.from} .. ${e.window.to})`],
    ['errors/min: window vs baseline', `${fmt(e.window_errors_per_min)} vs ${fmt(e.baseline_errors_per_min)}`],
    ['burst ratio', `${fmt(e.burst_ratio, 2)}x`],
    ['dominant signature', e.dominant_signature === null ? 'none' : `${e.dominant_signature.template} (${(e.dominant_signature.share * 100).toFixed(0)} %)`],
    ['distinct signatures', String(e.distinct_signatures)],
    ['window fully ingested', e.coverage_ok ? 'yes' : 'no'],
  ];
  fill(
    panel,
    h(
      'div',
      { class: 'decision-line' },
      h('span', { class: `decision ${t.decision}`, data: { decision: t.decision } }, DECISION_TEXT[t.decision]),
      h('span', { class: 'confidence' }, `confidence ${(t.confidence * 100).toFixed(1)} %`),
      t.runbook === null
        ? h('span', { class: 'muted' }, 'no runbook matches')
        : h('span', { class: 'runbook' }, `runbook ${t.runbook.id}: ${t.runbook.title}${t.runbook.auto_execute ? '' : ' (manual)'}`),
    ),
    h('ul', { class: 'reasons' }, ...t.reasons.slice(0, 6).map((r) => h('li', {}, r))),
    h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
  );
}

/** One line under the title: what is happening (loading, an error, a hint). */
export function setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
  const el = byId('status');
  el.className = kind === 'error' ? 'status error' : 'status';
  fill(el, text);
}
