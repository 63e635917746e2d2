/**
 * EntryReader's catch-up reads: the next read starts before the current chunk is handed on
 * (read ahead), and whatever path a read takes, the chunks handed out are the file's bytes in
 * order, cut before entry starts, at most chunkBytes each while entries are small.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryReader, MTIME_TRUST_MS } from '../../src/ingest/entry-reader.js';
import type { ByteSource } from '../../src/ingest/file-bytes.js';
import { FormatSlot } from '../../src/ingest/file-format.js';
import { LineLimiter } from '../../src/ingest/long-lines.js';
import { resolveFormat } from '../../src/parse/index.js';

const FORMAT = resolveFormat('iso-bracket')!;

/** A plain file in memory; reads settle some turns later, as real ones do, and are logged. */
class MemorySource implements ByteSource {
  readonly gzip = false;
  mtimeMs = 0;
  readonly identity = { dev: 1, ino: 1 };
  /** Offsets of the reads of file content started so far (head checks left out). */
  readonly started: number[] = [];
  constructor(readonly bytes: Buffer) {}
  async size(): Promise<number> {
    return this.bytes.length;
  }
  async read(buf: Buffer, off: number, len: number, pos: number): Promise<number> {
    if (len > 256) this.started.push(pos);
    // A content read settles some turns after the head checks started after it, as a read of
    // megabytes does: a read ahead is still writing into its buffer while the reader goes on
    // (and copies the held tail in front of it).
    for (let turn = len > 256 ? 10 : 1; turn > 0; turn--) await new Promise((resolve) => setImmediate(resolve));
    return this.bytes.copy(buf, off, pos, Math.min(pos + len, this.bytes.length));
  }
  async readHead(buf: Buffer, len: number): Promise<number> {
    return this.bytes.copy(buf, 0, 0, len);
  }
  async close(): Promise<void> {}
}

/** A body of about `bytes` bytes, no stretch of it like another (a misplaced copy shows). */
function words(prefix: string, bytes: number): string {
  return Array.from({ length: Math.ceil(bytes / 8) }, (_, k) => `${prefix}${k.toString(36).padStart(6, '0')}`).join(' ');
}

function logText(bodies: string[]): Buffer {
  return Buffer.from(bodies.map((b, i) => `2024-01-15T10:30:${String(i % 60).padStart(2, '0')}.000Z [INFO] ${b}\n`).join(''));
}

interface Handed {
  chunk: Buffer;
  byteStart: number;
  byteEnd: number;
  /** The furthest offset a read had been started at when the chunk was handed on. */
  furthestRead: number;
}

function reader(src: MemorySource, chunkBytes: number, handed: Handed[]): EntryReader {
  return new EntryReader(src, 0, { len: 0, crc: 0 }, {
    chunkBytes,
    allocChunk: (n) => Buffer.alloc(n),
    format: new FormatSlot(FORMAT, () => undefined),
    lines: new LineLimiter(1 << 20),
    emit: async (chunk, byteStart, byteEnd) => {
      handed.push({ chunk: Buffer.from(chunk), byteStart, byteEnd, furthestRead: Math.max(...src.started) });
    },
  });
}

describe('EntryReader catch-up', () => {
  it('starts the next read before handing a chunk on', async () => {
    const src = new MemorySource(logText(Array.from({ length: 30_000 }, (_, i) => `entry number ${i}`)));
    const handed: Handed[] = [];
    const r = reader(src, 128 * 1024, handed);
    await r.readAvailable();
    expect(handed.length).toBeGreaterThan(5);
    // Every chunk but the last one or two (nothing left to read ahead) was handed on after the
    // read of the bytes after it had started (one read at a time: all reads end before it).
    for (const h of handed.slice(0, -2)) expect(h.furthestRead).toBeGreaterThanOrEqual(h.byteEnd);
    expect(Buffer.concat(handed.map((h) => h.chunk)).equals(src.bytes.subarray(0, r.position))).toBe(true);
  });

  it('hands out the file in order, cut before entries, whatever the entry sizes (read ahead or not)', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Room for the held tail is chunkBytes / 16 (8 or 16 KiB here): the 100 KB entry does not
        // fit it (the read ahead is dropped), the others do.
        fc.array(
          fc.oneof(
            { weight: 20, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
            { weight: 4, arbitrary: fc.constantFrom(words('x', 3000), `trace\n${Array.from({ length: 400 }, (_, k) => `  at frame ${k}`).join('\n')}\nend`) },
            { weight: 1, arbitrary: fc.constant(words('z', 100_000)) },
          ),
          { minLength: 1, maxLength: 600, size: 'max' },
        ),
        fc.constantFrom(128 * 1024, 256 * 1024),
        async (raw, chunkBytes) => {
          // One-line bodies have no line breaks; the stack trace keeps its continuation lines.
          const bodies = raw.map((b) => (b.startsWith('trace\n') ? b : `b${b.replace(/[\r\n]/g, ' ')}`));
          const src = new MemorySource(logText(bodies));
          const handed: Handed[] = [];
          const r = reader(src, chunkBytes, handed);
          await r.readAvailable();
          await r.flushHeld(true, 0);
          expect(Buffer.concat(handed.map((h) => h.chunk)).equals(src.bytes)).toBe(true);
          let at = 0;
          for (const h of handed) {
            expect(h.byteStart).toBe(at);
            expect(h.byteEnd - h.byteStart).toBe(h.chunk.length);
            at = h.byteEnd;
            // Each chunk starts an entry (the next one's first byte is an entry start).
            expect(FORMAT.isEntryStart(src.bytes, h.byteStart, src.bytes.length)).toBe(true);
          }
          // Small entries: no chunk is bigger than asked for.
          if (bodies.every((b) => b.length < 4000)) for (const h of handed) expect(h.chunk.length).toBeLessThanOrEqual(chunkBytes);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('does not use bytes read ahead from a file it no longer reads (copytruncate: the copy replaces it)', async () => {
    const old = logText(Array.from({ length: 20_000 }, (_, i) => `old ${i}`));
    // The copy holds the same bytes as far as the first chunk and its held tail go, other bytes
    // (same length) after: those a stale read ahead of the old file would hand out.
    const copy = Buffer.concat([old.subarray(0, 200_000), Buffer.from(old.subarray(200_000).toString().replaceAll('old', 'new'))]);
    const src = new MemorySource(old);
    const handed: Handed[] = [];
    const r = reader(src, 128 * 1024, handed);
    let swapped = false;
    const emit = handed.push.bind(handed);
    handed.push = (...items: Handed[]): number => {
      // After the first chunk (a read ahead of the old file is in flight), the follower moves
      // the reader to the copy, as rotation.ts does on a copytruncate.
      if (!swapped) {
        swapped = true;
        r.src = new MemorySource(copy);
      }
      return emit(...items);
    };
    await r.readAvailable();
    await r.flushHeld(true, 0);
    const rest = Buffer.concat(handed.slice(1).map((h) => h.chunk));
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.equals(copy.subarray(handed[0]!.byteEnd))).toBe(true);
  });
});

describe('EntryReader: when the bytes read were written', () => {
  const text = logText(['first', 'second', 'third']);
  const readAt = async (mtimeMs: number): Promise<{ lastGrowthAt: number; before: number; after: number }> => {
    const src = new MemorySource(text);
    src.mtimeMs = mtimeMs;
    const r = reader(src, 128 * 1024, []);
    const before = Date.now();
    await r.readAvailable();
    return { lastGrowthAt: r.lastGrowthAt, before, after: Date.now() };
  };

  it('is the file modification time when that is old: the follower may hand the held last entry out at once', async () => {
    const mtime = Date.now() - 3_600_000;
    expect((await readAt(mtime)).lastGrowthAt).toBe(mtime);
  });

  it('is the time of the read when the modification time is recent (whole-second filesystems), in the future, or unknown', async () => {
    for (const mtime of [Date.now() - MTIME_TRUST_MS / 2, Date.now() + 3_600_000, 0]) {
      const { lastGrowthAt, before, after } = await readAt(mtime);
      expect(lastGrowthAt, `mtime ${mtime}`).toBeGreaterThanOrEqual(before);
      expect(lastGrowthAt, `mtime ${mtime}`).toBeLessThanOrEqual(after);
    }
  });
});
