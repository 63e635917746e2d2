/**
 * The text filter inputs of find_nearest_log (contains, case_sensitive, pattern, fields), and
 * the output pieces text searches add: `matches` per entry (which filter matched where, in
 * the body as returned) and `searched` (the window examined, and whether it finished).
 */
import { z } from 'zod';
import { formatTimestamp } from '../parse/index.js';
import type { Highlight, Searched, TextFilterSpec } from '../store/index.js';
import { escapeLogText, MAX_TERM_CHARS } from '../text/index.js';

const needle = z.string().min(1, { error: 'contains needs non-empty strings' }).max(MAX_TERM_CHARS, { error: `each contains string is at most ${MAX_TERM_CHARS} characters` });

export const textInputs = {
  contains: z
    .union([needle, z.array(needle).min(1).max(16)], { error: 'contains must be a string or a list of 1 to 16 strings' })
    .optional()
    .describe(
      'Only entries whose body contains this text, or every one of these texts (substrings, e.g. "connection refused" or ' +
        '["order", "8812"]). Case-insensitive for ASCII letters unless case_sensitive is true.',
    ),
  case_sensitive: z
    .boolean({ error: 'case_sensitive must be true or false' })
    .default(false)
    .describe('Compare contains, pattern and fields values with case (default false: ASCII letters match either case).'),
  pattern: z
    .string({ error: 'pattern must be a regular expression string' })
    .min(1, { error: 'pattern must not be empty' })
    .max(MAX_TERM_CHARS, { error: `pattern is at most ${MAX_TERM_CHARS} characters` })
    .optional()
    .describe(
      'Only entries whose body matches this regular expression (RE2 syntax, run in linear time: no backreferences or ' +
        'lookaround), e.g. "timeout after \\\\d+ms".',
    ),
  fields: z
    .record(
      z.string().min(1).max(200),
      z.union([z.string().max(MAX_TERM_CHARS), z.number(), z.boolean()]),
      { error: 'fields must be an object of field name -> value, e.g. {"request_id": "4f2a", "status": 503}' },
    )
    .optional()
    .describe(
      'Only entries whose structured fields have these values (JSON bodies, logfmt and key=value pairs in text bodies; ' +
        'nested JSON members by dotted path or by their own name), e.g. {"request_id": "4f2a", "status": "503"}.',
    ),
};

export interface TextArgs {
  contains?: string | string[];
  case_sensitive?: boolean;
  pattern?: string;
  fields?: Record<string, string | number | boolean>;
}

/** The store's text spec from tool arguments; undefined when no text filter was given. */
export function textSpec(args: TextArgs): TextFilterSpec | undefined {
  const contains = args.contains === undefined ? [] : Array.isArray(args.contains) ? args.contains : [args.contains];
  const fields = args.fields === undefined ? {} : Object.fromEntries(Object.entries(args.fields).map(([k, v]) => [k, String(v)]));
  if (contains.length === 0 && args.pattern === undefined && Object.keys(fields).length === 0) return undefined;
  return {
    caseSensitive: args.case_sensitive === true,
    ...(contains.length > 0 ? { contains } : {}),
    ...(args.pattern === undefined ? {} : { pattern: args.pattern }),
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
  };
}

export const matchOutput = z.object({
  filter: z.enum(['contains', 'pattern', 'fields', 'related']),
  term: z.string(),
  start: z.number(),
  end: z.number(),
});

export const searchedOutput = z.object({
  from: z.string(),
  to: z.string(),
  entries: z.number(),
  bodies_read: z.number(),
  complete: z.boolean(),
});

export type MatchJson = z.infer<typeof matchOutput>;
export type SearchedJson = z.infer<typeof searchedOutput>;

/**
 * Highlights moved onto the body as returned: escaped (offsets shift past each escaped
 * character) and cut at the cap (a match past the cut is left out; the entry still matched).
 */
export function matchesJson(rawBody: string, highlights: readonly Highlight[]): MatchJson[] {
  const out: MatchJson[] = [];
  for (const h of highlights) {
    if (h.start < 0 || h.end > rawBody.length || h.end < h.start) continue;
    const start = escapeLogText(rawBody.slice(0, h.start)).length;
    const end = start + escapeLogText(rawBody.slice(h.start, h.end)).length;
    out.push({ filter: h.filter, term: escapeLogText(h.term.slice(0, 200)), start, end });
  }
  return out;
}

export function searchedJson(s: Searched): SearchedJson {
  return { from: formatTimestamp(s.from), to: formatTimestamp(s.to), entries: s.entries, bodies_read: s.read, complete: s.complete };
}

/** One line for the text rendering: how far the search looked, and what an unfinished one means. */
export function searchedNote(s: SearchedJson, found: number): string {
  const where = `searched ${s.from} .. ${s.to} (${s.entries} entries, ${s.bodies_read} bodies read)`;
  if (s.complete) return where;
  return `${where}; the search budget ran out there: ${found === 0 ? 'nothing matched inside that window, and nothing is known beyond it' : 'entries beyond that window were not examined'} (narrow with max_distance_ms, tag or source, or ask again from another time)`;
}
