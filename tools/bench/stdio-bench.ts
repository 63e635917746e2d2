/** find_nearest_log over stdio, end to end: the SDK client, JSON-RPC, the server, back. */
import { join } from 'node:path';
import { writeLogFile } from '../../src/generate/index.js';
import { BENCH_START_MS } from './dataset.js';
import { serveStdio, waitLive } from './processes.js';
import { count, log, ms, percentile, table } from './table.js';

export interface StdioRow {
  entries: number;
  calls: number;
  p50: number;
  p99: number;
  max: number;
}

export async function runStdioBench(dir: string, entries: number, calls: number): Promise<StdioRow> {
  const file = join(dir, `stdio-${entries}.log`);
  log(`stdio bench: writing ${count(entries)} lines`);
  const stats = await writeLogFile(file, { lines: entries, start: BENCH_START_MS, seed: 3 });
  const served = await serveStdio(['--source', file, '--ephemeral']);
  try {
    await waitLive(served.client);
    const span = stats.lastEpochMs - stats.firstEpochMs;
    let x = 12345;
    const next = (): number => ((x = (x * 1103515245 + 12345) % 2147483648), x / 2147483648);
    for (let i = 0; i < 200; i++) await served.client.callTool({ name: 'find_nearest_log', arguments: { timestamp: stats.firstEpochMs + Math.floor(next() * span) } });
    const samples: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t = stats.firstEpochMs + Math.floor(next() * span);
      const started = performance.now();
      const r = await served.client.callTool({ name: 'find_nearest_log', arguments: { timestamp: t, ...(i % 4 === 0 ? { tag: 'ERROR' } : {}) } });
      samples.push(performance.now() - started);
      if (r.isError) throw new Error(`find_nearest_log failed: ${JSON.stringify(r.content)}`);
    }
    return { entries, calls, p50: percentile(samples, 50), p99: percentile(samples, 99), max: Math.max(...samples) };
  } finally {
    await served.close();
  }
}

export function stdioTable(rows: StdioRow[]): string {
  return table(
    'find_nearest_log over stdio, end to end (SDK client, 1 in 4 calls tag-filtered)',
    ['entries', 'calls', 'p50', 'p99', 'max', 'target'],
    rows.map((r) => [count(r.entries), r.calls, ms(r.p50), ms(r.p99), ms(r.max), 'p50 <= 1 ms, p99 <= 3 ms']),
  );
}
