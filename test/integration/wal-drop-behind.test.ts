/**
 * Drop-behind with the real GNU dd (src/wal/drop-behind.ts) under the real ingestion stack:
 * a catch-up over small segments drops every sealed segment but the newest two (the first by
 * dd itself, the rest through the xargs helper; the kernel really dropped the pages where
 * `fincore` can tell), never a
 * checkpoint or the active segment, and every body reads back equal to the file, from the
 * dropped (cold) segments and again after a restart. The unit rules are in
 * test/unit/wal-drop-behind.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DropHelper, KEEP_CACHED } from '../../src/wal/drop-behind.js';
import { nodeIo, type WalIo } from '../../src/wal/index.js';
import { allEntries, expectExactlyOnce, openStack, stackScope, waitFor } from '../helpers/ingest-stack.js';
import { entryLines } from '../helpers/seq-writer.mjs';

const scope = stackScope('ltm-drop-behind-');
const TOTAL = 30_000;

const hasGnuDd = spawnSync('dd', ['--version'], { encoding: 'utf8' }).stdout?.includes('coreutils') === true;

/** Bytes of `path` in the page cache per util-linux fincore, or null when it cannot tell (absent, tmpfs). */
function cachedBytes(path: string, dir: string): number | null {
  try {
    if (execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim() === 'tmpfs') return null;
    return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' }).trim());
  } catch {
    return null;
  }
}

// Skipped only where `dd --version` does not say coreutils (no GNU dd: drop-behind is off there).
describe.skipIf(!hasGnuDd)(hasGnuDd ? 'WAL drop-behind with GNU dd' : 'WAL drop-behind with GNU dd: SKIPPED, no GNU dd on this machine', () => {
  it('drops the sealed segments but the newest two, and every body reads back equal, cold and after a restart', async () => {
    const path = scope.path('app.log');
    const text: string[] = [];
    for (let seq = 0; seq < TOTAL; seq++) text.push(...entryLines(seq));
    writeFileSync(path, text.join('\n') + '\n');

    const asked: string[] = [];
    const dropped: string[] = [];
    const failed: string[] = [];
    const walIo: WalIo = {
      ...nodeIo,
      dropCache: (p) => {
        asked.push(p);
        return nodeIo.dropCache!(p).then(
          () => void dropped.push(p),
          (err: unknown) => {
            failed.push(`${p}: ${String(err)}`);
            throw err;
          },
        );
      },
    };
    const options = { sink: 'wal' as const, chunkBytes: 16 * 1024, walIo, serveArgs: ['--segment-bytes', '64KiB'] };
    let stack = await openStack([{ name: 'app', path }], options);
    try {
      stack.ingestor.start();
      await stack.ingestor.caughtUp();
      const wal = stack.durable!.wal;
      const sealed = wal.segments().filter((s) => s.sealed).map((s) => s.path);
      expect(sealed.length).toBeGreaterThan(KEEP_CACHED + 5);
      await waitFor(() => dropped.length + failed.length >= sealed.length - KEEP_CACHED, undefined, () => ({ asked, dropped, failed }));
      expect(failed).toEqual([]);
      expect(dropped).toEqual(sealed.slice(0, -KEEP_CACHED));
      expect(dropped).not.toContain(wal.segments().at(-1)!.path);
      for (const p of dropped) expect(p.startsWith(wal.dir)).toBe(true);
      // The first drop ran dd itself; the later ones went to the xargs helper, which runs them in
      // order after the path was handed over: wait for the kernel to show the pages gone.
      for (const p of [dropped[0]!, dropped.at(-1)!]) {
        if (cachedBytes(p, wal.dir) === null) break;
        await waitFor(() => cachedBytes(p, wal.dir) === 0, undefined, () => ({ p, cached: cachedBytes(p, wal.dir) }));
      }

      const first = stack;
      expectExactlyOnce(await allEntries(first.store), TOTAL);
      expect(stack.warnings).toEqual([]);

      stack = await stack.restart();
      // The restart loaded the final checkpoint (never dropped) and replayed nothing.
      expect(stack.durable!.recovery).toMatchObject({ replayedEntries: 0 });
      expect(stack.durable!.recovery.checkpoint).not.toBeNull();
      expectExactlyOnce(await allEntries(stack.store), TOTAL);
      for (const p of asked) expect(p.includes(join('checkpoints', ''))).toBe(false);
    } finally {
      await stack.close();
    }
  });
});

describe.skipIf(!hasGnuDd)(hasGnuDd ? 'DropHelper (nodeIo.dropCache)' : 'DropHelper: SKIPPED, no GNU dd on this machine', () => {
  function files(n: number): { dir: string; paths: string[] } {
    const dir = mkdtempSync(join(tmpdir(), 'ltm-drop-helper-'));
    const paths = Array.from({ length: n }, (_, i) => {
      const p = join(dir, `seg-${i}`);
      writeFileSync(p, Buffer.alloc(256 * 1024, 65 + i));
      // Clean pages, as a sealed segment's are: dirty ones are not dropped.
      const fd = openSync(p, 'r+');
      fsyncSync(fd);
      closeSync(fd);
      return p;
    });
    return { dir, paths };
  }

  it('a missing dd fails the first drop (the probe) and every later one', async () => {
    const { dir, paths } = files(2);
    try {
      const helper = new DropHelper('dd-that-is-not-installed');
      await expect(helper.drop(paths[0]!)).rejects.toThrow();
      await expect(helper.drop(paths[1]!)).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing xargs falls back to one dd per drop, and the pages still go', async () => {
    const { dir, paths } = files(3);
    try {
      const helper = new DropHelper('dd', 'xargs-that-is-not-installed');
      await helper.drop(paths[0]!);
      // A path handed to the helper before its spawn error arrived is lost (its pages just stay
      // cached); once the error is seen, every drop runs dd itself again.
      const p = paths[2]!;
      const known = cachedBytes(p, dir) !== null;
      await waitFor(() => helper.drop(p).then(() => !known || cachedBytes(p, dir) === 0, () => false), undefined, () => cachedBytes(p, dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
