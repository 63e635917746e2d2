/**
 * Where entry bodies live. The index keeps only a body position (and a saturating length);
 * the bytes stay in the raw chunks they were parsed from: in memory (ephemeral mode) or in
 * WAL segments on disk. Positions are logical byte offsets that only grow.
 */

export interface BodyStore {
  /**
   * Reads up to maxBytes of the body at pos whose stored length is len. Returns null when the
   * bytes are gone (dropped by retention).
   */
  read(pos: number, len: number, maxBytes: number): Uint8Array | null;
  /** Bodies before this position no longer exist. */
  readonly firstPos: number;
  /** Bytes held. */
  readonly bytes: number;
}
