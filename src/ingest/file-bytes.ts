/**
 * The bytes of one log file, plain or gzip-compressed (a rotated file logrotate's `compress`
 * turned into `.gz`), read at known offsets, and the head CRC that identifies a file's content
 * (FORMAT.md, "File entries").
 *
 * A gzip file can only be read forward: it is decompressed as a stream, bytes before the
 * first read are skipped, and its size is unknown until the stream ends. Rotated files do not
 * grow once compressed, so that is all a follower needs.
 */
import { constants, createReadStream, type ReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import type { FileIdentity } from './batch.js';

/** Bytes of a file's start that identify it (its first line or two). */
export const HEAD_BYTES = 256;

/** CRC32C of a file's first `len` bytes (decompressed for gzip); len 0 = not known. */
export interface FileHead {
  len: number;
  crc: number;
}

export interface ByteSource {
  readonly identity: FileIdentity;
  readonly gzip: boolean;
  /** Bytes the file holds now; for gzip, Infinity until the stream has ended. */
  size(): Promise<number>;
  /** The file's modification time at the last size() (the year of year-less formats). */
  readonly mtimeMs: number;
  /** Reads up to len bytes at pos into buf[off..]; 0 at the end. Gzip: pos never goes back. */
  read(buf: Buffer, off: number, len: number, pos: number): Promise<number>;
  /**
   * Reads up to len of the file's first bytes into buf[0..] without moving a gzip stream on
   * (format detection); null when they cannot be read any more (a gzip stream past them).
   */
  readHead(buf: Buffer, len: number): Promise<number | null>;
  close(): Promise<void>;
}

/** A plain file through an open descriptor (it stays readable after a rename or unlink). */
export class PlainSource implements ByteSource {
  readonly gzip = false;
  mtimeMs = 0;

  constructor(
    readonly fd: FileHandle,
    readonly identity: FileIdentity,
  ) {}

  static async open(path: string): Promise<PlainSource> {
    // Non-blocking: opening a FIFO for reading otherwise waits for a writer, forever, and
    // held shutdown with it (issue 15, item 3). No effect on a regular file.
    const fd = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    try {
      const st = await fd.stat();
      if (!st.isFile()) throw notRegular(path);
      return new PlainSource(fd, { dev: st.dev, ino: st.ino });
    } catch (err) {
      await fd.close().catch(() => undefined);
      throw err;
    }
  }

  async size(): Promise<number> {
    const st = await this.fd.stat();
    this.mtimeMs = st.mtimeMs;
    return st.size;
  }

  async read(buf: Buffer, off: number, len: number, pos: number): Promise<number> {
    return (await this.fd.read(buf, off, len, pos)).bytesRead;
  }

  readHead(buf: Buffer, len: number): Promise<number> {
    return this.read(buf, 0, len, 0);
  }

  close(): Promise<void> {
    return this.fd.close().catch(() => undefined);
  }
}

/** A gzip file, decompressed forward as a stream (several members are read one after another). */
export class GzipSource implements ByteSource {
  readonly gzip = true;
  private readonly chunks: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  /** Decompressed position of pending[0]. */
  private at = 0;
  private ended = false;

  private constructor(
    private readonly file: ReadStream,
    private readonly gunzip: Gunzip,
    readonly identity: FileIdentity,
    /** The compressed file's (gzip keeps the original's when it compresses). */
    readonly mtimeMs: number,
  ) {
    this.chunks = gunzip[Symbol.asyncIterator]();
  }

  static async open(path: string): Promise<GzipSource> {
    const fd = await open(path, 'r');
    let st;
    try {
      st = await fd.stat();
    } catch (err) {
      await fd.close().catch(() => undefined);
      throw err;
    }
    // The descriptor is opened first so the identity is the file read, whatever the name
    // points at by the time the stream starts.
    const file = createReadStream('', { fd, highWaterMark: 1 << 20 });
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    // A read error of the file reaches the reader through the gunzip stream.
    file.on('error', (err) => gunzip.destroy(err));
    return new GzipSource(file, file.pipe(gunzip), { dev: st.dev, ino: st.ino }, st.mtimeMs);
  }

  async size(): Promise<number> {
    return this.ended ? this.at + this.pending.length : Number.POSITIVE_INFINITY;
  }

  async read(buf: Buffer, off: number, len: number, pos: number): Promise<number> {
    if (pos < this.at) throw new Error(`gzip source read backwards (at ${this.at}, asked ${pos})`);
    let n = 0;
    while (n < len) {
      const skip = pos + n - this.at;
      if (skip < this.pending.length) {
        const take = Math.min(len - n, this.pending.length - skip);
        this.pending.copy(buf, off + n, skip, skip + take);
        n += take;
        continue;
      }
      this.at += this.pending.length;
      this.pending = Buffer.alloc(0);
      if (this.ended) break;
      const next = await this.chunks.next();
      if (next.done === true) this.ended = true;
      else this.pending = next.value;
    }
    // Keep only what a later read may still ask for.
    const drop = Math.min(this.pending.length, pos + n - this.at);
    if (drop > 0) {
      this.pending = this.pending.subarray(drop);
      this.at += drop;
    }
    return n;
  }

  async readHead(buf: Buffer, len: number): Promise<number | null> {
    if (this.at > 0) return null;
    // Decompressed chunks are kept (not consumed) until the head is there: reads start from it.
    while (this.pending.length < len && !this.ended) {
      const next = await this.chunks.next();
      if (next.done === true) this.ended = true;
      else this.pending = this.pending.length === 0 ? next.value : Buffer.concat([this.pending, next.value]);
    }
    return this.pending.copy(buf, 0, 0, Math.min(len, this.pending.length));
  }

  async close(): Promise<void> {
    this.gunzip.destroy();
    this.file.destroy();
  }
}

/** Only regular files can be followed: a FIFO, device or socket at a source's path is an error. */
export function notRegular(path: string): Error {
  return new Error(`${path} is not a regular file (a FIFO, device or socket); only regular log files can be followed`);
}

export function openSource(path: string, gzip: boolean): Promise<ByteSource> {
  return gzip ? GzipSource.open(path) : PlainSource.open(path);
}
