/**
 * Issue 17: the MCP Bundle works as Claude Desktop would run it. Build it (`npm run bundle`'s
 * second step), validate its manifest with the official CLI, unpack it into a temp dir, and
 * start the server exactly as the manifest's mcp_config says with a sample user_config
 * substituted by the mcpb package's own getMcpConfigForManifest (what Claude Desktop uses);
 * then find_nearest_log over stdio with the SDK client. Claude Desktop runs `node` with the
 * runtime it ships; here `node` is this Node 20.
 *
 * Also: nothing in it is tied to this machine (no absolute path of the build, native code
 * only as the CRC32C binding's binaries for every platform) and the bundled copy of piscina
 * does start the parse workers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { getMcpConfigForManifest } from '@anthropic-ai/mcpb/node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLogFile } from '../../src/generate/index.js';
import { EXTERNAL } from '../../tools/build/esbuild.js';
import { cleanEnv, type Expected, expectAnswer, expectedAnswer, QUERY, ROOT, SAMPLE_LOG } from '../helpers/install.js';

/** The bundle's external packages (tools/build/esbuild.ts) and what they need, from the lock file. */
function runtimeClosure(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string> }> };
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of Object.keys(lock.packages[`node_modules/${name}`]?.dependencies ?? {})) visit(dep);
  };
  for (const name of Object.keys(EXTERNAL)) visit(name);
  return [...seen].sort();
}

const MCPB_CLI = join(ROOT, 'node_modules', '@anthropic-ai', 'mcpb', 'dist', 'cli', 'cli.js');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const bundleFile = join(ROOT, 'dist', `${pkg.name}-${pkg.version}.mcpb`);
const dir = mkdtempSync(join(tmpdir(), 'ltm-mcpb-'));
const unpacked = join(dir, 'extension');
let manifest: Record<string, unknown>;
let expected: Expected;

type McpConfig = { command: string; args?: string[]; env?: Record<string, string> };

/** mcp_config with `userConfig` substituted, as Claude Desktop computes it. */
async function configFor(userConfig: Record<string, string | string[] | boolean>): Promise<McpConfig> {
  const config = await getMcpConfigForManifest({
    manifest: manifest as never,
    extensionPath: unpacked,
    systemDirs: { HOME: dir, DATA: join(dir, 'data-home'), DOCUMENTS: dir, DOWNLOADS: dir, DESKTOP: dir },
    userConfig,
    pathSeparator: '/',
  });
  if (config === undefined) throw new Error('getMcpConfigForManifest gave no config: a required user_config is missing');
  return config as McpConfig;
}

async function connect(config: McpConfig): Promise<Client> {
  const transport = new StdioClientTransport({
    command: config.command === 'node' ? process.execPath : config.command,
    args: config.args ?? [],
    env: cleanEnv({ ...config.env, LOG_TRIAGE_LOG_LEVEL: 'warn', XDG_CACHE_HOME: join(dir, 'cache') }),
    cwd: dir,
    stderr: 'pipe',
  });
  const client = new Client({ name: 'mcpb-check', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

async function firstAnswer(client: Client): Promise<unknown> {
  for (;;) {
    const r = await client.callTool({ name: 'find_nearest_log', arguments: { ...QUERY } });
    // The first call may come before the file is read: ask again until it is (no sleep).
    if ((r.structuredContent as { status: string }).status !== 'empty') return r.structuredContent;
  }
}

function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

beforeAll(() => {
  expected = expectedAnswer();
  execFileSync(process.execPath, [join(ROOT, 'dist', 'tools', 'build', 'mcpb.js')], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  execFileSync(process.execPath, [MCPB_CLI, 'unpack', bundleFile, unpacked], { stdio: ['ignore', 'ignore', 'pipe'] });
  manifest = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8')) as Record<string, unknown>;
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the MCP Bundle', () => {
  it('passes `mcpb validate` and lists the tools and the prompt the server has', () => {
    const r = spawnSync(process.execPath, [MCPB_CLI, 'validate', join(unpacked, 'manifest.json')], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect((manifest.tools as { name: string }[]).map((t) => t.name).sort()).toEqual(['find_nearest_log', 'log_histogram', 'related_log', 'tail_status', 'triage_confidence']);
    expect((manifest.prompts as { name: string }[]).map((p) => p.name)).toEqual(['triage_incident']);
    expect(statSync(bundleFile).size).toBeLessThan(8 << 20);
  });

  it('holds no path of the build machine, and native code only as every platform`s CRC32C binary', () => {
    const files = filesUnder(unpacked);
    for (const f of files.filter((x) => /\.(js|json|txt|md|html)$/.test(x))) {
      expect(readFileSync(join(unpacked, f), 'utf8').includes(ROOT.replace(/\/$/, '')), f).toBe(false);
    }
    const native = files.filter((f) => f.endsWith('.node')).map((f) => f.split('/').pop()).sort();
    expect(native).toEqual([
      'crc32.darwin-arm64.node', 'crc32.darwin-x64.node', 'crc32.linux-arm64-gnu.node',
      'crc32.linux-x64-gnu.node', 'crc32.win32-arm64-msvc.node', 'crc32.win32-x64-msvc.node',
    ]);
    // Only runtime packages: the bundle's externals, nothing from devDependencies.
    const modules = readdirSync(join(unpacked, 'server', 'node_modules')).flatMap((n) => (n.startsWith('@') ? readdirSync(join(unpacked, 'server', 'node_modules', n)).map((m) => `${n}/${m}`) : [n]));
    expect(modules.filter((m) => !m.startsWith('@node-rs/crc32-')).sort()).toEqual(runtimeClosure());
  });

  it('starts as mcp_config says with log files chosen, and answers find_nearest_log over stdio', async () => {
    const config = await configFor({ log_files: [SAMPLE_LOG], ephemeral: true });
    expect(config.args).toEqual([join(unpacked, 'server', 'dist', 'bundle', 'cli.js'), 'serve', SAMPLE_LOG]);
    const client = await connect(config);
    try {
      expect(client.getServerVersion()?.version).toBe(pkg.version);
      expectAnswer(await firstAnswer(client), expected);
    } finally {
      await client.close();
    }
  });

  it('maps a log directory, the data dir and the time zone onto the server', async () => {
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    copyFileSync(SAMPLE_LOG, join(logs, 'app.log'));
    writeFileSync(join(logs, 'local.log'), '2024-01-15 13:00:00.000 [WARN] a time without a zone\n');
    const data = join(dir, 'state');
    const config = await configFor({ log_directory: logs, data_dir: data, timezone: 'Europe/Berlin' });
    const client = await connect(config);
    try {
      expectAnswer(await firstAnswer(client), expected);
      const status = (await client.callTool({ name: 'tail_status', arguments: {} })).structuredContent as { sources: { name: string; path: string }[]; wal: { enabled: boolean } };
      expect(status.sources.map((s) => [s.name, s.path])).toEqual([['app.log', join(logs, 'app.log')], ['local.log', join(logs, 'local.log')]]);
      expect(status.wal.enabled).toBe(true);
      // Read in the chosen zone: 13:00 in Berlin in January is 12:00 UTC.
      // (A file's last entry is indexed once no continuation line follows it: ask until then.)
      let local: { status: string; entries: { timestamp: string }[] };
      do {
        local = (await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: '2024-01-15T12:00:00Z', source: 'local.log' } })).structuredContent as typeof local;
      } while (local.status === 'empty');
      expect(local.entries[0]?.timestamp).toBe('2024-01-15T12:00:00.000Z');
    } finally {
      await client.close();
    }
    expect(existsSync(join(data, 'wal'))).toBe(true);
  });

  it('parses a big file with its own copy of piscina in worker threads', async () => {
    const big = join(dir, 'big.log');
    const stats = await writeLogFile(big, { lines: 250_000, start: Date.parse('2024-01-15T10:00:00Z'), seed: 11 });
    expect(stats.bytes).toBeGreaterThan(16 << 20); // over the size that starts the workers at once
    const r = spawnSync(process.execPath, [join(unpacked, 'server', 'dist', 'bundle', 'cli.js'), 'ingest', '--ephemeral', big], {
      encoding: 'utf8',
      env: cleanEnv({ XDG_CACHE_HOME: join(dir, 'cache') }),
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('parse workers did not start');
    expect(r.stderr).toContain(`ingested ${stats.entries} new entries`);
  });
});
