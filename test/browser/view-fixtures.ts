/**
 * Fixtures of the incident-view browser tests: the logs (a generated incident, a hostile
 * one), the host page bundle, and readers that turn the rendered DOM back into data to
 * compare with the tools' own answers.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Frame, Page } from 'playwright-core';
import { SIGNATURE_CATALOG, writeLogFile } from '../../src/generate/index.js';

export const INCIDENT_START = Date.parse('2024-01-15T10:00:00.000Z');
/** A db-timeout burst ten minutes in, for a minute, over a quiet background. */
export const INCIDENT_AT = INCIDENT_START + 10 * 60_000;

export async function writeIncidentLog(path: string): Promise<void> {
  await writeLogFile(path, {
    seed: 11,
    start: INCIDENT_START,
    durationMs: 15 * 60_000,
    rate: 100,
    stackFraction: 0.05,
    incidents: [{ at: INCIDENT_AT, signature: 'db-timeout', durationMs: 60_000, ratePerSec: 150 }],
  });
}

/** A catalog whose db-timeout runbook matches the incident's signature. */
export function writeRunbooks(path: string): void {
  const db = SIGNATURE_CATALOG['db-timeout'];
  writeFileSync(
    path,
    JSON.stringify({
      runbooks: [{ id: 'db-timeout', title: db.title, match: { pattern: db.pattern }, steps: ['Check replication lag', 'Fail over the read pool'], auto_execute: true, min_confidence: 0.8 }],
    }),
  );
}

/** Log lines that try to become markup, script, terminal control or reordered text. */
export const HOSTILE_BODIES = [
  `<script>window.__pwned = 'script'; alert(1)</script>`,
  `<img src=x onerror="window.__pwned='img'; alert(2)">`,
  `<a href="javascript:window.__pwned='link'">click me</a>`,
  `\u001b[31mRED ALERT\u001b[0m \u001b]8;;http://evil.test/\u0007osc link\u001b]8;;\u0007`,
  `bidi \u202eexe.txt\u202c isolate \u2066x\u2069 zero\u200bwidth`,
  `"><svg onload="window.__pwned='svg'"></svg><iframe srcdoc="<script>parent.__pwned='frame'</script>"></iframe>`,
];

export const HOSTILE_START = Date.parse('2024-01-15T09:00:00.000Z');

export function writeHostileLog(path: string): void {
  const lines = HOSTILE_BODIES.map((b, i) => `${new Date(HOSTILE_START + i * 1000).toISOString()} [ERROR] ${b}`);
  lines.push(`${new Date(HOSTILE_START + HOSTILE_BODIES.length * 1000).toISOString()} [<b>AUDIT</b>] a tag with markup in it`);
  writeFileSync(path, lines.join('\n') + '\n');
}

/** The test host page: the bundled host-page.ts, served from a made-up origin by page.route. */
export async function hostPageBundle(): Promise<string> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('./host-page.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome120'],
    write: false,
    logLevel: 'warning',
  });
  return out.outputFiles[0]!.text;
}

export const HOST_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>test MCP Apps host</title>
<link rel="icon" href="data:,"></head><body style="margin:8px;font:13px sans-serif;background:#eef0f3">
<p>test host: the incident view in a sandboxed iframe</p><script src="/host.js"></script></body></html>`;

export interface DomBucket {
  start: string;
  total: number;
  counts: Record<string, number>;
}

export interface DomEntry {
  timestamp: string;
  line: number;
  source: string;
  tag: string;
  body: string;
  contextLines: number[];
}

/** The timeline as rendered: one record per bucket button. */
export function readBuckets(where: Page | Frame): Promise<DomBucket[]> {
  return where.$$eval('#bars .bucket', (els) =>
    els.map((el) => {
      const d = (el as HTMLElement).dataset;
      const counts: Record<string, number> = {};
      for (const l of ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']) counts[l] = Number(d[l.toLowerCase()]);
      return { start: d.start ?? '', total: Number(d.total), counts };
    }),
  );
}

/** The entry list as rendered: the hit of each item and its context line numbers. */
export function readEntries(where: Page | Frame): Promise<DomEntry[]> {
  return where.$$eval('#entries li.entry', (lis) =>
    lis.map((li) => {
      const d = (li as HTMLElement).dataset;
      return {
        timestamp: d.timestamp ?? '',
        line: Number(d.line),
        source: d.source ?? '',
        tag: d.tag ?? '',
        body: li.querySelector('.row.hit .body')?.textContent ?? '',
        contextLines: [...li.querySelectorAll('.row.ctx')].map((r) => Number((r as HTMLElement).dataset.line)),
      };
    }),
  );
}

interface ToolEntry {
  timestamp: string;
  line: number;
  source: string;
  tag: string;
  body: string;
  truncated: boolean;
  context_before?: { line: number }[];
  context_after?: { line: number }[];
}

/** What readEntries should see for a find_nearest_log answer. */
export function expectedEntries(entries: ToolEntry[]): DomEntry[] {
  return entries.map((e) => ({
    timestamp: e.timestamp,
    line: e.line,
    source: e.source,
    tag: e.tag,
    body: e.body + (e.truncated ? ' [truncated]' : ''),
    contextLines: [...(e.context_before ?? []), ...(e.context_after ?? [])].map((c) => c.line),
  }));
}

interface ToolHistogram {
  buckets: { start: string; total: number }[];
  series: { tag: string; counts: number[] }[];
}

/** What readBuckets should see for a log_histogram answer. */
export function expectedBuckets(h: ToolHistogram): DomBucket[] {
  return h.buckets.map((b, i) => {
    const counts: Record<string, number> = {};
    for (const l of ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']) counts[l] = h.series.find((s) => s.tag === l)?.counts[i] ?? 0;
    return { start: b.start, total: b.total, counts };
  });
}

/** Waits until the view has answered everything it asked and shows the answer for T. */
export async function settled(where: Page | Frame, tMs?: number): Promise<void> {
  await where.waitForFunction(
    (t) => {
      const b = document.body;
      const q = document.getElementById('entries')?.dataset.query;
      return b?.dataset.ready === '1' && b.dataset.busy === '0' && (t === null || (q !== undefined && Date.parse(q) === t));
    },
    tMs ?? null,
    { timeout: 30_000 },
  );
}
