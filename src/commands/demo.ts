/**
 * `demo` (what `npm start` runs): a realistic log with a database-timeout incident two
 * minutes back, a writer appending to it at the production rate (11,667 lines/s), the full
 * engine (WAL on, in a temporary data dir) served over Streamable HTTP, a ready client
 * config, and one real find_nearest_log call through an MCP client, printed. Runs until
 * Ctrl-C, then removes its temporary files. Prints to stdout on purpose: it is not stdio MCP.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Config } from '../config.js';
import { openEngine } from '../engine.js';
import { SIGNATURE_CATALOG, startLiveWriter, writeLogFile } from '../generate/index.js';
import type { Logger } from '../log.js';
import { parseRunbookCatalog } from '../triage/index.js';
import { checkHttpOptions } from '../mcp/transports/index.js';
import { serveHttp } from './serve.js';

const RATE = 11_667;
const HISTORY_MS = 240_000;
const INCIDENT_AGO_MS = 75_000;

function runbookYaml(): string {
  const db = SIGNATURE_CATALOG['db-timeout'];
  const disk = SIGNATURE_CATALOG['disk-full'];
  return `runbooks:
  - id: db-timeout
    title: ${db.title}
    match:
      pattern: '${db.pattern}'
    steps: ["Check the primary's replication lag", "Fail over the read pool to the standby", "Page the DBA if lag stays above 30 s"]
    auto_execute: true
    min_confidence: 0.8
  - id: disk-full
    title: ${disk.title}
    match:
      pattern: '${disk.pattern}'
    steps: ["Find the largest directories on the volume", "Rotate and compress old logs"]
    auto_execute: false
`;
}

export async function demo(config: Config, logger: Logger): Promise<void> {
  checkHttpOptions({ host: config.host, authToken: config.authToken, allowedHosts: config.http.allowedHosts, corsOrigins: config.http.corsOrigins, maxBodyBytes: config.http.maxBodyBytes });
  const dir = mkdtempSync(join(tmpdir(), 'log-triage-demo-'));
  const file = join(dir, 'app.log');
  const now = Date.now();
  const incidentAt = now - INCIDENT_AGO_MS;
  const out = (s: string): boolean => process.stdout.write(s + '\n');
  out(`log-triage-mcp demo: writing four minutes of history with an incident to ${file} ...`);
  await writeLogFile(file, {
    start: now - HISTORY_MS, durationMs: HISTORY_MS, rate: RATE, seed: 7, stackFraction: 0.02,
    incidents: [{ at: incidentAt, signature: 'db-timeout', durationMs: 40_000, ratePerSec: 600 }],
  });
  const writer = startLiveWriter(file, { append: true, rate: RATE, seed: 8 });
  const runbookFile = join(dir, 'runbooks.yaml');
  writeFileSync(runbookFile, runbookYaml());
  const demoConfig: Config = {
    ...config,
    command: 'serve',
    sources: [{ name: 'app', path: file }],
    dataDir: join(dir, 'data'),
    transport: 'http',
    runbooks: runbookFile,
  };
  const engine = await openEngine(demoConfig, logger, { backfillFilters: true });
  engine.ingestor.start();
  const runbooks = parseRunbookCatalog(runbookYaml(), { format: 'yaml', origin: runbookFile });
  const http = await serveHttp(demoConfig, 'http', engine, { store: engine.store, bodyCap: config.bodyCap, idFields: config.idFields, runbooks }, logger);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    out('\nstopping: writer, server, engine ...');
    await writer.stop();
    await http.close(2000).catch(() => undefined);
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  await engine.ingestor.caughtUp();

  const url = http.url;
  out(`\nserving MCP over Streamable HTTP at ${url}  (Ctrl-C to stop)`);
  out(`a writer appends ${RATE} lines/s to ${file}; a db-timeout incident began at ${new Date(incidentAt).toISOString()}\n`);
  out('client config (Claude Code .mcp.json, Cursor, VS Code "servers"):');
  out(JSON.stringify({ mcpServers: { 'log-triage': { type: 'http', url } } }, null, 2));
  out(`or: claude mcp add --transport http log-triage ${url}\n`);
  // The triage window matches the one used below: the history is four minutes long.
  const page = new URL('/', url);
  page.search = new URLSearchParams({ t: new Date(incidentAt + 5_000).toISOString(), window_s: '60' }).toString();
  out(`incident view in a browser: ${page.href}\n`);

  const client = new Client({ name: 'log-triage-demo', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  try {
    const args = { timestamp: new Date(incidentAt + 5_000).toISOString(), tag: 'ERROR', count: 3 };
    const r = await client.callTool({ name: 'find_nearest_log', arguments: args });
    out(`find_nearest_log ${JSON.stringify(args)}:`);
    out((r.content as { type: string; text: string }[])[0]?.text ?? '(no text)');
    // The history is four minutes long, so the incident window is kept inside it.
    const triageArgs = { timestamp: new Date(incidentAt + 5_000).toISOString(), window_s: 60 };
    const t = await client.callTool({ name: 'triage_confidence', arguments: triageArgs });
    const s = t.structuredContent as { decision: string; confidence: number; runbook: { id: string } | null; reasons: string[] } | undefined;
    if (s !== undefined) {
      out(`\ntriage_confidence ${JSON.stringify(triageArgs)}: ${s.decision} (confidence ${s.confidence.toFixed(3)}, runbook ${s.runbook?.id ?? 'none'})`);
      for (const reason of s.reasons.slice(0, 4)) out(`  - ${reason}`);
    }
  } finally {
    await client.close();
  }
  out('\nthe server stays up: point a client at it, or Ctrl-C to stop.');
}
