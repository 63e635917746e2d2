/**
 * The generator writes every format (issue 10 item 8) and the parser reads each back to the
 * same entries the original format gives for the same seed: the same times (at the format's
 * precision), the same levels through the format's own scale, stack traces joined, detection
 * naming the format.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeLogFile } from '../../src/generate/index.js';
import { STYLE_NAMES, lineStyles } from '../../src/generate/line-styles.js';
import { detect, formatNames, getFormat } from '../../src/parse/formats.js';
import { LEVEL_NAMES } from '../../src/parse/levels.js';
import { metaTag } from '../../src/parse/meta.js';

const dir = mkdtempSync(join(tmpdir(), 'ltm-genfmt-'));
const OPTS = { lines: 4000, seed: 11, stackFraction: 0.5, lateFraction: 0.01, precision: 6, incidents: [{ at: Date.UTC(2024, 0, 15, 10, 0, 0, 50), signature: 'db-timeout' as const, durationMs: 100 }] };

/** The level each format writes for the generator's TRACE, INFO, WARN, ERROR. */
const LEVELS: Record<string, string[]> = {
  zap: ['DEBUG', 'INFO', 'WARN', 'ERROR'], journald: ['DEBUG', 'INFO', 'WARN', 'ERROR'], 'syslog-5424': ['DEBUG', 'INFO', 'WARN', 'ERROR'],
  'nginx-error': ['DEBUG', 'INFO', 'WARN', 'ERROR'], postgres: ['DEBUG', 'INFO', 'WARN', 'ERROR'], mysql: ['INFO', 'INFO', 'WARN', 'ERROR'],
  redis: ['DEBUG', 'INFO', 'WARN', 'WARN'], klog: ['INFO', 'INFO', 'WARN', 'ERROR'],
};

async function read(format: string, file = join(dir, `${format}.log`)): Promise<{ ts: number[]; tags: string[]; lines: number[]; errors: number; detected: string | undefined; stats: Awaited<ReturnType<typeof writeLogFile>> }> {
  const stats = await writeLogFile(file, { ...OPTS, format });
  const buf = readFileSync(file);
  const p = getFormat(format)!.parseChunk(buf, { timezone: 'UTC', mtimeMs: statSync(file).mtimeMs });
  const names = [...LEVEL_NAMES, 'NONE'];
  return {
    ts: [...p.ts], tags: [...p.meta].map((m) => names[metaTag(m)]!), lines: [...p.line], errors: p.errors, detected: detect(buf)?.format.name, stats,
  };
}

describe('tools/generate --format', () => {
  it('writes every format the parser reads', () => {
    expect([...STYLE_NAMES].sort()).toEqual(formatNames().sort());
  });

  it('rejects an unknown format naming the accepted ones', async () => {
    await expect(writeLogFile(join(dir, 'x.log'), { lines: 1, format: 'nope' })).rejects.toThrow(/format must be one of: iso-bracket/);
  });

  for (const format of STYLE_NAMES) {
    it(`${format}: reads back the original format's entries`, async () => {
      const [want, got] = await Promise.all([read('iso-bracket', join(dir, `reference-for-${format}.log`)), read(format)]);
      expect(got.errors).toBe(0);
      expect(got.detected).toBe(format);
      expect(got.ts.length).toBe(OPTS.lines);
      expect(got.stats.entries).toBe(OPTS.lines);
      const fixed = lineStyles(6)[format]!.precision;
      const quantum = 10 ** (6 - (fixed ?? 6));
      if (format === 'clf' || format === 'combined') {
        // A request line instead of a body: other draws, same clock.
        expect(new Set(got.tags)).toEqual(new Set(['INFO', 'WARN', 'ERROR']));
        expect(Math.abs(got.ts[0]! - want.ts[0]!)).toBeLessThan(1e6);
        return;
      }
      expect(got.ts).toEqual(want.ts.map((t) => Math.floor(t / quantum) * quantum));
      const map = LEVELS[format];
      expect(got.tags).toEqual(map === undefined ? want.tags : want.tags.map((t) => map[['TRACE', 'INFO', 'WARN', 'ERROR'].indexOf(t)]!));
      // Stack traces stay in their entry: JSON formats keep them in the record, others join lines.
      expect(got.lines.length).toBe(want.lines.length);
    });
  }
});
