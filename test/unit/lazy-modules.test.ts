/**
 * tools/build/lazy-modules.ts: a module behind a stand-in is evaluated at its first call, not
 * when its importer is; calls and `new` reach the real exports; the build fails when an
 * importer asks for a name the stand-in does not offer. test/integration/startup-modules.test.ts
 * checks the real list on the shipped bundle.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { LAZY_MODULES, lazyModules, type LazyModule } from '../../tools/build/lazy-modules.js';

const dir = mkdtempSync(join(tmpdir(), 'ltm-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A module that records its evaluation, with a function and a class.
writeFileSync(
  join(dir, 'heavy.mjs'),
  ['globalThis.__ltmHeavy = (globalThis.__ltmHeavy ?? 0) + 1;', 'export function double(x) { return 2 * x; }', 'export class Box { constructor(v) { this.v = v; } get() { return this.v; } }'].join('\n'),
);
const LIST: LazyModule[] = [{ specifier: './heavy.mjs', importer: /entry\.mjs$/, functions: ['double'], classes: ['Box'], why: 'test' }];

async function bundleOf(entry: string, list: LazyModule[]): Promise<string> {
  writeFileSync(join(dir, 'entry.mjs'), entry);
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.cjs`);
  await build({ entryPoints: [join(dir, 'entry.mjs')], outfile: out, bundle: true, format: 'cjs', platform: 'node', logLevel: 'silent', plugins: [lazyModules(list)] });
  return out;
}

describe('lazy-modules', () => {
  it('evaluates the module at the first call, once; calls and new reach the real exports', async () => {
    const out = await bundleOf(
      [
        "import { double, Box } from './heavy.mjs';",
        'export const before = () => globalThis.__ltmHeavy ?? 0;',
        'export function use() { const b = new Box(21); return [double(b.get()), b.constructor.name, globalThis.__ltmHeavy]; }',
      ].join('\n'),
      LIST,
    );
    delete (globalThis as { __ltmHeavy?: number }).__ltmHeavy;
    const mod = createRequire(import.meta.url)(out) as { before(): number; use(): [number, string, number] };
    expect(mod.before()).toBe(0);
    expect(mod.use()).toEqual([42, 'Box', 1]);
    expect(mod.use()[2]).toBe(1);
  });

  it('leaves imports from other files alone', async () => {
    const out = await bundleOf("import { double } from './heavy.mjs';\nexport const n = globalThis.__ltmHeavy;\nexport const d = double;", [{ ...LIST[0]!, importer: /elsewhere\.mjs$/ }]);
    delete (globalThis as { __ltmHeavy?: number }).__ltmHeavy;
    expect((createRequire(import.meta.url)(out) as { n: number }).n).toBe(1);
  });

  it('fails the build when an importer asks for a name the stand-in lacks', async () => {
    await expect(bundleOf("import { double, triple } from './heavy.mjs';\nexport { double, triple };", LIST)).rejects.toThrow(/triple/);
  });

  it('every entry of the real list offers something and says why', () => {
    for (const m of LAZY_MODULES) {
      expect((m.functions ?? []).length + (m.classes ?? []).length, m.specifier).toBeGreaterThan(0);
      expect(m.why.length, m.specifier).toBeGreaterThan(20);
    }
  });
});
