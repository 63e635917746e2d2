/**
 * The expected failures that cross folders: each is the user's to fix, carries a one-line
 * message naming the option or field at fault, and is recognised by class where it is
 * turned into an answer (exit code 2 in src/cli.ts, an isError tool result in src/mcp).
 *
 * Failures local to one room stay there: WalError (a code, the file and the byte offset,
 * src/wal/errors.ts), CustomFormatError and PatternError (src/parse), SafeRegexError
 * (src/text), ClickHouseError (src/store/clickhouse), HttpError (src/mcp/transports).
 *
 * This module imports nothing, so the CLI can recognise these before loading any command.
 */

/** A bad option (flag, environment variable, config file): one line on stderr, exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A catalog that cannot be used; the message is one line naming the runbook and field. */
export class RunbookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunbookError';
  }
}

/** A query argument the store cannot serve (unknown source, tag...): becomes an isError result. */
export class QueryError extends Error {
  constructor(
    /** The input field at fault. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'QueryError';
  }
}

/** Thrown by tool handlers for a semantically bad argument; the SDK turns it into an isError result. */
export class ToolInputError extends Error {
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ToolInputError';
  }
}

/** Start-up errors that are the user's to fix: the CLI prints one line and exits with code 2. */
export function isUsageError(err: unknown): err is ConfigError | RunbookError {
  return err instanceof ConfigError || err instanceof RunbookError;
}
