/**
 * An esbuild plugin that makes chosen imports lazy: the importing module gets a small stand-in
 * whose exports load the real module (a require() inside the bundle, so it still ships in
 * main.js) on their first call. esbuild evaluates every statically imported module of the
 * bundle when its importer is evaluated; these are imported on the start-up path but used
 * only on rarer ones.
 *
 * Only exports that are functions or classes called with `new` can stand in this way (a
 * constant would have to be read at import); a stand-in that lacks a name an importer asks
 * for fails the build ("No matching export"), so a new import of another name is caught.
 */
import type { Plugin } from 'esbuild';

export interface LazyModule {
  /** The import specifier, exactly as the importer writes it. */
  specifier: string;
  /** Only imports from files whose path matches (default: every importer). */
  importer?: RegExp;
  /** The exports the stand-in offers: called (function) or constructed (class). */
  functions?: string[];
  classes?: string[];
  /** Why it is lazy, with the measurement (read by the reviewer, not the build). */
  why: string;
}

/**
 * What a stdio session's start-up does not need (issue 12), from CPU profiles and V8 coverage
 * of `serve --ephemeral` to the first find_nearest_log answer on the 2-core VM.
 */
export const LAZY_MODULES: LazyModule[] = [
  {
    specifier: '../validation/ajv-provider.js',
    importer: /@modelcontextprotocol[\\/]sdk[\\/]dist[\\/]esm[\\/](server|client)[\\/]index\.js$/,
    classes: ['AjvJsonSchemaValidator'],
    why: "the SDK's Server imports Ajv and ajv-formats for elicitation answers, which these tools never ask for: 73 functions of ajv ran at every start",
  },
  {
    specifier: '@modelcontextprotocol/sdk/validation/ajv',
    classes: ['AjvJsonSchemaValidator'],
    why: "src/mcp/server.ts's LazyAjvValidator builds it on first use; the import alone evaluated Ajv",
  },
  {
    specifier: 'yaml',
    functions: ['parse'],
    why: 'YAML is read only for a --config or --runbooks file: 72 functions of yaml ran at every start',
  },
  {
    specifier: 'zod/v3',
    importer: /@modelcontextprotocol[\\/]sdk[\\/]dist[\\/]esm[\\/]server[\\/]zod-compat\.js$/,
    functions: ['object'],
    why: "the SDK's zod 3 compatibility (these tools' schemas are zod 4): zod 3's classes were built at every start",
  },
  {
    specifier: 'zod-to-json-schema',
    importer: /@modelcontextprotocol[\\/]sdk[\\/]dist[\\/]esm[\\/]server[\\/]zod-json-schema-compat\.js$/,
    functions: ['zodToJsonSchema'],
    why: 'converts zod 3 schemas only (zod 4 has its own toJSONSchema); 39 functions ran at every start',
  },
];

const NAMESPACE = 'ltm-lazy';
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The stand-in's source: each export loads the real module (`real`, an absolute path) once. */
export function standIn(real: string, m: Pick<LazyModule, 'functions' | 'classes'>): string {
  const lines = [`let real;`, `const load = () => (real ??= require(${JSON.stringify(real)}));`];
  for (const f of m.functions ?? []) lines.push(`export function ${f}(...args) { return load().${f}(...args); }`);
  for (const c of m.classes ?? []) lines.push(`export class ${c} { constructor(...args) { return new (load().${c})(...args); } }`);
  return lines.join('\n') + '\n';
}

export function lazyModules(list: LazyModule[] = LAZY_MODULES): Plugin {
  return {
    name: 'lazy-modules',
    setup(b) {
      for (const m of list) {
        b.onResolve({ filter: new RegExp(`^${escape(m.specifier)}$`) }, async (args) => {
          // The stand-in's own require of the real file, and the resolution below.
          if (args.namespace === NAMESPACE || args.pluginData === NAMESPACE) return undefined;
          if (m.importer !== undefined && !m.importer.test(args.importer)) return undefined;
          const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: NAMESPACE });
          if (real.errors.length > 0) return { errors: real.errors };
          return { path: real.path, namespace: NAMESPACE, pluginData: m };
        });
      }
      b.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({ contents: standIn(args.path, args.pluginData as LazyModule), loader: 'js', resolveDir: '/' }));
    },
  };
}
