/**
 * Creating the tables on first use (SCHEMA.md): one table of each kind, or with a cluster a
 * local table per shard and a Distributed table over them.
 */
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { ClickHouseConnection } from './connection.js';
import { ClickHouseError } from './connection.js';
import { ident, str } from './sql.js';

export interface Tables {
  database: string;
  cluster: string | null;
  /** What queries and inserts name (the Distributed table with a cluster). */
  entries: string;
  sources: string;
}

export function tablesOf(database: string, cluster: string | null): Tables {
  const db = ident(database, '--clickhouse-database');
  if (cluster !== null) ident(cluster, '--clickhouse-cluster');
  return { database: db, cluster, entries: `${db}.log_entries`, sources: `${db}.log_sources` };
}

const ENTRIES_COLUMNS = `(
  source String,
  ts Int64,
  seq UInt64,
  line UInt64,
  tag String,
  precision UInt8,
  body String
)`;

const SOURCES_COLUMNS = `(
  source String, host String, path String, format String, agent String,
  seq UInt64, entries UInt64, first_ts Int64, last_ts Int64, tags Array(String),
  state String, bytes_read UInt64, file_bytes UInt64, lines_read UInt64, parse_errors UInt64,
  rotations UInt64, lines_per_sec Float64, error String, updated_ms UInt64
)`;

// Granules of 1,024 rows, not the default 8,192: a nearest lookup reads one granule of every
// column it selects, bodies included, and returns one to a hundred rows.
const ENTRIES_ENGINE = 'ENGINE = ReplacingMergeTree PARTITION BY intDiv(ts, 2592000000000) ORDER BY (source, ts, seq) SETTINGS index_granularity = 1024';
const SOURCES_ENGINE = 'ENGINE = ReplacingMergeTree(updated_ms) ORDER BY source';

/** Distributed DDL is not set up on this cluster (18.16 without ZooKeeper says code 49). */
function noDistributedDdl(err: unknown): boolean {
  return err instanceof ClickHouseError && /DDL background thread|ZooKeeper|zookeeper|distributed_ddl/i.test(err.message);
}

export async function ensureSchema(conn: ClickHouseConnection, tables: Tables, logger: Logger): Promise<void> {
  const { database: db, cluster } = tables;
  if (cluster !== null) {
    const known = await conn.rows<{ cluster: string }>('SELECT DISTINCT cluster FROM system.clusters ORDER BY cluster');
    if (!known.some((c) => c.cluster === cluster)) {
      throw new ConfigError(`--clickhouse-cluster ${cluster}: ClickHouse at ${conn.where} knows no such cluster (it knows: ${known.map((c) => c.cluster).join(', ') || 'none'})`);
    }
  }
  const ddl = [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    cluster === null
      ? `CREATE TABLE IF NOT EXISTS ${tables.entries} ${ENTRIES_COLUMNS} ${ENTRIES_ENGINE}`
      : `CREATE TABLE IF NOT EXISTS ${tables.entries}_local ${ENTRIES_COLUMNS} ${ENTRIES_ENGINE}`,
    cluster === null
      ? `CREATE TABLE IF NOT EXISTS ${tables.sources} ${SOURCES_COLUMNS} ${SOURCES_ENGINE}`
      : `CREATE TABLE IF NOT EXISTS ${tables.sources}_local ${SOURCES_COLUMNS} ${SOURCES_ENGINE}`,
  ];
  if (cluster !== null) {
    ddl.push(
      `CREATE TABLE IF NOT EXISTS ${tables.entries} ${ENTRIES_COLUMNS} ENGINE = Distributed(${cluster}, ${db}, log_entries_local, cityHash64(source))`,
      `CREATE TABLE IF NOT EXISTS ${tables.sources} ${SOURCES_COLUMNS} ENGINE = Distributed(${cluster}, ${db}, log_sources_local, cityHash64(source))`,
    );
  }
  let onCluster = cluster !== null;
  let createdHereOnly = false;
  for (const statement of ddl) {
    if (onCluster) {
      try {
        await conn.command(statement.replace(/^(CREATE (?:DATABASE|TABLE) IF NOT EXISTS \S+)/, `$1 ON CLUSTER ${cluster}`));
        continue;
      } catch (err) {
        if (!noDistributedDdl(err)) throw err;
        onCluster = false;
        createdHereOnly = true;
        logger.warn({ cluster }, 'the cluster has no distributed DDL: creating the tables on this node only; every shard needs them (run once against each node)');
      }
    }
    await conn.command(statement);
  }
  if (cluster !== null) {
    // Every shard must have the local tables, or each query fails later on that shard.
    try {
      await conn.rows(`SELECT count() AS n FROM ${tables.sources} WHERE source = ${str('')}`);
    } catch (err) {
      const shard = /on server: ([^\s,]+)/.exec((err as Error).message)?.[1];
      const message =
        `--clickhouse-cluster ${cluster}: ${shard === undefined ? (err as Error).message : `shard ${shard} has no ${db}.log_sources_local table`}; ` +
        'create the schema there (run log-triage-mcp once with --clickhouse-url pointing at that node) or enable distributed DDL';
      // Creating the tables node by node, the first nodes cannot pass this yet: say it, go on.
      if (createdHereOnly && shard !== undefined) logger.warn(message);
      else throw new ConfigError(message);
    }
  }
}
