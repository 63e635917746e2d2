/**
 * Parse throughput per format on one thread (what one parse worker does): the generator's
 * lines in each format, parsed in 4 MiB chunks as the reader hands them out. Lines per
 * CPU-second of this thread (process.cpuUsage), not wall time: on a shared machine the wall
 * clock also counts the time other processes had the core. Runs interleave the formats, so a
 * burst of load hits all of them; median and spread (min..max) of the runs are printed, with
 * each format's median beside the original format's (targets: text >= 0.5x, JSON >= 0.33x).
 */
import { LogGenerator, MAX_ENTRY_BYTES } from '../../src/generate/index.js';
import { STYLE_NAMES } from '../../src/generate/line-styles.js';
import { getFormat } from '../../src/parse/formats.js';
import { BENCH_START_MS } from './dataset.js';
import { log, median, table } from './table.js';

const CHUNK = 4 << 20;
const JSON_FORMATS = new Set(['json', 'pino', 'bunyan', 'zap', 'ecs', 'otel', 'journald', 'docker-json']);

export interface ParseRow {
  format: string;
  bytesPerLine: number;
  /** Lines per CPU-second, one per run. */
  rates: number[];
}

function generate(format: string, lines: number): { data: Buffer; lines: number } {
  const gen = new LogGenerator({ format, seed: 7, start: BENCH_START_MS, stackFraction: 0.05 });
  const out = Buffer.allocUnsafe(lines * 600 + MAX_ENTRY_BYTES * 2);
  let pos = 0;
  let physical = 0;
  while (gen.entries < lines) {
    const r = gen.fill(out.subarray(pos, Math.min(out.length, pos + CHUNK)), { maxEntries: lines - gen.entries });
    if (r.entries === 0) break;
    pos += r.bytes;
    physical += r.lines;
  }
  return { data: out.subarray(0, pos), lines: physical };
}

/** Chunk cut points at line ends, as the reader would make them (at most CHUNK bytes each). */
function cuts(data: Buffer): number[] {
  const out: number[] = [];
  for (let from = 0; from < data.length; ) {
    let end = Math.min(data.length, from + CHUNK);
    if (end < data.length) end = data.lastIndexOf(10, end - 1) + 1;
    out.push(end);
    from = end;
  }
  return out;
}

export function runParseBench(lines: number, runs: number): ParseRow[] {
  const sets = STYLE_NAMES.map((format) => {
    log(`parse bench: generating ${lines} ${format} lines`);
    const g = generate(format, lines);
    return { format, ...g, cuts: cuts(g.data), rates: [] as number[] };
  });
  for (let run = 0; run < runs + 1; run++) {
    log(`parse bench: run ${run + 1}/${runs + 1}${run === 0 ? ' (warm-up, not counted)' : ''}`);
    for (const s of sets) {
      const format = getFormat(s.format)!;
      const options = { timezone: 'UTC', mtimeMs: BENCH_START_MS + 3_600_000 };
      const before = process.cpuUsage();
      let from = 0;
      let entries = 0;
      for (const end of s.cuts) {
        entries += format.parseChunk(s.data.subarray(from, end), options).count;
        from = end;
      }
      const cpu = process.cpuUsage(before);
      const seconds = (cpu.user + cpu.system) / 1e6;
      if (entries < lines) throw new Error(`${s.format}: parsed ${entries} of ${lines} entries`);
      if (run > 0) s.rates.push(s.lines / seconds);
    }
  }
  return sets.map((s) => ({ format: s.format, bytesPerLine: s.data.length / s.lines, rates: s.rates }));
}

const m = (v: number): string => `${(v / 1e6).toFixed(2)}M`;

export function parseTable(rows: ParseRow[], runs: number): string {
  const base = median(rows.find((r) => r.format === 'iso-bracket')!.rates);
  return table(
    `Parse throughput per format, one thread, lines per CPU-second (median of ${runs} runs, min..max; shared machine)`,
    ['format', 'bytes/line', 'lines/s', 'spread', 'vs original', 'target'],
    rows.map((r) => {
      const med = median(r.rates);
      const json = JSON_FORMATS.has(r.format);
      const target = r.format === 'iso-bracket' ? '-' : json ? '>= 0.33x' : '>= 0.50x';
      return [r.format, Math.round(r.bytesPerLine), m(med), `${m(Math.min(...r.rates))}..${m(Math.max(...r.rates))}`, `${(med / base).toFixed(2)}x`, target];
    }),
  );
}
