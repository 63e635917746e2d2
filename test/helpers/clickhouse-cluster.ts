/** The local two-shard ClickHouse cluster lives in tools/ (the bench starts it too). */
export { CLUSTER, ClickHouseCluster, clickhouseSkipReason, PASSWORD, pickPort, USER } from '../../tools/clickhouse-cluster.js';
