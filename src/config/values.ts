/**
 * Option values read from text, each refusing a bad one with a ConfigError that names the
 * option and says what is accepted: sizes, durations, integers, choices, booleans, sources
 * and source directories, formats.
 */
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { formatNames, type CustomFormatSpec } from '../parse/index.js';
import type { SourceSpec } from './types.js';

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

export function parseInteger(option: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || n < min || n > max) throw new ConfigError(`--${option} '${text}' must be an integer from ${min} to ${max}`);
  return n;
}

export function oneOf<T extends string>(option: string, text: string, accepted: readonly T[]): T {
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
export function sourcesInDir(dir: string): SourceSpec[] {
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
export function authToken(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value.trim() === '') throw new ConfigError('--auth-token is empty; give a long random token (openssl rand -hex 32) or leave the option out');
  return value;
}

export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const state = env.XDG_STATE_HOME;
  return state ? join(state, 'log-triage-mcp') : join(homedir(), '.local', 'state', 'log-triage-mcp');
}

/**
 * Booleans from the environment or a config file: true/false/1/0 and nothing else. `yes` read
 * as false wrote a data dir the user had asked not to (issue 15, item 8).
 */
export function parseBoolean(option: string, value: unknown, where: string): boolean {
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
 * `--format` values: NAME for every source, SOURCE=NAME for one. Sets each source's own format
 * and returns the one for the rest. Names: auto, a built-in format, or a custom one.
 */
export function resolveFormats(values: readonly string[], sources: SourceSpec[], custom: readonly CustomFormatSpec[]): string {
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
