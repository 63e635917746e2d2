/**
 * Following a file through every kind of rotation while a real writer process appends every
 * few milliseconds (issue 3, items 1 and 6): every entry written is indexed exactly once,
 * with its body, timestamp, tag and line number, and tail_status counts each rotation. Over
 * the in-memory sink of --ephemeral and over the WAL sink `serve` uses by default, where the
 * data dir reopened afterwards must hold every entry exactly once too (issue 18).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SINKS, type SinkKind, type Stack, type WriterOptions, allEntries, countAll, expectExactlyOnce, openStack, otherOpenFiles, physicalLines, runWriter, sleep, waitFor,
} from '../helpers/ingest-stack.js';

/** The follower's default grace for a rotated-away file, where open files cannot be listed. */
const ROTATE_GRACE_MS = 1000;

let dir = '';
let stack: Stack | null = null;

afterEach(async () => {
  await stack?.close();
  stack = null;
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

async function followThrough(sink: SinkKind, mode: WriterOptions['mode'], extra: Partial<WriterOptions> = {}): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), `ltm-rot-${mode}-`));
  const path = join(dir, 'app.log');
  if (mode !== 'symlink') writeFileSync(path, '');
  stack = await openStack([{ name: 'app', path }], { sink });
  stack.ingestor.start();
  const total = 1600;
  // 403 is not a multiple of 4: each rotation comes right after three entries written in the
  // same tick, which the follower cannot have read yet (copytruncate must recover them from
  // the copy; rename/delete/symlink must drain them from the old file).
  const result = await runWriter({ path, mode, total, perTick: 4, intervalMs: 5, rotateEvery: 403, linger: 12, ...extra });
  expect(result.rotations).toBe(3);
  const s = stack;
  // The body store of --ephemeral keeps its own descriptors of the files (bodies are read back).
  const others = (): string[] | null => otherOpenFiles(dir, path, s.bodyDescriptors());
  // A rotated-away file is drained until it has been quiet for a grace period, then closed:
  // only then can a late duplicate or a lost tail have shown up, so judge after every old
  // file is closed (without /proc, after the grace).
  if (others() === null) await sleep(Math.max(0, result.lastRotationAt + ROTATE_GRACE_MS + 100 - Date.now()));
  await waitFor(
    async () => (await countAll(s.store)) >= total && s.status().pendingBytes === 0 && s.status().state === 'live' && (others() ?? []).length === 0,
    undefined,
    () => ({ status: s.status(), open: others() }),
  );
  expectExactlyOnce(await allEntries(s.store), total, { lines: result.lines, source: 'app' });
  const status = s.status();
  expect(status.rotations).toBe(3);
  expect(status.linesRead).toBe(physicalLines(total));
  expect(status.parseErrors).toBe(0);
  expect(s.warnings).toEqual([]);
  if (sink === 'wal') {
    // What the data dir holds after a restart: the checkpoint and the WAL, not the live index.
    stack = await s.restart();
    expectExactlyOnce(await allEntries(stack.store), total, { lines: result.lines, source: 'app' });
  }
}

describe.each(SINKS)('following a file through rotation under a writer appending every 5 ms (%s sink)', (sink) => {
  it('rename-and-create (the writer keeps writing to the old file for a while)', async () => {
    await followThrough(sink, 'rename');
  });

  it('copytruncate (copy to .1, then truncate in place)', async () => {
    await followThrough(sink, 'copytruncate');
  });

  it('deletion and re-creation (the writer still writes to the deleted file first)', async () => {
    await followThrough(sink, 'delete');
  });

  it('a symlink swapped to a new target', async () => {
    await followThrough(sink, 'symlink');
  });

  it('rename-and-create with the new file created at once (no lingering writes)', async () => {
    await followThrough(sink, 'rename', { linger: 0 });
  });
});
