/**
 * tools/generate: writes a realistic log in the original format, in real time (default) or as
 * fast as possible (--fast). A thin CLI over src/generate; data goes to --output or stdout,
 * progress and the summary go to stderr. Bad flags: one line on stderr, exit code 2.
 *
 *   node dist/tools/generate.js --fast --lines 10M -o /tmp/app.log --incident +5m,signature=db-timeout
 *   node dist/tools/generate.js -o /tmp/live.log --rotate-bytes 64MiB --rotate-mode copytruncate
 */
import { parseArgs } from 'node:util';
import { ConfigError, parseBytes, parseDuration } from '../src/config.js';
import {
  DEFAULT_INCIDENT_DURATION_MS, DEFAULT_INCIDENT_RATE, DEFAULT_RATE, DEFAULT_START, GENERATED_TAGS, GeneratorOptionError,
  type GeneratedTag, type GeneratorIncident, type IncidentSpec, type LiveWriter, type RotateOptions, SIGNATURE_CATALOG, SIGNATURE_NAMES,
  incidentSignature, isSignatureName, startLiveStream, startLiveWriter, writeLogFile, writeLogStream,
} from '../src/generate/index.js';
import { STYLE_NAMES } from '../src/generate/line-styles.js';
import { formatTimestamp, parseTimestampInput } from '../src/parse/timestamp.js';

const OPTIONS = {
  rate: { type: 'string' },
  duration: { type: 'string' },
  lines: { type: 'string' },
  output: { type: 'string', short: 'o' },
  append: { type: 'boolean' },
  fast: { type: 'boolean' },
  seed: { type: 'string' },
  start: { type: 'string' },
  incident: { type: 'string', multiple: true },
  precision: { type: 'string' },
  format: { type: 'string' },
  'tag-mix': { type: 'string' },
  'late-fraction': { type: 'string' },
  'late-max-ms': { type: 'string' },
  'stack-fraction': { type: 'string' },
  sequence: { type: 'boolean' },
  'first-seq': { type: 'string' },
  'rotate-bytes': { type: 'string' },
  'rotate-lines': { type: 'string' },
  'rotate-mode': { type: 'string' },
  'rotate-keep': { type: 'string' },
  'list-signatures': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

const HELP = `Usage: node dist/tools/generate.js [options]

Writes a realistic log (2024-01-15T10:30:45.123Z [ERROR] body) in real time, or with --fast as
fast as possible. Data goes to --output or stdout; progress and the summary go to stderr.

  --rate N              background entries per second (default ${DEFAULT_RATE})
  --duration D          log time to cover: 90s, 30m, 1h (fast mode needs --duration or --lines)
  --lines N             entries to write (10000, 10k, 10M); continuation lines come on top
  -o, --output FILE     write to FILE (default stdout); --append keeps what FILE holds
  --fast                write as fast as possible; timestamps still advance at --rate
  --seed N              PRNG seed (default 1): the same flags give the same bytes in --fast mode
  --start TIME          first timestamp: ISO 8601 with a zone, epoch ms, or 'now'
                        (default ${new Date(DEFAULT_START).toISOString()} with --fast, else now)
  --incident SPEC       TIME[,signature=NAME][,duration=D][,rate=N] (repeatable). TIME as --start,
                        or +D after the start. Signatures: ${SIGNATURE_NAMES.join(', ')}
                        (default db-timeout, duration ${DEFAULT_INCIDENT_DURATION_MS / 1000}s, rate ${DEFAULT_INCIDENT_RATE}/s extra ERROR entries)
  --precision P         fractional-second digits, 0..6 (default 3; formats with fixed digits keep theirs)
  --format NAME         log format to write (default iso-bracket): ${STYLE_NAMES.join(', ')}.
                        Same bodies, incidents, late lines and stack traces in each; zone-less ones
                        are UTC; syslog and klog files get their last entry's time as mtime
  --tag-mix MIX         background level weights (default TRACE=40,INFO=40,WARN=15,ERROR=5)
  --late-fraction F     share of entries stamped earlier than their neighbours (default 0)
  --late-max-ms N       how much earlier at most (default 2000)
  --stack-fraction F    share of ERROR entries followed by 2..8 stack-trace lines (default 0)
  --sequence            add a unique increasing seq=<n> to every entry (--first-seq N, default 1)
  --rotate-bytes N      rotate FILE at this size (64MiB, 1MB, 500000); or --rotate-lines N
  --rotate-mode M       rename (default: FILE -> FILE.1, new FILE) or copytruncate
  --rotate-keep N       rotated files kept, FILE.1 .. FILE.N (default 1)
  --list-signatures     print the signature catalog as JSON and exit
  -q, --quiet           no progress or summary
  -h, --help            this help

Real-time mode without --duration/--lines runs until SIGINT/SIGTERM, then flushes and exits 0.
`;

/** Option names in the library -> the flag that sets them, for error messages. */
const FLAG_FOR: Record<string, string> = {
  format: 'format', rate: 'rate', start: 'start', seed: 'seed', precision: 'precision', lateFraction: 'late-fraction', lateMaxMs: 'late-max-ms',
  stackFraction: 'stack-fraction', firstSeq: 'first-seq', lines: 'lines', durationMs: 'duration', tagMix: 'tag-mix', rotate: 'rotate-bytes',
};

function fail(message: string): never {
  throw new ConfigError(message);
}

function parseNumber(flag: string, text: string, min: number, max: number, integer = false): number {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    fail(`--${flag} '${text}' must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return n;
}

/** A count with an optional k/M/G suffix: 10000, 10k, 2.5M. */
function parseCount(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text.trim());
  const n = m ? Number(m[1]) * ({ '': 1, k: 1e3, m: 1e6, g: 1e9 } as Record<string, number>)[m[2]!.toLowerCase()]! : NaN;
  if (!Number.isInteger(n)) fail(`--${flag} '${text}' is not a count; use an integer such as 10000, 10k or 10M`);
  return n;
}

function parseTime(flag: string, text: string, startMs: number | null): number {
  if (text.trim() === 'now') return Date.now();
  if (text.trim().startsWith('+')) {
    if (startMs === null) fail(`--${flag} '${text}': a +D time is relative to --start; it is not allowed in --start itself`);
    return startMs + parseDuration(flag, text.trim().slice(1));
  }
  const parsed = parseTimestampInput(text);
  if (!parsed.ok) fail(`--${flag}: ${parsed.message}`);
  return Math.floor(parsed.us / 1000);
}

function parseIncident(text: string, startMs: number): IncidentSpec {
  const [time, ...fields] = text.split(',');
  const spec: IncidentSpec = { at: parseTime('incident', time ?? '', startMs), signature: 'db-timeout' };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = field.slice(0, eq).trim();
    const value = field.slice(eq + 1).trim();
    if (eq < 0) fail(`--incident '${text}': '${field}' is not KEY=VALUE; keys: signature, duration, rate`);
    else if (key === 'signature') {
      if (!isSignatureName(value)) fail(`--incident '${text}': unknown signature '${value}'; signatures: ${SIGNATURE_NAMES.join(', ')}`);
      spec.signature = value;
    } else if (key === 'duration') spec.durationMs = parseDuration('incident', value);
    else if (key === 'rate') spec.ratePerSec = parseNumber('incident', value, 0.001, 10_000_000);
    else fail(`--incident '${text}': unknown key '${key}'; keys: signature, duration, rate`);
  }
  return spec;
}

function parseTagMix(text: string): Partial<Record<GeneratedTag, number>> {
  const mix: Partial<Record<GeneratedTag, number>> = {};
  for (const part of text.split(',')) {
    const [tag, weight] = part.split('=');
    const name = (tag ?? '').trim().toUpperCase();
    if (!(GENERATED_TAGS as readonly string[]).includes(name) || weight === undefined) {
      fail(`--tag-mix '${text}' must look like TRACE=40,INFO=40,WARN=15,ERROR=5 (levels: ${GENERATED_TAGS.join(', ')})`);
    }
    mix[name as GeneratedTag] = parseNumber('tag-mix', weight, 0, 1e9);
  }
  return mix;
}

type Values = ReturnType<typeof readArgs>['values'];

function readArgs(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  } catch (err) {
    const e = err as Error & { code?: string };
    const quoted = /'([^']+)'/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') fail(`unknown option '${quoted ?? '?'}'; see --help`);
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') fail(`unexpected argument '${quoted ?? '?'}'; see --help`);
    fail(e.message.split('\n')[0]!.split('. ')[0]!);
  }
}

function rotateOptions(v: Values): RotateOptions | undefined {
  if (v['rotate-bytes'] === undefined && v['rotate-lines'] === undefined) {
    if (v['rotate-mode'] !== undefined || v['rotate-keep'] !== undefined) fail('--rotate-mode and --rotate-keep need --rotate-bytes or --rotate-lines');
    return undefined;
  }
  if (v.output === undefined) fail('--rotate-bytes / --rotate-lines need --output FILE');
  const mode = v['rotate-mode'] ?? 'rename';
  if (mode !== 'rename' && mode !== 'copytruncate') fail(`--rotate-mode '${mode}' is not one of: rename, copytruncate`);
  const rotate: RotateOptions = { mode };
  if (v['rotate-bytes'] !== undefined) rotate.everyBytes = Math.max(1, parseBytes('rotate-bytes', v['rotate-bytes']));
  if (v['rotate-lines'] !== undefined) rotate.everyLines = Math.max(1, parseCount('rotate-lines', v['rotate-lines']));
  if (v['rotate-keep'] !== undefined) rotate.keep = parseNumber('rotate-keep', v['rotate-keep'], 1, 1000, true);
  return rotate;
}

function describeIncidents(incidents: readonly GeneratorIncident[]): string {
  return incidents
    .map((i) => `\n  incident ${i.signature.name} at ${new Date(i.at).toISOString()} for ${i.durationMs / 1000}s, +${i.ratePerSec}/s, pattern /${i.signature.pattern}/`)
    .join('');
}

interface Totals {
  entries: number;
  lines: number;
  bytes: number;
  firstEpochMs: number;
  lastEpochMs: number;
  rotations: number;
  firstSeq: number | null;
  lastSeq: number | null;
}

function summary(s: Totals, seconds: number, precision: number, incidents: readonly GeneratorIncident[]): string {
  const span = s.entries > 0 ? `, ${formatTimestamp(s.firstEpochMs * 1000, precision)} .. ${formatTimestamp(s.lastEpochMs * 1000, precision)}` : '';
  const seq = s.firstSeq === null ? '' : `, seq ${s.firstSeq}..${s.lastSeq}`;
  const rot = s.rotations > 0 ? `, ${s.rotations} rotations` : '';
  return `generate: ${s.entries} entries, ${s.lines} lines, ${(s.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s (${Math.round(s.lines / Math.max(seconds, 1e-3))} lines/s)${span}${seq}${rot}${describeIncidents(incidents)}\n`;
}

async function main(argv: string[]): Promise<number> {
  const v = readArgs(argv).values;
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const fast = v.fast === true;
  const startMs = v.start === undefined ? (fast ? DEFAULT_START : Date.now()) : parseTime('start', v.start, null);
  const opts = {
    start: startMs,
    seed: v.seed === undefined ? 1 : parseNumber('seed', v.seed, 0, 2 ** 32 - 1, true),
    ...(v.rate === undefined ? {} : { rate: parseNumber('rate', v.rate, 0.001, 10_000_000) }),
    ...(v.precision === undefined ? {} : { precision: parseNumber('precision', v.precision, 0, 6, true) }),
    ...(v.format === undefined ? {} : { format: v.format }),
    ...(v['tag-mix'] === undefined ? {} : { tagMix: parseTagMix(v['tag-mix']) }),
    ...(v['late-fraction'] === undefined ? {} : { lateFraction: parseNumber('late-fraction', v['late-fraction'], 0, 1) }),
    ...(v['late-max-ms'] === undefined ? {} : { lateMaxMs: parseNumber('late-max-ms', v['late-max-ms'], 0.001, 86_400_000) }),
    ...(v['stack-fraction'] === undefined ? {} : { stackFraction: parseNumber('stack-fraction', v['stack-fraction'], 0, 1) }),
    ...(v['first-seq'] === undefined ? {} : { firstSeq: parseNumber('first-seq', v['first-seq'], 0, Number.MAX_SAFE_INTEGER, true) }),
    ...(v.lines === undefined ? {} : { lines: parseCount('lines', v.lines) }),
    ...(v.duration === undefined ? {} : { durationMs: parseDuration('duration', v.duration) }),
    ...(v.output !== undefined && v.append ? { append: true } : {}),
    sequence: v.sequence === true,
    incidents: (v.incident ?? []).map((spec) => parseIncident(spec, startMs)),
  };
  const rotate = rotateOptions(v);
  if (v.append && v.output === undefined) fail('--append needs --output FILE');
  if (v['list-signatures']) {
    // `novel` as the first --incident would get it with this --seed.
    const catalog = { ...SIGNATURE_CATALOG, novel: incidentSignature('novel', opts.seed, 0) };
    process.stdout.write(JSON.stringify(catalog, null, 2) + '\n');
    return 0;
  }
  if (fast && opts.lines === undefined && opts.durationMs === undefined) fail('--fast needs --duration or --lines');

  const quiet = v.quiet === true;
  const tty = process.stderr.isTTY === true && !quiet;
  const t0 = performance.now();
  const stdoutGone = new Promise<void>((resolve) => process.stdout.once('error', () => resolve()));
  if (fast) {
    let lastShown = 0;
    const onProgress = tty
      ? (p: { lines: number; bytes: number }): void => {
          const now = performance.now();
          if (now - lastShown < 500) return;
          lastShown = now;
          process.stderr.write(`\rgenerate: ${p.lines} lines, ${(p.bytes / 1e6).toFixed(0)} MB`);
        }
      : undefined;
    const full = { ...opts, ...(rotate ? { rotate } : {}), ...(onProgress ? { onProgress } : {}) };
    const stats = v.output === undefined ? await writeLogStream(process.stdout, full) : await writeLogFile(v.output, full);
    if (!quiet) process.stderr.write((tty ? '\r' : '') + summary(stats, (performance.now() - t0) / 1000, opts.precision ?? 3, stats.incidents));
    return 0;
  }

  const live: LiveWriter = v.output === undefined ? startLiveStream(process.stdout, opts) : startLiveWriter(v.output, { ...opts, ...(rotate ? { rotate } : {}) });
  const progress = tty
    ? setInterval(() => {
        const s = live.stats();
        process.stderr.write(`\rgenerate: ${s.lines} lines, ${(s.bytes / 1e6).toFixed(1)} MB, ${s.rotations} rotations`);
      }, 1000)
    : null;
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await Promise.race([live.done, signalled, stdoutGone]);
  if (progress !== null) clearInterval(progress);
  const stats = await live.stop();
  if (tty) process.stderr.write('\r');
  if (stats.error === null) {
    if (!quiet) process.stderr.write(summary(stats, (performance.now() - t0) / 1000, opts.precision ?? 3, live.incidents));
    return 0;
  }
  // The reader went away (| head): not an error, and nothing worth summing up.
  if ((stats.error as NodeJS.ErrnoException).code === 'EPIPE') return 0;
  process.stderr.write(`generate: ${stats.error.message}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`generate: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof GeneratorOptionError) {
      const base = err.option.replace(/[.[].*$/, '');
      process.stderr.write(`generate: --${FLAG_FOR[base] ?? (base === 'incidents' ? 'incident' : base)} ${err.problem}\n`);
      process.exitCode = 2;
    } else if ((err as NodeJS.ErrnoException).code === 'EPIPE') {
      process.exitCode = 0; // the reader went away (| head): not an error
    } else {
      process.stderr.write(`generate: ${(err as Error).message ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
