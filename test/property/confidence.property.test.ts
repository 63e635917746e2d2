import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyOpinion,
  decide,
  DEFAULT_PARAMS,
  logistic,
  scoreFeatures,
  type TriageFeatures,
} from '../../src/triage/confidence.js';
import { burstRatio, burstSignificance } from '../../src/triage/evidence.js';
import { parseSecondOpinion } from '../../src/triage/second-opinion.js';

/** A clear runbook incident: one signature, strong burst, right at T, fully matched. */
const CLEAR: TriageFeatures = {
  coverageOk: true,
  errorsInWindow: 900,
  burstRatio: 300,
  dominantBurstZ: 280,
  dominantCount: 880,
  signatureShare: 0.97,
  secondShare: 0.02,
  dominantBurstRatio: 500,
  dominantNearestS: 0.4,
  runbookFit: 1,
  runbookCandidates: 1,
};
const AUTO = { autoExecute: true, minConfidence: 0.8 };

describe('scoreFeatures', () => {
  it('a clear runbook incident scores high', () => {
    const s = scoreFeatures(CLEAR);
    expect(s.confidence).toBeGreaterThan(0.9);
    expect(s.clarity).toBeGreaterThan(0.9);
    expect(s.confidence).toBeLessThanOrEqual(1);
  });

  it('no runbook: confidence 0, clarity still says the burst is clear', () => {
    const s = scoreFeatures({ ...CLEAR, runbookFit: null, runbookCandidates: 0 });
    expect(s.confidence).toBe(0);
    expect(s.clarity).toBeGreaterThan(0.9);
  });

  it('no errors: everything 0', () => {
    expect(scoreFeatures({ ...CLEAR, errorsInWindow: 0 }).confidence).toBe(0);
  });

  it.each<[string, Partial<TriageFeatures>]>([
    ['competing signatures', { signatureShare: 0.5, secondShare: 0.45 }],
    ['weak burst', { burstRatio: 1.5, dominantBurstZ: 1.7, dominantBurstRatio: 1.5 }],
    ['far from T', { dominantNearestS: 250 }],
    ['few lines', { dominantCount: 2 }],
    ['partial runbook fit', { runbookFit: 0.55 }],
  ])('%s pulls confidence under 0.8', (_name, change) => {
    expect(scoreFeatures({ ...CLEAR, ...change }).confidence).toBeLessThan(0.8);
  });

  it('is monotone: more evidence never lowers the score (property)', () => {
    const features = fc.record({
      coverageOk: fc.constant(true),
      errorsInWindow: fc.integer({ min: 1, max: 10_000 }),
      burstRatio: fc.double({ min: 0.01, max: 1e4, noNaN: true }),
      dominantBurstZ: fc.double({ min: -10, max: 1e3, noNaN: true }),
      dominantCount: fc.double({ min: 0, max: 1e4, noNaN: true }),
      signatureShare: fc.double({ min: 0, max: 1, noNaN: true }),
      secondShare: fc.double({ min: 0, max: 0.5, noNaN: true }),
      dominantBurstRatio: fc.double({ min: 0.01, max: 1e4, noNaN: true }),
      dominantNearestS: fc.double({ min: 0, max: 3600, noNaN: true }),
      runbookFit: fc.double({ min: 0.5, max: 1, noNaN: true }),
      runbookCandidates: fc.constant(1),
    });
    fc.assert(
      fc.property(features, fc.double({ min: 1, max: 10, noNaN: true }), (f, k) => {
        const s = scoreFeatures(f).confidence;
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
        expect(scoreFeatures({ ...f, dominantBurstZ: f.dominantBurstZ + k }).confidence).toBeGreaterThanOrEqual(s - 1e-12);
        expect(scoreFeatures({ ...f, dominantBurstRatio: f.dominantBurstRatio * k }).confidence).toBeGreaterThanOrEqual(s - 1e-12);
        expect(scoreFeatures({ ...f, signatureShare: Math.min(1, f.signatureShare * k) }).confidence).toBeGreaterThanOrEqual(s - 1e-12);
        expect(scoreFeatures({ ...f, dominantNearestS: f.dominantNearestS! / k }).confidence).toBeGreaterThanOrEqual(s - 1e-12);
        expect(scoreFeatures({ ...f, secondShare: f.secondShare / k }).confidence).toBeGreaterThanOrEqual(s - 1e-12);
      }),
    );
  });

  it('logistic is 0.5 at mid', () => {
    expect(logistic(2, { mid: 2, k: 5 })).toBe(0.5);
  });
});

describe('decide', () => {
  it('auto_execute for a clear incident with an auto runbook', () => {
    const d = decide(CLEAR, AUTO);
    expect(d.decision).toBe('auto_execute');
    expect(d.blocks).toEqual([]);
  });

  it('insufficient_data when coverage is missing, with the confidence capped', () => {
    const d = decide({ ...CLEAR, coverageOk: false }, AUTO);
    expect(d.decision).toBe('insufficient_data');
    expect(d.blocks).toEqual(['no_coverage']);
    expect(d.confidence).toBeLessThanOrEqual(DEFAULT_PARAMS.coverageCap);
  });

  it.each<[string, Partial<TriageFeatures>, { autoExecute: boolean; minConfidence: number } | null, string]>([
    ['novel error', { runbookFit: null, runbookCandidates: 0 }, null, 'no_runbook'],
    ['ambiguous runbooks', { runbookCandidates: 2 }, AUTO, 'ambiguous_runbook'],
    ['manual runbook', {}, { autoExecute: false, minConfidence: 0.8 }, 'manual_runbook'],
    ['competing signatures', { signatureShare: 0.55, secondShare: 0.4 }, AUTO, 'competing_signatures'],
    // minBurst is 1 since the triage-eval recalibration: a 5 % rise of all errors is what a new
    // signature at 0.2x the background error rate looks like, so only a fall vetoes.
    ['weak burst (ratio)', { burstRatio: 0.95 }, AUTO, 'weak_burst'],
    ['weak burst (not significant)', { dominantBurstZ: 2 }, AUTO, 'weak_burst'],
    ['background signature', { dominantBurstRatio: 1.2 }, AUTO, 'background_signature'],
    ['far from the burst', { dominantNearestS: 400 }, AUTO, 'far_from_burst'],
    ['too few errors', { dominantCount: 2, errorsInWindow: 2 }, AUTO, 'too_few_errors'],
    ['a handful of lines (8)', { dominantCount: 8, errorsInWindow: 8 }, AUTO, 'too_few_errors'],
    ['no errors', { errorsInWindow: 0 }, AUTO, 'no_errors'],
    ['below min_confidence', {}, { autoExecute: true, minConfidence: 0.999 }, 'below_min_confidence'],
    ['below the floor', { runbookFit: 0.6 }, { autoExecute: true, minConfidence: 0 }, 'below_floor'],
  ])('escalate: %s', (_name, change, runbook, block) => {
    const d = decide({ ...CLEAR, ...change }, runbook);
    expect(d.decision).toBe('escalate');
    expect(d.blocks).toContain(block);
  });

  it('a hard block caps the reported confidence below any automatic action, keeping the score', () => {
    const d = decide(CLEAR, { autoExecute: false, minConfidence: 0.8 });
    expect(d.blocks).toEqual(['manual_runbook']);
    expect(d.uncapped).toBeGreaterThan(0.9);
    expect(d.confidence).toBe(DEFAULT_PARAMS.blockCap);
    expect(d.cap).toBe('block');
    expect(DEFAULT_PARAMS.blockCap).toBeLessThan(DEFAULT_PARAMS.autoExecuteFloor);
  });

  it('the score falling short is not a hard block: the confidence stays the score', () => {
    const d = decide(CLEAR, { autoExecute: true, minConfidence: 0.999 });
    expect(d.blocks).toEqual(['below_min_confidence']);
    expect(d.confidence).toBe(d.uncapped);
    expect(d.cap).toBeNull();
  });

  it('15 lines can be enough, 10 cannot (volume)', () => {
    expect(decide({ ...CLEAR, dominantCount: 10 }, AUTO).decision).toBe('escalate');
    expect(decide({ ...CLEAR, dominantCount: 20 }, AUTO).decision).toBe('auto_execute');
  });

  /**
   * The decision the contract describes, written out independently of decide(): auto_execute
   * exactly when coverage is complete, one runbook with auto_execute matches, no hard veto
   * holds and the score reaches max(min_confidence, the floor).
   */
  function contractDecision(f: TriageFeatures, rb: { autoExecute: boolean; minConfidence: number } | null, confidence: number): string {
    const v = DEFAULT_PARAMS.vetoes;
    if (!f.coverageOk) return 'insufficient_data';
    const clear =
      f.errorsInWindow > 0 && rb !== null && rb.autoExecute && f.runbookCandidates === 1 &&
      f.signatureShare >= v.minShare && f.secondShare < v.maxSecondShare &&
      f.burstRatio >= v.minBurst && f.dominantBurstZ >= v.minBurstZ && f.dominantBurstRatio >= v.minSignatureBurst &&
      f.dominantNearestS !== null && f.dominantNearestS <= v.maxNearestS && f.dominantCount >= v.minDominantCount &&
      confidence >= rb.minConfidence && confidence >= DEFAULT_PARAMS.autoExecuteFloor;
    return clear ? 'auto_execute' : 'escalate';
  }

  /** A feature at its clear-incident value most of the time, else just either side of its veto threshold. */
  const around = (clearValue: number, threshold: number, spread: number): fc.Arbitrary<number> =>
    fc.oneof({ weight: 4, arbitrary: fc.constant(clearValue) }, { weight: 1, arbitrary: fc.double({ min: threshold - spread, max: threshold + spread, noNaN: true }) });

  const nearThresholds: fc.Arbitrary<TriageFeatures> = fc.record({
    coverageOk: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    errorsInWindow: fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 10, max: 1000 }) }, { weight: 1, arbitrary: fc.constant(0) }),
    burstRatio: around(CLEAR.burstRatio, 1, 0.3),
    dominantBurstZ: around(CLEAR.dominantBurstZ, 3, 2),
    dominantCount: around(CLEAR.dominantCount, 10, 4),
    signatureShare: around(CLEAR.signatureShare, 0.5, 0.15),
    secondShare: around(CLEAR.secondShare, 0.3, 0.1),
    dominantBurstRatio: around(CLEAR.dominantBurstRatio, 3, 2),
    dominantNearestS: fc.oneof({ weight: 12, arbitrary: around(0.4, 180, 90) }, { weight: 1, arbitrary: fc.constant(null) }),
    // 0.55 to 0.85 moves the score through every min_confidence and the floor.
    runbookFit: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 4, arbitrary: fc.double({ min: 0.55, max: 0.85, noNaN: true }) }, { weight: 1, arbitrary: fc.constant(null) }),
    runbookCandidates: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(2) }),
  });

  /** min_confidence drawn from the score itself (just above or below it), the default, or low (the floor decides). */
  const policy = fc.record({
    present: fc.oneof({ weight: 12, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    autoExecute: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    min: fc.oneof(
      { weight: 3, arbitrary: fc.double({ min: -0.04, max: 0.04, noNaN: true }).map((delta) => ({ delta })) },
      { weight: 1, arbitrary: fc.constant({ fixed: 0.8 }) },
      { weight: 1, arbitrary: fc.double({ min: 0, max: 0.45, noNaN: true }).map((fixed) => ({ fixed })) },
    ),
  });

  it('auto_execute exactly when every hard condition holds and the score reaches max(min_confidence, floor) (property)', () => {
    const seen = { auto: 0, justAbove: 0, justBelow: 0, floorDecides: 0, total: 0 };
    fc.assert(
      fc.property(nearThresholds, policy, (f, p) => {
        const score = scoreFeatures(f).confidence;
        const min = 'delta' in p.min ? Math.min(1, Math.max(0, score + p.min.delta)) : p.min.fixed;
        const rb = p.present ? { autoExecute: p.autoExecute, minConfidence: min } : null;
        const d = decide(f, rb);
        expect(d.uncapped).toBe(score);
        expect(d.decision).toBe(contractDecision(f, rb, score));
        if (d.decision === 'auto_execute') {
          expect(d.confidence).toBe(score);
          expect(d.blocks).toEqual([]);
        } else if (d.decision === 'escalate' && d.blocks.some((b) => b !== 'below_min_confidence' && b !== 'below_floor')) {
          expect(d.confidence).toBeLessThanOrEqual(DEFAULT_PARAMS.blockCap);
        }
        expect(d.confidence).toBeLessThanOrEqual(d.uncapped);
        seen.total++;
        if (d.decision === 'auto_execute') seen.auto++;
        // Only min_confidence stood between the incident and auto_execute, or only barely did not.
        const onlyScore = contractDecision(f, rb === null ? null : { ...rb, minConfidence: 0 }, 1) === 'auto_execute';
        if (onlyScore && rb !== null && Math.abs(score - rb.minConfidence) < 0.05) {
          if (d.decision === 'auto_execute') seen.justAbove++;
          else seen.justBelow++;
        }
        if (onlyScore && rb !== null && rb.minConfidence < score && score < DEFAULT_PARAMS.autoExecuteFloor) seen.floorDecides++;
      }),
      { numRuns: 6_000 },
    );
    // The assertions above about auto_execute ran, on both sides of each threshold (issue 18:
    // the old generator produced auto_execute 0 times in 10,000 samples).
    expect(seen.auto / seen.total).toBeGreaterThan(0.05);
    expect(seen.justAbove).toBeGreaterThan(100);
    expect(seen.justBelow).toBeGreaterThan(100);
    expect(seen.floorDecides).toBeGreaterThan(30);
  });
});

describe('applyOpinion', () => {
  const auto = decide(CLEAR, AUTO);
  const escalated = decide({ ...CLEAR, runbookFit: null, runbookCandidates: 0 }, null);

  it('a lower score lowers the confidence and can turn auto_execute into escalate', () => {
    const r = applyOpinion(auto, { score: 0.3, veto: false }, AUTO);
    expect(r.confidence).toBe(0.3);
    expect(r.decision).toBe('escalate');
    expect(r.blocks).toContain('llm_lowered');
  });

  it('a veto escalates even with a high score', () => {
    const r = applyOpinion(auto, { score: 0.99, veto: true }, AUTO);
    expect(r.decision).toBe('escalate');
    expect(r.blocks).toContain('llm_veto');
  });

  it('agreement keeps auto_execute and never raises the confidence', () => {
    const r = applyOpinion(auto, { score: 1, veto: false }, AUTO);
    expect(r.decision).toBe('auto_execute');
    expect(r.confidence).toBe(auto.confidence);
  });

  it('never promotes (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1, max: 2, noNaN: true }), fc.boolean(), (score, veto) => {
        const r = applyOpinion(escalated, { score, veto }, AUTO);
        expect(r.decision).toBe('escalate');
        expect(r.confidence).toBeLessThanOrEqual(escalated.confidence);
        const i = applyOpinion(decide({ ...CLEAR, coverageOk: false }, AUTO), { score, veto }, AUTO);
        expect(i.decision).toBe('insufficient_data');
      }),
    );
  });
});

describe('burstRatio', () => {
  it('smooths a silent baseline instead of dividing by zero', () => {
    expect(burstRatio(60, 360, 0, 3600)).toBeCloseTo(10 / (1 / 60));
    expect(Number.isFinite(burstRatio(5, 360, 0, 0))).toBe(true);
  });
  it('significance is not diluted by steady noise the way the ratio is', () => {
    // 60/min routine + 60/min new: ratio 2, but far outside Poisson noise.
    expect(burstRatio(720, 360, 3600, 3600)).toBeCloseTo(2, 1);
    expect(burstSignificance(720, 360, 3600, 3600)).toBeGreaterThan(15);
    // 18 errors where 12 were expected: within noise.
    expect(burstSignificance(18, 360, 120, 3600)).toBeLessThan(2);
  });
  it('a short baseline supports only a modest ratio', () => {
    expect(burstRatio(60, 360, 0, 60)).toBeLessThan(burstRatio(60, 360, 0, 3600));
  });
});

describe('parseSecondOpinion', () => {
  it.each([
    ['{"score": 0.4, "veto": false, "rationale": "ok"}', 0.4, false],
    ['Sure! Here it is:\n```json\n{"score": "0.2", "veto": true, "rationale": "x"}\n```', 0.2, true],
    ['My view: {"score": 0.9} that is all', 0.9, false],
  ])('reads %j', (text, score, veto) => {
    const p = parseSecondOpinion(text);
    expect(p).toMatchObject({ ok: true, score, veto });
  });

  it.each(['no json here', '{"score": 7}', '{"score": "high"}', '{"decision": "auto_execute"}', '{broken'])('no opinion from %j', (text) => {
    expect(parseSecondOpinion(text).ok).toBe(false);
  });

  it('escapes and caps the rationale', () => {
    const p = parseSecondOpinion(JSON.stringify({ score: 0.5, rationale: 'a\nb'.repeat(1000) }));
    expect(p.ok && p.rationale.includes('\n')).toBe(false);
    expect(p.ok && p.rationale.length).toBeLessThan(1000);
  });
});
