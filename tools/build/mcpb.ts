/**
 * `npm run bundle`: the MCP Bundle (.mcpb) Claude Desktop installs with a double-click, packed
 * and validated by the official @anthropic-ai/mcpb CLI. Runs after `npm run build`.
 *
 *   dist/mcpb/                        the staging directory, packed as it is
 *     manifest.json                   server entry, tools and prompts (listed by the built
 *                                     server itself), user_config mapped onto flags and
 *                                     LOG_TRIAGE_* variables
 *     LICENSE, README.md
 *     server/package.json             name and version (--version and the MCP handshake read it)
 *     server/dist/bundle/             the esbuild bundle (tools/build/esbuild.ts)
 *     server/dist/view/               the incident view's page (tools/build-view.ts)
 *     server/node_modules/            the packages the bundle leaves external, and only those,
 *                                     with every platform's binary of the native one
 *   dist/log-triage-mcp-<version>.mcpb
 *
 * Nothing in it depends on the build machine: no absolute path, no dev dependency, and the
 * native CRC32C binding comes with its prebuilt binaries for macOS, Windows and Linux (fetched
 * from the npm registry with `npm pack` when this machine lacks them; src/wal/crc32c.ts falls
 * back to pure JS on any other platform).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BUNDLE_DIR, EXTERNAL } from './esbuild.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const STAGING_DIR = join(ROOT, 'dist', 'mcpb');
const require = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const pkg = require(join(ROOT, 'package.json')) as { name: string; version: string; description: string; license: string };
export const MCPB_FILE = join(ROOT, 'dist', `${pkg.name}-${pkg.version}.mcpb`);
const MCPB_CLI = join(ROOT, 'node_modules', '@anthropic-ai', 'mcpb', 'dist', 'cli', 'cli.js');

/**
 * Native packages and the platforms whose binaries go into the bundle: the hosts Claude
 * Desktop runs on (macOS, Windows) on both architectures, and Linux.
 */
const PLATFORM_BINARIES: Record<string, string[]> = {
  '@node-rs/crc32': ['darwin-arm64', 'darwin-x64', 'win32-x64-msvc', 'win32-arm64-msvc', 'linux-x64-gnu', 'linux-arm64-gnu'],
};

/**
 * Optional dependencies of external packages that stay out, with the reason. A native package
 * here would carry only this machine's binary.
 */
const LEFT_OUT: Record<string, string> = {
  '@napi-rs/nice': "piscina's optional binding for the niceIncrement option, which is not used; piscina runs without it",
};

interface LockEntry {
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** The external packages and everything they need at run time, from the lock file. */
function runtimeClosure(): string[] {
  const lock = require(join(ROOT, 'package-lock.json')) as { packages: Record<string, LockEntry> };
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name) || name in LEFT_OUT) return;
    const entry = lock.packages[`node_modules/${name}`];
    if (entry === undefined) throw new Error(`mcpb: ${name} is not installed at the top of node_modules (nested copies are not supported here)`);
    seen.add(name);
    for (const dep of Object.keys(entry.dependencies ?? {})) visit(dep);
    // Optional dependencies are where per-platform binaries hide: each needs a decision.
    if (PLATFORM_BINARIES[name] !== undefined) return; // every platform's binary is added below
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
      if (!(dep in LEFT_OUT)) throw new Error(`mcpb: ${name} has the optional dependency ${dep}: list it in PLATFORM_BINARIES or LEFT_OUT`);
    }
  };
  for (const name of Object.keys(EXTERNAL)) visit(name);
  return [...seen].sort();
}

/** A registry package unpacked into dest (npm pack reads the npm cache first). */
function fetchPackage(spec: string, dest: string): void {
  const tmp = mkdtempSync(join(tmpdir(), 'ltm-mcpb-'));
  try {
    const out = execFileSync('npm', ['pack', spec, '--pack-destination', tmp, '--json', '--silent'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const file = (JSON.parse(out) as { filename: string }[])[0]!.filename;
    mkdirSync(dest, { recursive: true });
    execFileSync('tar', ['-xzf', join(tmp, file), '-C', dest, '--strip-components=1']);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Directories and files of a published package that nothing loads at run time. */
const NOT_RUNTIME_DIRS = new Set(['test', 'tests', '__tests__', 'test-jest', 'benchmark', 'benchmarks', 'bench', 'docs', 'doc', 'example', 'examples', 'coverage', '.github']);
const NOT_RUNTIME_FILE = /(\.(md|markdown|ts|mts|cts|map)$)|^(\.npmignore|\.eslintrc.*|\.prettierrc.*|tsconfig.*\.json)$/i;

/** Drops tests, benchmarks, docs and TypeScript sources from a copied package (licences stay). */
function prune(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (NOT_RUNTIME_DIRS.has(e.name)) rmSync(p, { recursive: true, force: true });
      else prune(p);
    } else if (NOT_RUNTIME_FILE.test(e.name) && !e.name.endsWith('.d.ts') && !/^licen[cs]e/i.test(e.name)) rmSync(p, { force: true });
  }
}

function stageNodeModules(serverDir: string): string[] {
  const modules = join(serverDir, 'node_modules');
  const names = runtimeClosure();
  for (const name of names) cpSync(join(ROOT, 'node_modules', name), join(modules, name), { recursive: true, dereference: true });
  const added: string[] = [];
  for (const [name, platforms] of Object.entries(PLATFORM_BINARIES)) {
    const version = (require(join(ROOT, 'node_modules', name, 'package.json')) as { version: string }).version;
    for (const platform of platforms) {
      const binary = `${name}-${platform}`;
      const local = join(ROOT, 'node_modules', binary);
      if (existsSync(local)) cpSync(local, join(modules, binary), { recursive: true, dereference: true });
      else fetchPackage(`${binary}@${version}`, join(modules, binary));
      added.push(binary);
    }
  }
  prune(modules);
  return [...names, ...added];
}

interface Listed {
  tools: { name: string; description?: string }[];
  prompts: { name: string; description?: string; arguments?: { name: string }[] }[];
}

/** Tools and prompts as the built server lists them, so the manifest cannot drift from it. */
async function listFromServer(): Promise<Listed> {
  const tmp = mkdtempSync(join(tmpdir(), 'ltm-mcpb-list-'));
  const log = join(tmp, 'empty.log');
  writeFileSync(log, '');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(BUNDLE_DIR, 'cli.js'), 'serve', '--ephemeral', log],
    env: { ...(process.env as Record<string, string>), LOG_TRIAGE_LOG_LEVEL: 'warn' },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'mcpb-build', version: pkg.version });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    const { prompts } = await client.listPrompts();
    return { tools, prompts };
  } finally {
    await client.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The first sentence: the manifest's lists are for display, the server has the full text. */
function firstSentence(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const m = /^(.+?[.!?])(\s|$)/s.exec(text.trim());
  return (m ? m[1]! : text.trim()).replace(/\s+/g, ' ');
}

export function manifest(listed: Listed): Record<string, unknown> {
  const entry = 'server/dist/bundle/cli.js';
  return {
    manifest_version: '0.3',
    name: pkg.name,
    display_name: 'Log triage',
    version: pkg.version,
    description: pkg.description,
    long_description:
      'Follows your log files live and answers "what was logged right then?" for an incident timestamp: the nearest ' +
      'entries by level, before or after, with context; how fresh the index is; counts per level over time; and a ' +
      'deterministic, explainable decision whether an on-call runbook may run without a human. Log text is treated as ' +
      'untrusted data. Keeps a crash-safe write-ahead log in the data directory unless told to keep everything in memory.',
    author: { name: 'log-triage-mcp contributors' },
    license: pkg.license,
    keywords: ['logs', 'incident', 'triage', 'on-call', 'runbook', 'observability'],
    server: {
      type: 'node',
      entry_point: entry,
      mcp_config: {
        command: 'node',
        // The file picker's list expands into one argument per file (bare paths are sources).
        args: [`\${__dirname}/${entry}`, 'serve', '${user_config.log_files}'],
        env: {
          LOG_TRIAGE_SOURCE_DIR: '${user_config.log_directory}',
          LOG_TRIAGE_RUNBOOKS: '${user_config.runbooks}',
          LOG_TRIAGE_TIMEZONE: '${user_config.timezone}',
          LOG_TRIAGE_DATA_DIR: '${user_config.data_dir}',
          LOG_TRIAGE_EPHEMERAL: '${user_config.ephemeral}',
        },
      },
    },
    tools: listed.tools.map((t) => ({ name: t.name, ...(t.description === undefined ? {} : { description: firstSentence(t.description) }) })),
    prompts: listed.prompts.map((p) => ({
      name: p.name,
      ...(p.description === undefined ? {} : { description: firstSentence(p.description) }),
      ...(p.arguments === undefined ? {} : { arguments: p.arguments.map((a) => a.name) }),
      text: p.description ?? p.name,
    })),
    // Every optional field has a default: an unset one would otherwise reach the server as the
    // literal text "${user_config.NAME}". An empty LOG_TRIAGE_* variable counts as unset.
    user_config: {
      log_files: {
        type: 'file',
        title: 'Log files',
        description: 'The log files to follow. Each is read from the start and then followed as it grows and rotates.',
        multiple: true,
        required: false,
        default: [],
      },
      log_directory: {
        type: 'directory',
        title: 'Log directory',
        description: 'Or a directory: every *.log file directly in it (as found at start-up) is followed.',
        required: false,
        default: '',
      },
      runbooks: {
        type: 'file',
        title: 'Runbook catalog',
        description: 'Optional YAML or JSON runbook file that triage_confidence matches incidents against.',
        required: false,
        default: '',
      },
      timezone: {
        type: 'string',
        title: 'Time zone of zone-less timestamps',
        description: 'IANA zone (e.g. Europe/Berlin) for log timestamps written without an offset.',
        required: false,
        default: 'UTC',
      },
      data_dir: {
        type: 'directory',
        title: 'Data directory',
        description: 'Where the write-ahead log and checkpoints are kept (default: ~/.local/state/log-triage-mcp).',
        required: false,
        default: '',
      },
      ephemeral: {
        type: 'boolean',
        title: 'Keep everything in memory',
        description: 'Write nothing to disk; the logs are read again at every start.',
        required: false,
        default: false,
      },
    },
    compatibility: {
      platforms: ['darwin', 'win32', 'linux'],
      runtimes: { node: '>=20.0.0' },
    },
  };
}

function mcpb(args: string[]): string {
  return execFileSync(process.execPath, [MCPB_CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function main(): Promise<void> {
  if (!existsSync(join(BUNDLE_DIR, 'cli.js'))) throw new Error('dist/bundle is missing: run npm run build first');
  rmSync(STAGING_DIR, { recursive: true, force: true });
  const server = join(STAGING_DIR, 'server');
  cpSync(BUNDLE_DIR, join(server, 'dist', 'bundle'), { recursive: true });
  // The incident view's page, found by the bundle at dist/view/ (src/mcp/incident-view.ts).
  cpSync(join(ROOT, 'dist', 'view'), join(server, 'dist', 'view'), { recursive: true });
  writeFileSync(join(server, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, description: pkg.description, license: pkg.license, private: true }, null, 2) + '\n');
  const modules = stageNodeModules(server);
  for (const f of ['LICENSE', 'README.md']) cpSync(join(ROOT, f), join(STAGING_DIR, f));
  const manifestFile = join(STAGING_DIR, 'manifest.json');
  writeFileSync(manifestFile, JSON.stringify(manifest(await listFromServer()), null, 2) + '\n');
  process.stderr.write(mcpb(['validate', manifestFile]));
  rmSync(MCPB_FILE, { force: true });
  mcpb(['pack', STAGING_DIR, MCPB_FILE]);
  process.stderr.write(`mcpb: ${relative(ROOT, MCPB_FILE)} ${(statSync(MCPB_FILE).size / 1024).toFixed(0)} KiB; server/node_modules: ${modules.join(', ')}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: Error) => {
    process.stderr.write(`mcpb: ${err.message}\n`);
    process.exit(1);
  });
}
