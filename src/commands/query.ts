/**
 * `query`: the find_nearest_log engine for a human at a terminal. Prints a table, or the
 * tool's structured JSON with --json. Reads the --source files once, in memory.
 * Writes its result to stdout on purpose: this command never speaks MCP.
 */
import { openEngine } from '../engine.js';
import type { Logger } from '../log.js';
import type { Config } from '../config.js';
import { ConfigError, QueryError, ToolInputError } from '../errors.js';
import { findNearestLog } from '../mcp/tools/find-nearest-log.js';
import { searchedNote } from '../mcp/text-filters.js';
import { unusableSource } from './ingest.js';
import { checkSources } from './preflight.js';

type Row = { distance_ms: number; timestamp: string; tag: string; source: string; line: number; body: string; truncated: boolean };

function table(rows: Row[], context: Map<Row, { before: string[]; after: string[] }>): string {
  const out: string[] = [];
  const header = ['DISTANCE', 'TIMESTAMP', 'TAG', 'SOURCE:LINE', 'BODY'];
  const cells = rows.map((r) => [
    `${r.distance_ms >= 0 ? '+' : ''}${r.distance_ms.toFixed(3)}ms`,
    r.timestamp,
    r.tag,
    `${r.source}:${r.line}`,
    r.body + (r.truncated ? ' [truncated]' : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (i === 4 ? 0 : c[i]!.length))));
  const fmt = (c: string[]): string => c.map((v, i) => (i === 4 ? v : v.padEnd(widths[i]!))).join('  ');
  out.push(fmt(header));
  rows.forEach((r, k) => {
    const ctx = context.get(r);
    for (const b of ctx?.before ?? []) out.push(`${''.padEnd(widths[0]!)}  | ${b}`);
    out.push(fmt(cells[k]!));
    for (const a of ctx?.after ?? []) out.push(`${''.padEnd(widths[0]!)}  | ${a}`);
  });
  return out.join('\n');
}

/**
 * With --source the files are read once into memory (a faster grep); without, the data dir
 * written by `serve` or `ingest` is queried.
 */
export async function query(config: Config, logger: Logger): Promise<void> {
  await checkSources(config.sources, { oneShot: true });
  const fromFiles = config.sources.length > 0;
  const engine = await openEngine({ ...config, ephemeral: config.ephemeral || fromFiles }, logger, { readOnly: !fromFiles });
  try {
    if (fromFiles) {
      await engine.ingestor.readAllOnce();
      unusableSource(engine.ingestor.statuses());
    }
    const q = config.query;
    const result = await findNearestLog(
      { store: engine.store, bodyCap: config.bodyCap },
      {
        timestamp: q.timestamp!,
        ...(q.tags === null ? {} : { tag: q.tags }),
        count: q.count,
        direction: q.direction,
        context: q.context,
        ...(q.maxDistanceMs === null ? {} : { max_distance_ms: q.maxDistanceMs }),
        ...(q.contains.length === 0 ? {} : { contains: q.contains }),
        case_sensitive: q.caseSensitive,
        ...(q.pattern === null ? {} : { pattern: q.pattern }),
        ...(Object.keys(q.fields).length === 0 ? {} : { fields: q.fields }),
      },
    ).catch((err: Error) => {
      // A bad argument for the tool (an unknown --tag) is a bad flag here: one line, exit 2.
      // The message starts with the tool's field name; say the flag's (`fields` is --field).
      if (err instanceof ToolInputError || err instanceof QueryError) throw new ConfigError(`--${flagOfField(err.message)}`);
      throw err;
    });
    const s = result.structuredContent;
    if (q.json) {
      process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      return;
    }
    const ctx = new Map<Row, { before: string[]; after: string[] }>();
    for (const e of s.entries) {
      const line = (c: { timestamp: string; tag: string; line: number; body: string }): string => `${c.timestamp} [${c.tag}] ${e.source}:${c.line} ${c.body}`;
      ctx.set(e, { before: (e.context_before ?? []).map(line), after: (e.context_after ?? []).map(line) });
    }
    const cov = s.coverage;
    process.stdout.write(
      `${s.status}: ${s.entries.length} entries nearest ${s.query.timestamp} (${s.query_us} us); ` +
        `coverage ${cov.first_timestamp ?? '-'} .. ${cov.last_timestamp ?? '-'}, ${cov.entries} entries\n` +
        (s.entries.length > 0 ? table(s.entries, ctx) + '\n' : '') +
        (s.searched === undefined ? '' : searchedNote(s.searched, s.entries.length) + '\n'),
    );
  } finally {
    await engine.close();
  }
}

/** `fields: ...` -> `field: ...`, `max_distance_ms: ...` -> `max-distance-ms: ...`. */
function flagOfField(message: string): string {
  const m = /^([a-z_]+)(.*)$/s.exec(message);
  if (m === null) return message;
  const name = m[1] === 'fields' ? 'field' : m[1]!.replace(/_/g, '-');
  return name + m[2]!;
}
