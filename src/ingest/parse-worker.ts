/**
 * Worker entry of the parse pool. Imports nothing from the server: only the pure parsers.
 * Input: a raw chunk in a SharedArrayBuffer (no copy either way); output: the columns packed
 * into one ArrayBuffer that is moved, not cloned, back to the main thread. No text filters:
 * they are built after ingestion (src/index/filter-backfill.ts).
 */
import { move } from 'piscina';
import { resolveFormat } from '../parse/formats.js';
import type { ParseOptions } from '../parse/parsed-chunk.js';
import { encodeParsedChunk } from './column-codec.js';

export interface ParseTask {
  buffer: SharedArrayBuffer;
  byteOffset: number;
  length: number;
  format: string;
  options: ParseOptions;
}

export default function parseTask(task: ParseTask): ArrayBuffer {
  const format = resolveFormat(task.format, task.options);
  if (format === undefined) throw new Error(`unknown format ${task.format}`);
  const chunk = Buffer.from(task.buffer, task.byteOffset, task.length);
  // Views: the columns are copied once, into the buffer that moves to the main thread.
  return move(encodeParsedChunk(format.parseChunk(chunk, task.options, true))) as ArrayBuffer;
}
