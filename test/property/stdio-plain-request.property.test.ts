/**
 * The stdio transport's shortcut past the JSON-RPC schema (plainRequest, src/mcp/stdio-transport.ts)
 * accepts only messages JSONRPCMessageSchema accepts, and hands on exactly what the schema's
 * parse returns; every ordinary request and notification (no `_meta`) takes it. Messages are
 * drawn around each rule's edges (ids at the safe-integer limit, -0, fractions; params as an
 * array, null, with `_meta`; extra keys; responses) and sent through JSON as a client would.
 */
import fc from 'fast-check';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { plainRequest } from '../../src/mcp/stdio-transport.js';

const MISSING = Symbol('missing');

const jsonrpc = fc.constantFrom<unknown>('2.0', '2.0', '2.0', '1.0', 2, null, MISSING);
const id = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.integer(),
  fc.constantFrom<unknown>(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER - 2, -0, 0, 1.5, 1e21, null, true, [], {}, MISSING),
);
const method = fc.oneof(fc.constantFrom<unknown>('tools/call', 'notifications/initialized', '', 7, null, MISSING), fc.string({ maxLength: 6 }));
const meta = fc.constantFrom<unknown>({}, { progressToken: 1 }, { progressToken: 'p' }, { progressToken: null }, { progressToken: 1.5 }, 'x', null);
const params = fc.oneof(
  fc.constantFrom<unknown>(MISSING, MISSING, null, [], [1], 'p', 3),
  fc.dictionary(fc.constantFrom('name', 'arguments', 'x'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.record({ name: fc.string({ maxLength: 4 }), _meta: meta }),
);
const extra = fc.constantFrom<Record<string, unknown>>({}, {}, {}, { result: {} }, { error: { code: 1, message: 'm' } }, { foo: 1 }, { ID: 1 });

const message = fc.record({ jsonrpc, id, method, params, extra }).map(({ extra: more, ...fields }) => {
  const m: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== MISSING) m[k] = v;
  // Through JSON, as the transport sees it (-0 becomes 0, 1e21 stays a number).
  return JSON.parse(JSON.stringify({ ...m, ...more })) as unknown;
});

describe('stdio plainRequest', () => {
  it('accepts only what JSONRPCMessageSchema accepts, unchanged, and every ordinary request', () => {
    let taken = 0;
    let refused = 0;
    fc.assert(
      fc.property(message, (value) => {
        const plain = plainRequest(value);
        const parsed = JSONRPCMessageSchema.safeParse(value);
        if (plain !== null) {
          taken++;
          expect(parsed.success).toBe(true);
          expect(plain).toEqual(parsed.data);
          return;
        }
        refused++;
        // An ordinary request or notification: the schema takes it, and so must the shortcut.
        const v = value as Record<string, unknown>;
        const p = v.params as Record<string, unknown> | undefined;
        const ordinary = parsed.success && !('result' in v) && !('error' in v) && (p === undefined || !('_meta' in p));
        expect(ordinary, JSON.stringify(value)).toBe(false);
      }),
      { numRuns: 3000 },
    );
    // Both sides of the rule were reached.
    expect(taken).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  });
});
