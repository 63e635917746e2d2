/**
 * Custom formats from the config file:
 *
 *   formats:
 *     billing:
 *       regex: '^(?<timestamp>\S+ \S+) \[(?<level>\w+)\] (?<body>.*)$'
 *       timestamp: '%Y-%m-%d %H:%M:%S.%f'
 *       levels: { NOTE: INFO, CRIT: FATAL }      # optional extra spellings
 *
 * The regex needs the named groups `timestamp` and `body`; `level` is optional (without it,
 * NONE). A line the regex does not match continues the entry above. The regex sees a line's
 * bytes as Latin-1 (one character per byte, so group offsets are byte offsets; a pattern
 * must be ASCII) and only its first 4 KiB; a body group that reaches that point runs to the
 * end of the line.
 *
 * Validated once at start-up (bad regex, missing group, bad pattern, unknown level: a
 * CustomFormatError naming the format and the field). The regex runs on the linear-time engine
 * (src/text/safe-regex.ts, RE2 syntax: no backreferences or lookaround), so no pattern can
 * stall a parse worker; each match looks at 4 KiB at most.
 */
import type { ParseContext } from './context.js';
import { CONTINUATION, ENTRY, type LineKind, type LineOut, type LogFormat, MALFORMED } from './format.js';
import { LEVEL_NAMES, TAG_NONE, levelFromBytes, levelFromName } from './levels.js';
import { defineFormat } from './line-loop.js';
import type { CustomFormatSpec } from './parsed-chunk.js';
import { PatternError, type TimePattern, compileTimePattern, readTime, timeRead } from './strftime.js';
import { type SafeRegex, type SafeRegexError, compileSafeRegex } from '../text/safe-regex.js';

export const MAX_CUSTOM_MATCH_BYTES = 4096;

/** A custom format definition that cannot be used; `field` is regex, timestamp or levels. */
export class CustomFormatError extends Error {
  override name = 'CustomFormatError';
  constructor(
    readonly format: string,
    readonly field: string,
    problem: string,
  ) {
    super(`format '${format}' ${field}: ${problem}`);
  }
}

interface Compiled {
  spec: CustomFormatSpec;
  regex: SafeRegex;
  time: TimePattern;
  levels: Map<string, number>;
}

/** Checks a definition from the config file; returns it typed, or throws CustomFormatError. */
export function validateCustomFormat(name: string, raw: unknown): CustomFormatSpec {
  if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/i.test(name)) throw new CustomFormatError(name, 'name', 'use letters, digits and _.- (up to 64)');
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CustomFormatError(name, 'definition', 'expected a mapping with regex and timestamp');
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!['regex', 'timestamp', 'levels', 'description'].includes(key)) throw new CustomFormatError(name, key, 'unknown field; fields: regex, timestamp, levels, description');
  }
  if (typeof r.regex !== 'string' || r.regex === '') throw new CustomFormatError(name, 'regex', 'is required (a regular expression with named groups timestamp and body)');
  if (typeof r.timestamp !== 'string' || r.timestamp === '') throw new CustomFormatError(name, 'timestamp', "is required (a pattern such as '%Y-%m-%d %H:%M:%S.%f %z')");
  let levels: Record<string, string> | undefined;
  if (r.levels !== undefined) {
    if (r.levels === null || typeof r.levels !== 'object' || Array.isArray(r.levels)) throw new CustomFormatError(name, 'levels', 'expected a mapping of spellings to levels');
    levels = {};
    for (const [k, v] of Object.entries(r.levels as Record<string, unknown>)) levels[k] = String(v);
  }
  const spec: CustomFormatSpec = { name, regex: r.regex, timestamp: r.timestamp, ...(levels === undefined ? {} : { levels }) };
  compile(spec);
  return spec;
}

function compile(spec: CustomFormatSpec): Compiled {
  const fail = (field: string, problem: string): never => {
    throw new CustomFormatError(spec.name, field, problem);
  };
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(spec.regex)) fail('regex', 'must be ASCII (lines are matched byte by byte)');
  let regex: SafeRegex;
  try {
    regex = compileSafeRegex(spec.regex, { maxInputChars: MAX_CUSTOM_MATCH_BYTES });
  } catch (err) {
    return fail('regex', `not a valid regular expression: ${(err as SafeRegexError).message}`);
  }
  for (const group of ['timestamp', 'body']) {
    if (!regex.groupNames.includes(group)) fail('regex', `needs a named group (?<${group}>...); groups: timestamp and body, level optional`);
  }
  let time: TimePattern;
  try {
    time = compileTimePattern(spec.timestamp);
  } catch (err) {
    return fail('timestamp', (err as PatternError).message);
  }
  const levels = new Map<string, number>();
  for (const [spelling, level] of Object.entries(spec.levels ?? {})) {
    const id = levelFromName(level);
    if (id < 0 || !(LEVEL_NAMES as readonly string[]).includes(level.toUpperCase())) fail('levels', `'${spelling}: ${level}' must map to one of ${LEVEL_NAMES.join(', ')}`);
    levels.set(spelling.toUpperCase(), id);
  }
  return { spec, regex, time, levels };
}

function toLatin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/** The LogFormat of a validated custom definition. */
export function customFormat(spec: CustomFormatSpec): LogFormat {
  const c = compile(spec);
  const parseLine = (buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind => {
    const cut = Math.min(end, start + MAX_CUSTOM_MATCH_BYTES);
    const m = c.regex.exec(toLatin1(buf, start, cut));
    const t = m?.spans.timestamp;
    const b = m?.spans.body;
    if (m === null || t === undefined || b === undefined) return CONTINUATION;
    if (!readTime(c.time, buf, start + t[0], start + t[1], ctx)) {
      out.reason = `timestamp does not match '${spec.timestamp}'`;
      return MALFORMED;
    }
    out.us = timeRead.us;
    out.precision = timeRead.precision;
    let tag = TAG_NONE;
    const l = m.spans.level;
    if (l !== undefined && l[1] > l[0]) {
      const text = m.groups.level ?? '';
      tag = c.levels.get(text.toUpperCase()) ?? levelFromBytes(buf, start + l[0], start + l[1]);
      if (tag < 0) tag = TAG_NONE;
    }
    out.tag = tag;
    out.bodyStart = start + b[0];
    out.bodyEnd = b[1] === cut - start && cut < end ? end : start + b[1];
    out.joinNext = false;
    return ENTRY;
  };
  return defineFormat({
    name: spec.name,
    description: `custom format from the config file (${spec.timestamp})`,
    example: '',
    levelRule: 'the level group (the levels mapping, then the usual level words); none: NONE',
    decideBytes: MAX_CUSTOM_MATCH_BYTES,
    parseLine,
  });
}
