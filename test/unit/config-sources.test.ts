/**
 * Sources as an MCP Bundle passes them (issue 17): bare PATH arguments after the command (a
 * file picker's list expands into separate arguments) and a directory of *.log files
 * (--source-dir / LOG_TRIAGE_SOURCE_DIR), beside --source.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'ltm-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const logs = join(dir, 'logs');
mkdirSync(logs);
for (const f of ['b.log', 'a.log', 'a.log.1', 'notes.txt', 'C.LOG']) writeFileSync(join(logs, f), '');
mkdirSync(join(logs, 'nested.log'));
const empty = join(dir, 'empty');
mkdirSync(empty);

const env = {}; // no LOG_TRIAGE_* from the machine running the tests

describe('sources from arguments and directories', () => {
  it('takes bare paths after the command as sources, after the --source ones', () => {
    const c = resolveConfig(['serve', '--source', 'x=/var/log/x.log', '/var/log/app.log', 'db=/var/log/db.log'], env);
    expect(c.sources).toEqual([
      { name: 'x', path: '/var/log/x.log' },
      { name: 'app.log', path: '/var/log/app.log' },
      { name: 'db', path: '/var/log/db.log' },
    ]);
  });

  it('takes every *.log file directly in a --source-dir, in name order, and nothing else', () => {
    const c = resolveConfig(['ingest', '--source-dir', logs, '--ephemeral'], env);
    expect(c.sources.map((s) => s.name)).toEqual(['C.LOG', 'a.log', 'b.log']);
    expect(c.sources.map((s) => s.path)).toEqual([join(logs, 'C.LOG'), join(logs, 'a.log'), join(logs, 'b.log')]);
  });

  it('reads the directory from LOG_TRIAGE_SOURCE_DIR, and an empty variable means none', () => {
    expect(resolveConfig(['serve', '--ephemeral'], { LOG_TRIAGE_SOURCE_DIR: logs }).sources).toHaveLength(3);
    expect(() => resolveConfig(['serve', '--ephemeral'], { LOG_TRIAGE_SOURCE_DIR: '' })).toThrow(/needs at least one --source/);
  });

  it('refuses a directory it cannot read or that holds no *.log file, naming the option', () => {
    expect(() => resolveConfig(['serve', '--source-dir', join(dir, 'missing')], env)).toThrow(ConfigError);
    expect(() => resolveConfig(['serve', '--source-dir', join(dir, 'missing')], env)).toThrow(`--source-dir ${join(dir, 'missing')}: cannot read it (ENOENT)`);
    expect(() => resolveConfig(['serve', '--source-dir', empty], env)).toThrow(`--source-dir ${empty}: holds no *.log files`);
  });

  it('refuses the same name twice across --source, arguments and directories', () => {
    expect(() => resolveConfig(['serve', join(dir, 'other', 'a.log'), '--source-dir', logs], env)).toThrow("--source name 'a.log' is used twice");
  });

  it('refuses file arguments for commands that take no sources', () => {
    expect(() => resolveConfig(['status', '/var/log/app.log'], env)).toThrow("'status' takes no file arguments (got '/var/log/app.log')");
  });
});
