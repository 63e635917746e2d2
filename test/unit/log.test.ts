/**
 * src/log.ts writes the lines pino would (the README documents pino's JSON on stderr), and
 * FdLines writes every line, in order.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { FdLines, jsonLogger, type Logger, type LogLevel } from '../../src/log.js';

/** The lines pino and ours write for the same calls, with the clock masked. */
function both(level: LogLevel, calls: (log: Logger) => void): { ours: string[]; theirs: string[] } {
  const ours: string[] = [];
  const theirs: string[] = [];
  calls(jsonLogger(level, (line) => ours.push(line), 'log-triage-mcp'));
  calls(pino({ name: 'log-triage-mcp', level }, { write: (line: string) => void theirs.push(line) }));
  const mask = (l: string): string => l.replace(/"time":\d+/, '"time":0');
  return { ours: ours.map(mask), theirs: theirs.map(mask) };
}

describe('jsonLogger writes what pino writes', () => {
  it('fields, plain messages, child bindings, errors, escapes', () => {
    const failure = Object.assign(new Error('disk full'), { code: 'ENOSPC', path: '/data/wal' });
    const { ours, theirs } = both('info', (log) => {
      log.info({ sources: ['/var/log/a.log'], transport: 'stdio' }, 'serving');
      log.warn('--auth-token is shorter than 16 characters');
      log.info({ entries: 3900 });
      log.error({ err: failure, dir: '/data' }, 'WAL: fsync failed');
      log.error(failure);
      log.child({ source: 'app' }).child({ file: 'a.log' }).warn({ lag: 1.5, nested: { a: [1, null] } }, 'quote " and\nnewline\u0001');
      log.fatal({ deadlineMs: 30000 }, 'exiting');
    });
    expect(ours.length).toBe(7);
    expect(ours).toEqual(theirs);
  });

  it('drops the levels below the threshold, as pino does', () => {
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const) {
      const { ours, theirs } = both(level, (log) => {
        log.trace('t');
        log.debug('d');
        log.info('i');
        log.warn('w');
        log.error('e');
        log.fatal('f');
      });
      expect(ours, level).toEqual(theirs);
    }
  });

  it('a field JSON cannot hold does not throw', () => {
    const lines: string[] = [];
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const log = jsonLogger('info', (l) => lines.push(l));
    log.info({ cyclic, big: 10n }, 'still logged');
    const parsed = JSON.parse(lines[0]!) as { msg: string; cyclic: { self: string }; big: string };
    expect(parsed).toMatchObject({ msg: 'still logged', cyclic: { a: 1, self: '[Circular]' }, big: '10' });
  });
});

describe('FdLines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every line in order while lines keep arriving during writes', async () => {
    const file = join(dir, 'lines.txt');
    const fd = openSync(file, 'w');
    const out = new FdLines(fd);
    const n = 5000;
    for (let i = 0; i < n; i++) {
      out.write(`line ${i}\n`);
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    const want = Array.from({ length: n }, (_, i) => `line ${i}\n`).join('');
    for (let i = 0; i < 500 && readFileSync(file, 'utf8').length < want.length; i++) await new Promise((r) => setTimeout(r, 10));
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe(want);
  });

  it('flushSync writes what is queued behind a write in flight', async () => {
    const file = join(dir, 'flush.txt');
    const fd = openSync(file, 'w');
    const out = new FdLines(fd);
    out.write('first\n'); // handed to the thread pool
    out.write('second\n');
    out.write('third\n');
    out.flushSync();
    const want = 'first\nsecond\nthird\n';
    for (let i = 0; i < 500 && readFileSync(file, 'utf8').length < want.length; i++) await new Promise((r) => setTimeout(r, 10));
    closeSync(fd);
    expect(readFileSync(file, 'utf8').split('\n').sort()).toEqual(want.split('\n').sort());
  });
});
