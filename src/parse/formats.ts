/** The formats `--format` accepts, by name. */
import type { LogFormat } from './format.js';
import { isoBracketFormat } from './iso-bracket.js';

const FORMATS: ReadonlyMap<string, LogFormat> = new Map([[isoBracketFormat.name, isoBracketFormat]]);

export const DEFAULT_FORMAT = isoBracketFormat.name;

export function formatNames(): string[] {
  return [...FORMATS.keys()];
}

/** The format registered under `name`, or undefined. */
export function getFormat(name: string): LogFormat | undefined {
  return FORMATS.get(name);
}

/** The format that recognizes most of the sample's lines; the default one when none does. */
export function detectFormat(sample: Uint8Array): LogFormat {
  let best: LogFormat = isoBracketFormat;
  let bestScore = 0;
  for (const format of FORMATS.values()) {
    const score = format.detect(sample);
    if (score > bestScore) {
      best = format;
      bestScore = score;
    }
  }
  return best;
}
