/**
 * SQL literals. ClickHouse 18.16 (Debian's) has no query parameters, so values are written
 * into the SQL text: only integers checked to be safe and strings escaped here. Nothing else
 * is ever concatenated into a statement (test/integration/clickhouse-equality.test.ts,
 * "hostile strings survive as literals").
 */

/** A string literal: backslash escapes for quote, backslash and every control byte. */
export function str(value: string): string {
  // Security: source names and tags come from flags, files and tool calls; a quote or a
  // backslash left as it is would end the literal and let the rest run as SQL.
  return "'" + value.replace(/[\\'\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === "'") return "\\'";
    return '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0');
  }) + "'";
}

/** An integer literal; anything but a safe integer is refused (never NaN, Infinity or 1e21). */
export function int(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not a safe integer for SQL: ${String(value)}`);
  return String(value);
}

/** `('a', 'b')` for IN; callers never pass an empty list (they answer without a query). */
export function strList(values: readonly string[]): string {
  if (values.length === 0) throw new Error('empty IN list');
  return '(' + values.map(str).join(', ') + ')';
}

/** A database or table name: plain identifiers only, checked once at configuration time. */
export function ident(name: string, option: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
    throw new Error(`${option} '${name.slice(0, 80)}' must be letters, digits and _ (starting with a letter or _), at most 64`);
  }
  return name;
}
