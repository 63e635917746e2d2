/**
 * Every arrow between the rooms of src/ runs one way (issue 11): no folder imports from a
 * folder that imports from it, directly or around a longer loop. A room is a folder under
 * src/ (parse, ingest, index, wal, store, text, triage, trace, mcp, commands, ...) or one
 * file at the top of src/ (cli, engine, errors, log, ...; config.ts and config/ are one room).
 * Type-only imports count: they tie the rooms' designs together just the same.
 *
 * The imports are read from the source text (static `import`/`export ... from` and dynamic
 * `import('...')`), so the check needs no build.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');
/** Browser code with its own build; it imports nothing from the server. */
const SEPARATE = new Set(['view']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name) ? [path] : [];
  });
}

/** The room a file under src/ belongs to. */
export function roomOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  const top = parts.length === 1 ? parts[0]!.replace(/\.ts$/, '') : parts[0]!;
  return top;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

/** Relative import specifiers of a file, comments left out. */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"\\])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of code.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith('.')) out.push(spec);
  }
  return out;
}

/** Room -> room -> one example import (file and specifier), for every arrow between rooms. */
function roomGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    const from = roomOf(file);
    if (SEPARATE.has(from)) continue;
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec);
      if (relative(SRC, target).startsWith('..')) continue;
      const to = roomOf(target.replace(/\.js$/, '.ts'));
      if (to === from) continue;
      let edges = graph.get(from);
      if (edges === undefined) graph.set(from, (edges = new Map()));
      if (!edges.has(to)) edges.set(to, `${relative(SRC, file)} imports '${spec}'`);
    }
  }
  return graph;
}

/** Strongly connected components with more than one room (Tarjan). */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const nodes = new Set([...graph.keys(), ...[...graph.values()].flatMap((e) => [...e.keys()])]);
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...nodes].sort()) if (!index.has(v)) visit(v);
  return found;
}

/**
 * Arrows known to run the wrong way, each to be removed: the check fails when one of them
 * is gone from the code (so this list only shrinks) as it does for any new loop.
 */
const KNOWN_WRONG_WAY: readonly (readonly [string, string])[] = [];

describe('layering of src/', () => {
  it('reads imports of every kind, and not those in comments', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b/index.js';",
      "export { c } from './c.js';",
      "export * from '../d/d.js';",
      'import {',
      '  e,',
      "} from '../e/e.js';",
      "const f = await import('../f/f.js');",
      "// import { g } from '../g/g.js';",
      "/* import { h } from '../h/h.js'; */",
      "import { z } from 'zod';",
    ].join('\n');
    expect(importsOf(text)).toEqual(['./a.js', '../b/index.js', './c.js', '../d/d.js', '../e/e.js', '../f/f.js']);
  });

  it('finds a loop when there is one', () => {
    const graph = new Map([
      ['a', new Map([['b', 'x']])],
      ['b', new Map([['c', 'x']])],
      ['c', new Map([['a', 'x']])],
      ['d', new Map([['a', 'x']])],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c']]);
  });

  it('has rooms and arrows to check', () => {
    const graph = roomGraph();
    for (const room of ['parse', 'ingest', 'index', 'wal', 'store', 'triage', 'mcp']) expect(graph.has(room), room).toBe(true);
  });

  it('still has each arrow listed as known to run the wrong way (remove it from the list once fixed)', () => {
    const graph = roomGraph();
    for (const [from, to] of KNOWN_WRONG_WAY) expect(graph.get(from)?.has(to), `${from} -> ${to}`).toBe(true);
  });

  it('keeps the neutral rooms at the bottom: model and errors import no other room', () => {
    const graph = roomGraph();
    expect([...(graph.get('model')?.keys() ?? [])]).toEqual([]);
    expect([...(graph.get('errors')?.keys() ?? [])]).toEqual([]);
  });

  it('has no arrow running both ways, directly or around a loop', () => {
    const graph = roomGraph();
    for (const [from, to] of KNOWN_WRONG_WAY) graph.get(from)?.delete(to);
    const loops = cycles(graph).map((rooms) => {
      const inside = new Set(rooms);
      const arrows = rooms.flatMap((from) => [...(graph.get(from) ?? [])].filter(([to]) => inside.has(to)).map(([to, why]) => `  ${from} -> ${to}: ${why}`));
      return `${rooms.join(', ')}\n${arrows.join('\n')}`;
    });
    expect(loops, `rooms importing each other:\n${loops.join('\n')}`).toEqual([]);
  });
});
