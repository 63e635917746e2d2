/**
 * The test cluster's own start-up (tools/clickhouse-cluster.ts). CI once failed because a
 * port picked for clickhouse-server was bound by someone else before the server bound it
 * (the server exits 70, "Address already in use"). The cluster must then start again on new
 * ports, with every node's shard list naming the new ones.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { CLUSTER, ClickHouseCluster, clickhouseSkipReason, pickPort } from '../helpers/clickhouse-cluster.js';

const skip = clickhouseSkipReason();

describe.skipIf(skip !== null)('the local ClickHouse test cluster', () => {
  let cluster: ClickHouseCluster | null = null;
  let taken: Server | null = null;
  const accepted: Socket[] = [];

  afterAll(async () => {
    await cluster?.stop();
    for (const socket of accepted) socket.destroy();
    await new Promise((r) => (taken === null ? r(undefined) : taken.close(r)));
  });

  it('starts again on new ports when a picked port is taken before the server binds it', async () => {
    // A port held by this process from before the pick to after the start: the first port
    // handed out is node 0's HTTP port, and clickhouse-server cannot bind it. It accepts
    // connections and never answers, so the start's /ping must not wait on it forever.
    const busy = await pickPort();
    const server = createServer((socket) => void accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(busy, '127.0.0.1', resolve));
    taken = server;
    let handed = 0;
    const nextPort = async (): Promise<number> => (handed++ === 0 ? busy : pickPort());

    cluster = await ClickHouseCluster.start(2, nextPort);

    const ports = cluster.nodes.flatMap((n) => [n.httpPort, n.tcpPort]);
    expect(ports).not.toContain(busy);
    expect(handed).toBeGreaterThan(ports.length); // a second round of ports was picked
    // Both nodes answer, and a query through the cluster reaches both shards on their new ports.
    for (const i of [0, 1]) expect((await cluster.sql(i, 'SELECT 1')).trim()).toBe('1');
    const shards = await cluster.sql(0, `SELECT count() FROM remote('127.0.0.1:${cluster.nodes[1]!.tcpPort}', system.one)`);
    expect(shards.trim()).toBe('1');
    const viaCluster = await cluster.sql(1, `SELECT count() FROM cluster('${CLUSTER}', system.one)`);
    expect(viaCluster.trim()).toBe('2');
  }, 120_000);
});
