/**
 * Error signatures: Drain-style template mining of entry bodies (He et al., "Drain: An Online
 * Log Parsing Approach with Fixed Depth Tree", ICWS 2017), preceded by regex masking.
 *
 * Two stages:
 * 1. maskBody replaces the parts of a message that vary between occurrences of the same
 *    event (quoted strings, UUIDs, timestamps, IPs, hex, durations, ids, numbers) with
 *    placeholders, so "timeout after 5s for customer 8832" and "timeout after 7s for
 *    customer 91" both become "timeout after <DUR> for customer <NUM>".
 * 2. SignatureMiner groups masked lines: same token count, same first token, and at least
 *    `similarity` of the positions equal. Positions that differ inside a group become <*>.
 *    This catches variables the masks miss (user names, host names without digits).
 *
 * Only the first line of a body is mined: stack-trace continuation lines vary with the call
 * path and would split one error into many signatures.
 *
 * Memory is bounded: lines are cut to maxLineChars and maxTokens, and at most maxClusters
 * signatures are kept; later lines that match none of them are counted as overflow.
 */
import { sha256 } from '../text/index.js';

export interface SignatureOptions {
  /** Fraction of token positions that must be equal to join a signature (default 0.6). */
  similarity?: number;
  /** Signatures kept at most (default 512). */
  maxClusters?: number;
  /** Tokens per line considered (default 48). */
  maxTokens?: number;
  /** Characters of the first line considered (default 512). */
  maxLineChars?: number;
  /** Example bodies kept per signature (default 3). */
  maxExamples?: number;
}

/** One mined signature. Its template (and so its id) can still generalize while lines are added. */
export interface Signature {
  /** Stable id: a short hash of the template, equal across calls and processes for the same template. */
  readonly id: string;
  /** Masked template, tokens joined by single spaces; <*> marks positions that varied. */
  readonly template: string;
  /** Lines added to this signature. */
  readonly count: number;
  /** Order of creation (0 = first signature seen). */
  readonly order: number;
  /** A few raw first lines (capped), for people and for runbook matching previews. */
  readonly examples: readonly string[];
}

const WILDCARD = '<*>';
const EXAMPLE_CHARS = 200;

// Masks, applied in order: each later rule sees the placeholders of the earlier ones, which
// contain no digits, so e.g. a UUID is never half-eaten by the number rule.
const MASKS: ReadonlyArray<readonly [RegExp, string | ((m: string) => string)]> = [
  // Quoted strings. A single quote opens only when not inside a word, so "can't" survives.
  [/"(?:[^"\\\n]|\\.){0,400}"/g, '<STR>'],
  [/(?<![\w'])'[^'\n]{0,400}'(?![\w'])/g, '<STR>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<UUID>'],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<TS>'],
  [/\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g, '<TIME>'],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g, '<IP>'],
  // IPv6 needs a '::' or a hex letter, so it cannot swallow plain "12:30" style text.
  [/(?<![\w:])(?=[0-9a-f:]*(?:::|[a-f]))(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])/gi, '<IP>'],
  [/\b0x[0-9a-f]+\b/gi, '<HEX>'],
  [/\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+\b/g, '<EMAIL>'],
  [/(?<![\w.])\d+(?:\.\d+)?(?:ns|us|\u00b5s|ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hrs?|hours?|d|days?)\b/g, '<DUR>'],
  // Long hex runs with a digit (hashes, trace ids, commit shas).
  [/\b(?=[a-f]*\d)[0-9a-f]{8,}\b/gi, '<HEX>'],
  // Mixed letter+digit tokens of 6+ characters are ids (req-a8f3k2, worker17, v2.31.4).
  [/(?<![\w<>])(?=[\w.:-]*\d)(?=[\w.:-]*[A-Za-z])[A-Za-z0-9][\w.:-]{5,}(?![\w<>])/g, (m) => (/^[\d.:-]+[a-z]{0,2}$/i.test(m) ? '<NUM>' : '<ID>')],
  [/(?<![\w<])[-+]?\d+(?:[.,]\d+)*(?![\w>])/g, '<NUM>'],
  // Digits left in short tokens (db2, s3, http2): keep the letters, so db1 and db2 group.
  [/\d+/g, '<N>'],
];

/** The masked first line of a body, cut to maxChars. */
export function maskBody(body: string, maxChars = 512): string {
  let nl = body.indexOf('\n');
  if (nl < 0) nl = body.length;
  let line = body.slice(0, Math.min(nl, maxChars)).trim();
  for (const [re, replacement] of MASKS) {
    line = typeof replacement === 'string' ? line.replace(re, replacement) : line.replace(re, replacement);
  }
  return line;
}

/** Short stable id for a template: 12 hex digits of its SHA-256. */
export function signatureId(template: string): string {
  return sha256(template, 'hex').slice(0, 12);
}

class Cluster implements Signature {
  count = 0;
  readonly examples: string[] = [];
  private cachedId: string | null = null;

  constructor(
    public tokens: string[],
    readonly order: number,
  ) {}

  get template(): string {
    return this.tokens.join(' ');
  }

  get id(): string {
    this.cachedId ??= signatureId(this.template);
    return this.cachedId;
  }

  /** Generalizes the template where the line differs. */
  merge(tokens: readonly string[]): void {
    for (let i = 0; i < this.tokens.length; i++) {
      if (this.tokens[i] !== tokens[i] && this.tokens[i] !== WILDCARD) {
        this.tokens[i] = WILDCARD;
        this.cachedId = null;
      }
    }
  }
}

/** The first-token key of the prefix tree; placeholders and digit tokens share one branch. */
function firstKey(token: string | undefined): string {
  if (token === undefined) return '';
  return token.includes('<') || /\d/.test(token) ? WILDCARD : token;
}

/**
 * Online Drain miner: add() learns, match() only looks up. Deterministic: the same lines in
 * the same order give the same signatures and ids.
 */
export class SignatureMiner {
  private readonly similarity: number;
  private readonly maxClusters: number;
  private readonly maxTokens: number;
  private readonly maxLineChars: number;
  private readonly maxExamples: number;
  /** Token count -> first token -> clusters: Drain's fixed-depth tree, depth 2. */
  private readonly tree = new Map<number, Map<string, Cluster[]>>();
  /** Masked line -> cluster: the common case (an exact repeat) costs one map lookup. */
  private readonly exact = new Map<string, Cluster>();
  private readonly all: Cluster[] = [];
  /** Lines that matched no signature after maxClusters was reached. */
  overflow = 0;
  /** Lines added, overflow included. */
  total = 0;

  constructor(options: SignatureOptions = {}) {
    this.similarity = options.similarity ?? 0.6;
    this.maxClusters = options.maxClusters ?? 512;
    this.maxTokens = options.maxTokens ?? 48;
    this.maxLineChars = options.maxLineChars ?? 512;
    this.maxExamples = options.maxExamples ?? 3;
  }

  /** Learns one body; returns its signature, or null when it went to overflow. */
  add(body: string): Signature | null {
    this.total++;
    const masked = maskBody(body, this.maxLineChars);
    const tokens = this.tokenize(masked);
    let cluster = this.exact.get(masked) ?? this.search(tokens);
    if (cluster === null) {
      if (this.all.length >= this.maxClusters) {
        this.overflow++;
        return null;
      }
      cluster = new Cluster(tokens, this.all.length);
      this.all.push(cluster);
      this.leaf(tokens, true)!.push(cluster);
    } else {
      cluster.merge(tokens);
    }
    // Bounded: the exact map holds at most a few distinct masked lines per cluster.
    if (this.exact.size < this.maxClusters * 8) this.exact.set(masked, cluster);
    cluster.count++;
    if (cluster.examples.length < this.maxExamples) {
      const first = body.split('\n', 1)[0] ?? '';
      cluster.examples.push(first.length > EXAMPLE_CHARS ? first.slice(0, EXAMPLE_CHARS) : first);
    }
    return cluster;
  }

  /** The signature a body would join, without learning from it. */
  match(body: string): Signature | null {
    const masked = maskBody(body, this.maxLineChars);
    return this.exact.get(masked) ?? this.search(this.tokenize(masked));
  }

  /** Signatures by count, descending; ties keep creation order. */
  signatures(): Signature[] {
    return [...this.all].sort((a, b) => b.count - a.count || a.order - b.order);
  }

  get size(): number {
    return this.all.length;
  }

  private tokenize(masked: string): string[] {
    const tokens = masked.split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length <= this.maxTokens) return tokens;
    // Keep the head and mark the cut, so two long lines differing only past it still group.
    return [...tokens.slice(0, this.maxTokens - 1), '<…>'];
  }

  private leaf(tokens: readonly string[], create: boolean): Cluster[] | undefined {
    let byFirst = this.tree.get(tokens.length);
    if (byFirst === undefined) {
      if (!create) return undefined;
      byFirst = new Map();
      this.tree.set(tokens.length, byFirst);
    }
    const key = firstKey(tokens[0]);
    let list = byFirst.get(key);
    if (list === undefined && create) {
      list = [];
      byFirst.set(key, list);
    }
    return list;
  }

  /** Drain's similarity search in one leaf: equal non-wildcard positions over length. */
  private search(tokens: readonly string[]): Cluster | null {
    const list = this.leaf(tokens, false);
    if (list === undefined) return null;
    let best: Cluster | null = null;
    let bestSim = -1;
    let bestWild = 0;
    for (const cluster of list) {
      let same = 0;
      let wild = 0;
      for (let i = 0; i < tokens.length; i++) {
        const t = cluster.tokens[i];
        if (t === WILDCARD) wild++;
        else if (t === tokens[i]) same++;
      }
      // An empty line matches an empty template.
      const sim = tokens.length === 0 ? 1 : same / tokens.length;
      // Wildcards do not count as similar (Drain): a template that is mostly <*> attracts
      // nothing new. Ties go to the more specific template (fewer wildcards).
      if (sim > bestSim || (sim === bestSim && wild < bestWild)) {
        best = cluster;
        bestSim = sim;
        bestWild = wild;
      }
    }
    return best !== null && bestSim >= this.similarity ? best : null;
  }
}
