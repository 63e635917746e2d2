/**
 * Log text made safe to look at, in a file without DOM so unit tests can import it. Control
 * characters (the server escapes them already; this is the second line) and the invisible
 * format characters that reorder or hide text (bidi overrides and isolates, zero-width
 * characters, BOM, the Unicode "tag" block used to smuggle invisible ASCII) become visible
 * `\uXXXX` / `\u{XXXXX}` escapes. Tab stays.
 */
const HIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\ufff9-\ufffb\u{e0000}-\u{e007f}]/gu;

export function inert(text: string): string {
  return text.replace(HIDDEN, (c) => {
    const cp = c.codePointAt(0)!;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : '\\u' + cp.toString(16).padStart(4, '0');
  });
}
