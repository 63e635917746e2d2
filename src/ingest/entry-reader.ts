/**
 * Reads one file of a source in big byte chunks at known offsets and hands out chunks of
 * whole entries, in file order.
 *
 * Why not the `tail` package: it emits one string per line. That decodes every byte to a
 * JS string (invalid UTF-8 is mangled, byte offsets are lost, so exact resume after a crash
 * is impossible), costs an event per line (measured: 1M lines from the start of a file in
 * 326 ms, so 10M lines = 3.3 s of main thread before any parsing, more than this whole
 * pipeline needs to index them), and after a rename it reopens the path without draining
 * the old file (rotation.ts keeps reading it). This reader works on bytes instead:
 *
 *   catch-up   read 4 MiB at a time, cut at the last entry start, hand the chunk on;
 *   live       read whatever was appended since the last read (the follower says when);
 *   held tail  the last entry of a read may still get continuation lines: it is held back
 *              until a new entry starts or the file is quiet (flushHeld).
 */
import { crc32c } from '../wal/index.js';
import { releaseChunk, retainChunk } from './chunk-pool.js';
import type { LogFormat } from '../parse/index.js';
import { lastEntryStart, lastLineEnd } from './chunk-cut.js';
import { type ByteSource, type FileHead, HEAD_BYTES } from './file-bytes.js';
import type { FormatSlot } from './file-format.js';
import type { LineLimiter } from './long-lines.js';

/** An entry larger than this is cut at a line end rather than held forever. */
const MAX_HELD_BYTES = 64 << 20;
const EMPTY = Buffer.alloc(0);
/** A modification time older than this says the file is quiet since then (whole-second filesystems included). */
export const MTIME_TRUST_MS = 2000;

export interface EntryReaderOptions {
  chunkBytes: number;
  /**
   * Chunk buffers; the parse pool's allocator lets big ones go to a worker without a copy.
   * Each holds one reference for the reader (chunk-pool.ts: retain and release are no-ops on
   * buffers it does not count, so any allocator works).
   */
  allocChunk: (bytes: number) => Buffer;
  /** This file's format (forced, or detected from its head before anything is read). */
  format: FormatSlot;
  /**
   * Receives [byteStart, byteEnd) of whole entries, read with `format` from a file last
   * modified at mtimeMs; awaiting it is backpressure. The chunk carries one reference of its
   * buffer (chunk-pool.ts) for whoever ends up keeping it: releasing it is their call.
   */
  emit: (chunk: Buffer, byteStart: number, byteEnd: number, format: LogFormat, mtimeMs: number) => Promise<void>;
  /** Over-long lines are cut to the limit while reading (long-lines.ts); one per file. */
  lines: LineLimiter;
  /** After each read: progress for tail_status during a long catch-up. */
  onRead?: () => void;
}

interface ReadAhead {
  src: ByteSource;
  pos: number;
  want: number;
  /** Bytes left free before the read ones, for the held tail. */
  room: number;
  buf: Buffer;
  read: Promise<number>;
}

export class EntryReader {
  /** Bytes handed out: the next chunk starts here. */
  position: number;
  /** Bytes read after position, not handed out yet (a last entry that may still grow). */
  held: Buffer = EMPTY;
  /**
   * The buffer `held` lies in, while held is not empty: the reader holds one reference of it
   * (chunk-pool.ts) and releases it only once held has moved out of it (copied into the next
   * read's buffer, or handed out to the last byte). With the WAL sink's release, a 10M-line
   * catch-up peaks at 370 MiB instead of 1.1 GB, though no faster (chunk-pool.ts).
   */
  private heldIn: Buffer | null = null;
  /** Size at the last look (for gzip: decompressed bytes seen so far). */
  size = 0;
  lastGrowthAt = Date.now();
  /** The next read of a catch-up, started before this one was cut and handed on (see readAhead). */
  private ahead: ReadAhead | null = null;
  constructor(
    public src: ByteSource,
    position: number,
    /** The file's head fingerprint, shared with its owner: it grows with a short file up to HEAD_BYTES. */
    readonly head: FileHead,
    private readonly o: EntryReaderOptions,
  ) {
    this.position = position;
  }

  /** Source bytes consumed: handed out or held (over-long lines' skipped bytes included). */
  get consumed(): number {
    return this.position + this.held.length + this.o.lines.elided;
  }

  /**
   * Reads everything appended since the last read, handing out whole-entry chunks. Returns
   * whether anything was read.
   */
  async readAvailable(): Promise<boolean> {
    let grew = false;
    for (;;) {
      const size = await this.src.size();
      const from = this.consumed;
      if (Number.isFinite(size)) this.size = size;
      // Nothing is read before the file's format is known (file-format.ts).
      if (!(await this.o.format.judge(this.src, size, false))) {
        this.o.onRead?.();
        return grew;
      }
      if (size <= from) return grew;
      const lines = this.o.lines;
      if (lines.skipping) {
        // The rest of an over-long line: read past it without keeping it.
        if ((await lines.skipRest(this.src, from, size)) > 0) {
          grew = true;
          this.lastGrowthAt = this.writtenAt();
        }
        this.o.onRead?.();
        if (lines.skipping) return grew;
        continue;
      }
      const ahead = this.takeAhead(from);
      const want = ahead?.want ?? Math.min(size - from, Math.max(this.o.chunkBytes - this.held.length, 64 * 1024));
      let buf: Buffer;
      let bytesRead: number;
      // The reader's reference of the new buffer (a failed read keeps it: never recycled).
      let owner: Buffer;
      if (ahead !== null) {
        // The held tail goes right before the bytes read ahead, into the room left for it.
        owner = ahead.buf;
        buf = ahead.buf.subarray(ahead.room - this.held.length);
        this.held.copy(buf, 0);
        bytesRead = await ahead.read;
      } else {
        buf = owner = this.o.allocChunk(this.held.length + want);
        this.held.copy(buf, 0);
        bytesRead = await this.src.read(buf, this.held.length, want, from);
      }
      if (bytesRead === 0) {
        // Nothing of it is kept (held still lies in its old buffer), and the read is over.
        releaseChunk(owner);
        if (!Number.isFinite(size)) this.size = from;
        return grew;
      }
      // A long catch-up (reads waiting on backpressure) can outlast a copytruncate and the new
      // content growing past our offset: bytes read after it are the new file's, not the rest of
      // the old one (crash test with copytruncate every second). The first bytes tell; the
      // follower then takes the rest of the old file from the copy.
      if (bytesRead === want && size > from + want) this.readAhead(from + want, size - from - want);
      if (!(await this.sameStart())) {
        releaseChunk(owner);
        return grew;
      }
      grew = true;
      this.lastGrowthAt = this.writtenAt();
      const total = lines.trim(buf, lastLineEnd(this.held, this.held.length), this.held.length + bytesRead);
      if (!Number.isFinite(size)) this.size = Math.max(this.size, from + bytesRead);
      if (this.head.len < HEAD_BYTES && !this.src.gzip && this.size > this.head.len) await this.growHead();
      let cut = lastEntryStart(buf, total, this.o.format.format!);
      if (cut === 0 && total >= MAX_HELD_BYTES) cut = lastLineEnd(buf, total) || total;
      // The handed chunk's reference, taken before the reader's own references move.
      if (cut > 0) retainChunk(owner);
      // held now lies in the new buffer (its old bytes were copied to the front of it), so the
      // old buffer is the reader's no more.
      this.hold(buf.subarray(cut, total), owner);
      if (cut > 0) await this.hand(buf.subarray(0, cut));
      this.o.onRead?.();
    }
  }

  /**
   * When the bytes just read were last written to, as far as the file tells: its modification
   * time at the last look when that is over MTIME_TRUST_MS old (a filesystem with whole-second
   * times cannot make a live file look quiet), else now. A file read long after its last write
   * is quiet already, so the follower hands its held last entry out right after the read
   * instead of quietMs later (a 2M-line `serve --ephemeral` waited 100-200 ms for its last
   * entry: spawn to every entry indexed 0.63-0.89 s against `ingest`'s whole run of 0.52-0.59 s).
   */
  private writtenAt(): number {
    const now = Date.now();
    const mtime = this.src.mtimeMs;
    return mtime > 0 && now - mtime > MTIME_TRUST_MS ? mtime : now;
  }

  /**
   * Hands out the held bytes: complete lines only, or everything when the file is done. An
   * unterminated line that does not start an entry waits up to graceMs for its newline.
   */
  async flushHeld(final: boolean, graceMs: number): Promise<void> {
    if (this.held.length === 0) return;
    const cut = final ? this.held.length : lastLineEnd(this.held, this.held.length);
    if (cut === 0) return;
    const format = this.o.format.format!;
    if (!final && cut < this.held.length && format.isEntryStart(this.held, cut, this.held.length) !== true) {
      // The unterminated line may be one more line of the held entry (a stack trace written
      // in pieces): handing out the lines above it now would split the entry, and the rest
      // would arrive as an orphan continuation (a parse error, lost from the body). Wait for
      // the newline, but only up to the grace period, so a writer that died mid-line does not
      // keep the entry above it (often the most telling one) out of the index forever.
      if (Date.now() - this.lastGrowthAt < graceMs) return;
    }
    const chunk = this.held.subarray(0, cut);
    retainChunk(chunk);
    this.hold(this.held.subarray(cut), this.heldIn);
    await this.hand(chunk);
  }

  /**
   * held becomes `bytes`, lying in `owner`, whose reference the reader already holds (a new
   * read's buffer, or heldIn itself). The previous heldIn is released when it is another
   * buffer; heldIn too when nothing is held any more.
   */
  private hold(bytes: Buffer, owner: Buffer | null): void {
    const prev = this.heldIn;
    this.held = bytes;
    this.heldIn = owner;
    if (prev !== null && prev !== owner) releaseChunk(prev);
    if (bytes.length === 0 && owner !== null) {
      this.heldIn = null;
      releaseChunk(owner);
    }
  }

  /**
   * The file is complete (one-shot reads): one too short for a whole line, or ending in an
   * unterminated one, still gets its format judged as it is, and is then read. True when
   * that made it readable.
   */
  async judgeWhole(): Promise<boolean> {
    return this.o.format.format === null && (await this.o.format.judge(this.src, await this.src.size(), true));
  }

  /** Whether nothing is held back that a later read could still complete. */
  get settled(): boolean {
    return this.consumed >= this.size && lastLineEnd(this.held, this.held.length) === 0;
  }

  /** Whether the file still starts with the bytes its head fingerprint covers (always true for gzip). */
  async sameStart(): Promise<boolean> {
    if (this.src.gzip || this.head.len === 0) return true;
    const head = Buffer.alloc(this.head.len);
    const got = await this.src.read(head, 0, head.length, 0);
    return got === head.length && crc32c(head) === this.head.crc;
  }

  /** The file was short when first seen: its head fingerprint grows with it. */
  private async growHead(): Promise<void> {
    const head = Buffer.alloc(Math.min(HEAD_BYTES, this.size));
    const got = await this.src.read(head, 0, head.length, 0);
    if (got <= this.head.len) return;
    this.head.len = got;
    this.head.crc = crc32c(head.subarray(0, got));
  }

  /**
   * Starts reading the next chunk's bytes of a catch-up while this one is checked, cut and
   * handed on. Reading 4 MiB into a new buffer costs 2-5 ms of page faults and copying on a
   * libuv thread, and one read at a time left the parse workers waiting: 10M lines (1 GB) spent
   * 1.24 s of a 2.7 s catch-up waiting for reads, a worker held a chunk only 45-59 % of the
   * time (timeline of 2026-12-02, 2 cores); with this, 0.18-0.21 s against 2.3-2.5 s. Wall time
   * did not change on the shared VM at load 9-12 (CPU-bound there: 10M lines 4.53 s against
   * 4.34 s, 8 runs each). The buffer keeps room at its front for the next held tail (untouched
   * pages cost no memory). Not for gzip, read as one forward stream.
   */
  private readAhead(pos: number, left: number): void {
    if (this.src.gzip) return;
    const room = Math.min(64 * 1024, this.o.chunkBytes >> 4);
    const want = Math.min(left, Math.max(this.o.chunkBytes - room, 64 * 1024));
    const buf = this.o.allocChunk(room + want);
    const read = this.src.read(buf, room, want, pos);
    read.catch(() => undefined); // a read ahead that is never used fails silently; a used one throws when awaited
    this.ahead = { src: this.src, pos, want, room, buf, read };
  }

  /** The read ahead, if it is the one to do now (same file, same offset, its tail fits its room). */
  private takeAhead(pos: number): ReadAhead | null {
    const a = this.ahead;
    this.ahead = null;
    if (a === null) return null;
    if (a.src !== this.src || a.pos !== pos || this.held.length > a.room) {
      // Unused: its buffer is free once the read no longer writes into it (a failed read keeps it).
      a.read.then(() => releaseChunk(a.buf), () => undefined);
      return null;
    }
    return a;
  }

  private async hand(chunk: Buffer): Promise<void> {
    const byteStart = this.position;
    // A chunk with a cut long line stands for more source bytes than it holds.
    this.position += this.o.lines.span(chunk.length);
    this.o.lines.consume(chunk.length);
    await this.o.emit(chunk, byteStart, this.position, this.o.format.format!, this.src.mtimeMs);
  }
}
