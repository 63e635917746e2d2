/**
 * The file operations the WAL performs, behind one small interface so tests can count
 * fsyncs, delay them, or fail a write halfway (ENOSPC) without a full disk. Descriptors are
 * plain numbers: readBody needs synchronous preads, and the async calls go through libuv's
 * thread pool like fs/promises does.
 */
import * as fs from 'node:fs';
import { type DropCache, DropHelper } from './drop-behind.js';

const dropHelper = new DropHelper();

export interface WalIo {
  open(path: string, flags: string): Promise<number>;
  close(fd: number): Promise<void>;
  /** Positioned gather write; may write fewer bytes than asked (callers loop). */
  writev(fd: number, buffers: readonly Uint8Array[], position: number): Promise<number>;
  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  fsync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  fileSize(fd: number): Promise<number>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  mkdirp(dir: string): Promise<void>;
  /** fsync of a directory, so a create, rename or unlink in it survives a power loss. */
  syncDir(dir: string): Promise<void>;
  /** Synchronous pieces for readBody (queries run synchronously on the event loop). */
  openSync(path: string, flags: string): number;
  readSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  closeSync(fd: number): void;
  /**
   * Asks the kernel to drop a sealed, synced segment's cached pages (drop-behind.ts); never
   * awaited by an append. Absent: segments stay cached.
   */
  dropCache?: DropCache;
}

function cb<T>(run: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T))));
}

export const nodeIo: WalIo = {
  open: (path, flags) => cb<number>((done) => fs.open(path, flags, 0o644, done)),
  close: (fd) => cb<void>((done) => fs.close(fd, done)),
  writev: (fd, buffers, position) =>
    cb<number>((done) => fs.writev(fd, buffers as NodeJS.ArrayBufferView[], position, (err, n) => done(err, n))),
  read: (fd, buf, offset, length, position) =>
    cb<number>((done) => fs.read(fd, buf, offset, length, position, (err, n) => done(err, n))),
  fdatasync: (fd) => cb<void>((done) => fs.fdatasync(fd, done)),
  fsync: (fd) => cb<void>((done) => fs.fsync(fd, done)),
  ftruncate: (fd, length) => cb<void>((done) => fs.ftruncate(fd, length, done)),
  fileSize: (fd) => cb<number>((done) => fs.fstat(fd, (err, st) => done(err, st?.size))),
  rename: (from, to) => cb<void>((done) => fs.rename(from, to, done)),
  unlink: (path) => cb<void>((done) => fs.unlink(path, done)),
  readdir: (dir) => cb<string[]>((done) => fs.readdir(dir, done)),
  mkdirp: (dir) => cb<void>((done) => fs.mkdir(dir, { recursive: true }, (err) => done(err))),
  syncDir: async (dir) => {
    // Windows cannot open a directory as a file to fsync it (no O_DIRECTORY): NTFS journals
    // the rename itself. Not tested there (the project runs on Linux); see the README.
    if (process.platform === 'win32') return;
    const fd = await cb<number>((done) => fs.open(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY, done));
    try {
      await cb<void>((done) => fs.fsync(fd, done));
    } finally {
      await cb<void>((done) => fs.close(fd, done));
    }
  },
  openSync: (path, flags) => fs.openSync(path, flags),
  readSync: (fd, buf, offset, length, position) => fs.readSync(fd, buf, offset, length, position),
  closeSync: (fd) => fs.closeSync(fd),
  dropCache: (path) => dropHelper.drop(path),
};

/** Writes all of `buffers` at `position`, looping over short writes. */
export async function writeFully(io: WalIo, fd: number, buffers: readonly Uint8Array[], position: number): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  let pos = position;
  while (pending.length > 0) {
    const n = await io.writev(fd, pending, pos);
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    pos += n;
    let skip = n;
    let i = 0;
    while (i < pending.length && skip >= pending[i]!.length) skip -= pending[i++]!.length;
    pending = pending.slice(i);
    if (skip > 0) pending[0] = pending[0]!.subarray(skip);
  }
}

/** Reads exactly `length` bytes unless the file ends first; returns the count read. */
export async function readFully(io: WalIo, fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    // Linux caps one read at 0x7ffff000 bytes; the loop covers larger requests too.
    const n = await io.read(fd, buf, offset + done, Math.min(length - done, 0x4000_0000), position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
