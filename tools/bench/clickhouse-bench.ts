/**
 * The ClickHouse store's rows (issue 13), on a two-shard cluster of local clickhouse-server
 * processes started for the run (tools/clickhouse-cluster.ts):
 *   - agent throughput: a generated file shipped by one agent (parse, WAL, upload), rows/s
 *     from start until ClickHouse acknowledged the last row;
 *   - nearest p50/p99 over the Distributed table at N rows (unfiltered and ERROR), beside
 *     the embedded store's on the same file, both in-process through the Store interface;
 *   - line to queryable: a writer appends at 11,667 lines/s stamped with the wall clock; every
 *     100 ms the moment is noted and ClickHouse is polled until an entry at or after it is
 *     found by find_nearest_log's query (watermark included).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type Config, resolveConfig } from '../../src/config.js';
import { type Engine, openEngine } from '../../src/engine.js';
import { writeLogFile } from '../../src/generate/index.js';
import { createLogger } from '../../src/log.js';
import type { Store } from '../../src/store/store.js';
import { CLUSTER, ClickHouseCluster } from '../clickhouse-cluster.js';
import { ClickHouseConnection, ensureSchema, tablesOf } from '../../src/store/clickhouse/index.js';
import { GENERATE } from './processes.js';
import { count, log, ms, percentile, table } from './table.js';

const logger = createLogger('warn');
const START_MS = Date.UTC(2024, 0, 15, 10, 0, 0);

export interface ClickHouseRows {
  rows: number;
  ingestS: number;
  rowsPerS: number;
  /** CPU seconds over the agent phase: this process (the agent, its parse workers included) and both servers. */
  agentCpuS: number;
  serverCpuS: number;
  /** The node the lookups go through, and whether it holds the source's shard (then the other shard is the remote one). */
  queryNode: string;
  /** 1-minute load average at the start and at the end of the section. */
  load: [number, number];
  nearest: { store: string; filter: string; p50: number; p99: number }[];
  queryable: { samples: number; p50: number; p99: number; max: number };
  /** Merges still running on the two servers when the nearest queries started. */
  mergesAtQuery: number;
}

function config(overrides: Partial<Config>): Config {
  return { ...resolveConfig(['serve', '--source', '/dev/null']), sources: [], ...overrides };
}

/**
 * Latencies of nearest lookups at random times, unfiltered and ERROR alternating query by
 * query, so both filters meet the same background (merges, the other helpers' load).
 */
async function latencies(store: Store, first: number, last: number, n: number): Promise<{ none: number[]; error: number[] }> {
  const out = { none: [] as number[], error: [] as number[] };
  for (let i = 0; i < n; i++) {
    for (const tags of [null, ['ERROR']]) {
      const t = first + Math.floor(Math.random() * (last - first));
      const started = performance.now();
      await store.findNearest({ t, tags, count: 1, direction: 'nearest', context: 0, bodyCap: 2048 });
      (tags === null ? out.none : out.error).push(performance.now() - started);
    }
  }
  return out;
}

export async function runClickHouseBench(dir: string, rows: number, queries: number, liveSeconds: number): Promise<ClickHouseRows> {
  const loadAtStart = loadavg()[0]!;
  log('clickhouse bench: starting a two-shard cluster');
  const cluster = await ClickHouseCluster.start();
  const engines: Engine[] = [];
  try {
    for (const i of [1, 0]) {
      const conn = await ClickHouseConnection.open({ url: cluster.url(i), logger });
      await ensureSchema(conn, tablesOf('bench', CLUSTER), logger);
      await conn.close();
    }
    const file = join(dir, `clickhouse-${rows}.log`);
    log(`clickhouse bench: generating ${count(rows)} lines`);
    await writeLogFile(file, { lines: rows, start: START_MS, seed: 7 });
    const ch = (overrides: Partial<Config>): Config => config({ store: 'clickhouse', clickhouseUrl: cluster.url(0), clickhouseDatabase: 'bench', clickhouseCluster: CLUSTER, ...overrides });

    log('clickhouse bench: one agent ships the file');
    const serverCpu0 = cluster.cpuSeconds();
    const agentCpu0 = process.cpuUsage();
    const started = performance.now();
    const agent = await openEngine(ch({ sources: [{ name: 'bench.log', path: file }], dataDir: join(dir, 'ch-agent'), agentName: 'bench' }), logger);
    await agent.ingestor.readAllOnce();
    await agent.backend.flushed();
    const ingestS = (performance.now() - started) / 1000;
    const agentCpu = process.cpuUsage(agentCpu0);
    const agentCpuS = (agentCpu.user + agentCpu.system) / 1e6;
    const serverCpuS = cluster.cpuSeconds() - serverCpu0;
    await agent.close();
    rmSync(join(dir, 'ch-agent'), { recursive: true, force: true });

    // Queried at rest: the merges that follow a 10M-row load would otherwise be measured too.
    // Up to 5 minutes (a 10M-row load's merges took over 2 on the shared machine); the table says
    // how many merges were still running when the queries started.
    const merges = async (): Promise<number> => Number(await cluster.sql(0, 'SELECT count() FROM system.merges')) + Number(await cluster.sql(1, 'SELECT count() FROM system.merges'));
    const settle = Date.now() + 300_000;
    while (Date.now() < settle && (await merges()) > 0) await new Promise((r) => setTimeout(r, 500));
    const mergesAtQuery = await merges();
    // One source lives on one shard (sharded by source): say whether node 1 is that shard.
    const onNode1 = Number(await cluster.sql(1, 'SELECT count() FROM bench.log_entries_local')) > 0;
    const queryNode = `node 1 (${onNode1 ? 'holds' : 'does not hold'} the data)`;
    const query = await openEngine(config({ store: 'clickhouse', clickhouseUrl: cluster.url(1), clickhouseDatabase: 'bench', clickhouseCluster: CLUSTER }), logger, { readOnly: true });
    engines.push(query);
    const embedded = await openEngine(config({ sources: [{ name: 'bench/bench.log', path: file }], ephemeral: true }), logger);
    engines.push(embedded);
    await embedded.ingestor.readAllOnce();
    const cov = await query.store.coverage();
    const first = cov.firstTs!;
    const last = cov.lastTs!;
    const nearest: ClickHouseRows['nearest'] = [];
    for (const [name, store] of [['clickhouse, 2 shards', query.store], ['embedded', embedded.store]] as const) {
      await latencies(store, first, last, Math.min(50, queries)); // warm-up
      const l = await latencies(store, first, last, queries);
      nearest.push({ store: name, filter: 'none', p50: percentile(l.none, 50), p99: percentile(l.none, 99) });
      nearest.push({ store: name, filter: 'ERROR', p50: percentile(l.error, 50), p99: percentile(l.error, 99) });
    }
    await embedded.close();
    engines.pop();

    log(`clickhouse bench: line to queryable at 11,667 lines/s for ${liveSeconds} s`);
    const liveFile = join(dir, 'clickhouse-live.log');
    const writer = spawn(process.execPath, [GENERATE, '--rate', '11667', '--output', liveFile, '--quiet'], { stdio: 'ignore' });
    const live = await openEngine(ch({ sources: [{ name: 'live.log', path: liveFile }], dataDir: join(dir, 'ch-live'), agentName: 'bench' }), logger);
    engines.push(live);
    live.ingestor.start();
    const samples: number[] = [];
    try {
      // Until the agent has shipped something, there is nothing to measure.
      const deadline = Date.now() + 30_000;
      while ((await query.store.coverage('bench/live.log').catch(() => null)) === null) {
        if (Date.now() > deadline) throw new Error('the live source never reached ClickHouse');
        await new Promise((r) => setTimeout(r, 50));
      }
      const end = Date.now() + liveSeconds * 1000;
      while (Date.now() < end) {
        const at = Date.now();
        for (;;) {
          const a = await query.store.findNearest({ t: at * 1000, tags: null, count: 1, direction: 'after', context: 0, source: 'bench/live.log', bodyCap: 64 });
          if (a.entries.length > 0) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        samples.push(Date.now() - at);
        await new Promise((r) => setTimeout(r, Math.max(0, at + 100 - Date.now())));
      }
    } finally {
      writer.kill('SIGTERM');
    }
    return {
      rows, ingestS, rowsPerS: rows / ingestS, agentCpuS, serverCpuS, queryNode, nearest, mergesAtQuery, load: [loadAtStart, loadavg()[0]!],
      queryable: { samples: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max: Math.max(...samples) },
    };
  } finally {
    for (const e of engines) await e.close().catch(() => undefined);
    await cluster.stop();
  }
}

export function clickhouseTable(r: ClickHouseRows): string {
  return [
    table(
      `ClickHouse store (Debian's clickhouse-server 18.16, 2 shards on this machine), ${count(r.rows)} rows, load average ${r.load[0].toFixed(1)} -> ${r.load[1].toFixed(1)}`,
      ['what', 'value', 'target'],
      [
        ['agent: file to acknowledged rows (parse, WAL, upload)', `${Math.round(r.rowsPerS).toLocaleString('en-US')} rows/s (${r.ingestS.toFixed(1)} s)`, '>= 500k rows/s'],
        ['  CPU over that time: agent, servers', `${r.agentCpuS.toFixed(1)} s, ${r.serverCpuS.toFixed(1)} s (${(((r.agentCpuS + r.serverCpuS) / r.rows) * 1e6).toFixed(2)} µs/row)`, '-'],
        ...r.nearest.map((n) => [`nearest, ${n.store}, filter ${n.filter}${n.store === 'embedded' ? '' : `, via ${r.queryNode}, ${r.mergesAtQuery} merges running`}`, `p50 ${ms(n.p50)}, p99 ${ms(n.p99)}`, n.store === 'embedded' ? '-' : 'p50 <= 15 ms, p99 <= 50 ms']),
        ['line written to queryable, 11,667 lines/s', `p50 ${ms(r.queryable.p50)}, p99 ${ms(r.queryable.p99)}, max ${ms(r.queryable.max)} (${r.queryable.samples} samples)`, 'p99 <= 2 s'],
      ],
    ),
  ].join('\n');
}
