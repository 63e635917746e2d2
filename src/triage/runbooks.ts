/**
 * The runbook catalog (`--runbooks FILE`, YAML or JSON; format in the README, "Runbook catalog").
 *
 * Validated once at startup with zod: every object is strict, so a misspelt key such as
 * `auto_exectue` is an error rather than a silently ignored safety setting. Every error names
 * the runbook (id, else its index) and the field, on one line, because the CLI prints it
 * and exits 2. Patterns are compiled here, at configuration time, never per query.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { LEVEL_NAMES, levelFromName } from '../parse/index.js';
import { compileSafeRegex, type SafeRegex } from '../text/index.js';

import { RunbookError } from '../errors.js';

export { RunbookError } from '../errors.js';

export interface Runbook {
  id: string;
  title: string;
  /** Normalized tag names (ERROR, FATAL, or upper-cased custom tags). */
  tags: readonly string[];
  pattern: string;
  ignoreCase: boolean;
  steps: readonly string[];
  autoExecute: boolean;
  minConfidence: number;
  /** Compiled once at load time, on the linear-time engine (src/text/safe-regex.ts). */
  regex: SafeRegex;
}

/**
 * Characters of a body a pattern runs against. Security: log text is attacker-controlled;
 * matching is linear-time (RE2 semantics), and this bound keeps any pattern's worst case on
 * one body well under a millisecond (measured in the issue 15 notes).
 */
export const MATCH_BODY_CHARS = 1024;

export const DEFAULT_RUNBOOK_TAGS: readonly string[] = ['ERROR', 'FATAL'];
export const DEFAULT_MIN_CONFIDENCE = 0.8;
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_RUNBOOKS = 1000;
/**
 * A runbook's steps travel in every triage_confidence result that matches it, twice (the
 * structured result and its text), and a result stays under 64 KiB: 100 steps of 2,000
 * characters made one of 406 KB (issue 18). 8 KiB of steps is at most 32 KiB of JSON (quotes
 * and backslashes escape to two bytes; control characters, six, are refused).
 */
export const MAX_STEPS_BYTES = 8 * 1024;
const NO_CONTROL = /^[^\u0000-\u0008\u000b-\u001f\u007f]*$/;

const TAG_PATTERN = /^[A-Za-z0-9_.:-]{1,32}$/;

const matchSchema = z.strictObject(
  {
    tags: z
      .array(z.string({ error: 'must be a tag name such as ERROR' }).regex(TAG_PATTERN, { error: 'must be 1 to 32 letters, digits or _.:- such as ERROR' }), {
        error: 'must be a list of tag names such as [ERROR, FATAL]',
      })
      .min(1, { error: 'must list at least one tag (leave it out for the default [ERROR, FATAL])' })
      .max(32, { error: 'must list at most 32 tags' })
      .optional(),
    pattern: z
      .string({ error: 'must be a regular expression string' })
      .min(1, { error: 'must not be empty' })
      .max(1000, { error: 'must be at most 1,000 characters' }),
    ignore_case: z.boolean({ error: 'must be true or false' }).optional(),
  },
  { error: 'must be an object with pattern and optional tags, ignore_case' },
);

const runbookSchema = z.strictObject(
  {
    id: z
      .string({ error: 'must be a string of lowercase letters, digits and -' })
      .regex(/^[a-z0-9-]+$/, { error: 'must be lowercase letters, digits and - only (such as db-timeout)' })
      .max(64, { error: 'must be at most 64 characters' }),
    title: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(200, { error: 'must be at most 200 characters' }),
    match: matchSchema,
    steps: z
      .array(
        z
          .string({ error: 'must be a string' })
          .min(1, { error: 'must not be empty' })
          .max(2000, { error: 'must be at most 2,000 characters' })
          .regex(NO_CONTROL, { error: 'must not contain control characters (tab and newline are fine)' }),
        { error: 'must be a list of strings' },
      )
      .min(1, { error: 'must list at least one step' })
      .max(100, { error: 'must list at most 100 steps' })
      .refine((steps) => steps.reduce((n, step) => n + Buffer.byteLength(step), 0) <= MAX_STEPS_BYTES, {
        error: `must total at most ${MAX_STEPS_BYTES.toLocaleString('en-US')} bytes (they are part of every triage_confidence result, which stays under 64 KiB); link to longer documents`,
      }),
    // Absent means a human runs it: the safe reading of an incomplete entry.
    auto_execute: z.boolean({ error: 'must be true or false' }).default(false),
    min_confidence: z
      .number({ error: 'must be a number from 0 to 1' })
      .min(0, { error: 'must be a number from 0 to 1' })
      .max(1, { error: 'must be a number from 0 to 1' })
      .default(DEFAULT_MIN_CONFIDENCE),
  },
  { error: 'must be an object with id, title, match, steps, auto_execute, min_confidence' },
);

const catalogSchema = z.strictObject(
  {
    runbooks: z
      .array(z.unknown(), { error: 'must be a list of runbooks' })
      .max(MAX_RUNBOOKS, { error: `must hold at most ${MAX_RUNBOOKS} runbooks` }),
  },
  { error: "must be an object with a 'runbooks' list" },
);

const RUNBOOK_KEYS = Object.keys(runbookSchema.shape).join(', ');
const MATCH_KEYS = Object.keys(matchSchema.shape).join(', ');

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}

/** The value at an issue's path in the raw input (zod 4 does not report inputs by default). */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function issueText(issue: z.core.$ZodIssue, raw: unknown): string {
  const field = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const accepted = field === 'match' ? MATCH_KEYS : field === '' ? RUNBOOK_KEYS : 'runbooks';
    const where = field === '' ? '' : `${field}: `;
    return `${where}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')} (accepted: ${accepted})`;
  }
  if (issue.code === 'invalid_type' && field !== '' && valueAt(raw, issue.path) === undefined) return `${field}: is required`;
  return field === '' ? issue.message : `${field}: ${issue.message}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function normalizeTag(tag: string): string {
  const level = levelFromName(tag);
  return level >= 0 ? LEVEL_NAMES[level]! : tag.toUpperCase();
}

/** The loaded, validated catalog. Empty when no --runbooks file was given. */
export class RunbookCatalog {
  private readonly byId: Map<string, Runbook>;

  constructor(
    readonly runbooks: readonly Runbook[],
    /** Where it came from (a file path), for messages. */
    readonly origin: string | null = null,
  ) {
    this.byId = new Map(runbooks.map((r) => [r.id, r]));
  }

  static empty(): RunbookCatalog {
    return new RunbookCatalog([]);
  }

  get(id: string): Runbook | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.runbooks.length;
  }
}

/** True when an entry with this tag and body is what the runbook is for. */
export function runbookMatches(runbook: Runbook, tag: string, body: string): boolean {
  if (!runbook.tags.includes(tag)) return false;
  return runbook.regex.test(body);
}

function compileRunbook(raw: unknown, index: number, where: string): Runbook {
  const idHint = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : null;
  const label =
    where + ': ' + (idHint !== null && /^[a-z0-9-]{1,64}$/.test(idHint) ? `runbook '${idHint}' (runbooks[${index}])` : `runbooks[${index}]`);
  const parsed = runbookSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    throw new RunbookError(oneLine(`${label}: ${issueText(issues[0]!, raw)}${more}`));
  }
  const r = parsed.data;
  let regex: SafeRegex;
  try {
    regex = compileSafeRegex(r.match.pattern, { ignoreCase: r.match.ignore_case === true, maxInputChars: MATCH_BODY_CHARS });
  } catch (err) {
    throw new RunbookError(oneLine(`${label}: match.pattern: invalid regular expression: ${(err as Error).message}`));
  }
  return {
    id: r.id,
    title: r.title,
    tags: [...new Set((r.match.tags ?? DEFAULT_RUNBOOK_TAGS).map(normalizeTag))],
    pattern: r.match.pattern,
    ignoreCase: r.match.ignore_case === true,
    steps: r.steps,
    autoExecute: r.auto_execute,
    minConfidence: r.min_confidence,
    regex,
  };
}

export interface ParseCatalogOptions {
  /** 'json' or 'yaml'; default: JSON when the text starts with '{', else YAML (a superset). */
  format?: 'json' | 'yaml';
  /** Named in messages. */
  origin?: string;
}

/** Parses and validates catalog text. Throws RunbookError. */
export function parseRunbookCatalog(text: string, options: ParseCatalogOptions = {}): RunbookCatalog {
  const where = options.origin ?? 'runbooks';
  const format = options.format ?? (text.trimStart().startsWith('{') ? 'json' : 'yaml');
  let doc: unknown;
  try {
    doc = format === 'json' ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    // YAML messages carry a multi-line code frame; the first line has the position.
    const first = ((err as Error).message.split('\n')[0] ?? '').replace(/:$/, '');
    throw new RunbookError(`${where}: invalid ${format === 'json' ? 'JSON' : 'YAML'}: ${first}`);
  }
  if (doc === null || doc === undefined) throw new RunbookError(`${where}: the file is empty; expected an object with a 'runbooks' list`);
  const top = catalogSchema.safeParse(doc);
  if (!top.success) throw new RunbookError(oneLine(`${where}: ${issueText(top.error.issues[0]!, doc)}`));
  const runbooks: Runbook[] = [];
  const seen = new Map<string, number>();
  top.data.runbooks.forEach((raw, index) => {
    const runbook = compileRunbook(raw, index, where);
    const earlier = seen.get(runbook.id);
    if (earlier !== undefined) {
      throw new RunbookError(`${where}: runbook '${runbook.id}' (runbooks[${index}]): id: duplicate id, already used by runbooks[${earlier}]`);
    }
    seen.set(runbook.id, index);
    runbooks.push(runbook);
  });
  return new RunbookCatalog(runbooks, options.origin ?? null);
}

/** Reads and validates a catalog file (--runbooks). Throws RunbookError. */
export function loadRunbookCatalog(path: string): RunbookCatalog {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new RunbookError(`--runbooks ${path}: cannot read the file (${code})`);
  }
  if (bytes.length > MAX_FILE_BYTES) throw new RunbookError(`--runbooks ${path}: the file is larger than 1 MiB`);
  const format = /\.json$/i.test(path) ? 'json' : /\.ya?ml$/i.test(path) ? 'yaml' : undefined;
  return parseRunbookCatalog(bytes.toString('utf8'), { origin: path, ...(format === undefined ? {} : { format }) });
}

/** The contract's JSON shape of a runbook (triage_confidence output, resources). */
export function runbookJson(r: Runbook): {
  id: string;
  title: string;
  steps: string[];
  auto_execute: boolean;
  min_confidence: number;
  match: { tags: string[]; pattern: string; ignore_case: boolean };
} {
  return {
    id: r.id,
    title: r.title,
    steps: [...r.steps],
    auto_execute: r.autoExecute,
    min_confidence: r.minConfidence,
    match: { tags: [...r.tags], pattern: r.pattern, ignore_case: r.ignoreCase },
  };
}
