/**
 * Reading entries back: the columns every entry query selects and how a row becomes an
 * EntryView. Bodies come back as hex of their first bodyCap + 4 bytes, so they are decoded
 * and capped exactly as the embedded store does (decodeCapped on the same bytes), never
 * re-encoded on the way.
 */
import { decodeCapped } from '../../text/index.js';
import type { EntryView } from '../store.js';
import { int } from './sql.js';

export interface EntryRow {
  source: string;
  ts: number;
  seq: number;
  line: number;
  tag: string;
  precision: number;
  /** Hex of the body's first bodyCap + 4 bytes. */
  bhex: string;
  len: number;
}

/** The select list for entry rows with bodies capped at bodyCap (+4 to tell a cut). */
export function entryColumns(bodyCap: number): string {
  // Aliases never shadow a column: ClickHouse resolves a name to the alias everywhere in the
  // statement (`hex(...) AS body` made length(body) measure the hex).
  return `source, ts, seq, line, tag, precision, hex(substring(body, 1, ${int(bodyCap + 4)})) AS bhex, length(body) AS len`;
}

export function viewOf(row: EntryRow, bodyCap: number): EntryView {
  const bytes = Buffer.from(row.bhex, 'hex');
  const decoded = decodeCapped(bytes, bodyCap);
  return {
    ts: row.ts,
    precision: row.precision,
    tag: row.tag,
    body: decoded.text,
    truncated: decoded.cut || row.len > bytes.length,
    source: row.source,
    line: row.line,
  };
}

/** Order of entries within one source: (ts, line, seq). */
export function compareInSource(a: EntryRow, b: EntryRow): number {
  return a.ts - b.ts || a.line - b.line || a.seq - b.seq;
}
