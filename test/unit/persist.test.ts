import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SourceIndex, findNearest } from '../../src/index/index.js';
import { SEARCH_LAYOUT, restoreIndex, snapshotIndex } from '../../src/index/persist.js';
import { packMeta } from '../../src/parse/meta.js';

/** A section reader over a snapshot, copying each section as a checkpoint file read would. */
function reader(sections: Record<string, ArrayBufferView>) {
  return <T extends ArrayBufferView>(name: string, type: new (...args: never[]) => T): T => {
    const v = sections[name];
    if (v === undefined) throw new Error(`missing section ${name}`);
    const copy = new Uint8Array(v.byteLength);
    copy.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    const Ctor = type as unknown as new (b: ArrayBuffer, o: number, n: number) => T;
    const width = (type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    return new Ctor(copy.buffer, 0, v.byteLength / width);
  };
}

describe('index snapshots', () => {
  it('restore to an index that answers every query like the original, with or without checkpointed search structures', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ step: fc.integer({ min: 0, max: 50 }), late: fc.integer({ min: 0, max: 400 }), tag: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 600 }),
        fc.array(fc.integer({ min: 0, max: 40_000 }), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (rows, queries, dropSearch) => {
          const index = new SourceIndex('app', 0, 128);
          let clock = 1000;
          rows.forEach((r, i) => {
            clock += r.step;
            index.append(clock - (i % 7 === 0 ? r.late : 0), packMeta(r.tag, 3), i + 1, i * 10, 9);
          });
          const snap = snapshotIndex([index]);
          if (dropSearch) for (const c of snap.sources[0]!.chunks) delete c.tags;
          const [restored] = restoreIndex(snap.sources, reader(snap.sections), ['app'], 128);
          expect(restored!.entries).toBe(index.entries);
          for (const t of queries) {
            for (const tags of [null, [4], [0, 2]]) {
              const spec = { t, tags, count: 3, direction: 'nearest' as const, maxDistance: Infinity };
              const a = findNearest([index], spec).map((h) => [h.ts, h.line, h.seg.bodyPosAt(h.i)]);
              const b = findNearest([restored!], spec).map((h) => [h.ts, h.line, h.seg.bodyPosAt(h.i)]);
              expect(b).toEqual(a);
              const one = findNearest([restored!], { ...spec, count: 1 }).map((h) => [h.ts, h.line]);
              expect(one).toEqual(a.slice(0, 1).map((x) => [x[0], x[1]]));
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a checkpoint of search layout 1 (radix tables, no searchLayout field) is restored with rebuilt models and keyed lists', () => {
    const index = new SourceIndex('app', 0, 1024);
    for (let i = 0; i < 5000; i++) index.append(1_000_000 + i * 7 - (i % 3), packMeta(i % 50 === 0 ? 4 : i % 4, 3), i + 1, i * 10, 9);
    // Equal timestamps every third entry: the appends above are in order except for ties.
    const snap = snapshotIndex([index]);
    const src = snap.sources[0]!;
    expect(src.searchLayout).toBe(SEARCH_LAYOUT);
    // Rewrite it as the layout-1 writer did: radix sections instead of models, no keyed lists.
    delete src.searchLayout;
    src.chunks.forEach((c, k) => {
      if (c.model === undefined) return;
      delete c.model;
      delete c.keyed;
      (c as { radix?: unknown }).radix = { min: 0, scale: 1 };
      snap.sections[`0.${k}.radix`] = new Uint16Array(4);
    });
    const [restored] = restoreIndex(snap.sources, reader(snap.sections), ['app'], 1024);
    const sealed = restored!.main.liveChunks().filter((c) => c.sealed);
    expect(sealed.length).toBeGreaterThan(2);
    for (const c of sealed) {
      expect(c.model).not.toBeNull();
      expect(c.keyedList(4)).toBeDefined();
    }
    for (let t = 999_990; t < 1_036_000; t += 997) {
      for (const tags of [null, [4]]) {
        const spec = { t, tags, count: 1, direction: 'nearest' as const, maxDistance: Infinity };
        expect(findNearest([restored!], spec).map((h) => [h.ts, h.line])).toEqual(findNearest([index], spec).map((h) => [h.ts, h.line]));
      }
    }
  });
});
