/**
 * Every option the CLI accepts, in --help order, with the commands that take it; the help
 * text generated from that table; and how an option is named in the environment. Names are
 * the public interface: the README lists them.
 */
import { formatNames } from '../parse/index.js';
import { DEFAULT_ID_FIELDS } from '../text/index.js';

export type Kind = 'string' | 'boolean' | 'list';

export interface OptionSpec {
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

/** Every option, in --help order. Names are the public interface (the README lists them). */
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

/** LOG_TRIAGE_<NAME>: the environment variable of an option. */
export function envName(option: string): string {
  return 'LOG_TRIAGE_' + option.toUpperCase().replace(/-/g, '_');
}

/**
 * node:util parseArgs refuses `--port -1` as "ambiguous" (a value that starts with a dash).
 * A value that reads as a negative number is joined to its option (`--port=-1`), so the
 * option's own check says what is accepted, as it does for the `=` form.
 */
export function joinNegativeValues(args: readonly string[]): string[] {
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
