/**
 * Format detection stops early (a format once it cannot reach MIN_SHARE or beat the best rank,
 * the loop once a format recognized every line with its level) and must answer exactly as a
 * full scoring of every format does (issue 12, start-up): same format, same share, same
 * counts. Checked on every real fixture (whole, and cut at line starts), and on samples mixed
 * from the fixtures' lines of one to three formats with blank, indented, ANSI-coloured,
 * CRLF, level-less and garbage lines, from 0 to past DETECT_LINES lines, so that ties between
 * formats, shares at exactly one half and the 200-line edge all come up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogFormat } from '../../src/parse/format.js';
import { builtinFormats, detect, type Detection, MIN_SHARE } from '../../src/parse/formats.js';
import { customFormat } from '../../src/parse/custom-format.js';
import { DETECT_LINES, sampleLineCount } from '../../src/parse/line-loop.js';

const FORMATS = builtinFormats();
const FIXTURES = new URL('../fixtures/', import.meta.url);

/**
 * Detection before the early stop: every format scored over the whole sample. (Its binary
 * check is left out: no sample here has a NUL or a control byte other than ESC and CR.)
 */
function fullDetect(sample: Uint8Array, candidates: readonly LogFormat[]): Detection | null {
  let best: Detection | null = null;
  let bestRank = 0;
  for (const format of candidates) {
    const score = format.score(sample);
    if (score.entries === 0 || score.lines === 0) continue;
    const share = score.recognized / score.lines;
    if (share < MIN_SHARE) continue;
    const rank = score.recognized + score.withLevel;
    if (rank > bestRank) {
      best = { format, share, score };
      bestRank = rank;
    }
  }
  return best;
}

const summary = (d: Detection | null) => (d === null ? null : { name: d.format.name, share: d.share, score: d.score });

/** Counts of what the checks exercised, so that a run where no stop ever happened fails. */
const seen = { samples: 0, stoppedFormats: 0, loopStops: 0, detected: 0, none: 0 };

function check(sample: Buffer, candidates: readonly LogFormat[] = FORMATS): void {
  const full = fullDetect(sample, candidates);
  const early = detect(sample, candidates);
  expect(summary(early)).toEqual(summary(full));
  // The line count every format's score uses is the one the floors are computed from.
  const lines = sampleLineCount(sample);
  for (const f of candidates) expect(f.score(sample).lines, f.name).toBe(lines);
  seen.samples++;
  if (early === null) seen.none++;
  else seen.detected++;
  for (const f of candidates) {
    const s = f.score(sample, undefined, { lines, recognized: Math.ceil(lines * MIN_SHARE), rank: 1 });
    if (s.belowFloor === true) seen.stoppedFormats++;
  }
  if (early !== null && early.score.recognized + early.score.withLevel === 2 * lines && candidates.indexOf(early.format) < candidates.length - 1) seen.loopStops++;
}

function linesOf(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const nl = buf.indexOf(10, pos);
    const end = nl < 0 ? buf.length : nl + 1;
    out.push(buf.subarray(pos, end));
    pos = end;
  }
  return out;
}

const FILES = [
  ...readdirSync(new URL('formats/', FIXTURES)).filter((f) => f.endsWith('.log')).map((f) => new URL(`formats/${f}`, FIXTURES)),
  new URL('sample.log', FIXTURES),
];
const POOLS: Buffer[][] = FILES.map((u) => linesOf(readFileSync(u)).filter((l) => l.length > 1));

/** A line's level word taken out, so that a format recognizes it without a level. */
const withoutLevel = (line: Buffer): Buffer =>
  Buffer.from(line.toString('latin1').replace(/\b(ERROR|WARN(?:ING)?|INFO|DEBUG|TRACE|FATAL|error|warn|info|debug)\b/, 'NOTE'), 'latin1');

const lineArb = fc.oneof(
  { weight: 8, arbitrary: fc.nat() }, // a real line of one of the sample's pools
  { weight: 1, arbitrary: fc.constant(-1) }, // blank
  { weight: 1, arbitrary: fc.constant(-2) }, // indented (a stack-trace line)
  { weight: 1, arbitrary: fc.constant(-3) }, // garbage
  { weight: 1, arbitrary: fc.constant(-4) }, // a real line without its level word
  { weight: 1, arbitrary: fc.constant(-5) }, // a real line coloured with ANSI, CRLF-ended
);

function build(pools: number[], picks: number[]): Buffer {
  const parts: Buffer[] = [];
  picks.forEach((p, i) => {
    const pool = POOLS[pools[i % pools.length]!]!;
    const real = pool[Math.abs(p) % pool.length]!;
    const nl = real[real.length - 1] === 10 ? real : Buffer.concat([real, Buffer.from('\n')]);
    if (p >= 0) parts.push(nl);
    else if (p === -1) parts.push(Buffer.from(i % 2 === 0 ? '\n' : '   \n'));
    else if (p === -2) parts.push(Buffer.from('    at com.acme.Orders.load(Orders.java:42)\n'));
    else if (p === -3) parts.push(Buffer.from(`?? unparsable ${i} ::\n`));
    else if (p === -4) parts.push(withoutLevel(nl));
    else parts.push(Buffer.concat([Buffer.from('\x1b[31m'), nl.subarray(0, nl.length - 1), Buffer.from('\r\n')]));
  });
  return Buffer.concat(parts);
}

describe('format detection with an early stop answers as full scoring does', () => {
  it('on every fixture, whole and cut at line starts', () => {
    for (const [i, url] of FILES.entries()) {
      const buf = readFileSync(url);
      check(buf);
      const lines = POOLS[i]!;
      for (const skip of [1, 3, 50, 150, 199]) {
        if (skip < lines.length) check(Buffer.concat(lines.slice(skip)));
      }
    }
  });

  it('on samples mixed from the fixtures of one to three formats (ties, halves, the 200-line edge)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: POOLS.length - 1 }), { minLength: 1, maxLength: 3 }),
        fc.oneof(fc.array(lineArb, { maxLength: 12 }), fc.array(lineArb, { minLength: DETECT_LINES - 5, maxLength: DETECT_LINES + 40 })),
        (pools, picks) => check(build(pools, picks)),
      ),
      { numRuns: 400 },
    );
  });

  it('with a custom format among the candidates, first', () => {
    const custom = customFormat({ name: 'app', regex: '^(?<timestamp>\\S+) \\[(?<level>[A-Z]+)\\] (?<body>.*)$', timestamp: '%Y-%m-%dT%H:%M:%S.%f%z' });
    const candidates = [custom, ...FORMATS];
    fc.assert(
      fc.property(fc.array(fc.nat({ max: POOLS.length - 1 }), { minLength: 1, maxLength: 2 }), fc.array(lineArb, { maxLength: 230 }), (pools, picks) =>
        check(build(pools, picks), candidates),
      ),
      { numRuns: 100 },
    );
  });

  it('exercised both stops and both answers', () => {
    expect(seen.samples).toBeGreaterThan(400);
    expect(seen.stoppedFormats).toBeGreaterThan(100);
    expect(seen.loopStops).toBeGreaterThan(5);
    expect(seen.detected).toBeGreaterThan(50);
    expect(seen.none).toBeGreaterThan(5);
  });
});
