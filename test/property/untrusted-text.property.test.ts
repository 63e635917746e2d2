/**
 * Bodies cut at the cap on a UTF-8 character boundary (issue 18: only ASCII was tested):
 * over text of 1- to 4-byte characters and every cap, the cut text is the longest prefix of
 * whole characters that fits, never a replacement character; and through the store and
 * find_nearest_log the same cut is what a client gets, marked truncated.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findNearestLog } from '../../src/mcp/index.js';
import { parseIsoBracketChunk } from '../../src/parse/iso-bracket.js';
import { FileBodyStore } from '../../src/store/file-body-store.js';
import { EmbeddedStore } from '../../src/store/embedded-store.js';
import { decodeCapped } from '../../src/text/untrusted.js';

/** Characters of every UTF-8 length: a, é (2), 中 (3), 😀 (4), and their neighbours. */
const char = fc.constantFrom('a', 'z', 'é', 'ß', '中', '語', '€', '😀', '𝄞', ' ');
const text = fc.array(char, { minLength: 0, maxLength: 60 }).map((cs) => cs.join(''));

/** The longest prefix of whole characters whose UTF-8 fits in cap bytes. */
function expectedCut(s: string, cap: number): string {
  let out = '';
  for (const c of s) {
    if (Buffer.byteLength(out + c) > cap) break;
    out += c;
  }
  return out;
}

describe('decodeCapped', () => {
  it('cuts at the last whole character that fits, at every cap, for 1- to 4-byte characters (property)', () => {
    let cutsInsideACharacter = 0;
    fc.assert(
      fc.property(text, fc.nat(), (s, pick) => {
        const bytes = Buffer.from(s);
        const cap = bytes.length === 0 ? 0 : pick % (bytes.length + 1);
        const { text: got, cut } = decodeCapped(bytes, cap);
        expect(cut).toBe(bytes.length > cap);
        expect(got).toBe(expectedCut(s, cap));
        expect(got).not.toContain('\uFFFD');
        if (cut && Buffer.byteLength(got) < cap) cutsInsideACharacter++;
      }),
      { numRuns: 3000 },
    );
    // The inputs put the cap inside multi-byte characters often (not only between them).
    expect(cutsInsideACharacter).toBeGreaterThan(500);
  });
});

describe('find_nearest_log body cap', () => {
  it('returns the same whole-character cut, marked truncated, at caps that fall inside a character', async () => {
    const body = `${'é'.repeat(40)}中${'😀'.repeat(30)}`;
    const line = `2024-01-15T10:00:00.000Z [ERROR] ${body}\n`;
    const buf = Buffer.from(line);
    const store = new EmbeddedStore({ sources: ['app'], bodies: new FileBodyStore() });
    store.indexChunk('app', parseIsoBracketChunk(buf, { timezone: 'UTC' }), 1, (store.bodies as FileBodyStore).appendBytes(buf));
    // 81 and 82: inside 中 (bytes 80-82); 84..86: inside the first 😀 (bytes 83-86).
    for (const cap of [64, 65, 81, 82, 84, 85, 86, 87]) {
      const r = await findNearestLog({ store, bodyCap: cap }, { timestamp: '2024-01-15T10:00:00Z', count: 1, direction: 'nearest', context: 0, case_sensitive: false });
      const e = r.structuredContent.entries[0]!;
      expect(e.truncated, `cap ${cap}`).toBe(true);
      expect(e.body, `cap ${cap}`).toBe(expectedCut(body, cap));
    }
    const whole = await findNearestLog({ store, bodyCap: 2048 }, { timestamp: '2024-01-15T10:00:00Z', count: 1, direction: 'nearest', context: 0, case_sensitive: false });
    expect(whole.structuredContent.entries[0]).toMatchObject({ body, truncated: false });
  });
});
