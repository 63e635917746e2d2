/**
 * Input pieces shared by the tools. Every field carries a description (clients show it to
 * the model) and an error message that names the field and says what is accepted.
 */
import { z } from 'zod';
import { levelFromName, formatTimestamp, type ParsedTimestamp, parseTimestampInput } from '../parse/index.js';
import type { Coverage } from '../store/index.js';
import { ToolInputError } from '../errors.js';
import { escapeLogText } from '../text/index.js';

/**
 * A number field whose every failure (not a number, not an integer, out of range) says the
 * same thing: the field's name and what is accepted, so a client sees one clear message
 * whichever check failed.
 */
export function numberField(message: string, bounds: { int?: boolean; min?: number; max?: number }): z.ZodNumber {
  let field = z.number({ error: message });
  if (bounds.int === true) field = field.int({ error: message });
  if (bounds.min !== undefined) field = field.min(bounds.min, { error: message });
  if (bounds.max !== undefined) field = field.max(bounds.max, { error: message });
  return field;
}

/** An integer field from min to max: "<name> must be an integer from <min> to <max>". */
export function intField(name: string, min: number, max: number): z.ZodNumber {
  return numberField(`${name} must be an integer from ${min} to ${max}`, { int: true, min, max });
}

/** A whole number of seconds from min to max. */
export function secondsField(name: string, min: number, max: number): z.ZodNumber {
  return numberField(`${name} must be an integer number of seconds from ${min} to ${max}`, { int: true, min, max });
}

export function booleanField(name: string): z.ZodBoolean {
  return z.boolean({ error: `${name} must be true or false` });
}

export const timestampInput = z
  .union([z.string().max(64), z.number().int()], {
    error: 'timestamp must be an ISO 8601 string with Z or an offset, or an integer epoch in milliseconds',
  })
  .describe(
    'The moment to look around: ISO 8601 / RFC 3339 with Z or an offset (2024-01-15T10:30:45.123Z) ' +
      'or an integer epoch in milliseconds. A string without a zone is rejected.',
  );

export const sourceInput = z
  .string({ error: 'source must be the name of a configured source (see tail_status)' })
  .min(1)
  .max(200)
  .optional()
  .describe('Only this configured source (names as listed by tail_status). Default: all sources.');

const TAG_PATTERN = /^[A-Za-z0-9_.:-]{1,32}$/;
const tagName = z
  .string()
  .regex(TAG_PATTERN, { error: 'tag must be 1 to 32 letters, digits or _.:- such as ERROR' });

export const tagInput = z
  .union([tagName, z.array(tagName).min(1).max(16)], {
    error: 'tag must be a level name (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) or a list of them',
  })
  .optional()
  .describe(
    'Only entries with this tag, or any of these tags. Case-insensitive; levels are TRACE, DEBUG, ' +
      'INFO, WARN, ERROR, FATAL (WARNING, ERR, CRITICAL... are accepted as aliases); custom tags ' +
      'such as AUDIT match as written. Default: every entry.',
  );

/**
 * A tool's input object that refuses fields it does not know, naming them and the accepted
 * ones: `span_s` (documented, never implemented) was silently ignored (issue 15, item 14).
 */
export function strictInput<T extends z.ZodRawShape>(shape: T): z.ZodObject<T, z.core.$strict> {
  const accepted = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k.slice(0, 64)}'`).join(', ')}; accepted: ${accepted}`
        : undefined,
  });
}

export { ToolInputError } from '../errors.js';

/** Reads the timestamp argument or throws a ToolInputError naming the field. */
export function requireTimestamp(value: string | number, field = 'timestamp'): number {
  const parsed: ParsedTimestamp = parseTimestampInput(value);
  if (!parsed.ok) throw new ToolInputError(field, parsed.message);
  return parsed.us;
}

export function tagList(tag: string | string[] | undefined): string[] | null {
  if (tag === undefined) return null;
  return Array.isArray(tag) ? tag : [tag];
}

/**
 * Refuses a tag no source has ever had (a typo such as ERRORS), naming the known ones: an
 * empty answer there read as "no errors" (issue 9, item 6). Levels and their aliases are
 * always known; a known custom tag that is absent near the time is a normal no_match. Once
 * more custom tags were seen than could be named (OTHER), any name may be one of them.
 */
export function checkTags(known: readonly string[], tags: readonly string[] | null): void {
  if (tags === null || known.includes('OTHER')) return;
  const upper = new Set(known.map((t) => t.toUpperCase()));
  for (const tag of tags) {
    if (levelFromName(tag) >= 0 || upper.has(tag.toUpperCase())) continue;
    throw new ToolInputError(
      'tag',
      `no source has ever had the tag '${tag}'; known tags: ${known.map(escapeLogText).join(', ')} ` +
        '(levels also accept aliases such as WARNING, ERR, CRITICAL)',
    );
  }
}

/** Output shape of coverage, shared by tools that report it. */
export const coverageOutput = z.object({
  first_timestamp: z.string().nullable(),
  last_timestamp: z.string().nullable(),
  entries: z.number(),
  lag_ms: z.number().nullable(),
});

export type CoverageJson = z.infer<typeof coverageOutput>;

export function coverageJson(c: Coverage): CoverageJson {
  return {
    first_timestamp: c.firstTs === null ? null : formatTimestamp(c.firstTs),
    last_timestamp: c.lastTs === null ? null : formatTimestamp(c.lastTs),
    entries: c.entries,
    lag_ms: c.lagMs === null ? null : Math.round(c.lagMs),
  };
}

/** Output shape of the moment a tool was asked about. */
export const queryOutput = z.object({ timestamp: z.string(), epoch_ms: z.number() });
