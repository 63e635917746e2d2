/**
 * A text filter on entry bodies, compiled once per call: `contains` (every needle occurs),
 * `pattern` (a linear-time regex), `fields` (each named field has the value), `anyId`
 * (related_log: an id field holds one of these values). The compiled form offers:
 *
 *   - `prefilter`: groups of filter bits (src/text/ngram-filter.ts); a block whose filter
 *     lacks a bit of every group cannot hold a match and is skipped unread;
 *   - `test(body)`: the exact decision on the body's bytes, with highlights for what matched.
 *
 * Case: `case_sensitive: false` (the default) folds ASCII letters only, the folding the
 * filters use and ClickHouse's positionCaseInsensitive applies, so both stores agree. The
 * pattern takes the same flag (RE2's own case folding, which also folds other letters; the
 * filters are not used for patterns).
 */
import { QueryError } from '../errors.js';
import { FOLD, needleBits } from './ngram-filter.js';
import { extractFields, parseTraceparent } from './fields.js';
import { SafeRegexError, compileSafeRegex, type SafeRegex } from './safe-regex.js';

/** The text part of a query, as tools and the CLI pass it to a Store. */
export interface TextFilterSpec {
  /** Substrings that must all occur in the body. */
  contains?: readonly string[];
  /** Regular expression (RE2 syntax) that must match somewhere in the body. */
  pattern?: string;
  /** Field -> value pairs that must all hold (JSON, logfmt or key=value bodies). */
  fields?: Readonly<Record<string, string>>;
  /** related_log: some field named in `names` holds one of `values`. */
  anyId?: { names: readonly string[]; values: readonly string[] };
  /** Default false: ASCII letters compare without case. */
  caseSensitive: boolean;
}

export type MatchKind = 'contains' | 'pattern' | 'fields' | 'related';

/** What matched where: character offsets in the body as decoded (before escaping or capping). */
export interface Highlight {
  filter: MatchKind;
  /** The needle, the field name, or the id value. */
  term: string;
  start: number;
  end: number;
}

export interface CompiledText {
  readonly spec: TextFilterSpec;
  /** Each group: bits that must all be set; a block may match when every group has them. */
  readonly prefilter: readonly (readonly number[])[];
  /** Alternatives (anyId): a block may match when one of these bit lists is all set. */
  readonly prefilterAny: readonly (readonly number[])[] | null;
  /**
   * Bytes every matching body contains, as searched: the `contains` needles, ASCII-folded when
   * case folding is on, and then also the plain `fields` values. A caller that
   * holds many bodies in one buffer can rule out bodies without a needle occurrence with one
   * native search over the buffer (src/index/text-scan.ts), and call test() on the rest.
   */
  readonly needles: readonly Buffer[];
  /**
   * related_log: folded bytes of which a matching body holds at least one (empty when some id
   * value is not plain: then no body can be ruled out this way).
   */
  readonly anyNeedles: readonly Buffer[];
  /** Whether needles are searched in ASCII-folded bytes. */
  readonly foldCase: boolean;
  /** Null when the body does not match; the highlights when it does. */
  test(body: Uint8Array): Highlight[] | null;
}

/** ASCII-folds src into dst (same length or longer) and returns the folded part of dst. */
export function foldBytes(src: Uint8Array, dst: Uint8Array): Uint8Array {
  return foldInto(src, dst);
}

/** Longest needle, pattern or field value accepted (characters). */
export const MAX_TERM_CHARS = 1024;
/** Bodies are matched on at most this many bytes (index lengths saturate at 65,535). */
export const MAX_MATCH_BYTES = 65_535;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Id fields related_log reads by default (configurable with --id-fields). */
export const DEFAULT_ID_FIELDS: readonly string[] = [
  'traceparent', 'trace_id', 'traceId', 'span_id', 'spanId', 'request_id', 'requestId', 'x-request-id', 'x_request_id', 'correlation_id', 'correlationId',
];

/** Values to compare for an id field: a traceparent stands for its trace id and span id. */
export function idValues(key: string, value: string): string[] {
  if (key.toLowerCase() === 'traceparent') {
    const tp = parseTraceparent(value);
    return tp === null ? [value] : [tp.traceId, tp.spanId];
  }
  return [value];
}

/** The id values of a body: for each id field present, its values (traceparent split). */
export function bodyIds(body: string, names: readonly string[]): { key: string; value: string }[] {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const out: { key: string; value: string }[] = [];
  const seen = new Set<string>();
  for (const f of extractFields(body)) {
    if (!wanted.has(f.key.toLowerCase()) || f.value === '') continue;
    for (const v of idValues(f.key, f.value)) {
      if (seen.has(v)) continue;
      seen.add(v);
      out.push({ key: f.key, value: v });
    }
  }
  return out;
}

function foldInto(src: Uint8Array, dst: Uint8Array): Uint8Array {
  for (let k = 0; k < src.length; k++) dst[k] = FOLD[src[k]!]!;
  return dst.subarray(0, src.length);
}

/** Characters (UTF-16 units) that body[from, to) decodes to (highlight offsets are in these). */
export function charsOf(body: Uint8Array, from: number, to: number): number {
  // ASCII bytes are one character each: no decoding (two decodes a highlight took ~1 us).
  let k = from;
  while (k < to && body[k]! < 0x80) k++;
  return k === to ? to - from : decoder.decode(body.subarray(from, to)).length;
}

/**
 * Printable ASCII that JSON never has to escape (no `"`, `\\`, `/`): a field value made of
 * these must also occur verbatim in the body to match, so the filters can rule bodies out by
 * its trigrams (a JSON number spelled 1e3 does not match "1000"; its text does not hold it).
 */
const PLAIN_VALUE = /^[\x20\x21\x23-\x2e\x30-\x5b\x5d-\x7e]+$/;

export function compileText(spec: TextFilterSpec): CompiledText {
  const fold = !spec.caseSensitive;
  const prefilter: number[][] = [];
  const needles: { text: string; bytes: Buffer }[] = [];
  for (const text of spec.contains ?? []) {
    if (text.length === 0) throw new QueryError('contains', 'an empty string matches everything; give at least one character, or leave contains out');
    if (text.length > MAX_TERM_CHARS) throw new QueryError('contains', `a needle is at most ${MAX_TERM_CHARS} characters`);
    const raw = Buffer.from(encoder.encode(text));
    needles.push({ text, bytes: fold ? Buffer.from(foldInto(raw, Buffer.alloc(raw.length))) : raw });
    const bits = needleBits(raw, fold);
    if (bits.length > 0) prefilter.push(bits);
  }
  let regex: SafeRegex | null = null;
  if (spec.pattern !== undefined) {
    if (spec.pattern.length > MAX_TERM_CHARS) throw new QueryError('pattern', `a pattern is at most ${MAX_TERM_CHARS} characters`);
    try {
      regex = compileSafeRegex(spec.pattern, { ignoreCase: fold });
    } catch (err) {
      if (err instanceof SafeRegexError) throw new QueryError('pattern', `${err.message} (RE2 syntax, matched on the body)`);
      throw err;
    }
  }
  const fields = Object.entries(spec.fields ?? {});
  const plain = (v: string): Buffer | null => (PLAIN_VALUE.test(v) ? Buffer.from(foldInto(encoder.encode(v), Buffer.alloc(Buffer.byteLength(v)))) : null);
  const fieldBytes = fields.map(([, v]) => (typeof v === 'string' ? plain(v) : null));
  for (const [key, value] of fields) {
    if (key.length === 0 || key.length > MAX_TERM_CHARS) throw new QueryError('fields', 'field names are 1 to 1,024 characters');
    if (typeof value !== 'string' || value.length > MAX_TERM_CHARS) throw new QueryError('fields', `field '${key.slice(0, 80)}' needs a string value of at most ${MAX_TERM_CHARS} characters`);
    if (PLAIN_VALUE.test(value)) {
      const bits = needleBits(encoder.encode(value), true);
      if (bits.length > 0) prefilter.push(bits);
    }
  }
  let prefilterAny: number[][] | null = null;
  const ids = spec.anyId;
  const idSet = new Set<string>();
  const idBytes = new Map<string, Buffer | null>();
  if (ids !== undefined) {
    prefilterAny = [];
    for (const v of ids.values) {
      idSet.add(fold ? v.toLowerCase() : v);
      idBytes.set(fold ? v.toLowerCase() : v, plain(v));
      const bits = PLAIN_VALUE.test(v) ? needleBits(encoder.encode(v), true) : [];
      // One value without usable bits means any block may hold a match.
      if (bits.length === 0) prefilterAny = null;
      else prefilterAny?.push(bits);
    }
  }
  const idNames = new Set((ids?.names ?? []).map((n) => n.toLowerCase()));
  // The id values' folded bytes when every one of them is plain (else empty: no precheck).
  const idPlain = [...idBytes.values()];
  const anyVerbatim: Buffer[] = idPlain.length > 0 && idPlain.every((b) => b !== null) ? (idPlain as Buffer[]) : [];
  const eq = (a: string, b: string): boolean => (fold ? a.toLowerCase() === b.toLowerCase() : a === b);
  let scratch = Buffer.alloc(4096);

  return {
    spec,
    prefilter,
    prefilterAny,
    // Plain field values must occur verbatim too (see PLAIN_VALUE): block searches use them.
    // test() looks for them folded, so only with case folding on: a case-sensitive search
    // looks in the raw bytes, where {"user":"u\u002d1","note":"U-1"} holds no "u-1" but matches.
    needles: [...needles.map((n) => n.bytes), ...(fold ? fieldBytes.filter((b): b is Buffer => b !== null) : [])],
    // Searched folded, so only with case folding on: a case-sensitive search looks in the raw
    // bytes, where a traceparent's trace id may be upper case (its value is compared lower case).
    anyNeedles: fold ? anyVerbatim : [],
    foldCase: fold,
    test(body: Uint8Array): Highlight[] | null {
      const out: Highlight[] = [];
      let folded: Buffer | null = null;
      const foldedBody = (): Buffer => {
        if (folded !== null) return folded;
        if (scratch.length < body.length) scratch = Buffer.alloc(Math.max(body.length, scratch.length * 2));
        return (folded = foldInto(body, scratch) as Buffer);
      };
      if (needles.length > 0) {
        const hay = fold ? foldedBody() : Buffer.from(body.buffer, body.byteOffset, body.length);
        for (const n of needles) {
          const at = hay.indexOf(n.bytes);
          if (at < 0) return null;
          out.push({ filter: 'contains', term: n.text, start: at, end: at + n.bytes.length });
        }
      }
      let text: string | null = null;
      const str = (): string => (text ??= decoder.decode(body));
      if (out.length > 0) {
        // Byte offsets to character offsets, now that the body matched.
        for (const h of out) {
          const start = charsOf(body, 0, h.start);
          h.end = start + charsOf(body, h.start, h.end);
          h.start = start;
        }
      }
      if (regex !== null) {
        const m = regex.exec(str());
        if (m === null) return null;
        out.push({ filter: 'pattern', term: regex.source, start: m.start, end: m.end });
      }
      if (anyVerbatim.length > 0) {
        // Every id value is plain: a body holding none of them verbatim cannot match.
        const hay = foldedBody();
        if (!anyVerbatim.some((v) => hay.indexOf(v) >= 0)) return null;
      }
      if (fields.length > 0) {
        // Plain values must occur verbatim: a cheap test before the fields are parsed.
        const hay = foldedBody();
        for (const v of fieldBytes) if (v !== null && v !== undefined && hay.indexOf(v) < 0) return null;
      }
      if (fields.length > 0 || idSet.size > 0) {
        const found = extractFields(str());
        for (let k = 0; k < fields.length; k++) {
          const [key, value] = fields[k]!;
          const f = found.find((x) => x.key === key && eq(x.value, value));
          if (f === undefined) return null;
          out.push({ filter: 'fields', term: key, start: f.start, end: f.end });
        }
        if (idSet.size > 0) {
          let hit = false;
          for (const f of found) {
            if (!idNames.has(f.key.toLowerCase())) continue;
            for (const v of idValues(f.key, f.value)) {
              const key = fold ? v.toLowerCase() : v;
              if (!idSet.has(key)) continue;
              const verbatim = idBytes.get(key);
              if (verbatim !== null && verbatim !== undefined && foldedBody().indexOf(verbatim) < 0) continue;
              hit = true;
              out.push({ filter: 'related', term: v, start: f.start, end: f.end });
            }
          }
          if (!hit) return null;
        }
      }
      return out;
    },
  };
}

/** Filters compiled lately, by specKey (least recently used first; lastKey: the newest). */
const compiled = new Map<string, CompiledText>();
const COMPILED_KEPT = 64;
let lastKey = '';

/** One string per distinct spec: `contains` alone as length-prefixed terms (no JSON: ~0.3 us), else JSON. */
function specKey(spec: TextFilterSpec): string {
  const cs = spec.caseSensitive === true ? 'C' : 'c';
  if (spec.pattern === undefined && spec.fields === undefined && spec.anyId === undefined) {
    let key = cs;
    for (const term of spec.contains ?? []) key += `${term.length}:${term}`;
    return key;
  }
  return 'j' + cs + JSON.stringify([spec.contains ?? null, spec.pattern, spec.fields ?? null, spec.anyId ?? null]);
}

/**
 * compileText, remembered for a spec asked again (an agent repeats a `contains` at other
 * times): compiling and the search's per-filter tables (block-bodies.ts) cost 5.0 us of a
 * 10.5 us 5 % token query when built per call, against 5.5 us with the compiled filter reused
 * (1M entries, warm, 2026-12-02). A CompiledText is immutable apart from test()'s scratch,
 * which lives only inside one synchronous call, so one may serve many queries.
 */
export function compileTextCached(spec: TextFilterSpec): CompiledText {
  const key = specKey(spec);
  const hit = compiled.get(key);
  if (hit !== undefined) {
    if (key !== lastKey) {
      compiled.delete(key);
      compiled.set(key, hit);
      lastKey = key;
    }
    return hit;
  }
  lastKey = key;
  // A copy: the caller's spec object may change after the call; the cached filter must not.
  const text = compileText(structuredClone(spec));
  if (compiled.size >= COMPILED_KEPT) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, text);
  return text;
}

/** Whether the spec filters anything (an empty spec is a plain nearest query). */
export function hasText(spec: TextFilterSpec | undefined): spec is TextFilterSpec {
  if (spec === undefined) return false;
  return (spec.contains?.length ?? 0) > 0 || spec.pattern !== undefined || Object.keys(spec.fields ?? {}).length > 0 || spec.anyId !== undefined;
}
