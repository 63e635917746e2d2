/** Helpers to run the built CLI as a real process. Tests run after `npm run build` (pretest). */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

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
export async function waitLive(client: Client, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await client.callTool({ name: 'tail_status', arguments: {} });
    const s = r.structuredContent as { sources: { state: string; pending_bytes: number }[] };
    if (s.sources.every((x) => x.state === 'live' && x.pending_bytes === 0)) return;
    if (Date.now() > deadline) throw new Error(`sources not live: ${JSON.stringify(s.sources)}`);
    await new Promise((r2) => setTimeout(r2, 50));
  }
}
