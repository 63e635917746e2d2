/**
 * compileTextCached (src/text/text-query.ts): a spec asked again gets the filter compiled the
 * first time; any difference that changes an answer (case, needles, their order, fields, ids,
 * pattern) gets its own; and a caller changing its spec object afterwards changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { compileText, compileTextCached, type TextFilterSpec } from '../../src/text/text-query.js';

const body = Buffer.from('Order 8812 by user=u-1 req=r1 status=503 alpha');

describe('compileTextCached', () => {
  it('returns the same compiled filter for an equal spec (another object)', () => {
    const a = compileTextCached({ contains: ['order 8812'], caseSensitive: false });
    const b = compileTextCached({ contains: ['order 8812'], caseSensitive: false });
    expect(b).toBe(a);
    expect(b.test(body)).toEqual(compileText({ contains: ['order 8812'], caseSensitive: false }).test(body));
  });

  it('tells apart every spec that answers differently', () => {
    const specs: TextFilterSpec[] = [
      { contains: ['order 8812'], caseSensitive: false },
      { contains: ['order 8812'], caseSensitive: true },
      { contains: ['order', '8812'], caseSensitive: false },
      { contains: ['8812', 'order'], caseSensitive: false },
      { contains: ['order 881', '2'], caseSensitive: false },
      { contains: ['order 8812'], pattern: 'al.ha', caseSensitive: false },
      { pattern: 'al.ha', caseSensitive: false },
      { fields: { user: 'u-1', req: 'r1' }, caseSensitive: false },
      { fields: { req: 'r1', user: 'u-1' }, caseSensitive: false },
      { anyId: { names: ['req'], values: ['r1'] }, caseSensitive: false },
      { anyId: { names: ['req'], values: ['r2'] }, caseSensitive: false },
    ];
    const compiled = specs.map((s) => compileTextCached(s));
    expect(new Set(compiled).size).toBe(specs.length);
    specs.forEach((s, k) => expect(compiled[k]!.test(body)).toEqual(compileText(s).test(body)));
  });

  it('is not changed by the caller changing its spec afterwards', () => {
    const spec = { contains: ['alpha'], caseSensitive: false };
    const first = compileTextCached(spec);
    spec.contains[0] = 'zzz-absent';
    expect(first.spec.contains).toEqual(['alpha']);
    expect(first.test(body)).not.toBeNull();
    expect(compileTextCached({ contains: ['alpha'], caseSensitive: false })).toBe(first);
    expect(compileTextCached(spec).test(body)).toBeNull();
  });
});
