/** Plain-text tables for benchmark output (stdout: the bench is not an MCP server). */

export function table(title: string, header: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [`\n### ${title}`, line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.map(line)].join('\n');
}

export const ns = (v: number): string => `${v < 10 ? v.toFixed(1) : Math.round(v)} ns`;
export const ms = (v: number): string => `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v)} ms`;
export const secs = (v: number): string => `${v.toFixed(2)} s`;
export const ratio = (v: number): string => `${v.toFixed(2)}x`;
export const count = (n: number): string => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
}

/** Min, median and max of a few runs: a target is judged on the worst of them. */
export interface Spread {
  min: number;
  median: number;
  max: number;
  runs: number;
}

export function spread(values: number[]): Spread {
  return { min: Math.min(...values), median: median(values), max: Math.max(...values), runs: values.length };
}

/** `min / median / max` with one formatter. */
export function showSpread(s: Spread, fmt: (v: number) => string): string {
  return `${fmt(s.min)} / ${fmt(s.median)} / ${fmt(s.max)}`;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}
