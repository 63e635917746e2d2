/**
 * The mutation catalog (tools/mutants/catalog.ts) names exact pieces of source text; code
 * that moves without its entry makes `npm run test:mutants` fail late. This checks each
 * mutation's text is still where the catalog says, as often as its occurrence needs, and
 * that its test files exist (issue 11: the catalog kept in step with moved code).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MUTATIONS } from '../../tools/mutants/catalog.js';

const ROOT = join(import.meta.dirname, '..', '..');

function occurrences(text: string, piece: string): number {
  let n = 0;
  for (let i = text.indexOf(piece); i >= 0; i = text.indexOf(piece, i + 1)) n++;
  return n;
}

describe('mutation catalog', () => {
  it('has mutations to check', () => {
    expect(MUTATIONS.length).toBeGreaterThan(20);
  });
  it.each(MUTATIONS.map((m) => [m.name, m] as const))('%s: its text is in its file', (_name, m) => {
    const path = join(ROOT, m.file);
    expect(existsSync(path), m.file).toBe(true);
    expect(occurrences(readFileSync(path, 'utf8'), m.from)).toBeGreaterThanOrEqual(m.occurrence ?? 1);
    for (const t of m.tests) expect(existsSync(join(ROOT, t)), t).toBe(true);
  });
});
