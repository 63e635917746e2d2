/**
 * Live lag: a writer process appends at a fixed rate with each line stamped with the wall
 * clock as it is written; the served index is sampled every 20 ms for how far its newest
 * entry is behind now (tail_status lag_ms, the same number find_nearest_log reports).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATE, serveStdio, sources } from './processes.js';
import { log, ms, percentile, table } from './table.js';

export interface LiveRow {
  rate: number;
  seconds: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  entries: number;
}

export async function runLiveBench(dir: string, rate: number, seconds: number): Promise<LiveRow> {
  const file = join(dir, `live-${rate}.log`);
  rmSync(file, { force: true });
  log(`live bench: ${rate} lines/s for ${seconds} s`);
  const writer = spawn(process.execPath, [GENERATE, '--rate', String(rate), '--output', file, '--quiet'], { stdio: 'ignore' });
  const served = await serveStdio(['--source', file, '--ephemeral']);
  try {
    // A writer that never pauses always leaves its newest entry pending: wait for 'live' only.
    const deadline = Date.now() + 30_000;
    while (!(await sources(served.client)).every((x) => x.state === 'live')) {
      if (Date.now() > deadline) throw new Error('the live source never caught up');
      await new Promise((r) => setTimeout(r, 20));
    }
    const lags: number[] = [];
    const end = Date.now() + seconds * 1000;
    let entries = 0;
    while (Date.now() < end) {
      const [s] = await sources(served.client);
      if (s !== undefined && s.lag_ms !== null) lags.push(s.lag_ms);
      entries = s?.entries ?? 0;
      await new Promise((r) => setTimeout(r, 20));
    }
    return { rate, seconds, samples: lags.length, p50: percentile(lags, 50), p99: percentile(lags, 99), max: Math.max(...lags), entries };
  } finally {
    writer.kill('SIGTERM');
    await served.close();
  }
}

export function liveTable(rows: LiveRow[]): string {
  return table(
    'Live tail lag (now minus the newest indexed entry, sampled every 20 ms)',
    ['writer rate', 'duration', 'samples', 'entries indexed', 'lag p50', 'lag p99', 'max', 'target'],
    rows.map((r) => [`${r.rate} lines/s`, `${r.seconds} s`, r.samples, r.entries, ms(r.p50), ms(r.p99), ms(r.max), 'p99 <= 250 ms']),
  );
}
