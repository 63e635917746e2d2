/**
 * Tags and levels.
 *
 * Every entry carries one tag id in the low 5 bits of its meta byte (the high 3 bits hold the
 * timestamp precision, see meta.ts). Ids 0..5 are the normalized levels, 6 means the line had
 * no tag, 7..30 are custom tags interned per process (AUDIT, SQL, ...), 31 is the overflow
 * bucket once 24 custom tags exist (the tag text then stays in the body, nothing is lost).
 */

export const TAG_TRACE = 0;
export const TAG_DEBUG = 1;
export const TAG_INFO = 2;
export const TAG_WARN = 3;
export const TAG_ERROR = 4;
export const TAG_FATAL = 5;
export const TAG_NONE = 6;
export const FIRST_CUSTOM_TAG = 7;
export const TAG_OTHER = 31;
export const TAG_COUNT = 32;

export const LEVEL_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type LevelName = (typeof LEVEL_NAMES)[number];

/** Spellings seen in the wild, upper-cased, mapped to the normalized level id. */
const LEVEL_ALIASES: Record<string, number> = {
  TRACE: TAG_TRACE, TRC: TAG_TRACE, VERBOSE: TAG_TRACE, FINEST: TAG_TRACE, FINER: TAG_TRACE,
  DEBUG: TAG_DEBUG, DBG: TAG_DEBUG, FINE: TAG_DEBUG,
  INFO: TAG_INFO, INF: TAG_INFO, INFORMATION: TAG_INFO, NOTICE: TAG_INFO,
  WARN: TAG_WARN, WARNING: TAG_WARN, WRN: TAG_WARN,
  ERROR: TAG_ERROR, ERR: TAG_ERROR, SEVERE: TAG_ERROR, EROR: TAG_ERROR,
  FATAL: TAG_FATAL, CRITICAL: TAG_FATAL, CRIT: TAG_FATAL, EMERG: TAG_FATAL,
  EMERGENCY: TAG_FATAL, ALERT: TAG_FATAL, PANIC: TAG_FATAL, FTL: TAG_FATAL,
};

/** The level id for a tag spelling (case-insensitive), or -1 when it is not a level. */
export function levelFromName(name: string): number {
  const id = LEVEL_ALIASES[name.toUpperCase()];
  return id === undefined ? -1 : id;
}

const MAX_TAG_BYTES = 24;
const scratch = new Uint8Array(MAX_TAG_BYTES);

/**
 * The level id for tag bytes buf[start, end), or -1 when they are not a level spelling.
 * Runs once per line on the hot path: upper-cases into a scratch buffer and switches on the
 * length first so most lines cost a handful of byte compares, no string is built.
 */
export function levelFromBytes(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len < 3 || len > 11) return -1;
  for (let i = 0; i < len; i++) {
    const c = buf[start + i]!;
    scratch[i] = c >= 97 && c <= 122 ? c - 32 : c;
  }
  const s = scratch;
  // Fast path for the four spellings that make up nearly every line.
  if (len === 5) {
    if (s[0] === 69 && s[1] === 82 && s[2] === 82 && s[3] === 79 && s[4] === 82) return TAG_ERROR; // ERROR
    if (s[0] === 84 && s[1] === 82 && s[2] === 65 && s[3] === 67 && s[4] === 69) return TAG_TRACE; // TRACE
    if (s[0] === 68 && s[1] === 69 && s[2] === 66 && s[3] === 85 && s[4] === 71) return TAG_DEBUG; // DEBUG
    if (s[0] === 70 && s[1] === 65 && s[2] === 84 && s[3] === 65 && s[4] === 76) return TAG_FATAL; // FATAL
  } else if (len === 4) {
    if (s[0] === 73 && s[1] === 78 && s[2] === 70 && s[3] === 79) return TAG_INFO; // INFO
    if (s[0] === 87 && s[1] === 65 && s[2] === 82 && s[3] === 78) return TAG_WARN; // WARN
  }
  let name = '';
  for (let i = 0; i < len; i++) name += String.fromCharCode(s[i]!);
  const id = LEVEL_ALIASES[name];
  return id === undefined ? -1 : id;
}

/** Interns custom tag names to ids 7..30; later names share TAG_OTHER. */
export class TagDictionary {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [...LEVEL_NAMES, 'NONE'];
  /** A custom tag found no room: its name was not kept (its entries carry OTHER). */
  overflowed = false;

  /** The id for a custom tag, interning it if there is room. */
  intern(name: string): number {
    const upper = name.toUpperCase();
    const level = levelFromName(upper);
    if (level >= 0) return level;
    const known = this.ids.get(upper);
    if (known !== undefined) return known;
    const next = FIRST_CUSTOM_TAG + this.ids.size;
    if (next >= TAG_OTHER) {
      this.overflowed = true;
      return TAG_OTHER;
    }
    this.ids.set(upper, next);
    this.names[next] = upper;
    return next;
  }

  /** The id of a known tag name (level alias or interned custom tag), or -1. */
  lookup(name: string): number {
    const level = levelFromName(name);
    if (level >= 0) return level;
    const upper = name.toUpperCase();
    if (upper === 'NONE') return TAG_NONE;
    if (upper === 'OTHER') return TAG_OTHER;
    return this.ids.get(upper) ?? -1;
  }

  name(id: number): string {
    if (id === TAG_OTHER) return 'OTHER';
    return this.names[id] ?? 'OTHER';
  }

  /** Custom tags seen so far, in interning order. */
  customTags(): string[] {
    return [...this.ids.keys()];
  }
}
