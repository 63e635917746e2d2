/** Package identity, read once from package.json so `--version` and the MCP handshake agree. */
import { existsSync, readFileSync } from 'node:fs';

/** package.json sits one level above src/ when run from source, two above dist/src/ when built. */
function findPackageJson(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) return readFileSync(url, 'utf8');
  }
  return '{"name":"log-triage-mcp","version":"0.0.0"}';
}

const pkg = JSON.parse(findPackageJson()) as { name: string; version: string };

export const SERVER_NAME: string = pkg.name;
export const SERVER_VERSION: string = pkg.version;
