/**
 * Rotation: the files a source has been through, each with its own position, so that after
 * any sequence of renames (app.log -> app.log.1 -> app.log.2 ...), copytruncates, compressions
 * or deletions, during a run or while the server was down, every line still on disk is read
 * exactly once (FORMAT.md, "File entries", is the persisted form of this list).
 *
 *   rename / delete / symlink swap   the path now names another inode (or none): the old file
 *              stays open (a descriptor keeps even a deleted file readable) and is read to its
 *              end alongside the new one, which is read from 0 at once;
 *   copytruncate   the file shrank or its first bytes changed: the bytes not yet read are read
 *              from the copy next to it (same first bytes), then the file from 0;
 *   compress   a rotated file that became `app.log.1.gz` is the same file under a new identity
 *              (same first bytes once decompressed): read through gzip if it still holds
 *              unread lines;
 *   outage     on a restart the files next to the path are matched to the list (identity and
 *              first bytes) and read in the order they were written; files never seen are
 *              read too, unless last written before the source was first followed (history
 *              nobody asked for: passed over);
 *   missed     a file with lines known to be unread that is gone from disk is counted.
 *
 * A file that exists only between two looks is caught by opening the path from the directory
 * watch (pin) and by listing the siblings whenever the path's inode changes.
 */
import { crc32c } from '../wal/index.js';
import { basename } from 'node:path';
import { type FileHead, PlainSource } from './file-bytes.js';
import { copyInProgress, copyOfAny, findCopy, holds, UNSURE } from './file-match.js';
import { absentTwice, type Candidate, Heads, listSiblings, oldestFirst, openCandidate, sameIdentity, statPath } from './siblings.js';
import { type FileSetHooks, type FileState, idKey, type SourceResume, type TrackedFile } from './tracked-file.js';

/** How long a closed file must stay unseen before it counts as gone. */
const CONFIRM_GONE_MS = 500;
/** A look that could not read some file (renamed under it) is repeated this much later. */
const RETRY_LOOK_MS = 100;

export class FileSet {
  readonly files: TrackedFile[] = [];
  /** The list changed in a way the WAL must hear about before the next chunk. */
  dirty = false;
  private nextKey = 1;
  /** Rotated files last modified before this were history when the source was first followed. */
  private readonly historyBefore: number;
  /** A version-1 list at the first look: every file it does not know is old (version 1 read none). */
  private legacyLook: boolean;
  private firstLook = true;
  /** A file could not be read at the last look: look again from then on. */
  private retryAt: number | null = null;
  private readonly pins = new Map<string, { src: PlainSource; at: number }>();

  constructor(
    private readonly path: string,
    resume: SourceResume | undefined,
    private readonly hooks: FileSetHooks,
  ) {
    this.historyBefore = resume !== undefined && resume.registeredAt > 0 ? resume.registeredAt : Date.now();
    this.legacyLook = resume?.legacy === true;
    const files = resume?.files ?? [];
    // The newest file that was read is the one that was at the path when the server stopped.
    let last = -1;
    files.forEach((k, i) => {
      if (k.nextLine > 0) last = i;
    });
    files.forEach((k, i) => {
      const tail = resume!.tail;
      const own = tail !== null && sameIdentity(tail.file, k.file) && tail.position === k.offset;
      this.files.push({
        key: this.nextKey++, identity: { ...k.file }, gzip: k.gzip, offset: k.offset, firstLine: k.nextLine, size: k.size,
        head: { len: k.headLen, crc: k.headCrc }, done: k.done, reader: null, rotatedAt: i === last ? null : Date.now(), tail: own ? tail!.bytes : null,
      });
    });
  }

  /** Whether the last look left something undecided that is due to be looked at again. */
  get looking(): boolean {
    if (this.retryAt !== null && Date.now() >= this.retryAt) return true;
    return this.files.some((t) => t.missingSince !== undefined && Date.now() - t.missingSince >= CONFIRM_GONE_MS);
  }

  /** The file at the path, if it is open. */
  current(): TrackedFile | undefined {
    return this.files.find((t) => t.rotatedAt === null && t.reader !== null);
  }

  /** Files with an open reader, oldest first: the order they are read in. */
  open(): TrackedFile[] {
    return this.files.filter((t) => t.reader !== null);
  }

  snapshot(): FileState[] {
    return this.files.map((t) => {
      const r = t.reader;
      const offset = r?.position ?? t.offset;
      return {
        key: t.key, firstLine: t.firstLine, file: { ...t.identity }, offset, size: Math.max(r?.size ?? t.size, offset),
        headLen: t.head.len, headCrc: t.head.crc, gzip: t.gzip, done: t.done,
      };
    });
  }

  /** Keeps the file now at the path open (a watch event): it may be gone by the next look. */
  async pin(): Promise<void> {
    let src: PlainSource;
    try {
      src = await PlainSource.open(this.path);
    } catch {
      return;
    }
    const k = idKey(src.identity);
    if (this.pins.has(k) || this.files.some((t) => t.reader !== null && sameIdentity(t.identity, src.identity))) await src.close();
    else this.pins.set(k, { src, at: Date.now() });
  }

  /**
   * Looks at the path: the same open file is checked for truncation; anything else (and
   * `full`, after a watch event for a sibling) matches the files on disk to the list again.
   */
  async refresh(full: boolean): Promise<void> {
    const at = await statPath(this.path);
    const cur = this.current();
    if (cur !== undefined && at !== null && sameIdentity(cur.identity, at.identity)) {
      // Also before a full look: a watch event for the copy copytruncate makes must not skip
      // the check that its original was truncated (the reader went on reading the new bytes
      // as if they were the old file's; crash test with copytruncate every second).
      await this.checkTruncation(cur);
      if (!full) return;
    } else if (!full && cur === undefined && at === null && this.pins.size === 0 && !this.firstLook) {
      return;
    }
    await this.reconcile();
  }

  /** A rotated-away file read to its end: closed, done. */
  async finish(t: TrackedFile): Promise<void> {
    const r = t.reader!;
    t.offset = r.position;
    t.size = Math.max(r.size, r.position);
    t.reader = null;
    t.done = true;
    this.dirty = true;
    await r.src.close();
  }

  async closeAll(): Promise<void> {
    for (const t of this.files) {
      if (t.reader === null) continue;
      t.offset = t.reader.position;
      t.size = Math.max(t.reader.size, t.offset);
      await t.reader.src.close();
      t.reader = null;
    }
    for (const p of this.pins.values()) await p.src.close();
    this.pins.clear();
  }

  /** Same inode at the path, but it shrank or its first bytes changed: copytruncate (or a rewrite). */
  private async checkTruncation(cur: TrackedFile): Promise<void> {
    const r = cur.reader!;
    const size = await r.src.size();
    if (size >= r.consumed && (await r.sameStart())) return;
    const atPath = r.src;
    const copy = await findCopy(cur, await listSiblings(this.path), new Heads(), r.consumed);
    if (copy === UNSURE) {
      // A sibling was renamed under us: look again at the next tick (the reader reads nothing
      // meanwhile, the file no longer starts as it did).
      return;
    }
    if (copy !== null) {
      // The copy holds the same bytes at the same offsets: the reader goes on there, held tail included.
      try {
        r.src = await openCandidate(copy);
      } catch {
        return; // rotated again meanwhile: the next look finds it where it went
      }
      cur.identity = copy.identity;
      cur.gzip = copy.gzip;
    } else {
      if (r.size > r.consumed) {
        const bytes = r.size - r.consumed;
        this.hooks.missed({ bytes, file: false, what: `${this.path} was truncated before its last ${bytes} bytes were read, and no copy of it is next to it` });
      }
      // What was read is whole: hand it out before the file starts over.
      await r.flushHeld(true, 0);
      this.files.splice(this.files.indexOf(cur), 1);
    }
    cur.rotatedAt = Date.now();
    this.hooks.rotated();
    await this.addFile({ path: this.path, name: '', identity: atPath.identity, size, mtimeMs: Date.now(), gzip: false, src: atPath }, null);
  }

  /** Matches the files on disk (the path, its siblings, pinned descriptors) to the list. */
  private async reconcile(): Promise<void> {
    this.retryAt = null;
    // The path last: files only move away from it, so a file listed as a sibling is never the
    // one found at the path afterwards. (Looked at first, a rename in between showed the old
    // file at the path and the new one nowhere.) A rename during the listing can still show a
    // file twice, under two names: it is one file.
    const sibs: Candidate[] = await listSiblings(this.path);
    const at = await statPath(this.path);
    const cands: Candidate[] = [];
    for (const c of at === null ? sibs : [at, ...sibs]) if (!cands.some((x) => sameIdentity(x.identity, c.identity))) cands.push(c);
    const pins = [...this.pins];
    this.pins.clear();
    for (const [k, pin] of pins) {
      const c = cands.find((x) => idKey(x.identity) === k);
      if (c !== undefined) {
        c.src = pin.src;
        continue;
      }
      // Created at the path after the look above: the next look sees it there.
      const now = await statPath(this.path);
      if (now !== null && sameIdentity(now.identity, pin.src.identity)) {
        this.pins.set(k, pin);
        continue;
      }
      // Gone from the directory (rotated out of it, or deleted): readable through the pin.
      cands.push({ path: this.path, name: '', identity: pin.src.identity, size: await pin.src.size(), mtimeMs: pin.at, gzip: false, src: pin.src });
    }
    const heads = new Heads();
    const located = new Map<TrackedFile, Candidate>();
    const claimed = new Set<Candidate>();
    /** Their inode now holds other bytes (rewritten in place, or reused by a new file). */
    const replaced = new Set<TrackedFile>();
    const unsure = new Set<TrackedFile>();
    for (const t of this.files) {
      const c = cands.find((x) => !claimed.has(x) && x.gzip === t.gzip && sameIdentity(x.identity, t.identity));
      if (c === undefined) continue;
      const same = t.reader !== null ? true : await holds(c, t, heads);
      if (same === false) {
        replaced.add(t);
        continue;
      }
      claimed.add(c);
      t.missingSince = undefined;
      // UNSURE: could not be read right now (moved on meanwhile): left as it is until the next look.
      if (same === true) {
        located.set(t, c);
        // The resume tail vouches for one position only: once checked, the file moves on from it
        // (checked again later against a newer offset, it failed and the file was read twice).
        t.tail = null;
      } else unsure.add(t);
    }
    const atPath = at === null ? undefined : cands[0];
    for (const t of this.files) {
      if (unsure.has(t)) continue;
      if (t.rotatedAt === null && (located.get(t) !== atPath || atPath === undefined)) {
        // The path moved on (renamed, deleted, replaced): a rotation, counted in tail_status.
        t.rotatedAt = Date.now();
        this.hooks.rotated();
        this.dirty = true;
      } else if (t.rotatedAt !== null && atPath !== undefined && located.get(t) === atPath) {
        t.rotatedAt = null; // back at the path (a symlink pointed back at it)
      }
    }
    // Files not found where they were: a copy under another identity (copytruncate, gzip), or gone.
    for (const t of [...this.files]) {
      if (located.has(t) || unsure.has(t)) continue;
      const copy = await findCopy(t, cands.filter((x) => !claimed.has(x)), heads, t.reader?.consumed ?? t.offset);
      if (copy === UNSURE) {
        this.retryAt ??= Date.now() + RETRY_LOOK_MS;
        continue;
      }
      if (copy !== null) {
        // The same bytes under another identity; an open reader keeps reading its descriptor.
        claimed.add(copy);
        located.set(t, copy);
        t.identity = copy.identity;
        t.gzip = copy.gzip;
        this.dirty = true;
      } else if (t.reader === null) {
        // Not seen: deleted, or renamed between the listing and the stat of its name. While
        // logrotate shifts app.log.1 .. app.log.N, a listing can miss a file that is there, and
        // a file forgotten that way looked new at the next look and was read twice (crash test
        // rotating every second). So it is forgotten only when still unseen a moment later and
        // absent from two listings in a row that agree. (A file whose inode holds other bytes
        // now is gone for sure.)
        t.missingSince ??= Date.now();
        if (!replaced.has(t) && (Date.now() - t.missingSince < CONFIRM_GONE_MS || !(await absentTwice(this.path, t.identity)))) continue;
        this.files.splice(this.files.indexOf(t), 1);
        this.dirty = true;
        if (!t.done && t.size > t.offset) {
          const bytes = t.size - t.offset;
          this.hooks.missed({ bytes, file: true, what: `a file of ${this.path} (inode ${t.identity.ino}) was deleted with ${bytes} bytes not read` });
        }
      }
    }
    // Files not in the list: copies of files still there are left alone; the rest are new (or,
    // the first time a source is followed, old files to pass over).
    const unknown = oldestFirst(basename(this.path), cands.filter((c) => !claimed.has(c) && c !== atPath));
    for (const c of unknown) {
      // Not readable right now (renamed under us): decided at the next look, never read blind.
      if ((await heads.of(c)) === null) {
        this.retryAt ??= Date.now() + RETRY_LOOK_MS;
        continue;
      }
      if (await copyOfAny(c, located.keys(), heads)) continue;
      if (await copyInProgress(c, located.keys(), heads)) {
        this.retryAt ??= Date.now() + RETRY_LOOK_MS;
        continue;
      }
      // Last written before the source was first followed: history nobody asked for (the first
      // process may have been stopped before it wrote anything, so this is decided by time).
      const history = this.legacyLook || c.mtimeMs < this.historyBefore;
      await this.addFile(c, history ? 'pass' : 'rotated', heads);
    }
    if (atPath !== undefined && !claimed.has(atPath)) await this.addFile(atPath, null, heads);
    this.legacyLook = false;
    this.firstLook = false;
    for (const [t, c] of located) if (t.reader === null) await this.openIfUnread(t, c);
    // Descriptors the watch opened that no file took over.
    const adopted = new Set(this.files.map((t) => t.reader?.src));
    for (const c of cands) if (c.src !== undefined && !adopted.has(c.src)) await c.src.close();
  }

  /**
   * Adds a file found on disk. `pass`: old, never read (first look at a source); `rotated`: a
   * file rotated in and out before it was seen (a rotation of its own); null: the new file at
   * the path.
   */
  private async addFile(c: Candidate, kind: 'pass' | 'rotated' | null, heads?: Heads): Promise<void> {
    const reading = kind !== 'pass';
    if (kind === 'rotated') this.hooks.rotated();
    let head: FileHead = { len: 0, crc: 0 };
    if (heads !== undefined) {
      const h = await heads.of(c);
      if (h !== null) head = { len: h.length, crc: crc32c(h) };
    }
    const t: TrackedFile = {
      key: this.nextKey++, identity: { ...c.identity }, gzip: c.gzip, offset: reading || c.gzip ? 0 : c.size, firstLine: reading ? 1 : 0,
      size: c.size, head, done: !reading, reader: null, rotatedAt: kind === null ? null : Date.now(), tail: null,
    };
    this.files.push(t);
    this.dirty = true;
    if (reading) await this.openIfUnread(t, c);
  }

  /**
   * Opens a known file (through the watch's descriptor when there is one) if it may hold
   * unread bytes; one that cannot be opened now is tried again at the next look.
   */
  private async openIfUnread(t: TrackedFile, c: Candidate): Promise<void> {
    if (t.firstLine === 0 || (t.done && (t.gzip || c.size <= t.offset))) return;
    try {
      t.reader = this.hooks.makeReader(t, await openCandidate(c), t.offset);
    } catch {
      // Renamed or deleted since the listing: found under its new name next time, or counted as gone.
    }
  }
}

