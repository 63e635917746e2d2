/**
 * Packs a ParsedChunk into one ArrayBuffer and back, so a worker can hand its result to the
 * main thread as a single transferred buffer (piscina moves only a top-level transferable).
 *
 *   u32 json length | json {count, lines, errors, errorSamples, customTags, customTagAt}
 *   pad to 8 | ts f64[n] | line u32[n] | bodyStart u32[n] | bodyEnd u32[n] | meta u8[n]
 *   pad to 4 | filters u32[filterWords]   (json.filterWords, 0 when the chunk has none)
 */
import type { ParsedChunk } from '../parse/parsed-chunk.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeParsedChunk(p: ParsedChunk): ArrayBuffer {
  const json = encoder.encode(
    JSON.stringify({
      count: p.count, lines: p.lines, errors: p.errors, errorSamples: p.errorSamples, customTags: p.customTags, customTagAt: p.customTagAt,
      filterWords: p.filters?.length ?? 0,
    }),
  );
  const head = (4 + json.length + 7) & ~7;
  const n = p.count;
  const filterAt = (head + n * 21 + 3) & ~3;
  const buf = new ArrayBuffer(filterAt + 4 * (p.filters?.length ?? 0));
  new DataView(buf).setUint32(0, json.length, true);
  new Uint8Array(buf, 4, json.length).set(json);
  new Float64Array(buf, head, n).set(p.ts);
  new Uint32Array(buf, head + 8 * n, n).set(p.line);
  new Uint32Array(buf, head + 12 * n, n).set(p.bodyStart);
  new Uint32Array(buf, head + 16 * n, n).set(p.bodyEnd);
  new Uint8Array(buf, head + 20 * n, n).set(p.meta);
  if (p.filters !== undefined) new Uint32Array(buf, filterAt, p.filters.length).set(p.filters);
  return buf;
}

export function decodeParsedChunk(buf: ArrayBuffer): ParsedChunk {
  const jsonLength = new DataView(buf).getUint32(0, true);
  const { filterWords, ...meta } = JSON.parse(decoder.decode(new Uint8Array(buf, 4, jsonLength))) as Omit<ParsedChunk, 'ts' | 'line' | 'bodyStart' | 'bodyEnd' | 'meta'> & { filterWords: number };
  const head = (4 + jsonLength + 7) & ~7;
  const n = meta.count;
  return {
    ...meta,
    ...(filterWords > 0 ? { filters: new Uint32Array(buf, (head + n * 21 + 3) & ~3, filterWords) } : {}),
    ts: new Float64Array(buf, head, n),
    line: new Uint32Array(buf, head + 8 * n, n),
    bodyStart: new Uint32Array(buf, head + 12 * n, n),
    bodyEnd: new Uint32Array(buf, head + 16 * n, n),
    meta: new Uint8Array(buf, head + 20 * n, n),
  };
}
