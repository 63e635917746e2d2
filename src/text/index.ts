/**
 * Text: what the rest of the house does with the words inside log bodies, all of it
 * untrusted input.
 *
 *   untrusted.ts      cap, escape and fence log text headed for a model or a browser
 *   safe-regex.ts     regexes from outside run on a linear-time engine (re2js, loaded on first use)
 *   fields.ts         the fields of a body: JSON members, logfmt and key=value pairs
 *   text-query.ts     a text filter (contains, pattern, fields, related ids) compiled once per call
 *   ngram-filter.ts   trigram Bloom filters that let a search skip blocks that cannot match
 *
 * The rooms above (store, triage, mcp, config) come in through this file. The rooms the
 * parse workers load (parse, ingest, index) import the one file they need, so a worker
 * never loads more than its parser uses (src/ingest/parse-worker.ts).
 */
export { decodeCapped, escapeLogText, FENCE_CLOSE, FENCE_OPEN, fenceLogLines } from './untrusted.js';
export { compileSafeRegex, SafeRegexError, type SafeMatch, type SafeRegex, type SafeRegexOptions } from './safe-regex.js';
export { extractFields, parseTraceparent, type FieldValue } from './fields.js';
export {
  bodyIds,
  charsOf,
  compileText,
  compileTextCached,
  DEFAULT_ID_FIELDS,
  foldBytes,
  hasText,
  idValues,
  MAX_MATCH_BYTES,
  MAX_TERM_CHARS,
  type CompiledText,
  type Highlight,
  type MatchKind,
  type TextFilterSpec,
} from './text-query.js';
export { addTrigrams, buildGroupFilters, FILTER_BLOCK, FILTER_GROUP, FILTER_WORDS, mayContain, needleBits, orFilter, FOLD } from './ngram-filter.js';
export { sha256 } from './sha256.js';
