/**
 * The log generator (src/generate) and its CLI (tools/generate): determinism, realism
 * (levels, sizes, signatures), parseability by the project's own parser, timestamps, seq
 * tokens, the fast file writer, and the live writer with both rotation modes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GeneratorOptionError, LogGenerator, MAX_ENTRY_BYTES, SIGNATURE_CATALOG, SIGNATURE_NAMES, type GeneratorOptions, type LiveWriter,
  incidentSignature, signatureSpec, startLiveWriter, writeLogFile,
} from '../../src/generate/index.js';
import { parseIsoBracketChunk } from '../../src/parse/iso-bracket.js';
import { TAG_ERROR, TAG_INFO, TAG_TRACE, TAG_WARN } from '../../src/parse/levels.js';
import { metaPrecision, metaTag } from '../../src/parse/meta.js';
import { waitFor } from '../helpers/ingest-stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'tools', 'generate.js');
const START = Date.UTC(2024, 0, 15, 10, 0, 0);
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'generate-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function generate(opts: GeneratorOptions, entries: number): Buffer {
  return new LogGenerator(opts).nextBatch(entries).text;
}

function parse(text: Buffer) {
  return parseIsoBracketChunk(text, { timezone: 'UTC' });
}

/** The first line of every entry's body, as strings. */
function firstLines(text: Buffer): string[] {
  const p = parse(text);
  const out: string[] = [];
  for (let i = 0; i < p.count; i++) {
    const body = text.toString('latin1', p.bodyStart[i]!, p.bodyEnd[i]!);
    const nl = body.indexOf('\n');
    out.push(nl < 0 ? body : body.slice(0, nl));
  }
  return out;
}

function seqs(text: Buffer): number[] {
  return [...text.toString('latin1').matchAll(/ seq=(\d+)\n/g)].map((m) => Number(m[1]));
}

function expectConsecutive(values: number[], first: number): void {
  const wrong = values.findIndex((v, i) => v !== first + i);
  expect(wrong, `seq ${values[wrong]} at position ${wrong}, expected ${first + wrong}`).toBe(-1);
}

describe('LogGenerator', () => {
  it('gives identical bytes for the same seed, whatever the batch sizes', () => {
    const opts: GeneratorOptions = { seed: 42, stackFraction: 0.3, lateFraction: 0.01, sequence: true, incidents: [{ at: START + 1000, signature: 'novel' }] };
    const whole = generate(opts, 30_000);
    const g = new LogGenerator(opts);
    const small = Buffer.allocUnsafe(MAX_ENTRY_BYTES + 700);
    const parts: Buffer[] = [];
    for (let left = 30_000; left > 0; ) {
      const r = g.fill(small, { maxEntries: Math.min(left, 37) });
      parts.push(Buffer.from(small.subarray(0, r.bytes)));
      left -= r.entries;
    }
    expect(Buffer.concat(parts).equals(whole)).toBe(true);
    expect(generate(opts, 30_000).equals(whole)).toBe(true);
    expect(generate({ ...opts, seed: 43 }, 30_000).equals(whole)).toBe(false);
  });

  it('keeps the default 40/40/15/5 level mix within 1 % over 200k entries, ~100 bytes a line', () => {
    const text = generate({ seed: 7 }, 200_000);
    const p = parse(text);
    expect(p.count).toBe(200_000);
    const counts = new Map<number, number>();
    for (let i = 0; i < p.count; i++) counts.set(metaTag(p.meta[i]!), (counts.get(metaTag(p.meta[i]!)) ?? 0) + 1);
    const share = (tag: number): number => (counts.get(tag) ?? 0) / p.count;
    expect(Math.abs(share(TAG_TRACE) - 0.4)).toBeLessThan(0.01);
    expect(Math.abs(share(TAG_INFO) - 0.4)).toBeLessThan(0.01);
    expect(Math.abs(share(TAG_WARN) - 0.15)).toBeLessThan(0.01);
    expect(Math.abs(share(TAG_ERROR) - 0.05)).toBeLessThan(0.01);
    const perLine = text.length / p.lines;
    expect(perLine).toBeGreaterThanOrEqual(80);
    expect(perLine).toBeLessThanOrEqual(120);
  });

  it('honours a custom level mix', () => {
    const p = parse(generate({ tagMix: { INFO: 1, ERROR: 1 } }, 20_000));
    const tags = new Map<number, number>();
    for (let i = 0; i < p.count; i++) tags.set(metaTag(p.meta[i]!), (tags.get(metaTag(p.meta[i]!)) ?? 0) + 1);
    expect([...tags.keys()].sort()).toEqual([TAG_INFO, TAG_ERROR].sort());
    expect(Math.abs(tags.get(TAG_ERROR)! / p.count - 0.5)).toBeLessThan(0.02);
  });

  it('writes lines the project parser reads with 0 errors, stack traces folded into their entries', () => {
    const g = new LogGenerator({ stackFraction: 0.5, lateFraction: 0.02, incidents: [{ at: START, durationMs: 2000, signature: 'oom-kill' }] });
    const batch = g.nextBatch(50_000);
    const p = parse(batch.text);
    expect(p.errors).toBe(0);
    expect(p.count).toBe(50_000);
    expect(batch.entries).toBe(50_000);
    expect(p.lines).toBe(batch.lines);
    expect(batch.lines).toBeGreaterThan(batch.entries); // continuation lines exist
    const continuations = batch.text.toString('latin1').split('\n').filter((l) => l.startsWith('    at '));
    expect(continuations.length).toBe(batch.lines - batch.entries);
    // A stack trace follows only ERROR entries and stays inside that entry's body.
    for (let i = 0; i < p.count; i++) {
      const body = batch.text.toString('latin1', p.bodyStart[i]!, p.bodyEnd[i]!);
      if (body.includes('\n') && metaTag(p.meta[i]!) !== TAG_ERROR) throw new Error(`stack trace after a non-ERROR entry: ${body}`);
    }
  });

  it('writes the requested precision: 0, 3 (default) and 6 fractional digits', () => {
    for (const precision of [0, 3, 6]) {
      const text = generate({ precision, rate: 1000 }, 2000);
      const p = parse(text);
      expect(p.errors).toBe(0);
      const precisions = new Set(Array.from(p.meta, metaPrecision));
      expect([...precisions]).toEqual([precision]);
      const frac = precision === 0 ? '' : `\\.\\d{${precision}}`;
      expect(text.toString('latin1', 0, 40)).toMatch(new RegExp(`^2024-01-15T10:00:00${frac}Z \\[`));
    }
  });

  it('puts entry i at start + i/rate, never backwards when lateFraction is 0', () => {
    const rate = 11_667;
    const p = parse(generate({ precision: 6, rate, stackFraction: 0.2 }, 100_000));
    expect(p.ts[0]).toBe(START * 1000);
    for (let i = 1; i < p.count; i++) {
      if (p.ts[i]! < p.ts[i - 1]!) throw new Error(`entry ${i} goes backwards: ${p.ts[i]} < ${p.ts[i - 1]}`);
    }
    for (const i of [1, 1000, 99_999]) {
      const expected = START * 1000 + (i * 1e6) / rate;
      expect(Math.abs(p.ts[i]! - expected)).toBeLessThanOrEqual(1e6 / rate + 1);
    }
  });

  it('stamps late entries earlier than their neighbours by at most lateMaxMs', () => {
    const p = parse(generate({ precision: 6, lateFraction: 0.05, lateMaxMs: 500 }, 50_000));
    let late = 0;
    let maxUs = -Infinity;
    for (let i = 0; i < p.count; i++) {
      const t = p.ts[i]!;
      if (t < maxUs) {
        late++;
        expect(maxUs - t).toBeLessThanOrEqual(500_000 + 1e6 / 11_667);
      }
      maxUs = Math.max(maxUs, t);
    }
    expect(late / p.count).toBeGreaterThan(0.03);
    expect(late / p.count).toBeLessThan(0.07);
  });

  it('numbers every entry with a unique consecutive seq token', () => {
    const g = new LogGenerator({ sequence: true, firstSeq: 1000, stackFraction: 0.5, incidents: [{ at: START, signature: 'disk-full' }] });
    const text = Buffer.concat([g.nextBatch(10_000).text, g.nextBatch(5_000).text]);
    const values = seqs(text);
    expect(values.length).toBe(15_000);
    expectConsecutive(values, 1000);
    expect(g.nextSeq).toBe(16_000);
  });

  it('bursts an incident signature inside its window and nowhere else', () => {
    const at = START + 20_000;
    for (const name of SIGNATURE_NAMES) {
      const g = new LogGenerator({ seed: 3, rate: 2000, incidents: [{ at, durationMs: 10_000, signature: name, ratePerSec: 100 }] });
      const pattern = new RegExp(g.incidents[0]!.signature.pattern);
      const text = g.nextBatch(1_000_000, START + 40_000).text;
      const p = parse(text);
      const bodies = firstLines(text);
      let inside = 0;
      let outside = 0;
      for (let i = 0; i < p.count; i++) {
        if (!pattern.test(bodies[i]!)) continue;
        expect(metaTag(p.meta[i]!)).toBe(TAG_ERROR);
        const ms = p.ts[i]! / 1000;
        if (ms >= at && ms < at + 10_000) inside++;
        else outside++;
      }
      expect(inside, name).toBeGreaterThanOrEqual(999);
      expect(inside, name).toBeLessThanOrEqual(1001);
      expect(outside, name).toBe(0);
      // The burst varies its numbers and ids: many distinct bodies.
      const distinct = new Set(bodies.filter((b) => pattern.test(b)));
      expect(distinct.size, name).toBeGreaterThan(900);
    }
  });

  it('never produces a catalog pattern in background traffic, and spreads background errors', () => {
    const g = new LogGenerator({ seed: 11, stackFraction: 0.2 });
    const text = g.nextBatch(200_000).text;
    const bodies = firstLines(text);
    const patterns = [...Object.values(SIGNATURE_CATALOG).map((s) => s.pattern), signatureSpec('novel', 123).pattern].map((s) => new RegExp(s));
    for (const body of bodies) for (const re of patterns) if (re.test(body)) throw new Error(`background body matches /${re.source}/: ${body}`);
    const p = parse(text);
    const shapes = new Map<string, number>();
    for (let i = 0; i < p.count; i++) {
      if (metaTag(p.meta[i]!) !== TAG_ERROR) continue;
      const shape = bodies[i]!.split(' ').slice(0, 2).join(' ');
      shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
    }
    expect(shapes.size).toBeGreaterThanOrEqual(10);
    const errors = [...shapes.values()].reduce((a, b) => a + b, 0);
    expect(Math.max(...shapes.values()) / errors).toBeLessThan(0.2);
  });

  it('exports the catalog with a pattern that matches its own example', () => {
    for (const name of SIGNATURE_NAMES) {
      const spec = name === 'novel' ? signatureSpec('novel', 99) : SIGNATURE_CATALOG[name];
      expect(new RegExp(spec.pattern).test(spec.example), `${name}: ${spec.example}`).toBe(true);
    }
    expect(signatureSpec('novel', 1).pattern).not.toBe(signatureSpec('novel', 2).pattern);
    const g = new LogGenerator({ seed: 8, incidents: [{ at: START, signature: 'disk-full' }, { at: START, signature: 'novel' }] });
    expect(g.incidents[1]!.signature).toEqual(incidentSignature('novel', 8, 1));
  });

  it('stops at untilEpochMs and reports the time range written', () => {
    const g = new LogGenerator({ rate: 1000 });
    const a = g.nextBatch(1_000_000, START + 999.999);
    expect(a.entries).toBe(1000);
    expect(a.firstEpochMs).toBe(START);
    expect(a.lastEpochMs).toBeLessThan(START + 1000);
    expect(g.peekNextEpochMs()).toBeGreaterThanOrEqual(START + 1000);
    expect(g.nextBatch(10, START + 999.999).entries).toBe(0);
  });

  it('rejects bad options naming the option', () => {
    const bad: Array<[GeneratorOptions, string]> = [
      [{ rate: 0 }, 'rate'],
      [{ precision: 7 }, 'precision'],
      [{ lateFraction: 1.5 }, 'lateFraction'],
      [{ tagMix: { TRACE: 0 } }, 'tagMix'],
      [{ incidents: [{ at: START, signature: 'nope' as never }] }, 'incidents[0].signature'],
    ];
    for (const [opts, option] of bad) {
      let caught: unknown;
      try {
        new LogGenerator(opts);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(GeneratorOptionError);
      expect((caught as GeneratorOptionError).option).toBe(option);
    }
  });
});

describe('writeLogFile', () => {
  it('writes a duration of log at the rate, with stats that match the file', async () => {
    const path = join(dir, 'fast.log');
    const stats = await writeLogFile(path, { rate: 5000, durationMs: 20_000, sequence: true });
    const text = readFileSync(path);
    const p = parse(text);
    expect(stats.entries).toBe(100_000);
    expect(p.count).toBe(100_000);
    expect(stats.bytes).toBe(text.length);
    expect(p.ts[p.count - 1]! / 1000).toBeLessThan(START + 20_000);
    expect(stats.lastEpochMs).toBe(p.ts[p.count - 1]! / 1000);
    expect([stats.firstSeq, stats.lastSeq]).toEqual([1, 100_000]);
    // --append semantics: a second run adds to the file.
    const more = await writeLogFile(path, { lines: 10, append: true });
    expect(statSync(path).size).toBe(text.length + more.bytes);
  });

  it('rotates while writing fast', async () => {
    const path = join(dir, 'fast-rot.log');
    const stats = await writeLogFile(path, { lines: 100_000, rotate: { everyBytes: 2_000_000, keep: 10 } });
    const files = readdirSync(dir).filter((f) => f.startsWith('fast-rot.log'));
    expect(stats.rotations).toBe(Math.floor(stats.bytes / 2_000_000));
    expect(files.length).toBe(stats.rotations + 1);
    for (let i = 1; i <= stats.rotations; i++) {
      const size = statSync(`${path}.${i}`).size;
      expect(size).toBeGreaterThanOrEqual(2_000_000);
      expect(size).toBeLessThan(2_000_000 + MAX_ENTRY_BYTES);
    }
  });
});

/** Runs a live writer to completion and returns the text of path.N .. path.1, path in write order. */
async function runLive(name: string, mode: 'rename' | 'copytruncate'): Promise<{ live: LiveWriter; files: string[]; texts: Buffer[] }> {
  const path = join(dir, name);
  const live = startLiveWriter(path, { rate: 40_000, lines: 3000, sequence: true, rotate: { everyLines: 500, mode, keep: 20 } });
  await live.done;
  const files = readdirSync(dir).filter((f) => f === name || f.startsWith(`${name}.`)).sort();
  const rotated = files.filter((f) => f !== name).map((f) => Number(f.slice(name.length + 1))).sort((a, b) => b - a);
  const texts = [...rotated.map((n) => readFileSync(`${path}.${n}`)), readFileSync(path)];
  return { live, files, texts };
}

describe('startLiveWriter', () => {
  for (const mode of ['rename', 'copytruncate'] as const) {
    it(`appends in real time and rotates with ${mode}`, async () => {
      const t0 = Date.now();
      const { live, files, texts } = await runLive(`live-${mode}.log`, mode);
      const t1 = Date.now();
      const stats = live.stats();
      expect(stats.running).toBe(false);
      expect(stats.error).toBeNull();
      expect(stats.entries).toBe(3000);
      // 3000 entries at 40,000/s take ~75 ms of wall time: the writer paces itself.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(60);
      // Fills are capped at the lines left before rotation: every rotated file holds exactly 500.
      expect(stats.rotations).toBe(6);
      expect(files.length).toBe(7);
      const all = Buffer.concat(texts);
      expect(all.length).toBe(stats.bytes);
      expect(texts.at(-1)!.length).toBe(0); // the 3000th entry filled file 6, which then rotated
      for (const t of texts.slice(0, -1)) {
        const p = parse(t);
        expect([p.count, p.lines, p.errors]).toEqual([500, 500, 0]);
      }
      const values = seqs(all);
      expect(values.length).toBe(3000);
      expectConsecutive(values, 1);
      expect([stats.firstSeq, stats.lastSeq]).toEqual([1, 3000]);
      // Timestamps follow the wall clock.
      const p = parse(all);
      expect(p.ts[0]! / 1000).toBeGreaterThanOrEqual(t0);
      expect(p.ts[p.count - 1]! / 1000).toBeLessThanOrEqual(t1);
      expect(stats.lastEpochMs - stats.firstEpochMs).toBeGreaterThanOrEqual(70);
    });
  }

  it('runs until stop(), then flushes and reports what is in the file', async () => {
    const path = join(dir, 'live-stop.log');
    const live = startLiveWriter(path, { rate: 5000, sequence: true });
    // A tailer sees the file grow before stop (waited for, not slept on: issue 18).
    await waitFor(() => existsSync(path) && statSync(path).size > 0 && seqs(readFileSync(path)).length > 500);
    const stats = await live.stop();
    expect(await live.stop()).toEqual(stats);
    const text = readFileSync(path);
    expect(text.length).toBe(stats.bytes);
    expect(stats.entries).toBeGreaterThan(500);
    expectConsecutive(seqs(text), 1);
    expect(stats.lastSeq).toBe(stats.entries);
  });
});

describe('tools/generate CLI', () => {
  beforeAll(() => {
    // Built by npm test's pretest, or by the global setup when a source is newer.
    expect(existsSync(CLI), `${CLI} missing: run npm run build`).toBe(true);
  });

  const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'latin1', maxBuffer: 64 << 20 });

  it.each([
    [['--bogus'], /unknown option '--bogus'/],
    [['--fast'], /--fast needs --duration or --lines/],
    [['--fast', '--lines', 'many'], /--lines 'many'/],
    [['--fast', '--lines', '5', '--precision', '9'], /--precision '9'/],
    [['--fast', '--lines', '5', '--incident', '+1s,signature=nope'], /unknown signature 'nope'/],
    [['--fast', '--lines', '5', '--start', '2024-01-15T10:00:00'], /no time zone/],
    [['--fast', '--lines', '5', '--rotate-bytes', '1MB'], /--output/],
  ])('exits 2 with one line on stderr for %j', (args, message) => {
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('writes data only to stdout and the summary only to stderr', () => {
    const r = run(['--fast', '--lines', '2000', '--seed', '5', '--incident', '+0s,signature=cert-expired,duration=1s,rate=1000', '--stack-fraction', '0.5']);
    expect(r.status).toBe(0);
    const text = Buffer.from(r.stdout, 'latin1');
    const p = parse(text);
    expect(p.count).toBe(2000);
    expect(p.errors).toBe(0);
    expect(p.ts[0]).toBe(START * 1000);
    expect(r.stderr).toMatch(/2000 entries/);
    expect(r.stderr).toContain(SIGNATURE_CATALOG['cert-expired'].pattern);
    // The CLI and the library agree byte for byte.
    const lib = generate({ seed: 5, stackFraction: 0.5, incidents: [{ at: START, durationMs: 1000, ratePerSec: 1000, signature: 'cert-expired' }] }, 2000);
    expect(text.equals(lib)).toBe(true);
  });

  it('runs in real time until SIGTERM, then flushes and exits 0', async () => {
    const path = join(dir, 'cli-sigterm.log');
    const child = spawn(process.execPath, [CLI, '-o', path, '--rate', '3000', '--sequence'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Wait until the file grows: the writer is running (a fresh CLI on a loaded machine can
    // take longer than the 2 s this loop once allowed).
    await waitFor(() => existsSync(path) && statSync(path).size >= 10_000);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const values = seqs(readFileSync(path));
    expect(values.length).toBeGreaterThan(50);
    expectConsecutive(values, 1);
    expect(stderr).toContain(`seq 1..${values.length}`);
  });

  it('writes a file in real time for a duration and exits 0', () => {
    const path = join(dir, 'cli-live.log');
    const r = run(['--duration', '300ms', '--rate', '2000', '-o', path, '--sequence', '--quiet']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const values = seqs(readFileSync(path));
    expect(values.length).toBe(600);
    expectConsecutive(values, 1);
  });
});
