/**
 * Issue 12 (catch-up): the real ingestion stack indexes entries without text filters and the
 * store fills them in afterwards (src/index/filter-backfill.ts), over both sinks. Text answers
 * equal a brute-force scan of the file at every turn of the event loop (while catching up,
 * while filters are being built, once they are), the filters do end up present, and with the
 * WAL a restart keeps the filters the checkpoint holds and fills in the rest.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FilterBackfill } from '../../src/index/filter-backfill.js';
import type { EmbeddedStore } from '../../src/store/embedded-store.js';
import { FILTER_BLOCK } from '../../src/text/ngram-filter.js';
import { DEADLINE_MS, SINKS, type Stack, openStack } from '../helpers/ingest-stack.js';

const LINES = 100_000;
const START_MS = Date.UTC(2024, 0, 15, 10, 0, 0);
/** Planted at block edges (the first, second, next-to-last and last entry of a block) and inside. */
const PLANTED: [number, string][] = [];
for (let b = 0; b < LINES / FILTER_BLOCK; b += 7) {
  const edge = [0, 1, FILTER_BLOCK - 2, FILTER_BLOCK - 1, 300][b % 5]!;
  PLANTED.push([b * FILTER_BLOCK + edge, b % 3 === 0 ? 'needle Alpha found' : 'beta-42 here']);
}
const NEEDLES = ['alpha', 'beta-42', 'needle alpha', 'absent-xyz'];
/** Event-loop turns between two checked queries while filling. */
const QUERY_EVERY = 8;

interface Line {
  line: number;
  ts: number;
  body: string;
}

const dir = mkdtempSync(join(tmpdir(), 'ltm-backfill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeLog(): { path: string; lines: Line[] } {
  const planted = new Map(PLANTED);
  const lines: Line[] = [];
  const text: string[] = [];
  for (let i = 0; i < LINES; i++) {
    // Two entries a millisecond: equal timestamps (ties) all along.
    const ms = START_MS + (i >> 1);
    const body = planted.get(i) ?? `q${(i * 7919) % 10_000} zz`;
    lines.push({ line: i + 1, ts: ms * 1000, body });
    text.push(`${new Date(ms).toISOString()} [INFO] ${body}\n`);
  }
  const path = join(dir, `app-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(path, text.join(''));
  return { path, lines };
}

const lower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** One text query against the store, compared with a scan of the lines indexed so far. */
async function checkQuery(store: EmbeddedStore, lines: Line[], k: number): Promise<void> {
  // No budget stop: every answer is the complete one, whatever the machine's load.
  store.scanBudget = { entries: 1e9, ms: 1e9 };
  const indexed = (await store.status()).index.entries;
  if (indexed === 0) return;
  // The ingestor indexes the file in order: the first `indexed` lines are the ones in the store.
  const known = lines.slice(0, indexed);
  const needle = NEEDLES[k % NEEDLES.length]!;
  const t = known[(k * 7331) % known.length]!.ts;
  const direction = (['nearest', 'before', 'after'] as const)[k % 3]!;
  const answer = await store.findNearest({ t, tags: null, count: 3, direction, context: 0, bodyCap: 200, text: { contains: [needle], caseSensitive: false } });
  const matching = known.filter((l) => lower(l.body).includes(needle) && (direction === 'nearest' || (direction === 'before' ? l.ts <= t : l.ts >= t)));
  matching.sort((a, b) => {
    if (direction === 'nearest') return Math.abs(a.ts - t) - Math.abs(b.ts - t) || a.ts - b.ts || a.line - b.line;
    return direction === 'before' ? b.ts - a.ts || a.line - b.line : a.ts - b.ts || a.line - b.line;
  });
  expect(answer.searched?.complete).toBe(true);
  expect(answer.entries.map((e) => e.line)).toEqual(matching.slice(0, 3).map((l) => l.line));
}

/** Blocks of the store's main runs that hold a complete filter, and blocks in all. */
function blocks(store: EmbeddedStore): { filtered: number; total: number } {
  let filtered = 0;
  let total = 0;
  for (const index of store.sourceIndexes()) {
    for (const chunk of index.main.liveChunks()) {
      for (let b = 0; b * FILTER_BLOCK < chunk.count; b++) {
        total++;
        if (chunk.blockFilter(b) >= 0) filtered++;
      }
    }
  }
  return { filtered, total };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe.each(SINKS)('text filters built after ingestion (%s sink)', (sink) => {
  it('answers equal a scan at every turn while catching up and filling; filters end up present; a restart fills in the rest', async () => {
    const { path, lines } = writeLog();
    let stack: Stack = await openStack([{ name: 'app', path }], { sink, chunkBytes: 256 * 1024 });
    try {
      const busy = (): boolean => stack.ingestor.statuses().some((s) => s.state === 'catching_up');
      let backfill: FilterBackfill = stack.store.startFilterBackfill(busy);
      stack.ingestor.start();
      const deadline = Date.now() + DEADLINE_MS;
      let k = 0;
      let sawPartial = false;
      // Waits on the condition (everything indexed and filtered), one event-loop turn at a time.
      for (let turns = 0; ; turns++) {
        // A query every few turns (one that reads 100,000 bodies takes a while on a loaded machine).
        if (turns % QUERY_EVERY === 0) await checkQuery(stack.store, lines, k++);
        const b = blocks(stack.store);
        if (b.filtered > 0 && b.filtered < b.total - 1) sawPartial = true;
        if ((await stack.store.status()).index.entries === LINES && backfill.pending() === 0) break;
        if (Date.now() > deadline) throw new Error(`not filled within ${DEADLINE_MS} ms: ${JSON.stringify({ b, pending: backfill.pending(), busy: busy() })}`);
        await turn();
      }
      expect(sawPartial).toBe(true);
      // Every block but the growing chunk's last (partial) one has its filter.
      const done = blocks(stack.store);
      expect(done.filtered).toBeGreaterThanOrEqual(done.total - 1);
      for (let q = 0; q < 12; q++) await checkQuery(stack.store, lines, k++);

      if (sink === 'wal') {
        stack = await stack.restart();
        // The checkpoint kept the filters that existed; the restored store answers the same.
        const restored = blocks(stack.store);
        expect(restored.filtered).toBeGreaterThanOrEqual(done.filtered - 1);
        for (let q = 0; q < 12; q++) await checkQuery(stack.store, lines, k++);
        backfill = stack.store.startFilterBackfill(() => false);
        await backfill.whenFilled();
        expect(backfill.pending()).toBe(0);
        for (let q = 0; q < 12; q++) await checkQuery(stack.store, lines, k++);
      }
    } finally {
      await stack.close();
    }
  });
});

describe('text filters after a restart', () => {
  it('a data dir written without filters (as one-shot ingest leaves it) gets them after a restart; answers equal a scan throughout', async () => {
    const { path, lines } = writeLog();
    let stack: Stack = await openStack([{ name: 'app', path }], { sink: 'wal', chunkBytes: 256 * 1024 });
    try {
      stack.ingestor.start();
      const deadline = Date.now() + DEADLINE_MS;
      while ((await stack.store.status()).index.entries < LINES) {
        if (Date.now() > deadline) throw new Error('not ingested in time');
        await turn();
      }
      expect(blocks(stack.store).filtered).toBe(0);
      stack = await stack.restart();
      expect(blocks(stack.store).filtered).toBe(0);
      let k = 0;
      const backfill = stack.store.startFilterBackfill(() => false);
      let sawPartial = false;
      for (let turns = 0; backfill.pending() > 0; turns++) {
        if (turns % QUERY_EVERY === 0) await checkQuery(stack.store, lines, k++);
        const b = blocks(stack.store);
        if (b.filtered > 0 && b.filtered < b.total - 1) sawPartial = true;
        if (Date.now() > deadline + DEADLINE_MS) throw new Error('not filled in time');
        await turn();
      }
      expect(sawPartial).toBe(true);
      const done = blocks(stack.store);
      expect(done.filtered).toBeGreaterThanOrEqual(done.total - 1);
      for (let q = 0; q < 12; q++) await checkQuery(stack.store, lines, k++);
    } finally {
      await stack.close();
    }
  });
});
