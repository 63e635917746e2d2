/**
 * The ClickHouse connection: the official @clickhouse/client over HTTP(S), with what every
 * statement needs on old and new servers alike (measured on Debian's 18.16 with client 1.23):
 * - an explicit format on every read (the client's default JSONCompactEachRow is unknown to
 *   18.16): JSONEachRow, with 64-bit integers unquoted;
 * - no query parameters (18.16 rejects `param_*`): values are inlined through sql.ts;
 * - inserts as RowBinary through exec(), the cheapest format to produce and parse.
 * Credentials come from the URL or LOG_TRIAGE_CLICKHOUSE_USER / _PASSWORD and are never
 * logged: error messages name the URL without them.
 */
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../log.js';

export interface ConnectionOptions {
  url: string;
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
}

/** The server could not be reached, refused us, or failed a statement. */
export class ClickHouseError extends Error {
  override name = 'ClickHouseError';
  constructor(
    message: string,
    /** ClickHouse's error code when the server answered with one. */
    readonly code: number | null,
    /** True when the server was not reached (refused, reset, timed out). */
    readonly network: boolean,
  ) {
    super(message);
  }
}

/** Settings sent with every read: numbers as JSON numbers (18.16 quotes 64-bit ones by default). */
const READ_SETTINGS = { output_format_json_quote_64bit_integers: 0 } as const;

/** The URL without user and password: the only form that is ever logged or shown. */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

export function parseClickHouseUrl(text: string, env: NodeJS.ProcessEnv = process.env): { url: URL; username: string; password: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`--clickhouse-url is not a URL; use http://HOST:8123 or https://HOST:8443`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`--clickhouse-url ${redactUrl(url)}: use http:// or https:// (ClickHouse's HTTP interface)`);
  }
  const username = url.username !== '' ? decodeURIComponent(url.username) : env.LOG_TRIAGE_CLICKHOUSE_USER ?? 'default';
  const password = url.password !== '' ? decodeURIComponent(url.password) : env.LOG_TRIAGE_CLICKHOUSE_PASSWORD ?? '';
  url.username = '';
  url.password = '';
  return { url, username, password };
}

export class ClickHouseConnection {
  readonly where: string;
  /** The server's version() as numbers, e.g. [18, 16, 1]. */
  version: number[] = [];
  private constructor(
    private readonly client: ClickHouseClient,
    where: string,
  ) {
    this.where = where;
  }

  static async open(options: ConnectionOptions): Promise<ClickHouseConnection> {
    const { url, username, password } = parseClickHouseUrl(options.url, options.env);
    const { createClient, ClickHouseLogLevel } = await import('@clickhouse/client');
    const log = options.logger.child({ component: 'clickhouse-client' });
    const client = createClient({
      url: `${url.protocol}//${url.host}`,
      username,
      password,
      request_timeout: options.requestTimeoutMs ?? 30_000,
      compression: { request: false, response: false },
      // The client's own messages go to our logger, warnings and up only (never credentials:
      // it logs statements and errors, and the URL is given without them).
      log: {
        level: ClickHouseLogLevel.WARN,
        LoggerClass: class {
          trace(): void {}
          debug(): void {}
          info(): void {}
          warn(e: { message: string }): void {
            log.warn(e.message);
          }
          error(e: { message: string; err: Error }): void {
            // Failed statements are thrown to us and reported where they matter.
            log.debug({ err: e.err?.message }, e.message);
          }
        },
      },
    });
    const conn = new ClickHouseConnection(client, redactUrl(url));
    const rows = await conn.rows<{ v: string }>('SELECT version() AS v');
    conn.version = (rows[0]?.v ?? '0').split('.').map(Number);
    return conn;
  }

  /** Rows of a SELECT, as objects (JSONEachRow). */
  async rows<T>(sql: string, settings: Record<string, number> = {}): Promise<T[]> {
    try {
      const rs = await this.client.query({ query: sql, format: 'JSONEachRow', clickhouse_settings: { ...READ_SETTINGS, ...settings } });
      return await rs.json<T>();
    } catch (err) {
      throw this.wrap(err);
    }
  }

  /** A statement without a result (DDL). */
  async command(sql: string): Promise<void> {
    try {
      await this.client.command({ query: sql });
    } catch (err) {
      throw this.wrap(err);
    }
  }

  /** `INSERT INTO table FORMAT RowBinary` with the given encoded rows. */
  async insertRowBinary(table: string, data: Buffer, settings: Record<string, number> = {}): Promise<void> {
    try {
      const result = await this.client.exec({
        query: `INSERT INTO ${table} FORMAT RowBinary`,
        values: Readable.from([data]),
        clickhouse_settings: settings,
      });
      // Drain the (empty) response so the socket goes back to the pool.
      result.stream.resume();
      await new Promise<void>((resolve, reject) => {
        result.stream.on('end', resolve).on('error', reject);
      });
    } catch (err) {
      throw this.wrap(err);
    }
  }

  /** Rows as JSONEachRow (small inserts: watermarks). */
  async insertJson(table: string, rows: readonly object[], settings: Record<string, number> = {}): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.client.insert({ table, values: rows as object[], format: 'JSONEachRow', clickhouse_settings: settings });
    } catch (err) {
      throw this.wrap(err);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** A ClickHouseError whose message names the server (without credentials) and the cause. */
  wrap(err: unknown): ClickHouseError {
    if (err instanceof ClickHouseError) return err;
    const e = err as { message?: string; code?: string | number; type?: string };
    const raw = String(e.message ?? err).replace(/\s+/g, ' ').trim().replace(/, e\.what\(\) = DB::Exception$/, '');
    const numeric = typeof e.code === 'string' && /^\d+$/.test(e.code) ? Number(e.code) : typeof e.code === 'number' ? e.code : null;
    const network = numeric === null && /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|socket hang up|Timeout error|EPIPE|other side closed/i.test(`${raw} ${String(e.code ?? '')}`);
    if (network) return new ClickHouseError(`ClickHouse at ${this.where} is unreachable (${raw})`, null, true);
    if (numeric === 516 || numeric === 193 || /Authentication failed|Wrong password/i.test(raw)) {
      return new ClickHouseError(`ClickHouse at ${this.where} refused the credentials (user from the URL or LOG_TRIAGE_CLICKHOUSE_USER / LOG_TRIAGE_CLICKHOUSE_PASSWORD)`, numeric, false);
    }
    return new ClickHouseError(`ClickHouse at ${this.where}: ${raw.slice(0, 500)}`, numeric, false);
  }
}
