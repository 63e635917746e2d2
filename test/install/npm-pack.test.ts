/**
 * Issue 17: the npm package installs and runs. `npm pack`, install the tarball into an empty
 * project (dependencies from the npm registry or its cache), then run the installed
 * `log-triage-mcp` bin: --version, a query on the sample log, and a stdio session with the
 * SDK client. Also: the tarball holds what the bin needs and nothing else, and package.json
 * `dependencies` are exactly the packages the bundle leaves external.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTERNAL } from '../../tools/build/esbuild.js';
import { cleanEnv, type Expected, expectAnswer, expectedAnswer, QUERY, ROOT, SAMPLE_LOG } from '../helpers/install.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
const dir = mkdtempSync(join(tmpdir(), 'ltm-npm-pack-'));
const project = join(dir, 'project');
const bin = join(project, 'node_modules', '.bin', 'log-triage-mcp');
let packed: string[] = [];
let tarballBytes = 0;
let expected: Expected;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  expected = expectedAnswer();
  const info = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], ROOT)) as { filename: string; size: number; files: { path: string }[] }[];
  packed = info[0]!.files.map((f) => f.path).sort();
  tarballBytes = info[0]!.size;
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'install-check', version: '1.0.0', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, info[0]!.filename)], project);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the npm package, installed from its tarball', () => {
  it('ships the bundle, its licence notices, the incident view page, README and LICENSE, and nothing else', () => {
    expect(packed.filter((f) => !f.endsWith('.map'))).toEqual([
      'LICENSE',
      'README.md',
      'dist/bundle/THIRD-PARTY-NOTICES.txt',
      'dist/bundle/cli.js',
      'dist/bundle/main.js',
      'dist/bundle/package.json',
      'dist/bundle/parse-worker.js',
      'dist/view/incident.html',
      'package.json',
    ]);
    expect(packed.filter((f) => f.endsWith('.map')).every((f) => f.startsWith('dist/bundle/'))).toBe(true);
    expect(tarballBytes).toBeLessThan(4 << 20);
  });

  it('depends on exactly the packages the bundle leaves external', () => {
    expect(Object.keys(pkg.dependencies).sort()).toEqual(Object.keys(EXTERNAL).sort());
  });

  it('answers --version with the package version', () => {
    expect(run(bin, ['--version'], project).trim()).toBe(pkg.version);
  });

  it('answers a query on the sample log as the file says', () => {
    const out = run(bin, ['query', '--source', SAMPLE_LOG, '-t', QUERY.timestamp, '--tag', QUERY.tag, '--json'], project);
    const answer = JSON.parse(out) as { coverage: { entries: number } };
    expectAnswer(answer, expected);
    expect(answer.coverage.entries).toBe(expected.entries);
  });

  it('serves find_nearest_log over stdio through the installed bin', async () => {
    const transport = new StdioClientTransport({ command: bin, args: ['serve', '--ephemeral', '--source', SAMPLE_LOG], env: cleanEnv({ LOG_TRIAGE_LOG_LEVEL: 'warn' }), stderr: 'pipe' });
    const client = new Client({ name: 'install-check', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect(client.getServerVersion()?.version).toBe(pkg.version);
      for (;;) {
        const r = await client.callTool({ name: 'find_nearest_log', arguments: { ...QUERY } });
        const s = r.structuredContent as { status: string; coverage: { entries: number } };
        // The first call may come before the file is read: ask again until it is (no sleep).
        if (s.status === 'empty') continue;
        expectAnswer(s, expected);
        break;
      }
    } finally {
      await client.close();
    }
  });
});
