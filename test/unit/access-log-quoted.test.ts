/**
 * Access logs: the quoted request is walked four bytes a turn (src/parse/formats/web.ts), and
 * an escaped quote or backslash at any offset inside it still does not end it: the status
 * after it is read, so the entry is indexed with the level of its status class.
 */
import { describe, expect, it } from 'vitest';
import { getFormat } from '../../src/parse/formats.js';
import { TAG_ERROR } from '../../src/parse/levels.js';
import { TAG_MASK } from '../../src/parse/meta.js';

describe('clf request field', () => {
  for (let at = 0; at < 9; at++) {
    for (const escape of ['\\"', '\\\\']) {
      it(`reads past ${escape} at offset ${at} of the request`, () => {
        const request = `GET /${'a'.repeat(at)}${escape}b HTTP/1.1`;
        const line = `10.0.5.72 - - [15/Jan/2024:10:00:00 +0000] "${request}" 503 23213\n`;
        const parsed = getFormat('clf')!.parseChunk(Buffer.from(line), { timezone: 'UTC' });
        expect(parsed.errors).toBe(0);
        expect(parsed.count).toBe(1);
        expect(parsed.meta[0]! & TAG_MASK).toBe(TAG_ERROR);
      });
    }
  }
});
