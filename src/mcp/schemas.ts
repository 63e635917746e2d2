/**
 * Input pieces shared by the tools. Every field carries a description (clients show it to
 * the model) and an error message that names the field and says what is accepted.
 */
import { z } from 'zod';
import { levelFromName } from '../parse/levels.js';
import { type ParsedTimestamp, parseTimestampInput } from '../parse/timestamp.js';
import { escapeLogText } from '../text/untrusted.js';

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

/** Thrown by handlers for a semantically bad argument; the SDK turns it into an isError result. */
export class ToolInputError extends Error {
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ToolInputError';
  }
}

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
