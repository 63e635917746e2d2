/**
 * Regular expressions that come from outside (runbook patterns, the `pattern` search argument,
 * custom format regexes) run here, on a linear-time engine, never on the built-in RegExp.
 *
 * Security: V8's RegExp backtracks. `(a|aa)+$` against 40 `a` and a `!` took ~66 s on the
 * event loop (issue 15, item 2), freezing every request; refusing "nested quantifiers" at
 * load time missed that shape and `(.*a){20}$`, `(\d|\d\d)+x`. A syntactic ReDoS check
 * always misses some shape, so the engine itself must be linear: RE2 semantics, which has
 * no backreferences or lookaround (such patterns are refused with a message saying so).
 *
 * Why re2js (pure JavaScript port of RE2/J, MIT, no dependencies, no install script):
 * measured here on 2026-12-01 (2 shared cores, a one-off script, not kept in the repo) against
 * re2-wasm 1.0.2 (Google's WASM build) on the hostile patterns and on typical runbook
 * patterns over a 110-byte body:
 *   - hostile patterns over 41 to 64 Ki characters: both linear; re2js 0.5 us to 2.6 ms,
 *     re2-wasm 9 us to 17 ms (every call copies the string into WASM memory);
 *   - typical patterns: re2js 0.08 to 10 us per test, re2-wasm 13 to 41 us;
 *   - loading: re2js 17 to 60 ms, re2-wasm ~110 ms (WASM compile). Loaded on first use only,
 *     so a server without runbooks or patterns never pays for it.
 * The `re2` package (native bindings) was not an option: it downloads prebuilt binaries from
 * outside the npm registry at install time, and a Linux-built addon does not travel inside an
 * MCP Bundle to macOS or Windows.
 */
import { createRequire } from 'node:module';
import type { RE2JS as RE2JSType } from 're2js';

/** A pattern the engine cannot take; the message is one line and names what is wrong. */
export class SafeRegexError extends Error {
  override name = 'SafeRegexError';
}

export interface SafeRegexOptions {
  ignoreCase?: boolean;
  /**
   * Characters of a subject looked at (default: all). Matching is linear, so this bounds the
   * time of one match: with 1,024 characters, any pattern takes well under a millisecond.
   */
  maxInputChars?: number;
}

export interface SafeMatch {
  /** Character offsets of the whole match in the subject. */
  start: number;
  end: number;
  /** Named groups; undefined for a group that did not take part in the match. */
  groups: Record<string, string | undefined>;
  /** Character offsets [start, end) of each named group that took part (custom log formats map them to bytes). */
  spans: Record<string, [number, number] | undefined>;
}

export interface SafeRegex {
  readonly source: string;
  readonly ignoreCase: boolean;
  /** Names of the named groups, in pattern order. */
  readonly groupNames: readonly string[];
  /** Whether the pattern matches anywhere in the subject. */
  test(subject: string): boolean;
  /** The leftmost match and its named groups, or null. */
  exec(subject: string): SafeMatch | null;
}

type Engine = typeof RE2JSType;
let engine: Engine | null = null;

/** Loads re2js on first use (synchronously: compiling happens at configuration time). */
function re2(): Engine {
  if (engine === null) {
    const require = createRequire(import.meta.url);
    engine = (require('re2js') as { RE2JS: Engine }).RE2JS;
  }
  return engine;
}

/** What RE2 refuses that a JavaScript author may have written, said plainly. */
function explain(message: string): string {
  const m = message.replace(/^error parsing regexp:\s*/, '');
  if (/`\(\?[=!]|`\(\?<[=!]|invalid named capture: `\(\?<[=!]/.test(m)) return `${m} (lookahead and lookbehind are not supported: the engine is linear-time, RE2 syntax)`;
  if (/invalid escape sequence: `\\[1-9]/.test(m)) return `${m} (backreferences are not supported: the engine is linear-time, RE2 syntax)`;
  return m;
}

/** Compiles a pattern for the linear-time engine. Throws SafeRegexError (one line). */
export function compileSafeRegex(pattern: string, options: SafeRegexOptions = {}): SafeRegex {
  const RE2JS = re2();
  let compiled: RE2JSType;
  try {
    compiled = RE2JS.compile(pattern, options.ignoreCase === true ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (err) {
    throw new SafeRegexError(explain((err as Error).message).replace(/\s*\n\s*/g, ' '));
  }
  const named = compiled.namedGroups();
  const groupNames = Object.keys(named).sort((a, b) => named[a]! - named[b]!);
  const max = options.maxInputChars ?? Infinity;
  const bound = (s: string): string => (s.length > max ? s.slice(0, max) : s);
  return {
    source: pattern,
    ignoreCase: options.ignoreCase === true,
    groupNames,
    test: (subject) => compiled.test(bound(subject)),
    exec(subject) {
      const m = compiled.matcher(bound(subject));
      if (!m.find()) return null;
      const groups: Record<string, string | undefined> = {};
      const spans: Record<string, [number, number] | undefined> = {};
      for (const name of groupNames) {
        const text = m.group(name);
        groups[name] = text ?? undefined;
        spans[name] = text === null ? undefined : [m.start(name), m.end(name)];
      }
      return { start: m.start(), end: m.end(), groups, spans };
    },
  };
}
