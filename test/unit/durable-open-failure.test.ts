/**
 * An open of a data dir that fails after the WAL has opened gives back what it took: every
 * file descriptor the WAL opened is closed, and the lock file is gone. Two failures, at two
 * phases: a checkpoint written by a newer version (refused with a clear ConfigError), and a
 * WAL write that fails while a new source is registered. Both used to leave the WAL's
 * descriptors open and the lock behind (the lock of a live process blocks every other
 * `serve` on that directory).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { CHECKPOINT_PREFIX, dataDirPaths } from '../../src/store/durable/data-dir.js';
import { openDurable } from '../../src/store/durable/open.js';
import { listCheckpoints, readCheckpoint, writeCheckpoint } from '../../src/wal/checkpoint.js';
import { nodeIo, type WalIo } from '../../src/wal/io.js';

/** nodeIo, counting the descriptors it opens and closes; writev fails while `failWrites`. */
function countingIo() {
  const open = new Set<number>();
  const state = { failWrites: false, opened: 0 };
  const io: WalIo = {
    ...nodeIo,
    async open(path, flags) {
      const fd = await nodeIo.open(path, flags);
      open.add(fd);
      state.opened++;
      return fd;
    },
    async close(fd) {
      open.delete(fd);
      await nodeIo.close(fd);
    },
    openSync(path, flags) {
      const fd = nodeIo.openSync(path, flags);
      open.add(fd);
      state.opened++;
      return fd;
    },
    closeSync(fd) {
      open.delete(fd);
      nodeIo.closeSync(fd);
    },
    async writev(fd, buffers, position) {
      if (state.failWrites) throw Object.assign(new Error('injected: EIO on write'), { code: 'EIO' });
      return nodeIo.writev(fd, buffers, position);
    },
  };
  return { io, open, state };
}

describe('a failed open of a data dir', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ltm-open-fail-'));
    writeFileSync(join(dir, 'a.log'), '2024-01-01T00:00:00.000Z [INFO] one\n2024-01-01T00:00:01.000Z [ERROR] two\n');
    writeFileSync(join(dir, 'b.log'), '2024-01-01T00:00:02.000Z [INFO] three\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const config = (...sources: string[]) =>
    resolveConfig(['serve', ...sources.flatMap((s) => ['--source', join(dir, s)]), '--data-dir', join(dir, 'data')]);

  /** A data dir holding source a, and a checkpoint (close writes one when entries came in). */
  async function seeded(): Promise<void> {
    const durable = await openDurable(config('a.log'), { ingestStatus: () => [], logger: silentLogger });
    durable.sink.entriesSinceCheckpoint = 1;
    await durable.close();
  }

  it('closes the WAL and releases the lock when the checkpoint is from a newer version', async () => {
    await seeded();
    const paths = dataDirPaths(join(dir, 'data'));
    const [name] = await listCheckpoints(paths.checkpoints, CHECKPOINT_PREFIX);
    expect(name).toBeDefined();
    const cp = await readCheckpoint(paths.checkpoints, name!);
    const meta = cp.meta as { version: number };
    await writeCheckpoint(paths.checkpoints, name!, { meta: { ...meta, version: meta.version + 1 }, sections: cp.sections });

    const { io, open, state } = countingIo();
    const opening = openDurable(config('a.log'), { ingestStatus: () => [], logger: silentLogger, walIo: io });
    await expect(opening).rejects.toThrow(ConfigError);
    await expect(opening).rejects.toThrow(/checkpoint format \d+ is newer than this version understands/);
    expect(state.opened).toBeGreaterThan(0); // the WAL had opened: the failure came after it
    expect([...open]).toEqual([]);
    expect(existsSync(paths.lock)).toBe(false);
  });

  it('closes the WAL and releases the lock when registering a new source fails, and a later open works', async () => {
    await seeded();
    const paths = dataDirPaths(join(dir, 'data'));
    const { io, open, state } = countingIo();
    state.failWrites = true;
    await expect(openDurable(config('a.log', 'b.log'), { ingestStatus: () => [], logger: silentLogger, walIo: io })).rejects.toThrow(/injected: EIO/);
    expect(state.opened).toBeGreaterThan(0);
    expect([...open]).toEqual([]);
    expect(existsSync(paths.lock)).toBe(false);

    state.failWrites = false;
    const durable = await openDurable(config('a.log', 'b.log'), { ingestStatus: () => [], logger: silentLogger, walIo: io });
    try {
      expect(durable.wal.sources().map((s) => s.name).sort()).toEqual(['a.log', 'b.log']);
      expect(existsSync(paths.lock)).toBe(true);
    } finally {
      await durable.close();
    }
    expect([...open]).toEqual([]);
    expect(existsSync(paths.lock)).toBe(false);
  });
});
