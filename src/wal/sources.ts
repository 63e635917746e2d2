/**
 * The source registry the WAL keeps so that a data dir describes itself: which sources exist
 * (id -> name, path) and how far each was consumed (file identity, next byte, next line).
 * It is rebuilt on open from the last segment's preamble and records (FORMAT.md).
 */
import type { FileIdentity, SourceFields, SourcePosition, WalRecord, WalSource } from './types.js';

/**
 * Whether a batch re-reads bytes of its source that lie before the source's position in the
 * same file: a repair of a lost (corrupt) record, appended after the records that follow it.
 * It must not move the position back (FORMAT.md, "Repair batches"). A new generation after a
 * truncation starts at byte 0, and every other batch continues at or past the position.
 */
export function isRepairBatch(position: SourcePosition | null, b: { file: FileIdentity; byteStart: number; byteEnd: number }): boolean {
  return position !== null && position.file.dev === b.file.dev && position.file.ino === b.file.ino && b.byteStart > 0 && b.byteEnd <= position.offset;
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
    if (s.position !== null) e.position = clonePosition(s.position);
  }

  applyPosition(id: number, position: SourcePosition): void {
    this.entry(id).position = position;
  }

  apply(rec: WalRecord): void {
    if (rec.type === 'source') this.applySource(rec);
    else if (!isRepairBatch(this.byId.get(rec.sourceId)?.position ?? null, rec)) {
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
    }
  }

  /** One preamble record per registered source, for the start of a new segment. */
  preamble(): SourceFields[] {
    return this.list()
      .filter((s) => this.has(s.id))
      .map((s) => ({ sourceId: s.id, reason: 'preamble' as const, name: s.name, path: s.path, position: s.position }));
  }

  private entry(id: number): Entry {
    let e = this.byId.get(id);
    if (e === undefined) {
      e = { id, name: '', path: '', position: null, registered: false };
      this.byId.set(id, e);
    }
    return e;
  }
}

function clonePosition(p: SourcePosition): SourcePosition {
  return { file: { dev: p.file.dev, ino: p.file.ino }, offset: p.offset, nextLine: p.nextLine };
}

function copy(e: WalSource): WalSource {
  return { id: e.id, name: e.name, path: e.path, position: e.position === null ? null : clonePosition(e.position) };
}
