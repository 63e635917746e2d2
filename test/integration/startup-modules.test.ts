/**
 * What a stdio session loads before it needs it (issue 12, start-up), each measured on the
 * first-answer path (startup3 notes):
 *   - node:crypto only when something hashes (triage_confidence's signature ids, the incident
 *     view's CSP), not for find_nearest_log: requiring it cost 4-6 ms of every start;
 *   - the native CRC32C binding (@node-rs/crc32) only for a checksum of 1 KiB or more (the
 *     WAL's frames), not for the 256-byte file-head fingerprints of an --ephemeral session:
 *     its dlopen cost 11-28 ms;
 *   - triage's modules (src/triage: zod schemas, the yaml runbook parser, the signature
 *     miner) only at the first triage_confidence call: evaluating them cost 18-44 ms;
 *   - the packages tools/build/lazy-modules.ts defers: Ajv and ajv-formats (the
 *     SDK's validator for elicitation answers), yaml (a YAML --config or --runbooks file),
 *     zod 3 and zod-to-json-schema (the SDK's support for zod 3 schemas): none ran in a
 *     find_nearest_log session; the triage session reads a YAML --config, so yaml runs there.
 * The server records at exit (a --require'd script) the built-in modules it loaded and the
 * files it required; the sessions that hash or write a WAL show that the record sees both.
 * Triage lives inside the bundle (main.js), so no file read shows it: V8's coverage
 * (NODE_V8_COVERAGE) counts the functions main.js ran, mapped back to src/ through
 * main.js.map; the triage_confidence session shows the mapping sees triage's code run.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module, { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, connectStdio, waitLive, writeSecondsLog } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ltm-modules-'));
const log = join(dir, 'app.log');
const preload = join(dir, 'record-modules.cjs');
writeSecondsLog(log, 500);
writeFileSync(
  preload,
  [
    "process.on('exit', () => {",
    "  const fs = require('node:fs');",
    "  const out = process.env.LTM_MODULES_OUT;",
    "  fs.writeFileSync(out + '.tmp', [...process.moduleLoadList, ...Object.keys(require.cache)].join('\\n'));",
    "  fs.renameSync(out + '.tmp', out);", // whole, so the test never reads half of it
    '});',
  ].join('\n'),
);

interface Session {
  /** Built-in modules loaded and files required. */
  loaded: string[];
  /** The src/ files (as main.js.map names them) of which main.js ran at least one function. */
  ran: Set<string>;
}

/** What a serve session loaded and ran, after `work` ran against it. */
async function modulesAfter(
  name: string,
  storage: string[],
  work: (call: (tool: string, args: Record<string, unknown>) => Promise<unknown>) => Promise<void>,
): Promise<Session> {
  const out = join(dir, `${name}.txt`);
  const coverage = join(dir, `${name}-coverage`);
  const { client, close } = await connectStdio(['--source', log, ...storage], {
    NODE_OPTIONS: `--require ${preload}`,
    LTM_MODULES_OUT: out,
    NODE_V8_COVERAGE: coverage,
    // Its own code cache: a cache this test writes is never another run's.
    XDG_CACHE_HOME: join(dir, `${name}-cache`),
  });
  try {
    await waitLive(client);
    await work(async (tool, args) => {
      const r = await client.callTool({ name: tool, arguments: args });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      return r.structuredContent;
    });
  } finally {
    await close();
  }
  // The client's close ends stdin; the server writes the record and its coverage as it exits
  // (the record from an exit handler, the coverage after it).
  for (let i = 0; i < 400; i++) {
    try {
      const loaded = readFileSync(out, 'utf8').split('\n');
      const ran = ranSources(coverage);
      if (ran !== undefined) return { loaded, ran };
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the server wrote no module record to ${out} or no coverage of main.js to ${coverage}`);
}

const MAIN = join(dirname(CLI), 'main.js');

/**
 * The source files of main.js's functions that ran (count > 0) in a coverage directory, or
 * undefined before a coverage file with main.js is complete. launch.ts compiles main.js
 * wrapped as a CommonJS function (Module.wrap), so offsets on the first line are shifted.
 */
function ranSources(coverageDir: string): Set<string> | undefined {
  let files: string[];
  try {
    files = readdirSync(coverageDir).filter((f) => f.endsWith('.json'));
  } catch {
    return undefined;
  }
  const src = Module.wrap(readFileSync(MAIN, 'utf8'));
  const shift = Module.wrap('\0').indexOf('\0');
  const lineStarts = [0];
  for (let i = src.indexOf('\n'); i !== -1; i = src.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const map = new SourceMap(JSON.parse(readFileSync(`${MAIN}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
  for (const f of files) {
    let result: { url: string; functions: { ranges: { startOffset: number; count: number }[] }[] }[];
    try {
      ({ result } = JSON.parse(readFileSync(join(coverageDir, f), 'utf8')) as { result: typeof result });
    } catch {
      return undefined; // still being written
    }
    const script = result.find((s) => s.url.endsWith('/bundle/main.js'));
    if (script === undefined) continue;
    const ran = new Set<string>();
    for (const fn of script.functions) {
      const range = fn.ranges[0]!;
      if (range.count === 0) continue;
      let line = 0;
      while (line + 1 < lineStarts.length && lineStarts[line + 1]! <= range.startOffset) line++;
      const column = range.startOffset - lineStarts[line]! - (line === 0 ? shift : 0);
      const entry = map.findEntry(line, column) as { originalSource?: string };
      if (entry.originalSource !== undefined) ran.add(entry.originalSource.replace(/^(\.\.\/)+/, ''));
    }
    return ran;
  }
  return undefined;
}

/** The packages of main.js's functions that ran (the lazy stand-ins are not the package). */
const packagesRan = (ran: Set<string>): Set<string> =>
  new Set([...ran].map((f) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((p): p is string => p !== undefined));

const LAZY_PACKAGES = ['ajv', 'ajv-formats', 'yaml', 'zod-to-json-schema'];

/** Whether zod 3 (zod/v3, not zod 4's core and classic API) ran. */
const zod3Ran = (ran: Set<string>): boolean => [...ran].some((f) => f.startsWith('node_modules/zod/v3/'));

const triageRan = (ran: Set<string>): string[] => [...ran].filter((f) => f.startsWith('src/triage/') && f !== 'src/triage/limits.ts').sort();

const nativeCrc = (loaded: string[]): boolean => loaded.some((f) => /@node-rs[\\/]crc32[\\/]/.test(f));

describe('stdio start-up loads neither node:crypto, the native CRC32C binding, triage nor the lazy packages', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('find_nearest_log --ephemeral leaves them unloaded; triage_confidence, a WAL and a YAML config load them', async () => {
    const at = '2024-01-15T10:02:00Z';
    const { loaded: nearestOnly, ran: nearestRan } = await modulesAfter('nearest', ['--ephemeral'], async (call) => {
      const s = (await call('find_nearest_log', { timestamp: at })) as { status: string };
      expect(s.status).toBe('ok');
    });
    expect(nearestOnly.length).toBeGreaterThan(10);
    expect(nearestOnly).not.toContain('NativeModule crypto');
    expect(nativeCrc(nearestOnly)).toBe(false);
    // The mapping sees the code that answered, and none of triage's but its constants.
    expect(nearestRan).toContain('src/mcp/tools/find-nearest-log.ts');
    expect(triageRan(nearestRan)).toEqual([]);
    // The mapping sees packages that ran (the SDK and zod 4 answer every call), and none of these.
    const nearestPackages = packagesRan(nearestRan);
    expect(nearestPackages).toContain('@modelcontextprotocol/sdk');
    expect(nearestPackages).toContain('zod');
    expect(LAZY_PACKAGES.filter((p) => nearestPackages.has(p))).toEqual([]);
    expect(zod3Ran(nearestRan)).toBe(false);

    // With a WAL (a data dir): its frames of 1 KiB and more go through the binding. A YAML
    // --config: the parser is loaded when the file is read.
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'body-cap: 2048\n');
    const { loaded: withTriage, ran: triageSession } = await modulesAfter('triage', ['--data-dir', join(dir, 'data'), '--config', config], async (call) => {
      const s = (await call('triage_confidence', { timestamp: at })) as { decision: string };
      expect(typeof s.decision).toBe('string');
    });
    expect(withTriage).toContain('NativeModule crypto');
    expect(nativeCrc(withTriage)).toBe(true);
    expect(triageRan(triageSession)).toEqual(expect.arrayContaining(['src/triage/runbooks.ts', 'src/triage/signatures.ts', 'src/triage/triage.ts']));
    expect(packagesRan(triageSession)).toContain('yaml');
  }, 60_000);
});
