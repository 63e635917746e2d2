/**
 * One-shot load of a whole file: read big chunks cut at entry boundaries, parse, index.
 * The live follower (source-follower.ts) does the same work incrementally.
 */
import { open } from 'node:fs/promises';
import type { LogFormat } from '../parse/format.js';
import type { ParseOptions } from '../parse/parsed-chunk.js';
import { lastEntryStart } from './chunk-cut.js';

export const DEFAULT_CHUNK_BYTES = 4 << 20;

export interface LoadedChunk {
  chunk: Buffer;
  byteStart: number;
  byteEnd: number;
  firstLine: number;
}

/** Yields the file's bytes as chunks of whole entries, the last one flushed at end of file. */
export async function* readEntryChunks(path: string, format: LogFormat, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncGenerator<Omit<LoadedChunk, 'firstLine'>> {
  const handle = await open(path, 'r');
  try {
    let pos = 0;
    let size = chunkBytes;
    for (;;) {
      const buf = Buffer.allocUnsafe(size);
      const { bytesRead } = await handle.read(buf, 0, size, pos);
      if (bytesRead === 0) return;
      let cut = bytesRead;
      if (bytesRead === size) {
        cut = lastEntryStart(buf, bytesRead, format);
        if (cut === 0) {
          // One entry larger than the buffer (a huge line or trace): read again, bigger.
          size *= 2;
          continue;
        }
      }
      yield { chunk: buf.subarray(0, cut), byteStart: pos, byteEnd: pos + cut };
      pos += cut;
      size = chunkBytes;
    }
  } finally {
    await handle.close();
  }
}

export type { ParseOptions };
