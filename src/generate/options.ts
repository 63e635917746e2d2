/**
 * Generator options: the public shape, the defaults, and the one place they are validated.
 * Errors name the option (GeneratorOptionError.option) so the CLI can report the flag instead.
 */
import { STYLE_NAMES } from './line-styles.js';
import { type SignatureName, SIGNATURE_NAMES, isSignatureName } from './signatures.js';

export const GENERATED_TAGS = ['TRACE', 'INFO', 'WARN', 'ERROR'] as const;
export type GeneratedTag = (typeof GENERATED_TAGS)[number];

export interface IncidentSpec {
  /** Start of the burst, epoch ms. */
  at: number;
  /** Length of the burst (default 60,000 ms). */
  durationMs?: number;
  /** Which catalog signature the burst repeats. */
  signature: SignatureName;
  /** Extra ERROR entries per second during the burst, on top of the background rate (default 200). */
  ratePerSec?: number;
}

export interface GeneratorOptions {
  /** The log format to write, by the name `--format` reads (default iso-bracket, the original). */
  format?: string;
  /** PRNG seed; the same seed and options give the same bytes (default 1). */
  seed?: number;
  /** Timestamp of the first entry, epoch ms (default 2024-01-15T10:00:00.000Z). */
  start?: number;
  /** Background entries per second (default 11,667, the production rate). */
  rate?: number;
  /** Relative weights of the background levels (default 40/40/15/5). A given mix replaces the
   * default entirely: levels it leaves out are not generated. */
  tagMix?: Partial<Record<GeneratedTag, number>>;
  /** Fractional-second digits, 0..6 (default 3). */
  precision?: number;
  /** Share of entries whose timestamp is earlier than their neighbours' (default 0). */
  lateFraction?: number;
  /** How much earlier a late entry may be, ms (default 2,000). */
  lateMaxMs?: number;
  /** Share of ERROR entries followed by 2..8 stack-trace continuation lines (default 0). */
  stackFraction?: number;
  /** Append ` seq=<n>` to every entry's first line, n counting up by one (default false). */
  sequence?: boolean;
  /** First seq number (default 1), e.g. to continue a previous file. */
  firstSeq?: number;
  incidents?: readonly IncidentSpec[];
}

export interface ResolvedIncident {
  at: number;
  durationMs: number;
  ratePerSec: number;
  signature: SignatureName;
}

export interface ResolvedOptions {
  format: string;
  seed: number;
  start: number;
  rate: number;
  /** Weights normalized to sum 1, in GENERATED_TAGS order. */
  tagMix: readonly number[];
  precision: number;
  lateFraction: number;
  lateMaxMs: number;
  stackFraction: number;
  sequence: boolean;
  firstSeq: number;
  incidents: readonly ResolvedIncident[];
}

export const DEFAULT_START = Date.UTC(2024, 0, 15, 10, 0, 0, 0);
export const DEFAULT_RATE = 11_667;
export const DEFAULT_TAG_MIX: Readonly<Record<GeneratedTag, number>> = { TRACE: 40, INFO: 40, WARN: 15, ERROR: 5 };
export const DEFAULT_INCIDENT_DURATION_MS = 60_000;
export const DEFAULT_INCIDENT_RATE = 200;
export const MAX_RATE = 10_000_000;
/** Largest epoch ms that still formats as a four-digit year (9999-12-31T23:59:59.999Z). */
const MAX_EPOCH_MS = 253_402_300_799_999;

/** A bad generator option; `option` is its name in GeneratorOptions (or the incident field). */
export class GeneratorOptionError extends Error {
  override name = 'GeneratorOptionError';
  constructor(
    readonly option: string,
    readonly problem: string,
  ) {
    super(`${option} ${problem}`);
  }
}

function number(option: string, value: number | undefined, fallback: number, min: number, max: number, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new GeneratorOptionError(option, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}

function resolveIncident(spec: IncidentSpec, i: number): ResolvedIncident {
  const name = `incidents[${i}]`;
  if (typeof spec.signature !== 'string' || !isSignatureName(spec.signature)) {
    throw new GeneratorOptionError(`${name}.signature`, `must be one of: ${SIGNATURE_NAMES.join(', ')} (got ${String(spec.signature)})`);
  }
  if (spec.at === undefined) throw new GeneratorOptionError(`${name}.at`, 'is required (epoch ms)');
  return {
    at: number(`${name}.at`, spec.at, 0, 0, MAX_EPOCH_MS),
    durationMs: number(`${name}.durationMs`, spec.durationMs, DEFAULT_INCIDENT_DURATION_MS, 1, 366 * 86_400_000),
    ratePerSec: number(`${name}.ratePerSec`, spec.ratePerSec, DEFAULT_INCIDENT_RATE, 0.001, MAX_RATE),
    signature: spec.signature,
  };
}

export function resolveOptions(opts: GeneratorOptions = {}): ResolvedOptions {
  const mix = opts.tagMix ?? DEFAULT_TAG_MIX;
  for (const key of Object.keys(mix)) {
    if (!(GENERATED_TAGS as readonly string[]).includes(key)) {
      throw new GeneratorOptionError('tagMix', `has unknown level '${key}'; levels: ${GENERATED_TAGS.join(', ')}`);
    }
  }
  const weights = GENERATED_TAGS.map((tag) => number(`tagMix.${tag}`, mix[tag], 0, 0, 1e9));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) throw new GeneratorOptionError('tagMix', 'must give at least one level a positive weight');
  if (opts.incidents !== undefined && !Array.isArray(opts.incidents)) throw new GeneratorOptionError('incidents', 'must be an array');
  const format = opts.format ?? 'iso-bracket';
  if (!STYLE_NAMES.includes(format)) throw new GeneratorOptionError('format', `must be one of: ${STYLE_NAMES.join(', ')} (got ${String(format)})`);
  return {
    format,
    seed: number('seed', opts.seed, 1, 0, 2 ** 32 - 1, true),
    start: number('start', opts.start, DEFAULT_START, 0, MAX_EPOCH_MS),
    rate: number('rate', opts.rate, DEFAULT_RATE, 0.001, MAX_RATE),
    tagMix: weights.map((w) => w / total),
    precision: number('precision', opts.precision, 3, 0, 6, true),
    lateFraction: number('lateFraction', opts.lateFraction, 0, 0, 1),
    lateMaxMs: number('lateMaxMs', opts.lateMaxMs, 2000, 0.001, 86_400_000),
    stackFraction: number('stackFraction', opts.stackFraction, 0, 0, 1),
    sequence: opts.sequence === true,
    firstSeq: number('firstSeq', opts.firstSeq, 1, 0, Number.MAX_SAFE_INTEGER, true),
    incidents: (opts.incidents ?? []).map(resolveIncident),
  };
}
