/**
 * Following a file through every kind of rotation while a real writer process appends every
 * few milliseconds (issue 3, items 1 and 6): every entry written is indexed exactly once,
 * with its body, timestamp, tag and line number, and tail_status counts each rotation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Stack, type WriterOptions, allEntries, countAll, expectExactlyOnce, openStack, physicalLines, runWriter, sleep, waitFor,
} from '../helpers/ingest-stack.js';

/** The follower's default grace for a rotated-away file (the Ingestor does not override it). */
const ROTATE_GRACE_MS = 1000;

let dir = '';
let stack: Stack | null = null;

afterEach(async () => {
  await stack?.close();
  stack = null;
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

async function followThrough(mode: WriterOptions['mode'], extra: Partial<WriterOptions> = {}): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), `ltm-rot-${mode}-`));
  const path = join(dir, 'app.log');
  if (mode !== 'symlink') writeFileSync(path, '');
  stack = openStack([{ name: 'app', path }]);
  stack.ingestor.start();
  const total = 1600;
  // 403 is not a multiple of 4: each rotation comes right after three entries written in the
  // same tick, which the follower cannot have read yet (copytruncate must recover them from
  // the copy; rename/delete/symlink must drain them from the old file).
  const result = await runWriter({ path, mode, total, perTick: 4, intervalMs: 5, rotateEvery: 403, linger: 12, ...extra });
  expect(result.rotations).toBe(3);
  const s = stack;
  // A rotated-away file is drained until it has been quiet for the grace period: only then can
  // a late duplicate or a lost tail show up, so wait past it before judging.
  await sleep(Math.max(0, result.lastRotationAt + ROTATE_GRACE_MS + 100 - Date.now()));
  await waitFor(
    async () => (await countAll(s.store)) >= total && s.status().pendingBytes === 0 && s.status().state === 'live',
    10_000,
    () => s.status(),
  );
  expectExactlyOnce(await allEntries(s.store), total, { lines: result.lines, source: 'app' });
  const status = s.status();
  expect(status.rotations).toBe(3);
  expect(status.linesRead).toBe(physicalLines(total));
  expect(status.parseErrors).toBe(0);
  expect(s.warnings).toEqual([]);
}

describe('following a file through rotation under a writer appending every 5 ms', () => {
  it('rename-and-create (the writer keeps writing to the old file for a while)', async () => {
    await followThrough('rename');
  });

  it('copytruncate (copy to .1, then truncate in place)', async () => {
    await followThrough('copytruncate');
  });

  it('deletion and re-creation (the writer still writes to the deleted file first)', async () => {
    await followThrough('delete');
  });

  it('a symlink swapped to a new target', async () => {
    await followThrough('symlink');
  });

  it('rename-and-create with the new file created at once (no lingering writes)', async () => {
    await followThrough('rename', { linger: 0 });
  });
});
