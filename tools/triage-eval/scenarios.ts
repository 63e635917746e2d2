/**
 * The labelled scenario set: each scenario is a generator configuration (background rate,
 * level mix, stack traces, late lines, incidents), how far the data has been ingested, an
 * incident time T, and the action a careful on-call engineer would take. Labels come from
 * how the scenario is built, never from what triage answers.
 *
 * Families and their share of the set (weights out of 100; interleaved by smooth weighted
 * round robin, so every prefix of the set, e.g. a 30-scenario test run, keeps the mix):
 *
 *   family        weight  what is built                                              right action
 *   clear            24   one auto-runbook signature bursting, T 15 s-5 min after its
 *                         onset                                                      auto_execute
 *   late-alert        5   the same, T 5-12 min after the onset: the burst began before
 *                         the window, so part of it sits in the baseline (counted in
 *                         the auto_execute recall, not in the clear-incident target)   auto_execute
 *   manual            8   the same with cert-expired, whose runbook is
 *                         auto_execute: false                                         escalate
 *   novel             9   a `novel` signature (no runbook) bursting around T          escalate
 *   competing         9   two different signatures (catalog or novel) bursting over
 *                         T, their in-window line counts within 2x of each other      escalate
 *   far               9   T 15-40 min after a burst ended, ~1 h after it, or ~1 h
 *                         before it began                                             escalate
 *   uncovered         9   a clear incident, but the data ends between T and T + 55 s
 *                         (window-end) or up to 5 min before T (past-end)             insufficient_data
 *   noisy-only        6   15-30 % of the lines are errors, 4-10 novel spikes of
 *                         0.3-1.5x that rate all over the log, and an auto-runbook
 *                         signature flapping every 3-8 min (half the time T sits in
 *                         a flap); no incident                                        escalate
 *   noisy-clear       6   the same noise plus a clear incident of another auto
 *                         signature that stands out: >= 4x the in-window lines of any
 *                         noise signature, >= 0.3x the background error rate          auto_execute
 *   noisy-buried      6   the same noise plus an incident matched over the window by
 *                         a novel spike of 0.5-2x its size (two problems at once)     escalate
 *   small             9   2-8 lines of an auto-runbook signature around T, half of
 *                         them on a quiet service where nothing else stands out      escalate
 *
 * What "clear" means here: a catalog signature absent before the burst, >= 2 lines/s and
 * 0.2x-5x the background error rate (log-uniform), lasting 2-15 min, T 15 s to 5 min into
 * it (so >= 75 s of it is inside the window [T - 300 s, T + 60 s] and none of it in the
 * baseline before the window). The default demo incident (200/s over 583 errors/s of
 * background) sits at 0.34x, inside this range. The gaps between labels are deliberate:
 * nothing is generated between "stands out" (>= 4x) and "buried" (<= 2x), or between a
 * handful of lines (<= 8) and a clear burst (>= 150 lines in the window).
 *
 * Everything else varies per scenario from its seed: background rate 100-400 lines/s
 * (100-200 for far, whose logs span over an hour); errors 2-8 % of the lines, or for a
 * quarter of the scenarios a quiet service under 0.3 % (half of those with no background
 * errors at all); 5-25 min of data before the window (15-25 for late-alert, 20-25 when
 * noisy); stack traces on 0-30 % of the errors; late lines; ms or us timestamps.
 */
import type { CatalogSignatureName, GeneratorOptions, IncidentSpec, SignatureName } from '../../src/generate/index.js';
import { deriveSeed, Prng } from '../../src/generate/prng.js';
import type { Decision } from '../../src/triage/index.js';
import { AUTO_SIGNATURES, CATALOG_SIGNATURES, MANUAL_SIGNATURES } from './catalog.js';

export const FAMILIES = [
  'clear', 'late-alert', 'manual', 'novel', 'competing', 'far', 'uncovered', 'noisy-only', 'noisy-clear', 'noisy-buried', 'small',
] as const;
export type Family = (typeof FAMILIES)[number];

export const FAMILY_WEIGHTS: Readonly<Record<Family, number>> = {
  clear: 24, 'late-alert': 5, manual: 8, novel: 9, competing: 9, far: 9, uncovered: 9, 'noisy-only': 6, 'noisy-clear': 6, 'noisy-buried': 6, small: 9,
};

export const FAMILY_EXPECTED: Readonly<Record<Family, Decision>> = {
  clear: 'auto_execute', 'late-alert': 'auto_execute', manual: 'escalate', novel: 'escalate', competing: 'escalate', far: 'escalate',
  uncovered: 'insufficient_data', 'noisy-only': 'escalate', 'noisy-clear': 'auto_execute', 'noisy-buried': 'escalate', small: 'escalate',
};

export interface Scenario {
  /** 1-based position in the set. */
  id: number;
  family: Family;
  /** A finer sub-case within the family (e.g. far: after-end / hour-before / hour-after). */
  variant: string;
  expected: Decision;
  /** For auto_execute: the runbook that must be the one run (anything else is a wrong auto_execute). */
  expectedRunbook: string | null;
  /** Incident time, epoch ms. */
  t: number;
  generator: GeneratorOptions;
  /** Data is generated (ingested) up to this time, epoch ms. */
  untilEpochMs: number;
  /** One line saying what was built. */
  description: string;
}

const SEC = 1000;
const MIN = 60 * SEC;
const WINDOW_BEFORE_MS = 300 * SEC;
const WINDOW_AFTER_MS = 60 * SEC;
const DAY0 = Date.UTC(2024, 0, 15, 0, 0, 0);

/** Seed-driven draws for one scenario. */
class Draw {
  constructor(private readonly rng: Prng) {}
  uniform(lo: number, hi: number): number {
    return lo + this.rng.float() * (hi - lo);
  }
  logUniform(lo: number, hi: number): number {
    return Math.exp(this.uniform(Math.log(lo), Math.log(hi)));
  }
  int(lo: number, hi: number): number {
    return this.rng.range(lo, hi);
  }
  chance(p: number): boolean {
    return this.rng.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    return this.rng.pick(items);
  }
}

/** How the quiet part of the log looks. */
interface Background {
  rate: number;
  errorWeight: number;
  /** Background ERROR lines per second. */
  errorRate: number;
  /** Data before the window starts, ms. */
  baselineMs: number;
  options: Omit<GeneratorOptions, 'incidents' | 'start'>;
}

function background(d: Draw, seed: number, opts: { noisy?: boolean; slow?: boolean; minBaselineMin?: number; quietChance?: number } = {}): Background {
  const rate = Math.round(opts.slow === true ? d.logUniform(100, 200) : d.logUniform(100, 400));
  // A quarter of the services are quiet (half of those log no errors at all), the rest 2-8 %.
  const quiet = d.chance(opts.quietChance ?? 0.25);
  const errorWeight = opts.noisy === true ? d.uniform(15, 30) : quiet ? (d.chance(0.5) ? 0 : d.uniform(0.01, 0.3)) : d.uniform(2, 8);
  const share = errorWeight / (95 + errorWeight);
  const stackFraction = d.chance(0.5) ? 0 : d.uniform(0.05, 0.3);
  const lateFraction = d.chance(0.7) ? 0 : d.uniform(0.001, 0.01);
  const precision = d.pick([3, 3, 6]);
  return {
    rate,
    errorWeight,
    errorRate: rate * share,
    baselineMs: Math.round(d.uniform(opts.minBaselineMin ?? 5, 25) * MIN),
    options: { seed, rate, tagMix: { TRACE: 40, INFO: 40, WARN: 15, ERROR: errorWeight }, stackFraction, lateFraction, precision },
  };
}

/** Lines a burst puts inside the incident window of T. */
export function linesInWindow(inc: IncidentSpec, t: number): number {
  const from = Math.max(inc.at, t - WINDOW_BEFORE_MS);
  const to = Math.min(inc.at + (inc.durationMs ?? 60 * SEC), t + WINDOW_AFTER_MS);
  return Math.max(0, (to - from) / SEC) * (inc.ratePerSec ?? 200);
}

/**
 * A clear burst over T: 0.2x-5x the background error rate (at least 2 lines/s), 2-15 min
 * long, T 15 s to 5 min after its onset (an alert fires within minutes), or with `late`
 * 5-12 min after it (the alert came late: the burst began before the incident window).
 */
function clearBurst(d: Draw, bg: Background, t: number, signature: SignatureName, late = false): IncidentSpec {
  const ratio = d.logUniform(0.2, 5);
  const ratePerSec = round2(Math.max(2, ratio * bg.errorRate));
  if (late) {
    const into = Math.round(d.uniform(5, 12) * MIN);
    return { at: t - into, durationMs: into + Math.round(d.uniform(1, 10) * MIN), signature, ratePerSec };
  }
  const durationMs = Math.round(d.uniform(2, 15) * MIN);
  const into = Math.round(d.uniform(15 * SEC, Math.min(durationMs, 5 * MIN)));
  return { at: t - into, durationMs, signature, ratePerSec };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const fmtS = (ms: number): string => `${Math.round(ms / SEC)}s`;
const fmtMin = (ms: number): string => `${(ms / MIN).toFixed(1)}min`;

function describeBurst(inc: IncidentSpec, t: number): string {
  return `${inc.signature} ${inc.ratePerSec}/s for ${fmtS(inc.durationMs ?? 0)} from T${inc.at <= t ? '-' : '+'}${fmtS(Math.abs(t - inc.at))} (${Math.round(linesInWindow(inc, t))} in window)`;
}

function describeBackground(bg: Background): string {
  return `bg ${bg.rate}/s, ${bg.errorRate.toFixed(1)} err/s, ${fmtMin(bg.baselineMs)} before the window`;
}

interface Built {
  variant: string;
  incidents: IncidentSpec[];
  expectedRunbook: string | null;
  /** Data end relative to T, ms (default: 1-4 min after T + 60 s). */
  endOffsetMs?: number;
  /** Data start relative to T, ms (default: the window start minus the background's baseline). */
  startOffsetMs?: number;
  notes: string[];
}

/** Noise spikes (novel signatures) over [from, to] and an auto signature flapping every few minutes. */
function noise(
  d: Draw, bg: Background, from: number, to: number, avoid: CatalogSignatureName | null, flapAt: number | null,
): { incidents: IncidentSpec[]; flap: CatalogSignatureName; periodMs: number } {
  const incidents: IncidentSpec[] = [];
  const spikes = d.int(4, 10);
  for (let i = 0; i < spikes; i++) {
    const durationMs = Math.round(d.uniform(10, 60) * SEC);
    incidents.push({ at: Math.round(d.uniform(from, to - durationMs)), durationMs, signature: 'novel', ratePerSec: round2(d.uniform(0.3, 1.5) * bg.errorRate) });
  }
  const flap = d.pick(AUTO_SIGNATURES.filter((s) => s !== avoid));
  const periodMs = Math.round(d.uniform(3, 8) * MIN);
  const flapMs = Math.round(d.uniform(10, 40) * SEC);
  const flapRate = round2(d.uniform(1, 5));
  // One flap covers flapAt when given; the others repeat every period before and after it.
  let first = flapAt === null ? from + Math.round(d.uniform(0, periodMs)) : flapAt - Math.round(d.uniform(0, flapMs));
  while (first - periodMs >= from) first -= periodMs;
  for (let at = first; at + flapMs < to; at += periodMs) {
    incidents.push({ at, durationMs: flapMs, signature: flap, ratePerSec: flapRate });
  }
  return { incidents, flap, periodMs };
}

/** In-window lines per noise signature (spikes each count alone: every novel spike is its own phrase). */
function maxNoiseInWindow(incidents: readonly IncidentSpec[], t: number): number {
  let flap = 0;
  let spike = 0;
  for (const inc of incidents) {
    const n = linesInWindow(inc, t);
    if (inc.signature === 'novel') spike = Math.max(spike, n);
    else flap += n;
  }
  return Math.max(flap, spike);
}

function build(family: Family, d: Draw, bg: Background, t: number): Built {
  switch (family) {
    case 'clear': {
      const sig = d.pick(AUTO_SIGNATURES);
      const inc = clearBurst(d, bg, t, sig);
      return { variant: sig, incidents: [inc], expectedRunbook: sig, notes: [describeBurst(inc, t)] };
    }
    case 'late-alert': {
      const sig = d.pick(AUTO_SIGNATURES);
      const inc = clearBurst(d, bg, t, sig, true);
      return { variant: sig, incidents: [inc], expectedRunbook: sig, notes: [describeBurst(inc, t)] };
    }
    case 'manual': {
      const sig = d.pick(MANUAL_SIGNATURES);
      const inc = clearBurst(d, bg, t, sig);
      return { variant: sig, incidents: [inc], expectedRunbook: null, notes: [describeBurst(inc, t)] };
    }
    case 'novel': {
      const inc = clearBurst(d, bg, t, 'novel');
      return { variant: 'novel', incidents: [inc], expectedRunbook: null, notes: [describeBurst(inc, t)] };
    }
    case 'competing': {
      const pool: SignatureName[] = [...CATALOG_SIGNATURES, 'novel'];
      const a = d.pick(CATALOG_SIGNATURES);
      const b = d.pick(pool.filter((s) => s !== a));
      const first = clearBurst(d, bg, t, a);
      const second = clearBurst(d, bg, t, b);
      // The second burst's rate is set so its in-window lines are 0.5x-2x the first's.
      const overlap = linesInWindow({ ...second, ratePerSec: 1 }, t);
      second.ratePerSec = round2(Math.max(1, (linesInWindow(first, t) * d.logUniform(0.5, 2)) / overlap));
      return { variant: `${a}+${b}`, incidents: [first, second], expectedRunbook: null, notes: [describeBurst(first, t), describeBurst(second, t)] };
    }
    case 'far': {
      const sig = d.pick(AUTO_SIGNATURES);
      const variant = d.pick(['after-end', 'after-end', 'hour-before', 'hour-after']);
      const inc = clearBurst(d, bg, t, sig);
      const durationMs = inc.durationMs!;
      if (variant === 'after-end') inc.at = t - durationMs - Math.round(d.uniform(15, 40) * MIN);
      else if (variant === 'hour-before') inc.at = t - durationMs - Math.round(d.uniform(55, 65) * MIN);
      else inc.at = t + Math.round(d.uniform(55, 65) * MIN);
      const built: Built = { variant, incidents: [inc], expectedRunbook: null, notes: [describeBurst(inc, t)] };
      // The data must hold the burst: from before it, or (hour-after) through it.
      if (inc.at < t - WINDOW_BEFORE_MS - bg.baselineMs) built.startOffsetMs = inc.at - t - Math.round(d.uniform(2, 10) * MIN);
      if (variant === 'hour-after') built.endOffsetMs = inc.at + durationMs + MIN - t;
      return built;
    }
    case 'uncovered': {
      const sig = d.pick(AUTO_SIGNATURES);
      const inc = clearBurst(d, bg, t, sig);
      const variant = d.pick(['window-end', 'past-end']);
      const endOffsetMs = variant === 'window-end' ? Math.round(d.uniform(0, 55) * SEC) : -Math.round(d.uniform(1, 300) * SEC);
      return { variant, incidents: [inc], expectedRunbook: null, endOffsetMs, notes: [describeBurst(inc, t), `data ends at T${endOffsetMs < 0 ? '-' : '+'}${fmtS(Math.abs(endOffsetMs))}`] };
    }
    case 'noisy-only':
    case 'noisy-clear':
    case 'noisy-buried': {
      const sig = d.pick(AUTO_SIGNATURES);
      const from = t - WINDOW_BEFORE_MS - bg.baselineMs;
      const to = t + WINDOW_AFTER_MS + 4 * MIN;
      // Without an incident, half the time T sits right inside a flap of the runbook signature: the hard case.
      const inFlap = family === 'noisy-only' && d.chance(0.5);
      const n = noise(d, bg, from, to, family === 'noisy-only' ? null : sig, inFlap ? t : null);
      const notes = [`noise: ${n.incidents.filter((i) => i.signature === 'novel').length} novel spikes, ${n.flap} flapping every ${fmtMin(n.periodMs)}`];
      if (family === 'noisy-only') return { variant: inFlap ? 'T-in-flap' : 'T-anywhere', incidents: n.incidents, expectedRunbook: null, notes };
      const inc = clearBurst(d, bg, t, sig);
      const overlap = linesInWindow({ ...inc, ratePerSec: 1 }, t);
      if (family === 'noisy-clear') {
        const needed = Math.max(0.3 * bg.errorRate, (4 * maxNoiseInWindow(n.incidents, t)) / overlap, 2);
        inc.ratePerSec = round2(needed * d.uniform(1, 3));
        return { variant: sig, incidents: [...n.incidents, inc], expectedRunbook: sig, notes: [...notes, describeBurst(inc, t)] };
      }
      // A novel spike covering the same span of the window, 0.5x-2x the incident's lines.
      const spike: IncidentSpec = { ...inc, signature: 'novel', ratePerSec: round2(Math.max(1, inc.ratePerSec! * d.logUniform(0.5, 2))) };
      return { variant: sig, incidents: [...n.incidents, inc, spike], expectedRunbook: null, notes: [...notes, describeBurst(inc, t), describeBurst(spike, t)] };
    }
    case 'small': {
      const sig = d.pick(AUTO_SIGNATURES);
      const lines = d.int(2, 8);
      const everyMs = Math.round(d.uniform(1, 20) * SEC);
      const first = t - Math.round(d.uniform(0, lines * everyMs));
      // One single-line incident per line. A single slow incident stream (one line every few
      // seconds) would make the generator hold the background back behind each of its lines
      // (an entry is jittered by up to its stream's interval, and later entries are clamped
      // to it), leaving gaps and then clumps of hundreds of background lines.
      const incidents: IncidentSpec[] = [];
      for (let i = 0; i < lines; i++) incidents.push({ at: first + i * everyMs + Math.round(d.uniform(0, everyMs / 2)), durationMs: 1, signature: sig, ratePerSec: 1000 });
      return { variant: `${lines} lines`, incidents, expectedRunbook: null, notes: [`${sig}: ${lines} lines ~${fmtS(everyMs)} apart around T`] };
    }
  }
}

/** Family order: smooth weighted round robin, so any prefix keeps the mix. */
export function familySchedule(n: number): Family[] {
  const current = new Map<Family, number>(FAMILIES.map((f) => [f, 0]));
  const total = FAMILIES.reduce((a, f) => a + FAMILY_WEIGHTS[f], 0);
  const out: Family[] = [];
  for (let i = 0; i < n; i++) {
    let best: Family = FAMILIES[0];
    for (const f of FAMILIES) {
      current.set(f, current.get(f)! + FAMILY_WEIGHTS[f]);
      if (current.get(f)! > current.get(best)!) best = f;
    }
    current.set(best, current.get(best)! - total);
    out.push(best);
  }
  return out;
}

/** Scenario `id` (1-based) of the set for `seed`, of the given family. */
export function makeScenario(id: number, family: Family, seed: number): Scenario {
  const scenarioSeed = deriveSeed(seed, id);
  const d = new Draw(new Prng(scenarioSeed));
  const noisy = family.startsWith('noisy');
  const minBaselineMin = noisy ? 20 : family === 'late-alert' ? 15 : 5;
  // A handful of lines is hardest to dismiss where nothing else is logged: half the small bursts are on quiet services.
  const bg = background(d, scenarioSeed, { noisy, slow: family === 'far', minBaselineMin, quietChance: family === 'small' ? 0.5 : 0.25 });
  const t = DAY0 + d.int(2, 20) * 3_600_000 + d.int(0, 3_599_999);
  const built = build(family, d, bg, t);
  const start = t + (built.startOffsetMs ?? -(WINDOW_BEFORE_MS + bg.baselineMs));
  const untilEpochMs = t + (built.endOffsetMs ?? WINDOW_AFTER_MS + Math.round(d.uniform(1, 4) * MIN));
  return {
    id,
    family,
    variant: built.variant,
    expected: FAMILY_EXPECTED[family],
    expectedRunbook: built.expectedRunbook,
    t,
    generator: { ...bg.options, start, incidents: built.incidents },
    untilEpochMs,
    description: `${describeBackground(bg)}; ${built.notes.join('; ')}`,
  };
}

export function makeScenarios(n: number, seed: number): Scenario[] {
  return familySchedule(n).map((family, i) => makeScenario(i + 1, family, seed));
}
