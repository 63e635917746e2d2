/**
 * Storage errors: a code, the file and the byte offset, as the style asks of storage code.
 * Errno failures keep the errno's code ('ENOSPC', 'EIO', ...) so callers can tell a full disk
 * from a damaged file without parsing messages.
 */

export type WalErrorCode =
  | 'WAL_VERSION'
  | 'WAL_CORRUPT'
  | 'WAL_CLOSED'
  | 'WAL_FAILED'
  | 'WAL_BAD_BATCH'
  | 'WAL_UNKNOWN_SOURCE'
  | 'WAL_OPTION'
  | 'WAL_READ_ONLY'
  | 'CHECKPOINT_VERSION'
  | 'CHECKPOINT_CORRUPT'
  | 'CHECKPOINT_SECTION'
  // Errno codes from the file system pass through as they are.
  | (string & {});

export class WalError extends Error {
  override readonly name = 'WalError';

  constructor(
    readonly code: WalErrorCode,
    message: string,
    /** The file involved, or '' when none. */
    readonly file: string,
    /** Byte offset within that file, or -1 when not meaningful. */
    readonly offset: number,
    options?: { cause?: unknown },
  ) {
    super(offset >= 0 ? `${message} (${file} at byte ${offset})` : file === '' ? message : `${message} (${file})`, options);
  }
}

/** Wraps a file-system error, keeping its errno code. */
export function ioError(err: unknown, what: string, file: string, offset: number): WalError {
  if (err instanceof WalError) return err;
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'EIO';
  const detail = err instanceof Error ? err.message : String(err);
  return new WalError(code, `${what} failed: ${detail}`, file, offset, { cause: err });
}

export function corrupt(message: string, file: string, offset: number): WalError {
  return new WalError('WAL_CORRUPT', message, file, offset);
}

/** True for an error whose errno code is ENOENT. */
export function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 'ENOENT';
}

/** The minimal logger the WAL accepts (pino's Logger fits). */
export interface WalLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  /** For a state that needs a person (a failed fsync); warn is used when absent. */
  error?(obj: object, msg: string): void;
  /** Details nobody needs to act on (drop-behind.ts: dd is missing); dropped when absent. */
  debug?(obj: object, msg: string): void;
}

export const silentWalLogger: WalLogger = { warn() {}, info() {}, error() {} };
