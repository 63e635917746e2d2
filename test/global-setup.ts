/**
 * The CLI, crash and durability tests run the built `dist/` as real processes. A bare
 * `npx vitest` after an edit used to test the previous build (issue 18); this rebuilds first
 * whenever a source under src/ or tools/ (or the compiler config) is newer than its output.
 * `npm test` builds in `pretest`, so there it only checks (about 200 stats).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sources(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * Where a source's build output is: src/view (the browser code, tools/build-view.ts) all goes
 * into one HTML file; everything else is compiled by tsc file for file, and the server's
 * sources are also bundled into dist/bundle/ (tools/build/esbuild.ts), which the CLI tests run.
 */
function outputsOf(root: string, src: string): string[] {
  const rel = relative(root, src);
  if (rel.startsWith(join('src', 'view'))) return [join(root, 'dist', 'view', 'incident.html')];
  const compiled = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
  const bundled = rel.startsWith('src') && existsSync(join(root, 'tools', 'build', 'esbuild.ts'));
  return bundled ? [compiled, join(root, 'dist', 'bundle', 'cli.js')] : [compiled];
}

/** The first source whose output is missing or older than it, or null when dist/ is current. */
export function staleSource(root = ROOT): string | null {
  const config = statSync(join(root, 'tsconfig.json')).mtimeMs;
  const view = join(root, 'src', 'view');
  const inputs = [...sources(join(root, 'src')), ...sources(join(root, 'tools'))];
  // The view's HTML and CSS are inputs of its bundle too.
  if (existsSync(view)) for (const f of readdirSync(view)) if (/\.(html|css)$/.test(f)) inputs.push(join(view, f));
  for (const src of inputs) {
    for (const out of outputsOf(root, src)) {
      if (!existsSync(out)) return src;
      const built = statSync(out).mtimeMs;
      if (built < statSync(src).mtimeMs || built < config) return src;
    }
  }
  return null;
}

export default function setup(): void {
  // tools/mutants sets this for mutations whose tests import the sources only.
  if (process.env.LOG_TRIAGE_TEST_SKIP_BUILD === '1') return;
  const stale = staleSource();
  if (stale === null) return;
  process.stderr.write(`global-setup: ${relative(ROOT, stale)} is newer than dist/; running npm run build\n`);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}
