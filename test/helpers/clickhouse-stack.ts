/**
 * In-process engines for the ClickHouse tests: an agent that ingests files into the cluster,
 * a query-only ClickHouse store, and an embedded store over the same files under the same
 * (host-qualified) names, so their answers can be compared field by field.
 */
import { type Config, resolveConfig } from '../../src/config.js';
import { type Engine, openEngine } from '../../src/engine.js';
import { createLogger } from '../../src/log.js';
import { ClickHouseConnection, ensureSchema, tablesOf } from '../../src/store/clickhouse/index.js';

export const logger = createLogger('error');

export function baseConfig(overrides: Partial<Config>): Config {
  return { ...resolveConfig(['serve', '--source', '/dev/null']), sources: [], ...overrides };
}

export function clickhouseConfig(url: string, database: string, cluster: string | null, overrides: Partial<Config> = {}): Config {
  return baseConfig({ store: 'clickhouse', clickhouseUrl: url, clickhouseDatabase: database, clickhouseCluster: cluster, ...overrides });
}

/** One-shot agent run: reads the sources, waits for ClickHouse to acknowledge all of it, closes. */
export async function ingestInto(config: Config): Promise<void> {
  const engine = await openEngine(config, logger, { threads: 1 });
  try {
    await engine.ingestor.readAllOnce();
    await engine.backend.flushed();
  } finally {
    await engine.close();
  }
}

export async function queryEngine(url: string, database: string, cluster: string | null): Promise<Engine> {
  return openEngine(clickhouseConfig(url, database, cluster), logger, { readOnly: true, threads: 1 });
}

/** The embedded store over the same files, sources named as the agent names them in ClickHouse. */
export async function embeddedEngine(sources: { name: string; path: string }[]): Promise<Engine> {
  const engine = await openEngine(baseConfig({ sources, ephemeral: true }), logger, { threads: 1 });
  await engine.ingestor.readAllOnce();
  return engine;
}

/** Drops fields that depend on the moment of the call (lag, time spent). */
export function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'lag_ms' || k === 'query_us' || k === 'lagMs' || k === 'queryUs') continue;
      out[k] = stable(v);
    }
    return out;
  }
  return value;
}

/** Creates the tables on one node (a cluster without distributed DDL needs it on each). */
export async function createSchemaOn(url: string, database: string, cluster: string | null): Promise<void> {
  const conn = await ClickHouseConnection.open({ url, logger });
  try {
    await ensureSchema(conn, tablesOf(database, cluster), logger);
  } finally {
    await conn.close();
  }
}
