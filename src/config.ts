/**
 * Options: command-line flags, LOG_TRIAGE_<NAME> environment variables and a --config file
 * (JSON or YAML), validated once here with messages that name the option. Precedence:
 * flag > environment > config file > default.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { CustomFormatError, validateCustomFormat } from './parse/custom-format.js';
import { formatNames } from './parse/formats.js';
import type { CustomFormatSpec } from './parse/parsed-chunk.js';
import { ZoneResolver, parseTimestampInput } from './parse/timestamp.js';
import { DEFAULT_SCAN_BUDGET } from './index/text-scan.js';
import { DEFAULT_ID_FIELDS } from './text/text-query.js';

/** A bad option: the CLI prints the message on one line and exits with code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Kind = 'string' | 'boolean' | 'list';

interface OptionSpec {
  kind: Kind;
  help: string;
  /** Commands that accept the option. */
  commands: readonly Command[];
  short?: string;
}

export const COMMANDS = ['serve', 'ingest', 'query', 'status', 'demo'] as const;
export type Command = (typeof COMMANDS)[number];

const RUN: readonly Command[] = ['serve', 'ingest', 'demo'];
const READ: readonly Command[] = ['serve', 'ingest', 'query', 'status', 'demo'];

/** Every option, in --help order. Names are the public interface (CONTRACT.md). */
export const OPTIONS: Record<string, OptionSpec> = {
  source: { kind: 'list', commands: ['serve', 'ingest', 'query'], help: 'PATH or NAME=PATH of a log file to follow (repeatable; bare PATH arguments after the command too)' },
  'source-dir': { kind: 'list', commands: ['serve', 'ingest', 'query'], help: 'every *.log file directly in DIR, named by its file name (repeatable; read once at start)' },
  format: {
    kind: 'list',
    commands: ['serve', 'ingest', 'query'],
    help: `log format for every source, or SOURCE=NAME for one (repeatable): auto (default, detected per file) or ${formatNames().join(', ')}, or a custom format from the config file`,
  },
  timezone: { kind: 'string', commands: ['serve', 'ingest', 'query'], help: 'IANA zone for timestamps without one (default UTC)' },
  'data-dir': { kind: 'string', commands: READ, help: 'where the WAL, checkpoints and positions live' },
  ephemeral: { kind: 'boolean', commands: ['serve', 'ingest', 'query', 'demo'], help: 'keep everything in memory, write no data dir' },
  fsync: { kind: 'string', commands: RUN, help: 'batch (default: every 1,000 entries or 500 ms), always, off' },
  'segment-bytes': { kind: 'string', commands: RUN, help: 'WAL segment size (default 64MiB)' },
  retention: { kind: 'string', commands: RUN, help: 'drop data older than this (e.g. 24h)' },
  'max-wal-bytes': { kind: 'string', commands: RUN, help: 'drop the oldest WAL segments beyond this size' },
  transport: { kind: 'string', commands: ['serve'], help: 'stdio (default), http or sse' },
  host: { kind: 'string', commands: ['serve', 'demo'], help: 'address to bind for http/sse (default 127.0.0.1)' },
  port: { kind: 'string', commands: ['serve', 'demo'], help: 'port for http/sse (default 8765)' },
  'auth-token': { kind: 'string', commands: ['serve', 'demo'], help: 'require Authorization: Bearer TOKEN (http/sse)' },
  'allowed-host': { kind: 'list', commands: ['serve', 'demo'], help: 'also accept this Host name, e.g. behind a proxy (http/sse; repeatable)' },
  'cors-origin': { kind: 'list', commands: ['serve', 'demo'], help: 'allow browser calls from this exact origin (http/sse; CORS is off by default)' },
  'max-sessions': { kind: 'string', commands: ['serve', 'demo'], help: 'concurrent MCP sessions before 503 (http/sse; default 64)' },
  'max-inflight': { kind: 'string', commands: ['serve', 'demo'], help: 'requests in flight before 429 (http/sse; default 256)' },
  'max-body-bytes': { kind: 'string', commands: ['serve', 'demo'], help: 'largest request body before 413 (http/sse; default 1MiB)' },
  runbooks: { kind: 'string', commands: ['serve', 'demo'], help: 'runbook catalog, YAML or JSON' },
  store: { kind: 'string', commands: READ, help: 'embedded (default) or clickhouse (query a cluster; with --source, also ship to it)' },
  'clickhouse-url': { kind: 'string', commands: READ, help: 'ClickHouse HTTP(S) URL, credentials allowed in it (default http://127.0.0.1:8123)' },
  'clickhouse-database': { kind: 'string', commands: READ, help: 'ClickHouse database (default log_triage)' },
  'clickhouse-cluster': { kind: 'string', commands: READ, help: 'ClickHouse cluster: local tables per shard + a Distributed table' },
  'agent-name': { kind: 'string', commands: RUN, help: 'prefix of this host\'s source names in ClickHouse, AGENT/NAME (default the host name)' },
  'max-line-bytes': { kind: 'string', commands: ['serve', 'ingest', 'query', 'demo'], help: 'longer log lines are kept up to this size, the rest skipped (default 1MiB)' },
  'body-cap': { kind: 'string', commands: ['serve', 'query', 'demo'], help: 'body bytes returned per entry (default 2048)' },
  'log-level': { kind: 'string', commands: READ, help: 'stderr log level: fatal, error, warn, info (default), debug' },
  config: { kind: 'string', commands: READ, help: 'read options from a JSON or YAML file' },
  timestamp: { kind: 'string', commands: ['query'], short: 't', help: 'ISO 8601 with a zone, or epoch milliseconds' },
  tag: { kind: 'list', commands: ['query'], help: 'only entries with this tag (repeatable, or comma-separated)' },
  count: { kind: 'string', commands: ['query'], short: 'n', help: 'entries to return, 1..100 (default 1)' },
  context: { kind: 'string', commands: ['query'], short: 'C', help: 'neighbour lines around each hit, 0..50 (default 0)' },
  direction: { kind: 'string', commands: ['query'], help: 'nearest (default), before or after' },
  'max-distance-ms': { kind: 'string', commands: ['query'], help: 'ignore entries farther than this' },
  contains: { kind: 'list', commands: ['query'], help: 'only entries whose body contains this text (repeatable: all must occur)' },
  'case-sensitive': { kind: 'boolean', commands: ['query'], help: 'compare --contains, --pattern and --field values with case' },
  pattern: { kind: 'string', commands: ['query'], help: 'only entries whose body matches this regex (RE2 syntax, linear time)' },
  field: { kind: 'list', commands: ['query'], help: 'NAME=VALUE: only entries whose field NAME has VALUE (JSON, logfmt, key=value; repeatable)' },
  'scan-budget-ms': { kind: 'string', commands: ['serve', 'query', 'demo'], help: 'time one text search may take before it answers with what it searched (default 150)' },
  'scan-budget-entries': { kind: 'string', commands: ['serve', 'query', 'demo'], help: 'bodies one text search may read (default 1000000)' },
  'id-fields': { kind: 'list', commands: ['serve', 'demo'], help: `fields related_log reads request/trace ids from (default ${DEFAULT_ID_FIELDS.join(',')})` },
  json: { kind: 'boolean', commands: ['query', 'status'], help: 'print JSON instead of a table' },
  help: { kind: 'boolean', commands: READ, short: 'h', help: 'show this help' },
};

export interface SourceSpec {
  name: string;
  path: string;
  /** Its own --format SOURCE=NAME, when given (else Config.format applies). */
  format?: string;
}

export type FsyncPolicy = 'batch' | 'always' | 'off';
export type TransportKind = 'stdio' | 'http' | 'sse';

export interface Config {
  command: Command;
  sources: SourceSpec[];
  /** 'auto' or a format name, for every source without a SOURCE=NAME of its own. */
  format: string;
  /** Custom formats defined under `formats:` in the config file. */
  customFormats: CustomFormatSpec[];
  timezone: string;
  dataDir: string;
  ephemeral: boolean;
  fsync: FsyncPolicy;
  segmentBytes: number;
  retentionMs: number | null;
  maxWalBytes: number | null;
  transport: TransportKind;
  host: string;
  port: number;
  authToken: string | null;
  /** Limits and browser rules of the http/sse transports (src/mcp/transports). */
  http: { allowedHosts: string[]; corsOrigins: string[]; maxSessions: number; maxInflight: number; maxBodyBytes: number };
  runbooks: string | null;
  store: 'embedded' | 'clickhouse';
  clickhouseUrl: string;
  clickhouseDatabase: string;
  clickhouseCluster: string | null;
  /** Host part of source names in ClickHouse (null: the host name). */
  agentName: string | null;
  bodyCap: number;
  /** Log lines longer than this are cut to it while reading (the rest skipped, counted). */
  maxLineBytes: number;
  logLevel: string;
  help: boolean;
  /** Limits of one text search (find_nearest_log with contains, pattern or fields; related_log). */
  scanBudget: { entries: number; ms: number };
  /** Field names related_log takes request and trace ids from. */
  idFields: string[];
  query: {
    timestamp: string | null;
    tags: string[] | null;
    count: number;
    context: number;
    direction: 'nearest' | 'before' | 'after';
    maxDistanceMs: number | null;
    json: boolean;
    contains: string[];
    caseSensitive: boolean;
    pattern: string | null;
    fields: Record<string, string>;
  };
}

const BYTE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3, t: 1e12, tb: 1e12, tib: 1024 ** 4,
};
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseBytes(option: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ConfigError(`--${option} '${text}' is not a size; use bytes or a unit such as 64MiB, 512KiB, 1GB`);
  return Math.round(Number(m[1]) * unit);
}

export function parseDuration(option: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/i.exec(text.trim());
  if (!m) throw new ConfigError(`--${option} '${text}' is not a duration; use a number and a unit: 90s, 30m, 24h, 7d`);
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!.toLowerCase()]!);
}

function parseInteger(option: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || n < min || n > max) throw new ConfigError(`--${option} '${text}' must be an integer from ${min} to ${max}`);
  return n;
}

function oneOf<T extends string>(option: string, text: string, accepted: readonly T[]): T {
  if (!(accepted as readonly string[]).includes(text)) throw new ConfigError(`--${option} '${text}' is not one of: ${accepted.join(', ')}`);
  return text as T;
}

/** `NAME=PATH` or `PATH` (name = the file's base name). */
export function parseSource(text: string): SourceSpec {
  const eq = text.indexOf('=');
  // A Windows-style or odd path may contain '='; only treat a short identifier prefix as a name.
  if (eq > 0 && /^[A-Za-z0-9_.-]{1,64}$/.test(text.slice(0, eq))) {
    const path = text.slice(eq + 1);
    if (path === '') throw new ConfigError(`--source '${text}' has an empty path; use NAME=PATH or PATH`);
    return { name: text.slice(0, eq), path: resolve(path) };
  }
  if (text === '') throw new ConfigError('--source needs a path: --source PATH or --source NAME=PATH');
  return { name: basename(text), path: resolve(text) };
}

/** The `*.log` files directly in a directory, in name order, as sources named by file name. */
function sourcesInDir(dir: string): SourceSpec[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && /\.log$/i.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw new ConfigError(`--source-dir ${dir}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (names.length === 0) throw new ConfigError(`--source-dir ${dir}: holds no *.log files`);
  return names.map((name) => ({ name, path: resolve(dir, name) }));
}

/** An empty token would turn auth on in the log while accepting every request (issue 15, item 11). */
function authToken(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value.trim() === '') throw new ConfigError('--auth-token is empty; give a long random token (openssl rand -hex 32) or leave the option out');
  return value;
}

export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const state = env.XDG_STATE_HOME;
  return state ? join(state, 'log-triage-mcp') : join(homedir(), '.local', 'state', 'log-triage-mcp');
}

type Raw = Record<string, string | boolean | string[] | undefined>;

function envName(option: string): string {
  return 'LOG_TRIAGE_' + option.toUpperCase().replace(/-/g, '_');
}

/**
 * Booleans from the environment or a config file: true/false/1/0 and nothing else. `yes` read
 * as false wrote a data dir the user had asked not to (issue 15, item 8).
 */
function parseBoolean(option: string, value: unknown, where: string): boolean {
  if (value === true || value === 1) return true;
  if (value === false || value === 0) return false;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
  }
  throw new ConfigError(`--${option} ${where} '${String(value).slice(0, 40)}' is not a boolean; accepted: true, false, 1, 0`);
}

/**
 * node:util parseArgs refuses `--port -1` as "ambiguous" (a value that starts with a dash).
 * A value that reads as a negative number is joined to its option (`--port=-1`), so the
 * option's own check says what is accepted, as it does for the `=` form.
 */
function joinNegativeValues(args: readonly string[]): string[] {
  const valued = new Map<string, string>();
  for (const [name, spec] of Object.entries(OPTIONS)) {
    if (spec.kind === 'boolean') continue;
    valued.set(`--${name}`, name);
    if (spec.short) valued.set(`-${spec.short}`, name);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = valued.get(args[i]!);
    const next = args[i + 1];
    if (name !== undefined && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(args[i]!);
    }
  }
  return out;
}


interface ConfigFile {
  raw: Raw;
  customFormats: CustomFormatSpec[];
}

/** `formats:` of the config file: name -> definition, each validated (CustomFormatError names the field). */
function readCustomFormats(path: string, value: unknown): CustomFormatSpec[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`--config ${path}: formats must be a mapping of format names to definitions (regex, timestamp)`);
  }
  const builtin = new Set(['auto', ...formatNames()]);
  return Object.entries(value as Record<string, unknown>).map(([name, def]) => {
    if (builtin.has(name)) throw new ConfigError(`--config ${path}: format '${name}' is a built-in format name; give the custom format another name`);
    try {
      return validateCustomFormat(name, def);
    } catch (err) {
      if (err instanceof CustomFormatError) throw new ConfigError(`--config ${path}: ${err.message}`);
      throw err;
    }
  });
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let data: unknown;
  try {
    data = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`--config ${path}: not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`--config ${path}: expected a mapping of option names to values`);
  const raw: Raw = {};
  let customFormats: CustomFormatSpec[] = [];
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (key === 'formats') {
      customFormats = readCustomFormats(path, value);
      continue;
    }
    if (key === 'format' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      // format: { app: pino, nginx: combined } is the same as --format app=pino --format nginx=combined
      raw.format = Object.entries(value as Record<string, unknown>).map(([source, name]) => `${source}=${String(name)}`);
      continue;
    }
    const name = key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()).replace(/_/g, '-');
    const spec = OPTIONS[name];
    if (spec === undefined || name === 'config') throw new ConfigError(`--config ${path}: unknown option '${key}'`);
    if (spec.kind === 'list') raw[name] = (Array.isArray(value) ? value : [value]).map(String);
    else if (spec.kind === 'boolean') raw[name] = parseBoolean(name, value, `in ${path}`);
    else raw[name] = String(value);
  }
  return { raw, customFormats };
}

/**
 * `--format` values: NAME for every source, SOURCE=NAME for one. Sets each source's own format
 * and returns the one for the rest. Names: auto, a built-in format, or a custom one.
 */
function resolveFormats(values: readonly string[], sources: SourceSpec[], custom: readonly CustomFormatSpec[]): string {
  const known = ['auto', ...formatNames(), ...custom.map((c) => c.name)];
  const check = (name: string, given: string): string => {
    if (known.includes(name)) return name;
    throw new ConfigError(
      `--format '${given}': unknown format '${name}'; formats: ${known.join(', ')}` +
        (custom.length === 0 ? ' (custom ones are defined under formats: in the --config file)' : ''),
    );
  };
  let global = 'auto';
  for (const value of values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)) {
    const eq = value.indexOf('=');
    if (eq < 0) {
      global = check(value, value);
      continue;
    }
    const sourceName = value.slice(0, eq);
    const name = check(value.slice(eq + 1), value);
    const source = sources.find((s) => s.name === sourceName);
    if (source === undefined) {
      throw new ConfigError(
        `--format '${value}': no source is named '${sourceName}'` + (sources.length > 0 ? `; sources: ${sources.map((s) => s.name).join(', ')}` : ''),
      );
    }
    source.format = name;
  }
  return global;
}

/** Parses argv (without the node and script paths) into a validated Config. */
export function resolveConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  let command: Command = 'serve';
  let args = [...argv];
  const first = args[0];
  if (first !== undefined && !first.startsWith('-')) {
    if (!(COMMANDS as readonly string[]).includes(first)) throw new ConfigError(`unknown command '${first}'; commands: ${COMMANDS.join(', ')}`);
    command = first as Command;
    args = args.slice(1);
  }
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries(OPTIONS)) {
    options[name] = { type: spec.kind === 'boolean' ? 'boolean' : 'string', ...(spec.kind === 'list' ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) };
  }
  let parsed: Raw;
  let positionals: string[] = [];
  try {
    const result = parseArgs({ args: joinNegativeValues(args), options, strict: true, allowPositionals: true });
    parsed = result.values as Raw;
    positionals = result.positionals;
  } catch (err) {
    throw new ConfigError((err as Error).message.split(/\n|\. /)[0]!.replace(/^Unknown option/, 'unknown option'));
  }
  for (const name of Object.keys(parsed)) {
    if (!OPTIONS[name]!.commands.includes(command)) throw new ConfigError(`--${name} does not apply to '${command}'`);
  }
  const configPath = (parsed.config as string | undefined) ?? env.LOG_TRIAGE_CONFIG;
  const fileConfig = configPath ? readConfigFile(configPath) : { raw: {}, customFormats: [] };
  const file = fileConfig.raw;
  const pick = (name: string): string | boolean | string[] | undefined => {
    if (parsed[name] !== undefined) return parsed[name];
    const fromEnv = env[envName(name)];
    if (fromEnv !== undefined && fromEnv !== '') {
      const spec = OPTIONS[name]!;
      if (spec.kind === 'boolean') return parseBoolean(name, fromEnv, `(${envName(name)})`);
      if (spec.kind === 'list') return fromEnv.split(',').map((s) => s.trim()).filter(Boolean);
      return fromEnv;
    }
    return file[name];
  };
  const str = (name: string): string | undefined => pick(name) as string | undefined;
  const list = (name: string): string[] => (pick(name) as string[] | undefined) ?? [];

  if (positionals.length > 0 && !OPTIONS.source!.commands.includes(command)) {
    throw new ConfigError(`'${command}' takes no file arguments (got '${positionals[0]}')`);
  }
  // Bare paths after the command are sources too: an MCP Bundle's file picker expands a
  // list of files into separate arguments, with no --source before each.
  const sources = [...list('source'), ...positionals].map(parseSource);
  for (const dir of list('source-dir')) sources.push(...sourcesInDir(dir));
  const names = new Set<string>();
  for (const s of sources) {
    if (names.has(s.name)) throw new ConfigError(`--source name '${s.name}' is used twice; give one of them a name: --source NAME=PATH`);
    names.add(s.name);
  }
  const customFormats = fileConfig.customFormats;
  const format = resolveFormats(list('format'), sources, customFormats);
  const timezone = str('timezone') ?? 'UTC';
  try {
    ZoneResolver.validate(timezone);
  } catch {
    throw new ConfigError(`--timezone '${timezone}' is not an IANA time zone such as UTC or Europe/Berlin`);
  }
  const retention = str('retention');
  const maxWal = str('max-wal-bytes');
  const bodyCap = parseInteger('body-cap', str('body-cap') ?? '2048', 64, 65_000);
  const tagValues = list('tag').flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  for (const t of tagValues) if (!/^[A-Za-z0-9_.:-]{1,32}$/.test(t)) throw new ConfigError(`--tag '${t}' must be 1 to 32 letters, digits or _.:- such as ERROR`);
  const maxDistance = str('max-distance-ms');
  const config: Config = {
    command,
    sources,
    format,
    customFormats,
    timezone,
    dataDir: resolve(str('data-dir') ?? defaultDataDir(env)),
    ephemeral: pick('ephemeral') === true,
    fsync: oneOf('fsync', str('fsync') ?? 'batch', ['batch', 'always', 'off'] as const),
    segmentBytes: parseBytes('segment-bytes', str('segment-bytes') ?? '64MiB'),
    retentionMs: retention === undefined ? null : parseDuration('retention', retention),
    maxWalBytes: maxWal === undefined ? null : parseBytes('max-wal-bytes', maxWal),
    transport: oneOf('transport', str('transport') ?? 'stdio', ['stdio', 'http', 'sse'] as const),
    host: str('host') ?? '127.0.0.1',
    port: parseInteger('port', str('port') ?? '8765', 0, 65535),
    authToken: authToken(str('auth-token')),
    http: {
      allowedHosts: list('allowed-host'),
      corsOrigins: list('cors-origin'),
      maxSessions: parseInteger('max-sessions', str('max-sessions') ?? '64', 1, 100_000),
      maxInflight: parseInteger('max-inflight', str('max-inflight') ?? '256', 1, 1_000_000),
      maxBodyBytes: parseBytes('max-body-bytes', str('max-body-bytes') ?? '1MiB'),
    },
    runbooks: str('runbooks') ?? null,
    store: oneOf('store', str('store') ?? 'embedded', ['embedded', 'clickhouse'] as const),
    clickhouseUrl: str('clickhouse-url') ?? 'http://127.0.0.1:8123',
    clickhouseDatabase: str('clickhouse-database') ?? 'log_triage',
    clickhouseCluster: str('clickhouse-cluster') ?? null,
    agentName: str('agent-name') ?? null,
    bodyCap,
    maxLineBytes: parseBytes('max-line-bytes', str('max-line-bytes') ?? '1MiB'),
    logLevel: oneOf('log-level', str('log-level') ?? 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    help: pick('help') === true,
    query: {
      timestamp: str('timestamp') ?? null,
      tags: tagValues.length > 0 ? tagValues : null,
      count: parseInteger('count', str('count') ?? '1', 1, 100),
      context: parseInteger('context', str('context') ?? '0', 0, 50),
      direction: oneOf('direction', str('direction') ?? 'nearest', ['nearest', 'before', 'after'] as const),
      maxDistanceMs: maxDistance === undefined ? null : Number.isFinite(Number(maxDistance)) && Number(maxDistance) >= 0 ? Number(maxDistance) : (() => {
        throw new ConfigError(`--max-distance-ms '${maxDistance}' must be a non-negative number`);
      })(),
      json: pick('json') === true,
      contains: list('contains'),
      caseSensitive: pick('case-sensitive') === true,
      pattern: str('pattern') ?? null,
      fields: Object.fromEntries(list('field').map((f) => {
        const eq = f.indexOf('=');
        if (eq <= 0) throw new ConfigError(`--field '${f.slice(0, 80)}' must be NAME=VALUE, e.g. --field request_id=4f2a`);
        return [f.slice(0, eq), f.slice(eq + 1)];
      })),
    },
    scanBudget: {
      ms: parseInteger('scan-budget-ms', str('scan-budget-ms') ?? String(DEFAULT_SCAN_BUDGET.ms), 1, 600_000),
      entries: parseInteger('scan-budget-entries', str('scan-budget-entries') ?? String(DEFAULT_SCAN_BUDGET.entries), 1, 1e12),
    },
    idFields: list('id-fields').length > 0 ? list('id-fields') : [...DEFAULT_ID_FIELDS],
  };
  if (config.segmentBytes < 4096 || config.segmentBytes > 0xffff_ffff) throw new ConfigError('--segment-bytes must be between 4KiB and 4GiB');
  // Below the body cap a cut line could not fill one answer; above 64 MiB one line is no longer
  // a small constant of memory.
  if (config.maxLineBytes < 4096 || config.maxLineBytes > 64 * 1024 ** 2) throw new ConfigError(`--max-line-bytes ${config.maxLineBytes} must be between 4KiB and 64MiB`);
  if (config.help) return config;
  if (config.store === 'clickhouse') {
    for (const [option, value] of [['clickhouse-database', config.clickhouseDatabase], ['clickhouse-cluster', config.clickhouseCluster]] as const) {
      if (value !== null && !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(value)) throw new ConfigError(`--${option} '${value.slice(0, 80)}' must be letters, digits and _ (starting with a letter or _), at most 64`);
    }
    if (config.agentName !== null && !/^[A-Za-z0-9_.-]{1,64}$/.test(config.agentName)) throw new ConfigError(`--agent-name '${config.agentName.slice(0, 80)}' must be 1 to 64 letters, digits or _.-`);
    if (command === 'query' && sources.length > 0) throw new ConfigError("'query --store clickhouse' reads the cluster; drop --source (or query the files with the embedded store)");
  }
  if ((command === 'serve' || command === 'ingest') && config.store === 'embedded' && sources.length === 0) {
    throw new ConfigError(`'${command}' needs at least one --source PATH (or NAME=PATH), PATH argument or --source-dir DIR`);
  }
  if (command === 'query') {
    if (config.query.timestamp === null) throw new ConfigError("'query' needs --timestamp T (ISO 8601 with a zone, or epoch milliseconds)");
    const t = parseTimestampInput(config.query.timestamp);
    if (!t.ok) throw new ConfigError(`--timestamp ${t.message}`);
  }
  return config;
}

/** The --help text, generated from OPTIONS so it never drifts from what is accepted. */
export function helpText(command: Command | null): string {
  const lines = [
    'log-triage-mcp: find the log lines nearest to an incident, over MCP',
    '',
    'usage:',
    '  log-triage-mcp serve   --source PATH [--source NAME=PATH ...] [options]   (default command)',
    '  log-triage-mcp ingest  --source ... [options]    one-shot catch-up into the data dir',
    '  log-triage-mcp query   --timestamp T [--tag ERROR] [--contains TEXT] [--pattern RE] [--field K=V] [--count N] [--json]',
    '  log-triage-mcp status  [--data-dir D] [--json]',
    '  log-triage-mcp demo    generated log with an incident, served over HTTP (npm start)',
    '',
    'options (also LOG_TRIAGE_<NAME> environment variables and --config FILE):',
  ];
  for (const [name, spec] of Object.entries(OPTIONS)) {
    if (command !== null && !spec.commands.includes(command)) continue;
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.kind === 'boolean' ? '' : ' VALUE'}`;
    lines.push(`  ${flag.padEnd(30)} ${spec.help}`);
  }
  return lines.join('\n');
}
