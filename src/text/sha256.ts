/**
 * SHA-256 with node:crypto loaded on first use. A script (unlike `node -e`) does not have
 * node:crypto loaded, and requiring it took 4-6 ms of every start, on the stdio first-answer
 * path (12.6 ms under the profiler, startup3 notes); only triage_confidence's signature ids
 * and the incident view's CSP hashes need it.
 */
import { createRequire } from 'node:module';

type Crypto = typeof import('node:crypto');

let crypto: Crypto | null = null;

export function sha256(text: string, encoding: 'hex' | 'base64'): string {
  crypto ??= createRequire(import.meta.url)('node:crypto') as Crypto;
  return crypto.createHash('sha256').update(text, 'utf8').digest(encoding);
}
