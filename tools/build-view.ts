/**
 * Builds the incident view (src/view) into one self-contained HTML document,
 * dist/view/incident.html: the script bundled by esbuild (the ext-apps App, the SDK client,
 * the view) and the styles minified, both inlined. Nothing is fetched when it runs: the
 * document is its own only resource, which is what lets its CSP allow nothing else.
 *
 * Run by `npm run build` after tsc. The server computes the page's CSP hashes from this file
 * at run time (src/mcp/incident-view.ts), so the two cannot drift.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Plugin, build, transform } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = join(ROOT, 'src', 'view');
export const VIEW_OUT = join(ROOT, 'dist', 'view', 'incident.html');

/**
 * zod re-exports its 40-odd message locales as a namespace (`z.locales`), and the SDK imports
 * zod as a namespace, so esbuild cannot drop them: 265 KiB of a 707 KiB bundle. Nothing here
 * reads `z.locales`; zod itself imports `en` directly. The namespace keeps `en` only.
 */
export const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer) ? { path: join(dirname(args.importer), '..', 'locales', 'en-only.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: "export { default as en } from './en.js';", resolveDir: dirname(args.path), loader: 'js' }));
  },
};

/** Text that would end the inline element early, or open a comment in it. */
function assertInlinable(code: string, tag: 'script' | 'style'): void {
  const bad = new RegExp(`</${tag}|<!--`, 'i').exec(code);
  if (bad !== null) throw new Error(`the bundled ${tag} contains '${bad[0]}' at ${bad.index}; it cannot be inlined`);
}

/** Replaces one placeholder, which must occur exactly once (a function, so `$` in code stays literal). */
function inline(html: string, marker: string, code: string): string {
  const parts = html.split(marker);
  if (parts.length !== 2) throw new Error(`src/view/incident.html must hold ${marker} exactly once`);
  return parts[0] + code + parts[1];
}

export async function buildView(): Promise<{ bytes: number }> {
  const js = await build({
    entryPoints: [join(SRC, 'main.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome120', 'firefox121', 'safari17'],
    // ASCII output: non-ASCII characters as \u escapes, so the page's encoding cannot matter.
    charset: 'ascii',
    legalComments: 'none',
    write: false,
    logLevel: 'warning',
    plugins: [zodEnglishOnly],
  });
  const script = js.outputFiles[0]!.text.trim();
  const css = await transform(readFileSync(join(SRC, 'styles.css'), 'utf8'), { loader: 'css', minify: true, charset: 'ascii' });
  const style = css.code.trim();
  assertInlinable(script, 'script');
  assertInlinable(style, 'style');
  let html = readFileSync(join(SRC, 'incident.html'), 'utf8');
  html = inline(html, '/*@inline styles*/', style);
  html = inline(html, '/*@inline script*/', script);
  mkdirSync(dirname(VIEW_OUT), { recursive: true });
  // Written whole, then renamed: a server reading it meanwhile sees the old file or the new one.
  writeFileSync(`${VIEW_OUT}.tmp`, html);
  renameSync(`${VIEW_OUT}.tmp`, VIEW_OUT);
  return { bytes: Buffer.byteLength(html) };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildView().then(
    ({ bytes }) => process.stderr.write(`incident view: ${VIEW_OUT} (${(bytes / 1024).toFixed(0)} KiB)\n`),
    (err: unknown) => {
      process.stderr.write(`building the incident view failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
