/**
 * The incident signature catalog: the error messages an incident bursts with, each with the
 * regex a runbook (or a test) uses to recognize it. Every message varies its numbers and ids
 * per line, as real incidents do, while always matching its pattern.
 *
 * `novel` is the "never seen before" case: a phrase of made-up words drawn from a seed, so no
 * runbook and no background line can match it. Its pattern therefore depends on that seed:
 * ask signatureSpec('novel', seed) or LogGenerator.incidents for it.
 */
import { BodyWriter, enc } from './body-writer.js';
import { Prng } from './prng.js';
import { type Template, dec1, hex, int, ip, pick, tpl, words } from './template.js';
import { REGIONS, TABLES, WRITE_METHODS, path } from './vocab.js';

export const SIGNATURE_NAMES = ['db-timeout', 'disk-full', 'oom-kill', 'upstream-5xx', 'cert-expired', 'novel'] as const;
export type SignatureName = (typeof SIGNATURE_NAMES)[number];
export type CatalogSignatureName = Exclude<SignatureName, 'novel'>;

export interface SignatureSpec {
  name: SignatureName;
  /** A short human title (a runbook title). */
  title: string;
  /** Regex source (JavaScript syntax, unanchored) that matches every body of this signature. */
  pattern: string;
  /** One rendered body. */
  example: string;
}

interface CatalogEntry {
  title: string;
  pattern: string;
  template: Template;
}

const CATALOG: Record<CatalogSignatureName, CatalogEntry> = {
  'db-timeout': {
    title: 'Database query timeouts',
    pattern: String.raw`database query exceeded \d+s threshold`,
    template: dbTimeout(),
  },
  'disk-full': {
    title: 'Disk full',
    pattern: String.raw`no space left on device`,
    template: tpl`failed to write /var/lib/app/${words('data', 'wal', 'uploads', 'tmp')}/segment-${int(100000, 999999)}.log: no space left on device (ENOSPC, free=0B on /dev/nvme${int(0, 2)}n1)`,
  },
  'oom-kill': {
    title: 'Processes killed by the OOM killer',
    pattern: String.raw`out of memory: killed process \d+`,
    template: tpl`out of memory: killed process ${int(1000, 65000)} (${words('java', 'node', 'worker', 'python3')}) total-vm:${int(4000000, 9000000)}kB, anon-rss:${int(2000000, 4000000)}kB, oom_score_adj=0`,
  },
  'upstream-5xx': {
    title: 'Upstream service returning 5xx',
    pattern: String.raw`upstream .* returned 50[234]`,
    template: tpl`upstream ${words('payments-api', 'inventory-svc', 'pricing-svc')} at ${ip}:8443 returned ${words('502', '503', '503', '504')} for ${pick(WRITE_METHODS)} ${path} after ${int(2, 30000)}ms (req=${hex(10)})`,
  },
  'cert-expired': {
    title: 'Expired TLS certificate',
    pattern: String.raw`TLS certificate for \S+ expired`,
    template: certExpired(),
  },
};

/** The elapsed time always exceeds the threshold it is reported against. */
function dbTimeout(): Template {
  const head = enc('database query exceeded ');
  const mid = tpl`s threshold on db-${int(1, 4)} (query_id=${hex(12)}, table=${pick(TABLES)}, elapsed=`;
  const ms = enc('ms)');
  return (w) => {
    const threshold = w.rng.below(4) === 0 ? 10 : 5;
    w.lit(head);
    w.uint(threshold);
    mid(w);
    w.uint(threshold * 1000 + w.rng.range(1, 9000));
    w.lit(ms);
  };
}

/** The same partner host twice in one line, so the handshake and the certificate agree. */
function certExpired(): Template {
  const a = enc('TLS handshake with api.partner-');
  const b = enc('.example.com:443 failed: TLS certificate for api.partner-');
  const rest = tpl`.example.com expired ${int(1, 720)} minutes ago (serial=${hex(16)}, region=${pick(REGIONS)})`;
  return (w) => {
    const partner = w.rng.range(1, 3);
    w.lit(a);
    w.uint(partner);
    w.lit(b);
    w.uint(partner);
    rest(w);
  };
}

const SYLLABLES = ['zor', 'vex', 'quil', 'bran', 'thu', 'mox', 'pell', 'drin', 'kaz', 'yur', 'flo', 'gret', 'nib', 'sarn', 'ulk', 'wem', 'ix', 'obb'];

function novelWord(rng: Prng): string {
  let word = '';
  const n = rng.range(2, 3);
  for (let i = 0; i < n; i++) word += rng.pick(SYLLABLES);
  return word;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The made-up phrase of a novel signature: fixed words from the seed, varying ids per line. */
function novelEntry(seed: number): CatalogEntry {
  const rng = new Prng(seed);
  const head = `${novelWord(rng)} ${novelWord(rng)} ${novelWord(rng)} on ${novelWord(rng)}-`;
  const headBytes = enc(head);
  const tail = tpl`${int(1, 64)} (ref=${hex(8)}, phase=${dec1(0, 9)})`;
  return {
    title: 'Never-seen-before error',
    pattern: escapeRegex(head) + String.raw`\d+`,
    template: (w) => {
      w.lit(headBytes);
      tail(w);
    },
  };
}

function entryFor(name: SignatureName, seed: number): CatalogEntry {
  return name === 'novel' ? novelEntry(seed) : CATALOG[name];
}

/** The body writer for a signature (the generator calls it per incident line). */
export function signatureTemplate(name: SignatureName, seed: number): Template {
  return entryFor(name, seed).template;
}

function render(template: Template, seed: number): string {
  const w = new BodyWriter(new Prng(seed));
  w.buf = new Uint8Array(1024);
  template(w);
  return Buffer.from(w.buf.buffer, 0, w.pos).toString('latin1');
}

/** Name, title, regex pattern and an example body; `seed` matters only for `novel`. */
export function signatureSpec(name: SignatureName, seed = 1): SignatureSpec {
  const entry = entryFor(name, seed);
  return { name, title: entry.title, pattern: entry.pattern, example: render(entry.template, seed) };
}

/** The fixed catalog (every signature but `novel`), e.g. to write a runbook file from. */
export const SIGNATURE_CATALOG: Readonly<Record<CatalogSignatureName, SignatureSpec>> = Object.freeze(
  Object.fromEntries(
    (Object.keys(CATALOG) as CatalogSignatureName[]).map((name) => [name, Object.freeze(signatureSpec(name))]),
  ) as Record<CatalogSignatureName, SignatureSpec>,
);

export function isSignatureName(name: string): name is SignatureName {
  return (SIGNATURE_NAMES as readonly string[]).includes(name);
}
