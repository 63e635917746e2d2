/**
 * Shared by the install tests (issue 17): the answer a find_nearest_log call on the committed
 * sample log must give, worked out from the file itself, and a child environment without the
 * npm_* variables `npm test` sets (they would steer a nested npm).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SAMPLE_LOG = fileURLToPath(new URL('../fixtures/sample.log', import.meta.url));
export const QUERY = { timestamp: '2024-01-15T10:30:40Z', tag: 'ERROR' } as const;

export interface Expected {
  timestamp: string;
  line: number;
  entries: number;
}

/** The nearest entry with QUERY.tag by brute force over the file's lines (ties: earlier first). */
export function expectedAnswer(): Expected {
  const lines = readFileSync(SAMPLE_LOG, 'utf8').split('\n');
  const t = Date.parse(QUERY.timestamp);
  let best: { timestamp: string; line: number; d: number; ms: number } | null = null;
  let entries = 0;
  lines.forEach((text, i) => {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) \[(\w+)\]/.exec(text);
    if (m === null) return;
    entries++;
    if (m[2] !== QUERY.tag) return;
    const ms = Date.parse(m[1]!);
    const d = Math.abs(ms - t);
    if (best === null || d < best.d || (d === best.d && ms < best.ms)) best = { timestamp: m[1]!, line: i + 1, d, ms };
  });
  if (best === null) throw new Error(`no ${QUERY.tag} entry in ${SAMPLE_LOG}`);
  const b = best as { timestamp: string; line: number };
  return { timestamp: b.timestamp, line: b.line, entries };
}

/** Checks a find_nearest_log structuredContent against the brute-force answer. */
export function expectAnswer(structured: unknown, expected: Expected): void {
  const s = structured as { status: string; entries: { timestamp: string; line: number; tag: string }[] };
  expect(s.status).toBe('ok');
  expect(s.entries[0]).toMatchObject({ timestamp: expected.timestamp, line: expected.line, tag: QUERY.tag });
}

/** process.env without npm_* (set by `npm test`), for nested npm and installed commands. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}
