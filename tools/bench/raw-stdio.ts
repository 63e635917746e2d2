/**
 * A minimal JSON-RPC client over a child's stdin/stdout: newline-delimited messages, no
 * schema validation. It measures the server and the pipe, not a client library's own CPU
 * (the SDK's Client adds schema validation of every result on the calling side).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { CLI } from './processes.js';

export class RawStdioClient {
  private buf = '';
  private nextId = 0;
  private readonly waiting = new Map<number, (msg: { result?: unknown; error?: unknown }) => void>();

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const msg = JSON.parse(line) as { id?: number; result?: unknown; error?: unknown };
        if (msg.id === undefined) continue;
        const done = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        done?.(msg);
      }
    });
  }

  static async start(args: string[]): Promise<RawStdioClient> {
    const child = spawn(process.execPath, [CLI, 'serve', ...args], { env: { ...process.env, LOG_TRIAGE_LOG_LEVEL: 'warn' }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr.resume();
    const client = new RawStdioClient(child);
    await client.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench-raw', version: '1.0.0' } });
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
    return client;
  }

  request(method: string, params: unknown): Promise<{ result?: unknown; error?: unknown }> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  }

  async callTool(name: string, args: Record<string, unknown>): Promise<{ structuredContent?: unknown; isError?: boolean }> {
    const msg = await this.request('tools/call', { name, arguments: args });
    if (msg.error !== undefined) throw new Error(`${name}: ${JSON.stringify(msg.error)}`);
    return msg.result as { structuredContent?: unknown; isError?: boolean };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}
