#!/usr/bin/env node
/**
 * The installed command (package.json `bin`, built to dist/bundle/cli.js): answers --version
 * itself, then runs the bundled program (dist/bundle/main.js, built from src/cli.ts) through
 * V8's code cache.
 *
 * Node 20 has no compile cache for modules (module.enableCompileCache came in Node 22), and
 * compiling the MCP SDK, zod and pino is a large part of every start. So the program is one
 * CommonJS bundle, compiled here with vm.Script and the cached code of an earlier run; the
 * cache is written once per build and Node version, after the program has run for a while
 * (so the functions it called are in it), to the user's cache directory. Measured on the
 * 2-core VM while shared with other jobs: spawn to the first stdio answer used 0.31-0.51 s of
 * CPU from an ESM bundle, 0.22-0.35 s from this one with its cache (6 runs each, alternated).
 * Without a usable cache (first run, another Node version, an unwritable directory) it
 * compiles as a plain require would. Where it goes (2026-12-02, main.js 1.7 MB, first
 * find_nearest_log answer on the 3,900-entry sample, in-process marks, 7 runs each, load 5):
 * without a cache compiling main.js took 51-57 ms and the lazy compiles while serving ~40 ms
 * more (body to answer 81-97 ms), with it 5-9 ms and 42-52 ms; evaluating the module bodies
 * 3-6 ms either way. CPU used by the time the answer is written, 15 alternated runs at load
 * 13: 103 ms (93-126) with the cache, 162 ms (142-176) with none, 160 ms (144-176) on a first
 * run that writes it (the write comes after, at 3 s or at exit).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';
import { SERVER_VERSION } from './version.js';

/** Set by the build (tools/build/esbuild.ts): the content hash of main.js. */
declare const __LTM_MAIN_HASH__: string;

/** After this long a running program has compiled what serving needs: cache it then. */
const WRITE_AFTER_MS = 3000;
const STALE_MS = 86_400_000;

/**
 * Runs `f` with V8's code cache checksum on. Release builds of V8 neither write nor check it
 * (the flag is off), and a cache damaged inside its payload (the header, lengths and hashes
 * intact) aborted the process on every start until the file was deleted: 12 of 12 damaged
 * files in one test ("Fatal error ... unreachable code" in the deserializer). With the flag on
 * while the cache is written and read, V8 stores a checksum, checks it, and rejects a damaged
 * file as it rejects another Node version's (cachedDataRejected); a cache written without it
 * (an earlier build) is rejected once for its flag hash and written again. Off again after, so
 * the rest of the process runs as Node set it up. Cost: requiring node:v8 (~1.4 ms) and the
 * checksum of the ~1 MB cache, inside the noise of a start (see README, start-up).
 */
function withChecksum<T>(f: () => T): T {
  setFlagsFromString('--verify-snapshot-checksum');
  try {
    return f();
  } finally {
    setFlagsFromString('--no-verify-snapshot-checksum');
  }
}

function cacheDir(): string {
  const env = process.env;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'log-triage-mcp');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'log-triage-mcp');
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'log-triage-mcp', 'Cache');
  return join(homedir(), '.cache', 'log-triage-mcp');
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Writes the cache atomically and drops the caches of other builds; never throws. */
function writeCache(script: vm.Script, dir: string, file: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, withChecksum(() => script.createCachedData()));
    renameSync(tmp, file);
    // Other builds' caches, once a day old (two installs may take turns).
    const build = `main-${__LTM_MAIN_HASH__}-`;
    for (const name of readdirSync(dir)) {
      const other = join(dir, name);
      if (name.startsWith('main-') && !name.startsWith(build) && Date.now() - statSync(other).mtimeMs > STALE_MS) rmSync(other, { force: true });
    }
  } catch {
    // A cache is an optimisation: a read-only home or a full disk costs only speed.
  }
}

/**
 * The command a run is for: each keeps its own cache, holding the functions that command
 * compiled (a cache written by `ingest` would lack most of what `serve` runs).
 */
function commandOf(argv: readonly string[]): string {
  const first = argv[0];
  return first !== undefined && /^[a-z]+$/.test(first) ? first : 'serve';
}

function run(main: string, argv: readonly string[]): void {
  const requireMain = createRequire(main);
  // Stack traces through source maps (node --enable-source-maps) need Node's own loader.
  if (process.sourceMapsEnabled) {
    requireMain(main);
    return;
  }
  const dir = cacheDir();
  const file = join(dir, `main-${__LTM_MAIN_HASH__}-${commandOf(argv)}-${process.version}-${process.arch}.v8cache`);
  const cachedData = readCache(file);
  // Read as latin1, not utf8: the build checks that main.js is ASCII (tools/build/esbuild.ts),
  // so both give the same string, but V8's UTF-8 decoding of the 1.7 MB took 10-15 ms here
  // (22-39 ms while the file still held two non-ASCII bytes, decoded to a two-byte string)
  // against 1-2 ms for latin1.
  const source = readFileSync(main, 'latin1');
  const script = withChecksum(
    () =>
      new vm.Script(Module.wrap(source), {
        filename: main,
        ...(cachedData === undefined ? {} : { cachedData }),
      }),
  );
  const mod = new Module(main);
  mod.filename = main;
  (mod as unknown as { paths: string[] }).paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(main));
  const compiled = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  if (cachedData === undefined || script.cachedDataRejected === true) {
    let written = false;
    const write = (): void => {
      if (written) return;
      written = true;
      writeCache(script, dir, file);
    };
    setTimeout(write, WRITE_AFTER_MS).unref();
    process.once('exit', write);
  }
  compiled.call(mod.exports, mod.exports, requireMain, mod, main, dirname(main));
}

const argv = process.argv.slice(2);
if (argv[0] === '--version' || argv[0] === '-V') process.stdout.write(SERVER_VERSION + '\n');
else run(fileURLToPath(new URL('./main.js', import.meta.url)), argv);
