/** Helpers to run the built CLI as a real process. Tests run after `npm run build` (pretest). */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { pickPort } from '../../tools/free-port.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const CLI = fileURLToPath(new URL('../../dist/bundle/cli.js', import.meta.url));

export function requireBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build first`);
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `serve` over stdio and connects the SDK's Client to it. */
export async function connectStdio(args: string[], env: Record<string, string> = {}): Promise<{ client: Client; stderr: () => string; close: () => Promise<void> }> {
  requireBuilt();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', ...args],
    env: { ...(process.env as Record<string, string>), LOG_TRIAGE_LOG_LEVEL: 'warn', ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr, close: () => client.close() };
}

/** Polls tail_status until every source is live (or the deadline passes). */
export async function waitLive(client: Client, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await client.callTool({ name: 'tail_status', arguments: {} });
    const s = r.structuredContent as { sources: { state: string; pending_bytes: number }[] };
    if (s.sources.every((x) => x.state === 'live' && x.pending_bytes === 0)) return;
    if (Date.now() > deadline) throw new Error(`sources not live: ${JSON.stringify(s.sources)}`);
    await new Promise((r2) => setTimeout(r2, 50));
  }
}

/** A `serve --transport http|sse` process, started with startServe. */
export interface ServeProcess {
  /** The MCP endpoint from the server's "listening" log line (…/mcp or …/sse). */
  url: string;
  /** http://host:port, for /healthz, /metrics and raw requests. */
  base: string;
  port: number;
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  /** Sends a signal (default SIGTERM) and waits for the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/**
 * Starts `serve` with the given args (add --transport, --port 0 is the default) and waits
 * for the "listening" line, which carries the real port.
 */
export function startServe(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  requireBuilt();
  const withPort = args.includes('--port') ? args : [...args, '--port', '0'];
  const child = spawn(process.execPath, [CLI, 'serve', ...withPort], {
    env: { ...process.env, LOG_TRIAGE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not report listening within 60 s:\n${stderr}`));
    }, 60_000);
    let partial = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"msg":"listening"')) continue;
        const entry = JSON.parse(line) as { url: string; port: number };
        clearTimeout(timer);
        const u = new URL(entry.url);
        resolve({
          url: entry.url,
          base: `${u.protocol}//${u.host}`,
          port: entry.port,
          child,
          stderr: () => stderr,
          exited,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
        return;
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${stderr}`));
    });
  });
}

/**
 * A port nobody listens on right now, for a server started later: picked below the kernel's
 * ephemeral range, so no listen(0) or outgoing connection can take it in between.
 */
export const freePort = pickPort;

/** Connects the SDK's Client over Streamable HTTP (or legacy SSE for an …/sse URL). */
export async function connectHttp(url: string, options: { token?: string; client?: Client } = {}): Promise<Client> {
  const requestInit = options.token === undefined ? undefined : { headers: { Authorization: `Bearer ${options.token}` } };
  const u = new URL(url);
  const transport = u.pathname.endsWith('/sse')
    ? new SSEClientTransport(u, requestInit === undefined ? {} : { requestInit })
    : new StreamableHTTPClientTransport(u, requestInit === undefined ? {} : { requestInit });
  const client = options.client ?? new Client({ name: 'test-http-client', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** One entry per second from 2024-01-15T10:00:00Z, every 20th an ERROR: answers are known. */
export function writeSecondsLog(path: string, count = 2000): void {
  const start = Date.parse('2024-01-15T10:00:00.000Z');
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`${new Date(start + i * 1000).toISOString()} [${i % 20 === 0 ? 'ERROR' : 'INFO'}] event ${i}`);
  writeFileSync(path, lines.join('\n') + '\n');
}

/**
 * A raw HTTP request through node:http, which (unlike fetch) lets a test set Host. Returns
 * the status, headers and body text.
 */
export function rawRequest(
  base: string,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers ?? {} },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    // The server may answer (413) and close before the whole body is sent.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    req.end(options.body);
  });
}

/** JSON-RPC initialize, as a raw POST body. */
export const INITIALIZE_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
