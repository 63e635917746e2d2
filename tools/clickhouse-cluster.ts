/**
 * Two clickhouse-server processes on 127.0.0.1 as the two shards of one cluster, for the
 * ClickHouse store's tests and benchmarks (tools/bench): data under a temp dir, free ports picked at start (never 8123 or
 * 9000, so a developer's own server is left alone), stopped by stop() and, as a last resort,
 * when the test process exits.
 *
 * Without clickhouse-server the tests skip and say why; LOG_TRIAGE_REQUIRE_CLICKHOUSE=1
 * (.ci/run sets it) turns that skip into a failure.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickPort } from './free-port.js';

export { pickPort };

export const CLUSTER = 'ltm_test';
/** The user with a password (also 'default' without one). */
export const USER = 'triage';
export const PASSWORD = "p@ss w'rd";

function findServer(): string | null {
  for (const p of ['/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server', '/usr/bin/clickhouse']) if (existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', 'command -v clickhouse-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Why the ClickHouse tests cannot run here (null: they can). Throws when they are required. */
export function clickhouseSkipReason(): string | null {
  const reason = findServer() === null ? 'clickhouse-server is not installed (apt-get install clickhouse-server; .ci/run does)' : null;
  if (reason !== null && process.env.LOG_TRIAGE_REQUIRE_CLICKHOUSE === '1') {
    throw new Error(`LOG_TRIAGE_REQUIRE_CLICKHOUSE=1 but ${reason}`);
  }
  if (reason !== null) process.stderr.write(`ClickHouse store tests skipped: ${reason}\n`);
  return reason;
}

/** The last lines of a node's error log (empty when it has none). */
function errorLogTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8').slice(-1500);
  } catch {
    return '';
  }
}

interface Node {
  dir: string;
  httpPort: number;
  /** HTTPS with a self-signed certificate (ClickHouseCluster.caFile), when openssl exists. */
  httpsPort: number | null;
  tcpPort: number;
  proc: ChildProcess | null;
  url: string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** Each node's config.xml and users.xml; every node's config lists every shard. */
function writeConfigs(root: string, nodes: Node[]): void {
  const remote = nodes.map((n) => `<shard><replica><host>127.0.0.1</host><port>${n.tcpPort}</port></replica></shard>`).join('');
  for (const n of nodes) {
    mkdirSync(n.dir, { recursive: true });
    writeFileSync(join(n.dir, 'config.xml'), `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${n.dir}/server.log</log><errorlog>${n.dir}/error.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>${n.httpPort}</http_port>${n.httpsPort === null ? '' : `
  <https_port>${n.httpsPort}</https_port>
  <openSSL><server><certificateFile>${root}/cert.pem</certificateFile><privateKeyFile>${root}/key.pem</privateKeyFile><verificationMode>none</verificationMode><loadDefaultCAFile>false</loadDefaultCAFile><disableProtocols>sslv2,sslv3</disableProtocols></server></openSSL>`}
  <tcp_port>${n.tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${n.dir}/data/</path>
  <tmp_path>${n.dir}/tmp/</tmp_path>
  <user_files_path>${n.dir}/user_files/</user_files_path>
  <format_schema_path>${n.dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <remote_servers><${CLUSTER}>${remote}</${CLUSTER}></remote_servers>
</yandex>
`);
    writeFileSync(join(n.dir, 'users.xml'), `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <${USER}><password>${PASSWORD.replace(/&/g, '&amp;').replace(/'/g, '&apos;')}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></${USER}>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`);
  }
}

export class ClickHouseCluster {
  private constructor(
    readonly root: string,
    readonly nodes: Node[],
    private readonly binary: string,
  ) {}

  /** The self-signed certificate node 0 serves HTTPS with (null without openssl). */
  caFile: string | null = null;

  httpsUrl(i: number): string | null {
    const port = this.nodes[i]!.httpsPort;
    return port === null ? null : `https://127.0.0.1:${port}`;
  }

  /** Node i's URL, optionally with the password user's credentials in it. */
  url(i: number, withCredentials = false): string {
    const n = this.nodes[i]!;
    return withCredentials ? `http://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${n.httpPort}` : n.url;
  }

  /**
   * Starts `shards` nodes. `nextPort` picks each port (tests pass one that hands out a taken
   * port first, to prove the restart on new ports).
   */
  static async start(shards = 2, nextPort: () => Promise<number> = pickPort): Promise<ClickHouseCluster> {
    const binary = findServer();
    if (binary === null) throw new Error('clickhouse-server not found');
    const root = mkdtempSync(join(tmpdir(), 'ltm-clickhouse-'));
    // A self-signed certificate for 127.0.0.1, so https:// URLs are tested too.
    let caFile: string | null = join(root, 'cert.pem');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(root, 'key.pem'), '-out', caFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    } catch {
      caFile = null;
    }
    // Another process may still bind a picked port between the check and clickhouse-server's
    // own bind: then the whole cluster starts again on new ports (each node's config lists
    // every shard's port), a few times before giving up.
    for (let attempt = 1; ; attempt++) {
      const nodes: Node[] = [];
      for (let i = 0; i < shards; i++) {
        const httpPort = await nextPort();
        const tcpPort = await nextPort();
        const httpsPort = caFile !== null && i === 0 ? await nextPort() : null;
        nodes.push({ dir: join(root, `node${i}`), httpPort, httpsPort, tcpPort, proc: null, url: `http://127.0.0.1:${httpPort}` });
      }
      writeConfigs(root, nodes);
      const cluster = new ClickHouseCluster(root, nodes, binary);
      cluster.caFile = caFile;
      try {
        await Promise.all(nodes.map((_, i) => cluster.startNode(i)));
        return cluster;
      } catch (err) {
        const portTaken = nodes.some((n) => errorLogTail(n.dir).includes('Address already in use'));
        if (portTaken && attempt < 5) {
          await cluster.stopProcesses();
          for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
          process.stderr.write(`clickhouse cluster: a picked port was taken before the server bound it; starting again on new ports (attempt ${attempt + 1})\n`);
          continue;
        }
        await cluster.stop();
        throw err;
      }
    }
  }

  /** Starts node i (again, after kill) and resolves once it answers /ping. */
  async startNode(i: number, timeoutMs = 60_000): Promise<void> {
    const n = this.nodes[i]!;
    if (n.proc !== null && n.proc.exitCode === null && n.proc.signalCode === null) return;
    const proc = spawn(this.binary, [`--config-file=${join(n.dir, 'config.xml')}`], { cwd: n.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    n.proc = proc;
    live.add(proc);
    proc.on('exit', () => live.delete(proc));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`clickhouse-server node ${i} exited (${proc.exitCode}): ${stderr}${errorLogTail(n.dir)}`);
      try {
        // Bounded: whatever holds the port may accept and never answer.
        const r = await fetch(`${n.url}/ping`, { signal: AbortSignal.timeout(2_000) });
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`clickhouse-server node ${i} did not answer /ping within ${timeoutMs} ms: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL node i and wait until it is gone. */
  async killNode(i: number): Promise<void> {
    const proc = this.nodes[i]!.proc;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await gone;
    this.nodes[i]!.proc = null;
  }

  /**
   * CPU seconds (user + system) the running nodes have used so far, from /proc (Linux; NaN
   * elsewhere). The benches print the difference over a phase: on a machine shared with other
   * jobs the wall time also counts the waiting for a core, the CPU time does not.
   */
  cpuSeconds(): number {
    let total = 0;
    for (const n of this.nodes) {
      const pid = n.proc?.pid;
      if (pid === undefined) continue;
      try {
        // Fields after the command name: state is the 1st, utime and stime the 12th and 13th (clock ticks, 100 a second).
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        total += (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        return NaN;
      }
    }
    return total;
  }

  /** A statement over HTTP as the default user (tests' own checks). */
  async sql(i: number, query: string): Promise<string> {
    const r = await fetch(`${this.nodes[i]!.url}/`, { method: 'POST', body: query });
    const text = await r.text();
    if (!r.ok) throw new Error(text);
    return text;
  }

  /** SIGTERM every node (SIGKILL after 10 s) and wait until all are gone. */
  async stopProcesses(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        const proc = n.proc;
        if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(timer);
      }),
    );
  }

  async stop(): Promise<void> {
    await this.stopProcesses();
    rmSync(this.root, { recursive: true, force: true });
  }
}
