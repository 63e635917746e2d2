/**
 * Options (src/config.ts): precedence flag > environment > config file > default for every
 * kind of option, where the config file comes from (--config or LOG_TRIAGE_CONFIG), lists and
 * booleans from the environment, and the parse errors of sizes, durations and integers, each
 * naming the option (issue 18: none of this was tested).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, defaultDataDir, helpText, parseBytes, parseDuration, resolveConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'ltm-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const SRC = ['--source', '/var/log/app.log'];

describe('precedence: flag > environment > config file > default', () => {
  const yaml = file('layers.yaml', 'fsync: off\nport: 1111\nephemeral: true\nallowed_host: [file.example]\nretention: 1h\ndataDir: /from/file\n');

  it.each<[string, string[], NodeJS.ProcessEnv, Partial<Record<'fsync' | 'port' | 'retention' | 'dataDir', unknown>>]>([
    ['defaults', [], {}, { fsync: 'batch', port: 8765, retention: null, dataDir: resolve('/state/log-triage-mcp') }],
    ['the file over defaults', ['--config', yaml], {}, { fsync: 'off', port: 1111, retention: 3_600_000, dataDir: '/from/file' }],
    ['the environment over the file', ['--config', yaml], { LOG_TRIAGE_FSYNC: 'always', LOG_TRIAGE_PORT: '2222', LOG_TRIAGE_RETENTION: '2h', LOG_TRIAGE_DATA_DIR: '/from/env' }, { fsync: 'always', port: 2222, retention: 7_200_000, dataDir: '/from/env' }],
    ['flags over the environment', ['--config', yaml, '--fsync', 'batch', '--port', '3333', '--retention', '3h', '--data-dir', '/from/flag'], { LOG_TRIAGE_FSYNC: 'always', LOG_TRIAGE_PORT: '2222', LOG_TRIAGE_RETENTION: '2h', LOG_TRIAGE_DATA_DIR: '/from/env' }, { fsync: 'batch', port: 3333, retention: 10_800_000, dataDir: '/from/flag' }],
    ['an empty environment value is no value', ['--config', yaml], { LOG_TRIAGE_PORT: '' }, { port: 1111 }],
  ])('%s', (_name, args, env, want) => {
    const c = resolveConfig(['serve', ...SRC, ...args], { XDG_STATE_HOME: '/state', ...env });
    const got = { fsync: c.fsync, port: c.port, retention: c.retentionMs, dataDir: c.dataDir };
    expect(got).toMatchObject(want);
  });

  it('booleans and lists: file, then environment, then flags', () => {
    expect(resolveConfig(['serve', ...SRC, '--config', yaml], {})).toMatchObject({ ephemeral: true, http: { allowedHosts: ['file.example'] } });
    // The environment's list replaces the file's (comma-separated, spaces trimmed, empties dropped).
    expect(resolveConfig(['serve', ...SRC, '--config', yaml], { LOG_TRIAGE_ALLOWED_HOST: 'a.example, b.example,' }).http.allowedHosts).toEqual(['a.example', 'b.example']);
    expect(resolveConfig(['serve', ...SRC, '--config', yaml, '--allowed-host', 'flag.example'], { LOG_TRIAGE_ALLOWED_HOST: 'a.example' }).http.allowedHosts).toEqual(['flag.example']);
    for (const [value, want] of [['1', true], ['true', true], ['0', false], ['false', false]] as const) {
      expect(resolveConfig(['serve', ...SRC], { LOG_TRIAGE_EPHEMERAL: value }).ephemeral, value).toBe(want);
    }
    expect(() => resolveConfig(['serve', ...SRC], { LOG_TRIAGE_EPHEMERAL: 'no' })).toThrow(/^--ephemeral \(LOG_TRIAGE_EPHEMERAL\) 'no' is not a boolean; accepted: true, false, 1, 0$/);
  });

  it('sources from the environment, comma-separated, NAME=PATH or PATH', () => {
    const c = resolveConfig(['serve'], { LOG_TRIAGE_SOURCE: 'api=/var/log/api.log, /var/log/worker.log' });
    expect(c.sources).toEqual([{ name: 'api', path: '/var/log/api.log' }, { name: 'worker.log', path: '/var/log/worker.log' }]);
    // A flag replaces the environment's list, it does not add to it.
    expect(resolveConfig(['serve', '--source', '/x/one.log'], { LOG_TRIAGE_SOURCE: '/x/two.log' }).sources.map((s) => s.name)).toEqual(['one.log']);
  });

  it('--config beats LOG_TRIAGE_CONFIG; LOG_TRIAGE_CONFIG is read without the flag; JSON by extension', () => {
    const a = file('a.json', JSON.stringify({ port: 4444, source: ['/var/log/a.log'] }));
    const b = file('b.yml', 'port: 5555\n');
    expect(resolveConfig(['serve'], { LOG_TRIAGE_CONFIG: a })).toMatchObject({ port: 4444, sources: [{ name: 'a.log' }] });
    expect(resolveConfig(['serve', ...SRC, '--config', b], { LOG_TRIAGE_CONFIG: a }).port).toBe(5555);
  });

  it('config file keys may be kebab-case, snake_case or camelCase', () => {
    for (const key of ['max-wal-bytes', 'max_wal_bytes', 'maxWalBytes']) {
      expect(resolveConfig(['serve', ...SRC, '--config', file(`k-${key}.yaml`, `${key}: 1MiB\n`)], {}).maxWalBytes, key).toBe(1024 * 1024);
    }
  });

  it('the default data dir follows XDG_STATE_HOME, else ~/.local/state', () => {
    expect(defaultDataDir({ XDG_STATE_HOME: '/s' })).toBe('/s/log-triage-mcp');
    expect(defaultDataDir({ HOME: '/h' })).toMatch(/\/\.local\/state\/log-triage-mcp$/);
  });
});

describe('bad options: a ConfigError that names the option and what is accepted', () => {
  const bad = (args: string[], env: NodeJS.ProcessEnv = {}): string => {
    try {
      resolveConfig(args, env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).not.toContain('\n');
      return (err as Error).message;
    }
    throw new Error(`accepted: ${args.join(' ')}`);
  };

  it.each<[string[], RegExp]>([
    [['--segment-bytes', '64 parsecs'], /^--segment-bytes '64 parsecs' is not a size; use bytes or a unit such as 64MiB/],
    [['--segment-bytes=-1'], /^--segment-bytes '-1' is not a size/],
    [['--segment-bytes', '1KiB'], /^--segment-bytes must be between 4KiB and 4GiB$/],
    [['--max-wal-bytes', 'lots'], /^--max-wal-bytes 'lots' is not a size/],
    [['--max-body-bytes', '1.5.2MB'], /^--max-body-bytes '1\.5\.2MB' is not a size/],
    [['--retention', '24'], /^--retention '24' is not a duration; use a number and a unit: 90s, 30m, 24h, 7d$/],
    [['--retention', '1y'], /^--retention '1y' is not a duration/],
    [['--port', '70000'], /^--port '70000' must be an integer from 0 to 65535$/],
    [['--port', 'http'], /^--port 'http' must be an integer from 0 to 65535$/],
    [['--max-sessions', '0'], /^--max-sessions '0' must be an integer from 1 to 100000$/],
    [['--body-cap', '12.5'], /^--body-cap '12\.5' must be an integer from 64 to 65000$/],
    [['--fsync', 'sometimes'], /^--fsync 'sometimes' is not one of: batch, always, off$/],
    [['--transport', 'ws'], /^--transport 'ws' is not one of: stdio, http, sse$/],
    [['--timezone', 'Mars/Olympus'], /^--timezone 'Mars\/Olympus' is not an IANA time zone/],
    [['--bogus'], /^unknown option '--bogus'/],
    [['--json'], /^--json does not apply to 'serve'$/],
  ])('serve %j', (args, message) => {
    expect(bad(['serve', ...SRC, ...args])).toMatch(message);
  });

  it.each<[string[], RegExp]>([
    [['query', ...SRC, '-t', '2024-01-15T10:00:00Z', '--count', '0'], /^--count '0' must be an integer from 1 to 100$/],
    [['query', ...SRC, '-t', '2024-01-15T10:00:00Z', '-C', '51'], /^--context '51' must be an integer from 0 to 50$/],
    [['query', ...SRC, '-t', '2024-01-15T10:00:00Z', '--max-distance-ms=-5'], /^--max-distance-ms '-5' must be a non-negative number$/],
    [['query', ...SRC, '-t', '2024-01-15T10:00:00'], /^--timestamp .*no time zone/],
    [['query', ...SRC], /^'query' needs --timestamp T/],
    [['ingest'], /^'ingest' needs at least one --source PATH/],
    [['frobnicate'], /^unknown command 'frobnicate'; commands: serve, ingest, query, status, demo$/],
  ])('%j', (args, message) => {
    expect(bad(args)).toMatch(message);
  });

  it('a bad value from the environment or a config file names the option like a flag would', () => {
    expect(bad(['serve', ...SRC], { LOG_TRIAGE_PORT: 'eighty' })).toMatch(/^--port 'eighty' must be an integer/);
    expect(bad(['serve', ...SRC, '--config', file('bad.yaml', 'retention: forever\n')])).toMatch(/^--retention 'forever' is not a duration/);
    expect(bad(['serve', ...SRC, '--config', file('unknown.yaml', 'colour: blue\n')])).toMatch(/^--config .*unknown\.yaml: unknown option 'colour'$/);
    expect(bad(['serve', ...SRC, '--config', file('list.yaml', '- a\n- b\n')])).toMatch(/expected a mapping of option names to values$/);
    expect(bad(['serve', ...SRC, '--config', file('broken.json', '{"port": ')])).toMatch(/^--config .*broken\.json: not valid JSON/);
    expect(bad(['serve', ...SRC, '--config', join(dir, 'missing.yaml')])).toMatch(/^--config .*missing\.yaml: cannot read it \(ENOENT\)$/);
  });

  it('sizes and durations: every unit', () => {
    expect(['4096', '4KiB', '4kib', '1MB', '1.5GiB', '2 tb'].map((t) => parseBytes('x', t))).toEqual([4096, 4096, 4096, 1e6, 1.5 * 1024 ** 3, 2e12]);
    expect(['250ms', '90s', '30m', '24h', '7d', '2w', '1.5h'].map((t) => parseDuration('x', t))).toEqual([250, 90_000, 1_800_000, 86_400_000, 604_800_000, 1_209_600_000, 5_400_000]);
  });
});

describe('--help', () => {
  it('lists every option once, and per command only what applies to it', () => {
    const all = helpText(null);
    expect(all.match(/--source VALUE/g)).toHaveLength(1);
    const query = helpText('query');
    expect(query).toContain('--timestamp VALUE');
    expect(query).not.toContain('--fsync');
    const statusOptions = helpText('status').split('options (')[1]!;
    expect(statusOptions).toContain('--data-dir VALUE');
    expect(statusOptions).not.toContain('--source VALUE');
  });
});

describe('several bad options: the first in reading order is the one reported', () => {
  // resolveConfig reads in phases (command, flags, sources, then each value); the error a user
  // sees first must not change when those phases move (issue 11, item 5).
  it.each<[string, string[], RegExp]>([
    ['an unknown command before any flag', ['nonsense', '--port', 'x'], /^unknown command 'nonsense'/],
    ['a flag that does not apply before a bad value', ['status', '--fsync', 'x'], /^--fsync does not apply to 'status'/],
    ['sources before values', ['serve', '--source', 'a=/x', '--source', 'a=/y', '--port', 'x'], /^--source name 'a' is used twice/],
    ['timezone before fsync', ['serve', ...SRC, '--fsync', 'x', '--timezone', 'Mars/Olympus'], /^--timezone 'Mars\/Olympus'/],
    ['fsync before port', ['serve', ...SRC, '--port', 'x', '--fsync', 'x'], /^--fsync 'x' is not one of/],
    ['values before the checks across options', ['query', '--max-distance-ms', '-1'], /^--max-distance-ms '-1' must be a non-negative number/],
  ])('%s', (_name, argv, message) => {
    expect(() => resolveConfig(argv, {})).toThrow(ConfigError);
    expect(() => resolveConfig(argv, {})).toThrow(message);
  });
});
