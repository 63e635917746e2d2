/**
 * Fields of a structured body: a JSON object (JSON formats keep the whole record as the body),
 * or key=value pairs (logfmt, and the `user=u-1 req=25797259` pairs of text bodies). What
 * `fields` searches and `related_log` reads request and trace ids from.
 *
 *   {"msg":"x","http":{"status":503}}   -> msg=x, http.status=503 (and status=503)
 *   level=info msg="a b" request_id=4f2a -> level=info, msg=a b, request_id=4f2a
 *   GET /x 200 user=u-1 req=25797259     -> user=u-1, req=25797259
 *
 * A nested JSON member is found by its dotted path and by its own name. Values are compared
 * as text: numbers and booleans by their JSON spelling, null as "null". Untrusted input: the
 * JSON parse is bounded by the body cap of the search (64 KiB) and never throws out of here.
 */

export interface FieldValue {
  key: string;
  value: string;
  /** Character offsets of the value in the body string (for highlights). */
  start: number;
  end: number;
}

const KV = /(?:^|[\s,;|(\[{])([A-Za-z_@][\w.@-]*)[=:](?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s,;"')\]}]+))/g;

/** Every field of the body, in body order (JSON members depth first). */
export function extractFields(body: string): FieldValue[] {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) {
    const json = jsonFields(body);
    if (json !== null) return json;
  }
  return kvFields(body);
}

function kvFields(body: string): FieldValue[] {
  const out: FieldValue[] = [];
  KV.lastIndex = 0;
  for (let m = KV.exec(body); m !== null; m = KV.exec(body)) {
    const key = m[1]!;
    const raw = m[2] ?? m[3] ?? m[4] ?? '';
    const end = m.index + m[0].length - (m[2] !== undefined || m[3] !== undefined ? 1 : 0);
    const start = end - raw.length;
    const value = m[2] !== undefined ? raw.replace(/\\(.)/g, '$1') : raw;
    out.push({ key, value, start, end });
  }
  return out;
}

function jsonFields(body: string): FieldValue[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const out: FieldValue[] = [];
  const walk = (obj: Record<string, unknown>, prefix: string, depth: number): void => {
    for (const [key, v] of Object.entries(obj)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (v !== null && typeof v === 'object') {
        if (!Array.isArray(v) && depth < 8) walk(v as Record<string, unknown>, path, depth + 1);
        continue;
      }
      const value = v === null ? 'null' : String(v);
      const at = locateValue(body, key, value);
      out.push({ key: path, value, ...at });
      if (path !== key) out.push({ key, value, ...at });
    }
  };
  walk(parsed as Record<string, unknown>, '', 0);
  return out;
}

/** Where a member's value sits in the JSON text (best effort: the first `"key":` then the value). */
function locateValue(body: string, key: string, value: string): { start: number; end: number } {
  const k = body.indexOf(`"${key}"`);
  if (k < 0) return { start: -1, end: -1 };
  const v = body.indexOf(value, k + key.length + 2);
  return v < 0 ? { start: -1, end: -1 } : { start: v, end: v + value.length };
}

/** The trace id and the span id of a W3C traceparent value (`00-<32 hex>-<16 hex>-<2 hex>`). */
export function parseTraceparent(value: string): { traceId: string; spanId: string } | null {
  const m = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}/i.exec(value.trim());
  return m === null ? null : { traceId: m[1]!.toLowerCase(), spanId: m[2]!.toLowerCase() };
}
