/**
 * Options: command-line flags, LOG_TRIAGE_<NAME> environment variables and a --config file
 * (JSON or YAML), validated once here with messages that name the option. Precedence:
 * flag > environment > config file > default.
 *
 * The room: the option table and --help (config/options.ts), the Config type
 * (config/types.ts), value parsers (config/values.ts), the config file (config/file.ts).
 * This file runs the phases: the command, the flags, the reader that applies precedence,
 * the sources, the values, and the checks across options.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from './errors.js';
import { DEFAULT_SCAN_BUDGET } from './index/text-scan.js';
import { ZoneResolver, parseTimestampInput, type CustomFormatSpec } from './parse/index.js';
import { DEFAULT_ID_FIELDS } from './text/index.js';
import { type Raw, readConfigFile } from './config/file.js';
import { COMMANDS, type Command, envName, joinNegativeValues, OPTIONS } from './config/options.js';
import type { Config, SourceSpec } from './config/types.js';
import { authToken, oneOf, parseBoolean, parseBytes, parseDuration, parseInteger, parseSource, resolveFormats, sourcesInDir, defaultDataDir } from './config/values.js';

export { ConfigError } from './errors.js';
export { COMMANDS, type Command, helpText, OPTIONS } from './config/options.js';
export type { Config, FsyncPolicy, SourceSpec, TransportKind } from './config/types.js';
export { defaultDataDir, parseBytes, parseDuration, parseSource } from './config/values.js';

/** The command (default serve) and the arguments after it. */
function splitCommand(argv: readonly string[]): { command: Command; args: string[] } {
  const first = argv[0];
  if (first === undefined || first.startsWith('-')) return { command: 'serve', args: [...argv] };
  if (!(COMMANDS as readonly string[]).includes(first)) throw new ConfigError(`unknown command '${first}'; commands: ${COMMANDS.join(', ')}`);
  return { command: first as Command, args: argv.slice(1) };
}

/** The flags as given, each checked to apply to the command, and the bare arguments. */
function parseFlags(command: Command, args: readonly string[]): { flags: Raw; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries(OPTIONS)) {
    options[name] = { type: spec.kind === 'boolean' ? 'boolean' : 'string', ...(spec.kind === 'list' ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) };
  }
  let flags: Raw;
  let positionals: string[];
  try {
    const result = parseArgs({ args: joinNegativeValues(args), options, strict: true, allowPositionals: true });
    flags = result.values as Raw;
    positionals = result.positionals;
  } catch (err) {
    throw new ConfigError((err as Error).message.split(/\n|\. /)[0]!.replace(/^Unknown option/, 'unknown option'));
  }
  for (const name of Object.keys(flags)) {
    if (!OPTIONS[name]!.commands.includes(command)) throw new ConfigError(`--${name} does not apply to '${command}'`);
  }
  return { flags, positionals };
}

/** Reads an option with the precedence flag > environment > config file (default: undefined). */
interface OptionReader {
  pick(name: string): string | boolean | string[] | undefined;
  str(name: string): string | undefined;
  list(name: string): string[];
  customFormats: CustomFormatSpec[];
}

function optionReader(flags: Raw, env: NodeJS.ProcessEnv): OptionReader {
  const configPath = (flags.config as string | undefined) ?? env.LOG_TRIAGE_CONFIG;
  const fileConfig = configPath ? readConfigFile(configPath) : { raw: {} as Raw, customFormats: [] };
  const file = fileConfig.raw;
  const pick = (name: string): string | boolean | string[] | undefined => {
    if (flags[name] !== undefined) return flags[name];
    const fromEnv = env[envName(name)];
    if (fromEnv !== undefined && fromEnv !== '') {
      const spec = OPTIONS[name]!;
      if (spec.kind === 'boolean') return parseBoolean(name, fromEnv, `(${envName(name)})`);
      if (spec.kind === 'list') return fromEnv.split(',').map((s) => s.trim()).filter(Boolean);
      return fromEnv;
    }
    return file[name];
  };
  return {
    pick,
    str: (name) => pick(name) as string | undefined,
    list: (name) => (pick(name) as string[] | undefined) ?? [],
    customFormats: fileConfig.customFormats,
  };
}

/** The sources (--source, bare paths, --source-dir), each named once, with their formats. */
function resolveSources(command: Command, positionals: readonly string[], read: OptionReader): { sources: SourceSpec[]; format: string } {
  if (positionals.length > 0 && !OPTIONS.source!.commands.includes(command)) {
    throw new ConfigError(`'${command}' takes no file arguments (got '${positionals[0]}')`);
  }
  // Bare paths after the command are sources too: an MCP Bundle's file picker expands a
  // list of files into separate arguments, with no --source before each.
  const sources = [...read.list('source'), ...positionals].map(parseSource);
  for (const dir of read.list('source-dir')) sources.push(...sourcesInDir(dir));
  const names = new Set<string>();
  for (const s of sources) {
    if (names.has(s.name)) throw new ConfigError(`--source name '${s.name}' is used twice; give one of them a name: --source NAME=PATH`);
    names.add(s.name);
  }
  return { sources, format: resolveFormats(read.list('format'), sources, read.customFormats) };
}

function checkTimezone(timezone: string): string {
  try {
    ZoneResolver.validate(timezone);
  } catch {
    throw new ConfigError(`--timezone '${timezone}' is not an IANA time zone such as UTC or Europe/Berlin`);
  }
  return timezone;
}

/** --tag values (repeatable, or comma-separated), each a plausible tag name. */
function tagValues(values: readonly string[]): string[] {
  const tags = values.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  for (const t of tags) if (!/^[A-Za-z0-9_.:-]{1,32}$/.test(t)) throw new ConfigError(`--tag '${t}' must be 1 to 32 letters, digits or _.:- such as ERROR`);
  return tags;
}

function nonNegativeNumber(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`--${option} '${text}' must be a non-negative number`);
  return n;
}

/** --field NAME=VALUE pairs. */
function fieldFilters(values: readonly string[]): Record<string, string> {
  return Object.fromEntries(values.map((f) => {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--field '${f.slice(0, 80)}' must be NAME=VALUE, e.g. --field request_id=4f2a`);
    return [f.slice(0, eq), f.slice(eq + 1)];
  }));
}

/** Rules across options, and what each command needs, checked once every value is read. */
function checkCombinations(config: Config): void {
  if (config.segmentBytes < 4096 || config.segmentBytes > 0xffff_ffff) throw new ConfigError('--segment-bytes must be between 4KiB and 4GiB');
  // Below the body cap a cut line could not fill one answer; above 64 MiB one line is no longer
  // a small constant of memory.
  if (config.maxLineBytes < 4096 || config.maxLineBytes > 64 * 1024 ** 2) throw new ConfigError(`--max-line-bytes ${config.maxLineBytes} must be between 4KiB and 64MiB`);
  if (config.help) return;
  if (config.store === 'clickhouse') {
    for (const [option, value] of [['clickhouse-database', config.clickhouseDatabase], ['clickhouse-cluster', config.clickhouseCluster]] as const) {
      if (value !== null && !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(value)) throw new ConfigError(`--${option} '${value.slice(0, 80)}' must be letters, digits and _ (starting with a letter or _), at most 64`);
    }
    if (config.agentName !== null && !/^[A-Za-z0-9_.-]{1,64}$/.test(config.agentName)) throw new ConfigError(`--agent-name '${config.agentName.slice(0, 80)}' must be 1 to 64 letters, digits or _.-`);
    if (config.command === 'query' && config.sources.length > 0) throw new ConfigError("'query --store clickhouse' reads the cluster; drop --source (or query the files with the embedded store)");
  }
  if ((config.command === 'serve' || config.command === 'ingest') && config.store === 'embedded' && config.sources.length === 0) {
    throw new ConfigError(`'${config.command}' needs at least one --source PATH (or NAME=PATH), PATH argument or --source-dir DIR`);
  }
  if (config.command === 'query') {
    if (config.query.timestamp === null) throw new ConfigError("'query' needs --timestamp T (ISO 8601 with a zone, or epoch milliseconds)");
    const t = parseTimestampInput(config.query.timestamp);
    if (!t.ok) throw new ConfigError(`--timestamp ${t.message}`);
  }
}

/** Parses argv (without the node and script paths) into a validated Config. */
export function resolveConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  const { command, args } = splitCommand(argv);
  const { flags, positionals } = parseFlags(command, args);
  const read = optionReader(flags, env);
  const { pick, str, list } = read;
  const { sources, format } = resolveSources(command, positionals, read);
  const customFormats = read.customFormats;
  // Read in this order so that, of several bad options, the same one is reported first.
  const timezone = checkTimezone(str('timezone') ?? 'UTC');
  const retention = str('retention');
  const maxWal = str('max-wal-bytes');
  const bodyCap = parseInteger('body-cap', str('body-cap') ?? '2048', 64, 65_000);
  const tags = tagValues(list('tag'));
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
      tags: tags.length > 0 ? tags : null,
      count: parseInteger('count', str('count') ?? '1', 1, 100),
      context: parseInteger('context', str('context') ?? '0', 0, 50),
      direction: oneOf('direction', str('direction') ?? 'nearest', ['nearest', 'before', 'after'] as const),
      maxDistanceMs: maxDistance === undefined ? null : nonNegativeNumber('max-distance-ms', maxDistance),
      json: pick('json') === true,
      contains: list('contains'),
      caseSensitive: pick('case-sensitive') === true,
      pattern: str('pattern') ?? null,
      fields: fieldFilters(list('field')),
    },
    scanBudget: {
      ms: parseInteger('scan-budget-ms', str('scan-budget-ms') ?? String(DEFAULT_SCAN_BUDGET.ms), 1, 600_000),
      entries: parseInteger('scan-budget-entries', str('scan-budget-entries') ?? String(DEFAULT_SCAN_BUDGET.entries), 1, 1e12),
    },
    idFields: list('id-fields').length > 0 ? list('id-fields') : [...DEFAULT_ID_FIELDS],
  };
  checkCombinations(config);
  return config;
}
