/**
 * A file nobody has written to for a while is quiet already: following it hands out its last
 * entry (which could still have grown, had the file been live) right after the read, not
 * quietMs later. A file written a moment ago keeps its last entry held until it has been quiet.
 * Over the in-memory sink and the WAL sink.
 */
import { utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { SourceTracker } from '../../src/ingest/source-tracker.js';
import { SINKS, countAll, openStack, stackScope, waitFor } from '../helpers/ingest-stack.js';
import { entryLines } from '../helpers/seq-writer.mjs';

const scope = stackScope('ltm-quiet-');

/** Longer than any test waits (DEADLINE_MS is 30 s): an entry held for it is never handed out here. */
const QUIET_MS = 600_000;
const ENTRIES = 50;

function writeLog(mtimeMs: number): string {
  const path = scope.path('app.log');
  writeFileSync(path, Array.from({ length: ENTRIES }, (_, seq) => entryLines(seq).join('\n') + '\n').join(''));
  utimesSync(path, new Date(), new Date(mtimeMs));
  return path;
}

describe.each(SINKS)('the last entry of a followed file (%s sink)', (sink) => {
  it('is handed out at once when the file was last written an hour ago', async () => {
    const path = writeLog(Date.now() - 3_600_000);
    const stack = await openStack([{ name: 'app', path }], { sink, quietMs: QUIET_MS });
    scope.track(stack);
    stack.ingestor.start();
    await waitFor(async () => (await countAll(stack.store)) === ENTRIES, undefined, () => stack.status());
    expect(stack.status().pendingBytes).toBe(0);
  });

  it('is held while the file may still be written (modification time not older than now)', async () => {
    const path = writeLog(Date.now() + 3_600_000);
    const stack = await openStack([{ name: 'app', path }], { sink, quietMs: QUIET_MS });
    scope.track(stack);
    // Every pass of the follower ends in observe(): counting calls tells a pass has happened.
    const observed = vi.spyOn(SourceTracker.prototype, 'observe');
    stack.ingestor.start();
    await waitFor(async () => (await countAll(stack.store)) === ENTRIES - 1, undefined, () => stack.status());
    const passes = observed.mock.calls.length;
    await waitFor(() => observed.mock.calls.length >= passes + 2);
    expect(await countAll(stack.store)).toBe(ENTRIES - 1);
    expect(stack.status().pendingBytes).toBeGreaterThan(0);
  });
});
