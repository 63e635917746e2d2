/**
 * `npm run build`, second step (after tsc): bundles what ships into dist/bundle/ with esbuild.
 *
 *   cli.js            the command (src/launch.ts): --version, then main.js through V8's code
 *                     cache (see launch.ts for why and what it saves)
 *   main.js           the program (src/cli.ts and everything it imports, dynamic imports
 *                     included: they stay lazy, evaluated only when reached)
 *   *-worker.js       every src/**\/*-worker.ts: worker threads load their entry by file name
 *   package.json      {"type":"commonjs"}: the bundle is CommonJS, the only kind of code
 *                     Node 20 can compile with a code cache (vm.Script)
 *   THIRD-PARTY-NOTICES.txt, *.map
 *
 * Packages in EXTERNAL stay in node_modules. Node 20 resolves, reads and compiles each file
 * of a package separately: the MCP SDK, zod, ajv, pino and yaml are ~600 files, and loading
 * them from node_modules took 300-450 ms of each start (issue 12).
 *
 * Tests and the bench run the bundle (test/helpers/cli.ts), so what ships is what is tested.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { zodEnglishOnly } from '../build-view.js';
import { lazyModules } from './lazy-modules.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BUNDLE_DIR = join(ROOT, 'dist', 'bundle');

/**
 * Left to node_modules at run time, with the reason. A package listed here must stay in
 * package.json `dependencies`; everything else is inside the bundle.
 */
export const EXTERNAL: Record<string, string> = {
  // Starts its own worker file, found with __dirname next to its index.js.
  piscina: 'loads dist/worker.js from its own directory',
  // A native binding: one prebuilt binary per platform, in optional packages (src/wal/crc32c.ts).
  '@node-rs/crc32': 'loads the .node binary of the platform it runs on',
  // Tracing (src/trace/otel.ts) is loaded only when OTEL_* variables turn it on: left out of
  // main.js, a start without tracing neither reads nor compiles the SDK and exporters.
  '@opentelemetry/api': 'loaded only when tracing is on (src/trace)',
  '@opentelemetry/resources': 'loaded only when tracing is on (src/trace)',
  '@opentelemetry/sdk-trace-node': 'loaded only when tracing is on (src/trace)',
  '@opentelemetry/exporter-trace-otlp-proto': 'loaded only when tracing is on with http/protobuf (src/trace)',
  '@opentelemetry/exporter-trace-otlp-http': 'loaded only when tracing is on with http/json (src/trace)',
};

/** Every *-worker.ts under src/: the files worker threads are started on. */
function workerEntries(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...workerEntries(p));
    else if (e.name.endsWith('-worker.ts')) out.push(p);
  }
  return out;
}

/** Packages whose code ended up in the bundle, from esbuild's metafile. */
function bundledPackages(meta: Metafile): string[] {
  const names = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) names.add(m[1]!);
  }
  return [...names].sort();
}

/**
 * The licence texts of the bundled packages (their MIT/ISC/BSD/Apache terms ask that the
 * notice travel with the code), written beside the bundle.
 */
function writeNotices(packages: string[]): void {
  const parts = ['Third-party software bundled in dist/bundle/ (esbuild), with its licence texts.', ''];
  for (const name of packages) {
    const dir = join(ROOT, 'node_modules', name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string; license?: string };
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    parts.push(`== ${name}@${pkg.version} (${pkg.license ?? 'see text'})`, file ? readFileSync(join(dir, file), 'utf8').trim() : '(no licence file in the package)', '');
  }
  writeFileSync(join(BUNDLE_DIR, 'THIRD-PARTY-NOTICES.txt'), parts.join('\n'));
}

/** The name and version every bundle file reports (src/version.ts). */
function packageIdentity(): { name: string; version: string } {
  const { name, version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  return { name, version };
}

/** What both builds share: CommonJS for Node 20, minified, with source maps. */
const COMMON: BuildOptions = {
  absWorkingDir: ROOT,
  outdir: BUNDLE_DIR,
  entryNames: '[name]',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Smaller files compile faster; stack traces map back through the source maps
  // (node --enable-source-maps).
  minify: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  external: Object.keys(EXTERNAL),
  // import() of an external package becomes require(): main.js runs as a vm.Script
  // (src/launch.ts), where a real import() finds no module loader in Node 20.
  supported: { 'dynamic-import': false },
  // The sources are ES modules: import.meta.url becomes the bundle file's own URL.
  define: { 'import.meta.url': '__ltm_import_meta_url' },
  banner: { js: 'var __ltm_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  // Files a module imports as text (an HTML page, a SQL file) are inlined: a path computed
  // from import.meta.url would point into dist/bundle/, where they are not.
  loader: { '.html': 'text', '.sql': 'text', '.md': 'text' },
  // zod's 40 message locales (265 KiB) kept to English, as in the view (tools/build-view.ts);
  // modules the start-up path imports but does not use, evaluated on first use (lazy-modules.ts).
  plugins: [zodEnglishOnly, lazyModules()],
  metafile: true,
  logLevel: 'warning',
};

/**
 * launch.ts reads main.js as latin1 (10-15 ms faster than UTF-8 at every start), which reads
 * the same string only while the file is ASCII. esbuild escapes non-ASCII characters in
 * strings but not in regular expression literals: write those as \uXXXX in the source.
 */
export function assertAscii(file: string): void {
  const bytes = readFileSync(file);
  const at = bytes.findIndex((b) => b > 0x7f);
  if (at === -1) return;
  const near = bytes.subarray(Math.max(0, at - 60), at + 20).toString('utf8');
  throw new Error(`${relative(ROOT, file)} holds a non-ASCII byte at offset ${at} (near ${JSON.stringify(near)}); write the character as \\uXXXX in the source`);
}

export async function bundle(): Promise<Metafile> {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  // package.json's identity inlined (src/version.ts): the shipped command reads no package.json.
  // Read here, not at import: tests import this module for EXTERNAL from the TS source.
  const define = { ...COMMON.define, __LTM_PACKAGE__: JSON.stringify(packageIdentity()) };
  const program = await build({
    ...COMMON,
    define,
    entryPoints: { main: join(ROOT, 'src', 'cli.ts'), ...Object.fromEntries(workerEntries(join(ROOT, 'src')).map((p) => [basename(p, '.ts'), p])) },
  });
  // src/cli.ts starts with a hashbang, valid only as the first bytes of a file: main.js is
  // compiled inside a function wrapper (launch.ts), so it becomes a comment (same lines, so
  // the source map still fits).
  const mainFile = join(BUNDLE_DIR, 'main.js');
  writeFileSync(mainFile, readFileSync(mainFile, 'utf8').replace(/^#!/, '//'));
  assertAscii(mainFile);
  const mainHash = createHash('sha256').update(readFileSync(mainFile)).digest('hex').slice(0, 16);
  const launcher = await build({
    ...COMMON,
    entryPoints: { cli: join(ROOT, 'src', 'launch.ts') },
    define: { ...define, __LTM_MAIN_HASH__: JSON.stringify(mainHash) },
  });
  writeFileSync(join(BUNDLE_DIR, 'package.json'), '{ "type": "commonjs" }\n');
  const meta: Metafile = { inputs: { ...program.metafile!.inputs, ...launcher.metafile!.inputs }, outputs: { ...program.metafile!.outputs, ...launcher.metafile!.outputs } };
  writeNotices(bundledPackages(meta));
  writeFileSync(join(ROOT, 'dist', 'bundle-meta.json'), JSON.stringify(meta));
  return meta;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const meta = await bundle();
  const bytes = Object.entries(meta.outputs).filter(([f]) => f.endsWith('.js')).reduce((n, [, o]) => n + o.bytes, 0);
  process.stderr.write(`bundle: ${relative(ROOT, BUNDLE_DIR)}/ ${Object.keys(meta.outputs).length} files, ${(bytes / 1024).toFixed(0)} KiB of JS\n`);
}
