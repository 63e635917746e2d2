/**
 * The source registry the WAL keeps so that a data dir describes itself: which sources exist
 * (id -> name, path), how far each was consumed (its latest position), and the files each
 * has been through with a position per file. It is rebuilt on open from the last segment's
 * preamble and records (FORMAT.md, "Type 2" and "File entries").
 */
import type { FileIdentity, SourceFields, SourceFile, SourcePosition, WalRecord, WalSource } from './types.js';

/**
 * Whether a batch re-reads bytes of its file that lie before where that file was left: a
 * repair of a lost (corrupt) record, appended after the records that follow it. It must move
 * neither the file's position nor the source's back (FORMAT.md, "Repair batches"). A file read
 * again from 0 (a truncation, a new file on a reused inode) is announced by a file list first,
 * and every other batch continues at or past its file's position. Without a file list
 * (version 1) the source's own position stands for its file.
 */
export function isRepairBatch(source: WalSource | undefined, b: { file: FileIdentity; byteStart: number; byteEnd: number }): boolean {
  if (source === undefined || b.byteStart === 0) return false;
  const at = indexOf(source.files, b.file);
  if (at >= 0) return b.byteEnd <= source.files[at]!.offset;
  const p = source.position;
  return p !== null && same(p.file, b.file) && b.byteEnd <= p.offset;
}

interface Entry extends WalSource {
  /** False while only batches for this id were seen (its registration was damaged). */
  registered: boolean;
}

export class SourceTable {
  private readonly byId = new Map<number, Entry>();

  has(id: number): boolean {
    return this.byId.get(id)?.registered === true;
  }

  get(id: number): WalSource | undefined {
    const e = this.byId.get(id);
    return e === undefined ? undefined : copy(e);
  }

  /** Whether registering (id, name, path) would change anything. */
  differs(id: number, name: string, path: string): boolean {
    const e = this.byId.get(id);
    return e === undefined || !e.registered || e.name !== name || e.path !== path;
  }

  /** Sources in id order; unregistered ids (damaged registration) have empty name and path. */
  list(): WalSource[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id).map(copy);
  }

  /** Ids referenced by batches whose registration has not been seen. */
  unregistered(): number[] {
    return [...this.byId.values()].filter((e) => !e.registered).map((e) => e.id);
  }

  applySource(s: SourceFields): void {
    const e = this.entry(s.sourceId);
    e.name = s.name;
    e.path = s.path;
    e.registered = true;
    if (s.registeredAt > 0) e.registeredAt = s.registeredAt;
    if (s.position !== null) e.position = clonePosition(s.position);
    if (s.files !== null) {
      e.files = s.files.map(cloneFile);
      e.legacy = false;
      return;
    }
    // A version-1 record: its position stands for one file entry without a head.
    const p = s.position;
    if (p === null) return;
    const at = indexOf(e.files, p.file);
    if (at >= 0 && s.reason !== 'rotated' && s.reason !== 'truncated') return;
    if (at >= 0) e.files.splice(at, 1);
    e.files.push(legacyFile(p));
    e.legacy = true;
  }

  /** A batch of `id` consumed its file up to `position`. */
  applyPosition(id: number, position: SourcePosition): void {
    const e = this.entry(id);
    e.position = position;
    const at = indexOf(e.files, position.file);
    if (at < 0) {
      e.files.push(legacyFile(position));
      return;
    }
    const f = e.files[at]!;
    f.offset = position.offset;
    f.nextLine = position.nextLine;
    f.size = Math.max(f.size, position.offset);
  }

  apply(rec: WalRecord): void {
    if (rec.type === 'source') this.applySource(rec);
    else if (!isRepairBatch(this.byId.get(rec.sourceId), rec)) {
      this.applyPosition(rec.sourceId, { file: { dev: rec.file.dev, ino: rec.file.ino }, offset: rec.byteEnd, nextLine: rec.firstLine + rec.lines });
    }
  }

  /** Fills registrations (and positions never updated here) from an older table. */
  fillFrom(older: SourceTable): void {
    for (const e of this.byId.values()) {
      if (e.registered) continue;
      const o = older.byId.get(e.id);
      if (o === undefined || !o.registered) continue;
      e.name = o.name;
      e.path = o.path;
      e.registered = true;
      if (e.position === null && o.position !== null) e.position = clonePosition(o.position);
      // Files the batches here did not touch keep the older list's entries, in its order.
      const merged = o.files.map((f) => {
        const newer = e.files.find((n) => same(n.file, f.file));
        return newer === undefined ? cloneFile(f) : newer;
      });
      for (const n of e.files) if (indexOf(merged, n.file) < 0) merged.push(n);
      e.files = merged;
      e.legacy = o.legacy;
      if (e.registeredAt === 0) e.registeredAt = o.registeredAt;
    }
  }

  /**
   * One preamble record per registered source, for the start of a new segment. A source whose
   * list still comes from version 1 keeps carrying none (FORMAT.md, "Versions"), so that it
   * stays marked legacy until the follower writes its first list.
   */
  preamble(): SourceFields[] {
    return this.list()
      .filter((s) => this.has(s.id))
      .map((s) => ({ sourceId: s.id, reason: 'preamble' as const, name: s.name, path: s.path, position: s.position, files: listOf(s), registeredAt: s.registeredAt }));
  }

  private entry(id: number): Entry {
    let e = this.byId.get(id);
    if (e === undefined) {
      // legacy until a version-2 record gives the list (a version-1 dir never does).
      e = { id, name: '', path: '', position: null, files: [], legacy: true, registeredAt: 0, registered: false };
      this.byId.set(id, e);
    }
    return e;
  }
}

/** The list a record should carry for this source: none while it is legacy. */
export function listOf(s: WalSource): SourceFile[] | null {
  return s.legacy ? null : s.files;
}

function same(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** The last entry with this identity (an identity appears once in a well-formed list). */
function indexOf(files: readonly SourceFile[], id: FileIdentity): number {
  for (let i = files.length - 1; i >= 0; i--) if (same(files[i]!.file, id)) return i;
  return -1;
}

/** A file known only from a position: no head, not done. */
function legacyFile(p: SourcePosition): SourceFile {
  return { file: { dev: p.file.dev, ino: p.file.ino }, offset: p.offset, nextLine: p.nextLine, size: p.offset, headLen: 0, headCrc: 0, gzip: false, done: false };
}

function clonePosition(p: SourcePosition): SourcePosition {
  return { file: { dev: p.file.dev, ino: p.file.ino }, offset: p.offset, nextLine: p.nextLine };
}

function cloneFile(f: SourceFile): SourceFile {
  return { ...f, file: { dev: f.file.dev, ino: f.file.ino } };
}

function copy(e: WalSource): WalSource {
  return {
    id: e.id, name: e.name, path: e.path, position: e.position === null ? null : clonePosition(e.position),
    files: e.files.map(cloneFile), legacy: e.legacy, registeredAt: e.registeredAt,
  };
}
