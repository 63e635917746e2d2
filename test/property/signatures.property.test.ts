import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskBody, SignatureMiner, signatureId } from '../../src/triage/signatures.js';

describe('maskBody', () => {
  it.each([
    ['timeout after 5s for customer 8832', 'timeout after <DUR> for customer <NUM>'],
    ['slow query took 120ms (limit 100ms)', 'slow query took <DUR> (limit <DUR>)'],
    // The micro sign is written \u00b5 in the pattern (the bundle must stay ASCII): still a unit.
    ['gc pause 850\u00b5s', 'gc pause <DUR>'],
    ['request 3f2b1c9e-8a4d-4c1b-9f0e-1234567890ab failed', 'request <UUID> failed'],
    ['connect to 10.0.3.17:5432 refused', 'connect to <IP> refused'],
    ['peer fe80::1ff:fe23:4567:890a unreachable', 'peer <IP> unreachable'],
    ['segfault at 0x7ffd1234abcd', 'segfault at <HEX>'],
    ['commit a8f3c2e1d9 rejected', 'commit <HEX> rejected'],
    ['user "alice smith" not found', 'user <STR> not found'],
    ["can't open 'report 2024.csv'", "can't open <STR>"],
    ['GET /api/users/8832/orders returned 503', 'GET /api/users/<NUM>/orders returned <NUM>'],
    ['job req-a8f3k2 retried', 'job <ID> retried'],
    ['event at 2024-01-15T10:30:45.123Z dropped', 'event at <TS> dropped'],
    ['mail to ops@example.com bounced', 'mail to <EMAIL> bounced'],
    ['worker17 crashed', '<ID> crashed'],
    ['db2 is down', 'db<N> is down'],
  ])('%s', (body, masked) => {
    expect(maskBody(body)).toBe(masked);
  });

  it('mines only the first line (stack traces vary with the call path)', () => {
    expect(maskBody('NullPointerException in handler 42\n  at a.b(C.java:12)\n  at d.e(F.java:99)')).toBe('NullPointerException in handler <NUM>');
  });

  it('cuts long lines', () => {
    expect(maskBody('x'.repeat(5000), 100)).toHaveLength(100);
  });
});

describe('SignatureMiner', () => {
  it('groups lines that differ only in masked values (issue 5 example)', () => {
    const miner = new SignatureMiner();
    const a = miner.add('timeout after 5s for customer 8832');
    const b = miner.add('timeout after 7s for customer 91');
    expect(a).not.toBeNull();
    expect(b?.id).toBe(a?.id);
    expect(miner.size).toBe(1);
    expect(miner.signatures()[0]).toMatchObject({ count: 2, template: 'timeout after <DUR> for customer <NUM>' });
  });

  it('generalizes positions the masks miss (Drain), keeping unlike messages apart', () => {
    const miner = new SignatureMiner();
    miner.add('user alice not found in directory');
    miner.add('user bob not found in directory');
    miner.add('connection reset by peer during handshake');
    miner.add('disk full');
    miner.add('disk slow');
    const sigs = miner.signatures();
    expect(sigs.map((s) => s.template)).toEqual([
      'user <*> not found in directory',
      'connection reset by peer during handshake',
      'disk full',
      'disk slow',
    ]);
  });

  it('does not merge different errors of the same shape', () => {
    const miner = new SignatureMiner();
    miner.add('database query exceeded 5s threshold');
    miner.add('payment gateway returned HTTP 502');
    miner.add('cache cluster node evicted');
    expect(miner.size).toBe(3);
  });

  it('ids are a stable hash of the template, across miners and runs', () => {
    const one = new SignatureMiner();
    const two = new SignatureMiner();
    one.add('timeout after 5s for customer 8832');
    two.add('noise 1');
    two.add('timeout after 9s for customer 1');
    expect(one.match('timeout after 1s for customer 2')?.id).toBe(two.match('timeout after 3s for customer 4')?.id);
    expect(one.signatures()[0]!.id).toBe(signatureId('timeout after <DUR> for customer <NUM>'));
    expect(one.signatures()[0]!.id).toMatch(/^[0-9a-f]{12}$/);
  });

  it('match() finds without learning', () => {
    const miner = new SignatureMiner();
    miner.add('disk /dev/sda1 is 91% full');
    expect(miner.match('disk /dev/sdb2 is 97% full')).not.toBeNull();
    expect(miner.match('totally unrelated message')).toBeNull();
    expect(miner.size).toBe(1);
    expect(miner.total).toBe(1);
  });

  it('keeps memory bounded: at most maxClusters signatures, the rest counted as overflow', () => {
    const miner = new SignatureMiner({ maxClusters: 10, maxExamples: 1 });
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
    for (const a of words) for (const b of words) miner.add(`${a} ${b}`);
    expect(miner.size).toBeLessThanOrEqual(10);
    expect(miner.overflow).toBeGreaterThan(0);
    expect(miner.total).toBe(words.length * words.length);
    for (const s of miner.signatures()) expect(s.examples.length).toBeLessThanOrEqual(1);
  });

  it('every line lands in one signature or in overflow; counts add up (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 60 }), { maxLength: 200 }), fc.integer({ min: 1, max: 50 }), (lines, max) => {
        const miner = new SignatureMiner({ maxClusters: max });
        for (const line of lines) miner.add(line);
        const sum = miner.signatures().reduce((a, s) => a + s.count, 0);
        expect(sum + miner.overflow).toBe(lines.length);
        expect(miner.size).toBeLessThanOrEqual(max);
      }),
    );
  });

  it('values never split a signature (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(100000), fc.nat(999), fc.uuid()), { minLength: 1, maxLength: 50 }), (rows) => {
        const miner = new SignatureMiner();
        for (const [customer, secs, id] of rows) miner.add(`timeout after ${secs}s for customer ${customer} request ${id}`);
        expect(miner.size).toBe(1);
      }),
    );
  });
});
