/**
 * The formats `--format` accepts, by name, in detection order, and detection itself.
 *
 * Detection (`--format auto`) reads the first lines of a file (up to 200 lines / 64 KiB) with
 * every format and keeps the one that recognizes the most: lines that start an entry plus the
 * indented stack-trace lines after them, with entries whose level the line itself gives
 * counted again (so log4j's `[main] ERROR` goes to iso-level, not to iso-bracket's custom tag
 * MAIN). On a tie the earlier format in FORMATS wins: specific before generic. A file is
 * recognized only when at least half its non-blank lines are, and never when it looks binary;
 * otherwise detection says what it tried (see describeUnrecognized).
 */
import { customFormat } from './custom-format.js';
import type { DetectScore, LogFormat } from './format.js';
import { apacheErrorFormat, combinedFormat, commonFormat, nginxErrorFormat } from './formats/web.js';
import { epochFormat, goLogFormat, klogFormat, tai64nFormat } from './formats/go-and-epoch.js';
import { isoLevelFormat } from './formats/iso-level.js';
import { jsonFormats } from './formats/json.js';
import { logfmtFormat } from './formats/logfmt.js';
import { mysqlFormat, postgresFormat, redisFormat } from './formats/servers.js';
import { syslog5424Format, syslogFormat } from './formats/syslog.js';
import { criFormat, dockerFormat } from './formats/wrapped.js';
import { isoBracketFormat } from './iso-bracket.js';
import { DETECT_BYTES, defineFormat, sampleLineCount } from './line-loop.js';
import type { CustomFormatSpec, ParseOptions } from './parsed-chunk.js';

/** Every built-in format, most specific first: the order breaks detection ties. */
const ORDERED: readonly LogFormat[] = [
  dockerFormat, ...jsonFormats, criFormat, syslog5424Format, syslogFormat, combinedFormat, commonFormat, nginxErrorFormat,
  apacheErrorFormat, postgresFormat, mysqlFormat, redisFormat, klogFormat, logfmtFormat, isoBracketFormat, isoLevelFormat,
  goLogFormat, tai64nFormat, epochFormat,
].map((f) => ('parseChunk' in f ? (f as LogFormat) : defineFormat(f)));

const FORMATS: ReadonlyMap<string, LogFormat> = new Map(ORDERED.map((f) => [f.name, f]));

export const DEFAULT_FORMAT = isoBracketFormat.name;

/** Names of the built-in formats, in detection order. */
export function formatNames(): string[] {
  return [...FORMATS.keys()];
}

/** Every built-in format, in detection order (README table, tests). */
export function builtinFormats(): readonly LogFormat[] {
  return ORDERED;
}

/** The built-in format registered under `name`, or undefined. */
export function getFormat(name: string): LogFormat | undefined {
  return FORMATS.get(name);
}

const customCache = new Map<string, LogFormat>();

/**
 * The format `name` names: a built-in one, or the custom one `options.custom` defines (as the
 * config file did; compiled once per definition and thread).
 */
export function resolveFormat(name: string, options?: Pick<ParseOptions, 'custom'>): LogFormat | undefined {
  const builtin = FORMATS.get(name);
  if (builtin !== undefined) return builtin;
  const spec: CustomFormatSpec | undefined = options?.custom;
  if (spec === undefined || spec.name !== name) return undefined;
  const key = JSON.stringify(spec);
  let f = customCache.get(key);
  if (f === undefined) {
    f = customFormat(spec);
    customCache.set(key, f);
  }
  return f;
}

/** Share of non-blank lines a format must recognize to be chosen. */
export const MIN_SHARE = 0.5;

export interface Detection {
  format: LogFormat;
  /** Share of the sample's non-blank lines it recognized (0..1). */
  share: number;
  score: DetectScore;
}

/** Bytes that make a sample binary rather than text: NUL and most C0 controls. */
function looksBinary(sample: Uint8Array): boolean {
  const n = Math.min(sample.length, DETECT_BYTES);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const c = sample[i]!;
    if (c === 0) return true;
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 27 && c !== 12) bad++;
  }
  return bad > n / 100;
}

/**
 * The format that recognizes the sample best (see the header), or null when none recognizes
 * enough of it. `candidates` lets custom formats from the config file take part (first).
 */
export function detect(sample: Uint8Array, candidates: readonly LogFormat[] = ORDERED, options?: ParseOptions): Detection | null {
  if (looksBinary(sample)) return null;
  // Scoring stops as soon as the result is certain, with the answer a full scoring of every
  // format gives (test/property/detect-early-stop.property.test.ts): a format stops once it
  // can no longer reach MIN_SHARE or beat the best rank so far, and no format is scored after
  // one that recognized every line with its level (rank 2 x lines: none can beat it). Cold
  // code, 25 formats x 200 lines: 15-20 ms of every start (issue 12, startup3 notes).
  const lines = sampleLineCount(sample);
  let minRecognized = Math.ceil(lines * MIN_SHARE);
  while (minRecognized > 0 && (minRecognized - 1) / lines >= MIN_SHARE) minRecognized--;
  while (minRecognized <= lines && minRecognized / lines < MIN_SHARE) minRecognized++;
  let best: Detection | null = null;
  let bestRank = 0;
  for (const format of candidates) {
    if (best !== null && bestRank >= 2 * lines) break;
    const score = format.score(sample, options, { lines, recognized: minRecognized, rank: bestRank + 1 });
    if (score.belowFloor === true || score.entries === 0 || score.lines === 0) continue;
    const share = score.recognized / score.lines;
    if (share < MIN_SHARE) continue;
    const rank = score.recognized + score.withLevel;
    if (rank > bestRank) {
      best = { format, share, score };
      bestRank = rank;
    }
  }
  return best;
}

/** The message for a source no format recognizes: what was tried and how to go on. */
export function describeUnrecognized(sample: Uint8Array, candidates: readonly LogFormat[] = ORDERED): string {
  if (looksBinary(sample)) return 'the file looks binary (NUL or control bytes in its first 64 KiB); not indexed. Point --source at a text log';
  let bestName = '';
  let bestShare = 0;
  for (const format of candidates) {
    const s = format.score(sample);
    const share = s.lines === 0 ? 0 : s.recognized / s.lines;
    if (share > bestShare) {
      bestShare = share;
      bestName = format.name;
    }
  }
  const closest = bestShare > 0 ? ` (closest: ${bestName}, ${Math.round(bestShare * 100)}% of lines)` : '';
  return `no known format recognizes at least ${MIN_SHARE * 100}% of the first lines${closest}; tried ${candidates.length} formats. ` +
    'Force one with --format SOURCE=NAME (names: log-triage-mcp --help) or define one under formats: in the --config file';
}

/** The format that recognizes most of the sample's lines; the original one when none does. */
export function detectFormat(sample: Uint8Array): LogFormat {
  return detect(sample)?.format ?? isoBracketFormat;
}
