import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadRunbookCatalog,
  MATCH_BODY_CHARS,
  parseRunbookCatalog,
  RunbookError,
  runbookJson,
  runbookMatches,
} from '../../src/triage/runbooks.js';

const GOOD_YAML = `
runbooks:
  - id: db-timeout                 # unique, [a-z0-9-]+
    title: Database query timeouts
    match:
      tags: [ERROR]
      pattern: 'database query exceeded \\d+s threshold'
    steps: ["Check the primary's replication lag", "Fail over the read pool"]
    auto_execute: true
    min_confidence: 0.8
  - id: disk-full
    title: Disk full
    match:
      pattern: 'no space left on device'
    steps: [Rotate logs]
`;

const base = { id: 'db-timeout', title: 'T', match: { pattern: 'x' }, steps: ['s'] };

/** The RunbookError message for a catalog holding these runbooks (JSON). */
function errorFor(runbooks: unknown): string {
  try {
    parseRunbookCatalog(JSON.stringify({ runbooks }), { origin: 'rb.json' });
  } catch (err) {
    expect(err).toBeInstanceOf(RunbookError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a RunbookError');
}

describe('runbook catalog: loading', () => {
  it('reads the README example catalog with defaults applied and the regex precompiled', () => {
    const catalog = parseRunbookCatalog(GOOD_YAML);
    expect(catalog.size).toBe(2);
    const db = catalog.get('db-timeout')!;
    expect(db).toMatchObject({ tags: ['ERROR'], autoExecute: true, minConfidence: 0.8, ignoreCase: false });
    expect(db.regex.test('database query exceeded 5s threshold')).toBe(true);
    const disk = catalog.get('disk-full')!;
    expect(disk).toMatchObject({ tags: ['ERROR', 'FATAL'], autoExecute: false, minConfidence: 0.8 });
    expect(runbookJson(db)).toEqual({
      id: 'db-timeout',
      title: 'Database query timeouts',
      steps: ["Check the primary's replication lag", 'Fail over the read pool'],
      auto_execute: true,
      min_confidence: 0.8,
      match: { tags: ['ERROR'], pattern: 'database query exceeded \\d+s threshold', ignore_case: false },
    });
  });

  it('reads JSON and YAML files by extension', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbooks-'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ runbooks: [base] }));
    writeFileSync(join(dir, 'a.yaml'), GOOD_YAML);
    expect(loadRunbookCatalog(join(dir, 'a.json')).get('db-timeout')).toBeDefined();
    expect(loadRunbookCatalog(join(dir, 'a.yaml')).size).toBe(2);
    expect(loadRunbookCatalog(join(dir, 'a.json')).origin).toBe(join(dir, 'a.json'));
  });

  it('an empty list is a valid (empty) catalog', () => {
    expect(parseRunbookCatalog('runbooks: []\n').size).toBe(0);
  });

  it('normalizes tag aliases and case', () => {
    const c = parseRunbookCatalog(JSON.stringify({ runbooks: [{ ...base, match: { pattern: 'x', tags: ['err', 'critical', 'audit'] } }] }));
    expect(c.get('db-timeout')!.tags).toEqual(['ERROR', 'FATAL', 'AUDIT']);
  });

  it('ignore_case compiles a case-insensitive pattern', () => {
    const c = parseRunbookCatalog(JSON.stringify({ runbooks: [{ ...base, match: { pattern: 'disk full', ignore_case: true } }] }));
    expect(runbookMatches(c.get('db-timeout')!, 'ERROR', 'DISK FULL on /var')).toBe(true);
  });
});

describe('runbook catalog: every validation error names the runbook and the field', () => {
  it.each<[string, unknown, RegExp]>([
    ['missing id', [{ title: 'T', match: { pattern: 'x' }, steps: ['s'] }], /^rb\.json: runbooks\[0\]: id: is required$/],
    ['bad id characters', [{ ...base, id: 'DB_Timeout' }], /^rb\.json: runbooks\[0\]: id: must be lowercase letters, digits and - only/],
    ['id of the wrong type', [{ ...base, id: 7 }], /runbooks\[0\]: id: must be a string/],
    ['missing title', [{ id: 'a', match: { pattern: 'x' }, steps: ['s'] }], /runbook 'a' \(runbooks\[0\]\): title: is required/],
    ['empty title', [{ ...base, title: '' }], /runbook 'db-timeout' \(runbooks\[0\]\): title: must not be empty/],
    ['missing match', [{ id: 'a', title: 'T', steps: ['s'] }], /runbook 'a' \(runbooks\[0\]\): match: is required/],
    ['match not an object', [{ ...base, match: 'x' }], /runbook 'db-timeout' \(runbooks\[0\]\): match: must be an object/],
    ['missing pattern', [{ ...base, match: { tags: ['ERROR'] } }], /runbook 'db-timeout' \(runbooks\[0\]\): match\.pattern: is required/],
    ['pattern of the wrong type', [{ ...base, match: { pattern: 5 } }], /match\.pattern: must be a regular expression string/],
    ['empty tags', [{ ...base, match: { pattern: 'x', tags: [] } }], /match\.tags: must list at least one tag/],
    ['bad tag', [{ ...base, match: { pattern: 'x', tags: ['ERROR', 'no spaces'] } }], /match\.tags\[1\]: must be 1 to 32 letters/],
    ['tags not a list', [{ ...base, match: { pattern: 'x', tags: 'ERROR' } }], /match\.tags: must be a list of tag names/],
    ['unknown key in match', [{ ...base, match: { pattern: 'x', level: 'ERROR' } }], /runbook 'db-timeout' \(runbooks\[0\]\): match: unknown key 'level' \(accepted: tags, pattern, ignore_case\)/],
    ['unknown key in a runbook', [{ ...base, auto_exectue: true }], /runbook 'db-timeout' \(runbooks\[0\]\): unknown key 'auto_exectue' \(accepted: id, title, match, steps, auto_execute, min_confidence\)/],
    ['steps missing', [{ id: 'a', title: 'T', match: { pattern: 'x' } }], /runbook 'a' \(runbooks\[0\]\): steps: is required/],
    ['steps empty', [{ ...base, steps: [] }], /steps: must list at least one step/],
    ['a step not a string', [{ ...base, steps: ['ok', 3] }], /steps\[1\]: must be a string/],
    ['auto_execute not a boolean', [{ ...base, auto_execute: 'yes' }], /runbook 'db-timeout' \(runbooks\[0\]\): auto_execute: must be true or false/],
    ['min_confidence above 1', [{ ...base, min_confidence: 1.5 }], /min_confidence: must be a number from 0 to 1/],
    ['min_confidence a string', [{ ...base, min_confidence: 'high' }], /min_confidence: must be a number from 0 to 1/],
    ['a runbook that is not an object', ['db-timeout'], /^rb\.json: runbooks\[0\]: must be an object/],
    ['invalid regex', [{ ...base, match: { pattern: 'timeout (after' } }], /runbook 'db-timeout' \(runbooks\[0\]\): match\.pattern: invalid regular expression: missing closing \)/],
    ['lookahead (not linear-time)', [{ ...base, match: { pattern: 'timeout(?= after)' } }], /match\.pattern: invalid regular expression: .*lookahead and lookbehind are not supported/],
    ['backreference (not linear-time)', [{ ...base, match: { pattern: '(\\w)\\1' } }], /match\.pattern: invalid regular expression: .*backreferences are not supported/],
    ['duplicate id', [base, { ...base, title: 'Other' }], /^rb\.json: runbook 'db-timeout' \(runbooks\[1\]\): id: duplicate id, already used by runbooks\[0\]$/],
  ])('%s', (_name, runbooks, expected) => {
    expect(errorFor(runbooks)).toMatch(expected);
  });

  it('names the index when the id is unusable, and counts further problems', () => {
    expect(errorFor([base, { id: 'Bad Id', title: 3 }])).toMatch(/^rb\.json: runbooks\[1\]: id: .* \(and 3 more problems\)$/);
  });

  it('top level: a list instead of an object, a missing or misspelt key', () => {
    expect(() => parseRunbookCatalog('[1, 2]', { origin: 'f' })).toThrow(/^f: must be an object with a 'runbooks' list$/);
    expect(() => parseRunbookCatalog('{}', { origin: 'f' })).toThrow(/^f: runbooks: is required$/);
    expect(() => parseRunbookCatalog('runbook: []\n', { origin: 'f' })).toThrow(/^f: (runbooks: is required|unknown key 'runbook')/);
    expect(() => parseRunbookCatalog('runbooks: {}\n', { origin: 'f' })).toThrow(/^f: runbooks: must be a list of runbooks$/);
  });

  it('syntax errors and empty files', () => {
    expect(() => parseRunbookCatalog('runbooks: [\n  - id: x\n', { origin: 'f.yaml' })).toThrow(/^f\.yaml: invalid YAML: /);
    expect(() => parseRunbookCatalog('runbooks: []\nrunbooks: []\n', { origin: 'f.yaml' })).toThrow(/^f\.yaml: invalid YAML: Map keys must be unique at line 2/);
    expect(() => parseRunbookCatalog('{"runbooks": [', { origin: 'f.json' })).toThrow(/^f\.json: invalid JSON: /);
    expect(() => parseRunbookCatalog('', { origin: 'f.yaml' })).toThrow(/^f\.yaml: the file is empty/);
  });

  it('an unreadable file names the option and the path', () => {
    expect(() => loadRunbookCatalog('/nonexistent/runbooks.yaml')).toThrow(/^--runbooks \/nonexistent\/runbooks\.yaml: cannot read the file \(ENOENT\)$/);
  });

  it('every message is a single line, YAML code frames included', () => {
    try {
      parseRunbookCatalog('runbooks:\n  - id: a\n    title: [unclosed\n', { origin: 'f' });
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
      return;
    }
    throw new Error('expected an error');
  });
});

describe('hostile patterns (issue 15, item 2)', () => {
  // Patterns a backtracking engine needs minutes for, on a line of 40+ 'a' and a '!': they
  // load, and they answer like RegExp does on inputs short enough for RegExp to finish.
  it.each(['(a|aa)+$', '(.*a){20}$', '(\\d|\\d\\d)+x', '(a+)+b', '(\\w+\\s?)*$'])('%s loads and matches like RegExp', (pattern) => {
    const c = parseRunbookCatalog(JSON.stringify({ runbooks: [{ ...base, match: { pattern } }] }));
    const rb = c.get('db-timeout')!;
    for (const body of ['a'.repeat(12) + '!', 'a'.repeat(21), '1234x', '12 34 x', 'aab', 'word word', '']) {
      expect(runbookMatches(rb, 'ERROR', body), `${pattern} on ${body}`).toBe(new RegExp(pattern).test(body));
    }
  });

  it('matches only the first MATCH_BODY_CHARS characters of a body', () => {
    const c = parseRunbookCatalog(JSON.stringify({ runbooks: [{ ...base, match: { pattern: 'needle' } }] }));
    const rb = c.get('db-timeout')!;
    expect(runbookMatches(rb, 'ERROR', 'x'.repeat(MATCH_BODY_CHARS - 10) + 'needle')).toBe(true);
    expect(runbookMatches(rb, 'ERROR', 'x'.repeat(MATCH_BODY_CHARS) + 'needle')).toBe(false);
  });

  it('requires the tag as well as the pattern', () => {
    const c = parseRunbookCatalog(JSON.stringify({ runbooks: [{ ...base, match: { pattern: 'x', tags: ['FATAL'] } }] }));
    expect(runbookMatches(c.get('db-timeout')!, 'ERROR', 'x')).toBe(false);
    expect(runbookMatches(c.get('db-timeout')!, 'FATAL', 'x')).toBe(true);
  });
});
