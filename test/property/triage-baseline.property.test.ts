/**
 * Issue 9 item 9: the robust baseline (src/triage/baseline.ts). A burst that began before the
 * incident window (a late alert) is left out of its own baseline rate; a flapping or rare
 * signature, and steady noise, keep theirs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MIN_RUN, median, robustBaseline, type Slice, trailingRun } from '../../src/triage/baseline.js';
import { triage } from '../../src/triage/index.js';
import { buildStore } from '../../tools/triage-eval/build-store.js';
import { evalCatalog } from '../../tools/triage-eval/catalog.js';

const ones = (n: number): number[] => Array.from({ length: n }, () => 1);
const minuteSlices = (n: number): Slice[] => Array.from({ length: n }, (_, i) => ({ from: i * 60e6, to: (i + 1) * 60e6, count: 0, weight: 1, sample: [] }));

describe('trailingRun', () => {
  it('finds the slices where a burst already ran before the window, and only those', () => {
    expect(trailingRun([5, 6, 4, 5, 6, 5, 4, 90, 120, 110], ones(10))).toBe(3);
    // A new signature: absent, then bursting.
    expect(trailingRun([0, 0, 0, 0, 0, 0, 0, 0, 200, 180], ones(10))).toBe(2);
    // One slice over the line is a flap or noise, not an onset.
    expect(trailingRun([0, 0, 30, 0, 0, 0, 30, 0, 0, 25], ones(10))).toBe(0);
    // A run that stops before the last slice is not adjacent to the window.
    expect(trailingRun([5, 5, 5, 5, 90, 90, 90, 5, 5, 5], ones(10))).toBe(0);
    // A sampled estimate of one line read at weight 20 is not a run by itself.
    expect(trailingRun([0, 0, 0, 0, 0, 0, 0, 0, 20, 20], Array.from({ length: 10 }, () => 20))).toBe(0);
    expect(trailingRun([0, 0, 0, 0, 0, 0, 0, 0, 60, 40], Array.from({ length: 10 }, () => 20))).toBe(2);
  });

  it('property: a level raised far above the rest over the last k >= MIN_RUN slices (k < n/2) is found exactly; never more than half the slices', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 60 }), fc.integer({ min: 0, max: 200 }), fc.nat(), fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 60, maxLength: 60 }), (n, level, kSeed, noise) => {
        const k = MIN_RUN + (kSeed % Math.max(1, Math.ceil(n / 2) - MIN_RUN));
        if (k >= n / 2) return;
        const lift = level + 10 * Math.sqrt(level + 1) + 10;
        const values = Array.from({ length: n }, (_, i) => Math.max(0, level + noise[i]! * Math.sqrt(level) * 0.5) + (i >= n - k ? lift : 0));
        expect(trailingRun(values, ones(n))).toBe(k);
        expect(trailingRun(values.slice(0, n - k), ones(n - k))).toBe(0);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 60 }), (values) => {
        expect(trailingRun(values, ones(values.length))).toBeLessThanOrEqual(Math.floor(values.length / 2));
      }),
    );
  });

  it('median', () => {
    expect(median([])).toBe(0);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('robustBaseline', () => {
  it('keeps the slices before the run: their count, span and sampling variance', () => {
    const b = robustBaseline([2, 3, 2, 3, 50, 60], ones(6), [1, 1, 1, 1, 9, 9], minuteSlices(6));
    expect(b).toEqual({ count: 10, samplingVar: 4, spanS: 240, excludedS: 120 });
    const flat = robustBaseline([2, 3, 2, 3, 2, 3], ones(6), [], minuteSlices(6));
    expect(flat).toEqual({ count: 15, samplingVar: 0, spanS: 360, excludedS: 0 });
  });
});

describe('issue 9: a late alert with little history', () => {
  const MIN = 60_000;
  const START = Date.UTC(2024, 0, 15, 8, 0, 0);
  // 15 min of history before the window [T - 5 min, T + 1 min].
  const T = START + 20 * MIN;
  const catalog = evalCatalog();
  const BUSY = { seed: 11, start: START, rate: 300, tagMix: { TRACE: 40, INFO: 40, WARN: 15, ERROR: 8 } };

  it('the burst began 11 min before T: its 6 min before the window are left out of its baseline, and it auto-executes', async () => {
    const { store } = buildStore({ ...BUSY, incidents: [{ at: T - 11 * MIN, durationMs: 15 * MIN, signature: 'db-timeout', ratePerSec: 6 }] }, T + 3 * MIN);
    const { evidence: e, result, runbook } = await triage(store, { t: T * 1000, catalog });
    const dom = e.dominant!;
    expect(dom.template).toMatch(/^database query exceeded/);
    // About 6 one-minute slices ran high; the slice holding the onset may or may not count.
    expect(dom.baselineExcludedS).toBeGreaterThanOrEqual(5 * 60);
    expect(dom.baselineExcludedS).toBeLessThanOrEqual(7 * 60);
    // What remains is the signature's true past: (nearly) absent.
    expect(dom.baselineEstimated).toBeLessThan(0.05 * dom.estimated);
    expect(dom.burstRatio).toBeGreaterThan(20);
    expect(result.decision).toBe('auto_execute');
    expect(runbook?.id).toBe('db-timeout');
  });

  it('a signature flapping all along keeps its baseline and does not read as a burst', async () => {
    // 25 s of it every 4 min, at the half-minute (where oldest-first reads of a slice never look).
    const flaps = Array.from({ length: 6 }, (_, i) => ({ at: START + i * 4 * MIN + 30_000, durationMs: 25_000, signature: 'db-timeout' as const, ratePerSec: 4 }));
    const { store } = buildStore({ ...BUSY, rate: 200, tagMix: { ...BUSY.tagMix, ERROR: 2 }, incidents: flaps }, T + 3 * MIN);
    const { evidence: e, result } = await triage(store, { t: T * 1000, catalog });
    const flap = e.signatures.find((s) => s.template.startsWith('database query exceeded'));
    expect(flap).toBeDefined();
    expect(flap!.baselineExcludedS).toBe(0);
    // Four flaps of ~100 lines before the window.
    expect(flap!.baselineEstimated).toBeGreaterThan(200);
    expect(flap!.burstRatio).toBeLessThan(3);
    expect(result.decision).toBe('escalate');
  });
});
