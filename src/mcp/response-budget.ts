/**
 * Keeps a tool response under the contract's 64 KiB. Both the structured content and its
 * text rendering travel in one JSON-RPC message, so the whole serialized result is measured.
 */

export const MAX_RESPONSE_BYTES = 64 * 1024;
/** Room left for the JSON-RPC envelope around the result. */
const ENVELOPE_BYTES = 512;

export function resultBytes(result: unknown): number {
  return Buffer.byteLength(JSON.stringify(result), 'utf8');
}

export function fitsBudget(result: unknown): boolean {
  return resultBytes(result) + ENVELOPE_BYTES <= MAX_RESPONSE_BYTES;
}
