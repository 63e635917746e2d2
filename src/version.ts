/** Package identity, read once from package.json so `--version` and the MCP handshake agree. */
import { existsSync, readFileSync } from 'node:fs';

/**
 * Set by the bundle build (tools/build/esbuild.ts) to package.json's name and version, so the
 * shipped command never looks for package.json: finding and reading it (URL handling, two fs
 * calls, a parse) was ~5 ms of the 100 ms `--version` budget and of every start (startup3
 * notes). Undefined when run from tsc's output (tests, tools), which reads the file.
 */
declare const __LTM_PACKAGE__: { name: string; version: string } | undefined;

/** package.json sits one level above src/ when run from source, two above dist/src/ when built. */
function findPackageJson(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) return readFileSync(url, 'utf8');
  }
  return '{"name":"log-triage-mcp","version":"0.0.0"}';
}

const pkg = typeof __LTM_PACKAGE__ === 'undefined' ? (JSON.parse(findPackageJson()) as { name: string; version: string }) : __LTM_PACKAGE__;

export const SERVER_NAME: string = pkg.name;
export const SERVER_VERSION: string = pkg.version;
