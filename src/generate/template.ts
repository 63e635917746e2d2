/**
 * A tiny template language for log bodies: a tagged template literal whose literal parts are
 * encoded to bytes once and whose `${...}` slots are field writers, e.g.
 *
 *   tpl`cache hit key=${pick(CACHE_KEYS)}${int(1000, 99999)} ttl=${int(1, 3600)}s`
 *
 * Rendering is a loop over pre-encoded parts: no strings, no allocation per line.
 */
import { type BodyWriter, enc, encAll } from './body-writer.js';

/** Writes one variable part of a body. */
export type Field = (w: BodyWriter) => void;
/** Writes a whole body (no newline). */
export type Template = (w: BodyWriter) => void;

export function tpl(strings: TemplateStringsArray, ...fields: Field[]): Template {
  // Literal i precedes field i; the last literal follows the last field. Two arrays of one
  // type each instead of one mixed array: no per-part type test (A/B: same speed, simpler).
  const lits = strings.map(enc);
  const n = fields.length;
  const last = lits[n]!;
  return (w) => {
    for (let i = 0; i < n; i++) {
      w.lit(lits[i]!);
      fields[i]!(w);
    }
    w.lit(last);
  };
}

export const int = (lo: number, hi: number): Field => (w) => w.int(lo, hi);
export const dec1 = (lo: number, hi: number): Field => (w) => w.dec1(lo, hi);
export const skewed = (max: number): Field => (w) => w.skewed(max);
export const hex = (digits: number): Field => (w) => w.hex(digits);
export const uuid: Field = (w) => w.uuid();
export const ip: Field = (w) => w.ip();
export const pick = (list: readonly Uint8Array[]): Field => (w) => w.pick(list);
export const words = (...list: string[]): Field => pick(encAll(list));
/** One of several fields (or sub-templates), uniformly. */
export const oneOf = (...fields: Field[]): Field => (w) => fields[w.rng.below(fields.length)]!(w);
