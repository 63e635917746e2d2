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
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
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

/**
 * Each folder's index.ts is its way in: an import from another room names that room's
 * index.ts (or the index.ts of a folder inside it, such as store/durable/ or mcp/transports/).
 * Rooms that are one file at the top of src/ (config, errors, engine, ...) are their own door.
 * The exceptions below skip a door on purpose, each for the reason given; the check fails on
 * any other import that skips one, and on an exception no longer used (so this list only
 * shrinks). Paths are relative to src/, without the extension.
 */
export const DOOR_EXCEPTIONS: readonly { from: string; to: string; why: string }[] = [
  ...['demo', 'ingest', 'query', 'serve', 'status'].map((c) => ({
    from: 'cli',
    to: `commands/${c}`,
    why: 'cli.ts loads the one command it runs with import(); a door would load all five (and their rooms) at every start',
  })),
  {
    from: 'commands/query',
    to: 'mcp/tools/find-nearest-log',
    why: 'the one-shot query command runs one tool function; the mcp door would also load the server and the MCP SDK',
  },
  { from: 'commands/query', to: 'mcp/text-filters', why: 'as above: one helper of the tool, without the server and the SDK' },
  { from: 'commands/status', to: 'mcp/tools/tail-status', why: 'as for query: the status command renders one tool\'s text, without the server and the SDK' },
  {
    from: 'commands/serve',
    to: 'mcp/stdio-transport',
    why: 'loaded with import() only for --transport stdio; the http transports never load it',
  },
  {
    from: 'commands/serve',
    to: 'store/durable/checkpoint-prefetch',
    why: 'starts reading the newest checkpoint before anything else loads; it imports only node:fs, the durable door the whole store',
  },
  { from: 'commands/serve', to: 'store/durable/data-dir', why: 'the paths the prefetch reads, on the same early path (imports only node:path and node:fs)' },
  {
    from: 'commands/serve',
    to: 'store/traced-store',
    why: 'loaded with import() only when OTEL_* turns tracing on; kept out of the store door for that reason',
  },
  ...['mcp/prompts', 'mcp/tools/triage-confidence-schema'].map((from) => ({
    from,
    to: 'triage/limits',
    why: 'three constants every server start needs (the tool schema, the prompt); the triage door would evaluate all of triage, loaded on the first triage_confidence call instead',
  })),
  {
    from: 'config',
    to: 'index/text-scan',
    why: 'config is read at every start, --help and --version included; the index door would evaluate the whole index room for one constant',
  },
  ...['parse/formats', 'parse/parsed-chunk'].map((to) => ({
    from: 'ingest/parse-worker',
    to,
    why: 'the piscina worker entry stays light and imports only the pure parsers (STYLE.md habit 9; dist/bundle/parse-worker.js)',
  })),
  { from: 'ingest/column-codec', to: 'parse/parsed-chunk', why: 'on the parse worker\'s import path (as parse-worker.ts)' },
  {
    from: 'parse/custom-format',
    to: 'text/safe-regex',
    why: 'on the parse worker\'s import path (formats.ts loads it): through the text door the worker bundle grew by 310 bytes of re-exports',
  },
];

/** Imports from another room that do not name an index.ts, as `from -> to` (src/-relative, no extension). */
export function doorsSkipped(files: readonly { file: string; imports: readonly string[] }[]): string[] {
  const out: string[] = [];
  for (const { file, imports } of files) {
    const from = roomOf(file);
    if (SEPARATE.has(from)) continue;
    for (const spec of imports) {
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      const rel = relative(SRC, target);
      if (rel.startsWith('..')) continue;
      const to = roomOf(target);
      if (to === from || rel.split(sep).length === 1) continue;
      if (basename(target) === 'index.ts') continue;
      out.push(`${relative(SRC, file).replace(/\.ts$/, '')} -> ${rel.replace(/\.ts$/, '')}`.split(sep).join('/'));
    }
  }
  return [...new Set(out)].sort();
}

function srcImports(): { file: string; imports: string[] }[] {
  return sourceFiles(SRC).map((file) => ({ file, imports: importsOf(readFileSync(file, 'utf8')) }));
}

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
  it('finds an import that skips a door, and not one through a door or inside a room', () => {
    const at = (p: string): string => join(SRC, p);
    const skipped = doorsSkipped([
      { file: at('mcp/tools/a.ts'), imports: ['../../store/store.js', '../../store/index.js', '../../store/durable/index.js', '../schemas.js', '../../errors.js'] },
      { file: at('engine.ts'), imports: ['./ingest/parse-pool.js', './ingest/index.js', './config.js'] },
    ]);
    expect(skipped).toEqual(['engine -> ingest/parse-pool', 'mcp/tools/a -> store/store']);
  });

  it('goes through each room\'s index.ts from another room, but for the exceptions listed with their reasons', () => {
    const allowed = new Set(DOOR_EXCEPTIONS.map((e) => `${e.from} -> ${e.to}`));
    const skipped = doorsSkipped(srcImports());
    expect(skipped.length, 'imports to check').toBeGreaterThan(0);
    const unexplained = skipped.filter((s) => !allowed.has(s));
    expect(unexplained, `imports that skip a room's index.ts (go through it, or list the exception and why):\n${unexplained.join('\n')}`).toEqual([]);
    const unused = [...allowed].filter((a) => !skipped.includes(a));
    expect(unused, 'exceptions no longer used (remove them)').toEqual([]);
    for (const e of DOOR_EXCEPTIONS) expect(e.why.length, `${e.from} -> ${e.to}`).toBeGreaterThan(20);
  });

  it('has a door in every room that is a folder', () => {
    const rooms = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory() && !SEPARATE.has(e.name)).map((e) => e.name);
    const doorless = rooms.filter((r) => !existsSync(join(SRC, r, 'index.ts')));
    expect(doorless, 'rooms without an index.ts (commands is reached only by cli.ts, one command at a time)').toEqual(['commands', 'config']);
  });
});
