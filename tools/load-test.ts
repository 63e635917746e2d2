/**
 * tools/load-test: N concurrent Streamable HTTP clients (one MCP session each) call
 * find_nearest_log at random timestamps within the served coverage, at a target total rate, for
 * a fixed time, then print calls/s, latency percentiles and errors as a table.
 *
 *   node dist/tools/load-test.js --url http://127.0.0.1:8765/mcp --rate 1000 --duration 60 --clients 16
 *
 * Run it against a server that is ingesting (e.g. tools/generate appending to the served file)
 * to measure queries under write load. Calls are issued open-loop on a fixed schedule, so a
 * slow server does not slow the offered load down; a call whose slot comes while its client
 * already has --max-outstanding calls open is counted as "dropped" rather than queued.
 * Latency is from sending a call to its answer, measured in this process.
 *
 * The clients speak the protocol over node:http directly (initialize, notifications/initialized,
 * then tools/call POSTs with their SSE answers) rather than through the SDK's Client: measured
 * here, the SDK client spends about 1.8 ms of CPU per call, so on the same two cores as the
 * server it would measure itself. Every answer is still parsed and checked.
 * Exit code: 0 when every call succeeded, 1 when any failed, 2 for bad flags.
 */
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const HELP = `Usage: node dist/tools/load-test.js --url URL [options]

  --url URL              Streamable HTTP endpoint (default http://127.0.0.1:8765/mcp)
  --token T              bearer token (default: LOG_TRIAGE_AUTH_TOKEN if set)
  --clients N            concurrent MCP sessions (default 16)
  --rate N               target calls per second over all clients (default 1000)
  --duration S           seconds of measured load (default 60)
  --warmup S             seconds of load before measuring (default 2)
  --max-outstanding N    open calls per client before slots are dropped (default 32)
  --tag T                pass tag T to every call (default: none)
  --count N              entries per call (default 1)
  --json                 print the result as JSON instead of a table`;

interface Options {
  url: URL;
  token: string | undefined;
  clients: number;
  rate: number;
  durationS: number;
  warmupS: number;
  maxOutstanding: number;
  tag: string | undefined;
  count: number;
  json: boolean;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' }, token: { type: 'string' }, clients: { type: 'string' }, rate: { type: 'string' },
      duration: { type: 'string' }, warmup: { type: 'string' }, 'max-outstanding': { type: 'string' },
      tag: { type: 'string' }, count: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const num = (name: string, text: string | undefined, def: number, min: number, max: number): number => {
    if (text === undefined) return def;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} '${text}' must be a number from ${min} to ${max}`);
    return n;
  };
  let url: URL;
  try {
    url = new URL(values.url ?? 'http://127.0.0.1:8765/mcp');
  } catch {
    throw new UsageError(`--url '${values.url}' is not a URL; e.g. http://127.0.0.1:8765/mcp`);
  }
  return {
    url,
    token: values.token ?? (process.env.LOG_TRIAGE_AUTH_TOKEN || undefined),
    clients: Math.round(num('clients', values.clients, 16, 1, 1024)),
    rate: num('rate', values.rate, 1000, 0.1, 1_000_000),
    durationS: num('duration', values.duration, 60, 0.1, 86_400),
    warmupS: num('warmup', values.warmup, 2, 0, 3600),
    maxOutstanding: Math.round(num('max-outstanding', values['max-outstanding'], 32, 1, 10_000)),
    tag: values.tag,
    count: Math.round(num('count', values.count, 1, 1, 100)),
    json: values.json === true,
  };
}

interface Coverage {
  firstMs: number;
  lastMs: number;
  entries: number;
}

const PROTOCOL_VERSION = '2025-06-18';

/** One MCP session over keep-alive node:http connections. */
class Session {
  private nextId = 1;
  private sessionId = '';

  constructor(private readonly o: Options, private readonly agent: Agent) {}

  async open(): Promise<void> {
    const init = await this.post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'load-test', version: '1.0.0' } } });
    const id = init.headers['mcp-session-id'];
    if (typeof id !== 'string') throw new Error(`initialize: no Mcp-Session-Id in the answer (HTTP ${init.status}: ${init.body.slice(0, 200)})`);
    this.sessionId = id;
    answerOf(init, 0);
    const note = await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (note.status !== 202) throw new Error(`notifications/initialized: HTTP ${note.status}`);
  }

  /** Calls a tool; resolves with the result, rejects with the HTTP or JSON-RPC error. */
  async callTool(name: string, args: Record<string, unknown>): Promise<{ isError?: boolean; structuredContent?: unknown; content?: unknown }> {
    const id = this.nextId++;
    const r = await this.post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
    return answerOf(r, id) as { isError?: boolean };
  }

  close(): Promise<unknown> {
    return this.send('DELETE', undefined).catch(() => undefined);
  }

  private post(body: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return this.send('POST', JSON.stringify(body));
  }

  private send(method: string, body: string | undefined): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    const headers: Record<string, string> = { Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json' };
    if (this.sessionId !== '') {
      headers['Mcp-Session-Id'] = this.sessionId;
      headers['Mcp-Protocol-Version'] = PROTOCOL_VERSION;
    }
    if (this.o.token !== undefined) headers.Authorization = `Bearer ${this.o.token}`;
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const req = request(this.o.url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** The JSON-RPC result for `id` from a JSON or SSE answer; throws on HTTP or JSON-RPC errors. */
function answerOf(r: { status: number; body: string }, id: number): unknown {
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
  const candidates = r.body.startsWith('{') ? [r.body] : r.body.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
  for (const text of candidates) {
    const m = JSON.parse(text) as { id?: unknown; result?: unknown; error?: { message: string } };
    if (m.id !== id) continue;
    if (m.error !== undefined) throw new Error(`JSON-RPC error: ${m.error.message}`);
    return m.result;
  }
  throw new Error(`no answer for request ${id} in: ${r.body.slice(0, 200)}`);
}

async function coverageOf(session: Session): Promise<Coverage> {
  const r = await session.callTool('tail_status', {});
  const s = r.structuredContent as { index?: { entries: number; first_timestamp: string | null; last_timestamp: string | null } } | undefined;
  const idx = s?.index;
  if (idx === undefined || idx.first_timestamp === null || idx.last_timestamp === null || idx.entries === 0) {
    throw new Error('the server has no entries yet: nothing to query (is the source ingested?)');
  }
  return { firstMs: Date.parse(idx.first_timestamp), lastMs: Date.parse(idx.last_timestamp), entries: idx.entries };
}

interface Tally {
  latenciesMs: number[];
  ok: number;
  errors: number;
  dropped: number;
  errorSamples: Map<string, number>;
}

/** One client's open-loop schedule: a call every `intervalMs`, from `startAt` until `endAt`. */
async function drive(client: Session, o: Options, cov: Coverage, startAt: number, measureFrom: number, endAt: number, intervalMs: number, tally: Tally): Promise<void> {
  let outstanding = 0;
  const inflight = new Set<Promise<void>>();
  for (let k = 0; ; k++) {
    const due = startAt + k * intervalMs;
    if (due >= endAt) break;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const measured = due >= measureFrom;
    if (outstanding >= o.maxOutstanding) {
      if (measured) tally.dropped += 1;
      continue;
    }
    const t = Math.round(cov.firstMs + Math.random() * (cov.lastMs - cov.firstMs));
    const args: Record<string, unknown> = { timestamp: t, count: o.count };
    if (o.tag !== undefined) args.tag = o.tag;
    outstanding += 1;
    const sent = performance.now();
    const p = client
      .callTool('find_nearest_log', args)
      .then((r) => {
        if (!measured) return;
        if (r.isError === true) record(tally, `isError: ${JSON.stringify(r.content).slice(0, 160)}`);
        else {
          tally.ok += 1;
          tally.latenciesMs.push(performance.now() - sent);
        }
      })
      .catch((err: Error) => {
        if (measured) record(tally, err.message.slice(0, 160));
      })
      .finally(() => {
        outstanding -= 1;
        inflight.delete(p);
      });
    inflight.add(p);
  }
  await Promise.all(inflight);
}

function record(tally: Tally, message: string): void {
  tally.errors += 1;
  tally.errorSamples.set(message, (tally.errorSamples.get(message) ?? 0) + 1);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<number> {
  let o: Options | null;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`load-test: ${(err as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  if (o === null) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  // Enough sockets for every outstanding call, kept alive between calls.
  const agent = new Agent({ keepAlive: true, maxSockets: o.clients * o.maxOutstanding });
  const clients = Array.from({ length: o.clients }, () => new Session(o, agent));
  await Promise.all(clients.map((c) => c.open()));
  const cov = await coverageOf(clients[0]!);
  process.stderr.write(`load-test: ${o.clients} sessions to ${o.url.href}; coverage ${new Date(cov.firstMs).toISOString()} .. ${new Date(cov.lastMs).toISOString()} (${cov.entries} entries); ${o.rate} calls/s for ${o.durationS} s after ${o.warmupS} s warm-up\n`);
  const tally: Tally = { latenciesMs: [], ok: 0, errors: 0, dropped: 0, errorSamples: new Map() };
  // This process's own event-loop delay: when it is high, the latencies include our own queueing.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const intervalMs = (1000 * o.clients) / o.rate;
  const t0 = performance.now() + 50;
  const measureFrom = t0 + o.warmupS * 1000;
  const endAt = measureFrom + o.durationS * 1000;
  // Clients start staggered across one interval, so the calls are spread evenly in time.
  await Promise.all(clients.map((c, i) => drive(c, o, cov, t0 + (i * intervalMs) / o.clients, measureFrom, endAt, intervalMs, tally)));
  const elapsedS = (performance.now() - measureFrom) / 1000;
  loop.disable();
  await Promise.all(clients.map((c) => c.close()));
  agent.destroy();

  const sorted = Float64Array.from(tally.latenciesMs).sort();
  const result = {
    url: o.url.href,
    clients: o.clients,
    target_rate: o.rate,
    duration_s: o.durationS,
    calls: tally.ok + tally.errors,
    calls_per_s: Math.round(((tally.ok + tally.errors) / elapsedS) * 10) / 10,
    p50_ms: percentile(sorted, 50),
    p90_ms: percentile(sorted, 90),
    p99_ms: percentile(sorted, 99),
    p999_ms: percentile(sorted, 99.9),
    max_ms: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
    errors: tally.errors,
    dropped: tally.dropped,
    coverage_entries: cov.entries,
    client_loop_delay_p99_ms: loop.percentile(99) / 1e6,
  };
  if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(table(result) + '\n');
  for (const [message, n] of tally.errorSamples) process.stderr.write(`load-test: ${n} x ${message}\n`);
  return tally.errors > 0 ? 1 : 0;
}

function table(r: Record<string, string | number>): string {
  const fmt = (v: string | number): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : v);
  const rows = [
    ['clients', r.clients], ['target calls/s', r.target_rate], ['duration s', r.duration_s], ['calls', r.calls],
    ['calls/s', r.calls_per_s], ['p50 ms', r.p50_ms], ['p90 ms', r.p90_ms], ['p99 ms', r.p99_ms], ['p99.9 ms', r.p999_ms],
    ['max ms', r.max_ms], ['errors', r.errors], ['dropped slots', r.dropped], ['entries served', r.coverage_entries],
    ['client loop delay p99 ms', r.client_loop_delay_p99_ms],
  ] as const;
  const w = Math.max(...rows.map(([k]) => k.length));
  const vw = Math.max(...rows.map(([, v]) => fmt(v!).length));
  const line = `+${'-'.repeat(w + 2)}+${'-'.repeat(vw + 2)}+`;
  return [line, ...rows.map(([k, v]) => `| ${k.padEnd(w)} | ${fmt(v!).padStart(vw)} |`), line].join('\n');
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`load-test: ${err.message}\n`);
    process.exit(1);
  },
);
