/**
 * The one logger: JSON lines on stderr (fd 2) in pino's format, so that nothing in src/ writes
 * logs to stdout, which carries only protocol messages in stdio mode.
 *
 * Each line is what pino 10 writes with `name` set: `{"level":30,"time":<epoch ms>,"pid":..,
 * "hostname":"..","name":"log-triage-mcp",<child bindings>,<fields>,"msg":".."}`, levels
 * trace 10, debug 20, info 30, warn 40, error 50, fatal 60; an Error in a field becomes
 * pino's `{type, message, stack, ...}`. Why not pino itself (issue 12): loading it (pino,
 * sonic-boom, thread-stream, safe-stable-stringify, redaction) and writing its first line
 * cost 19-28 ms of CPU against 4-5 ms for this (each bundled, no code cache, 8 processes on
 * the shared 2-core VM), on a start-up path that every client session pays for. The few lines a
 * server logs need none of pino's transports, redaction or serializer options.
 *
 * Writes are asynchronous and in order, like pino.destination({ sync: false }): a stderr
 * that a client reads slowly never blocks the event loop; what is still queued when the
 * process exits is written synchronously then.
 */
import { write, writeSync } from 'node:fs';
import { hostname } from 'node:os';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LogFn {
  (fields: object, msg?: string): void;
  (msg: string): void;
}

/** What src/ logs through; a pino logger fits it too (tests capture lines with one). */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

export const LEVELS: Readonly<Record<Exclude<LogLevel, 'silent'>, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** Where lines go: one call per line, the line ending in '\n'. */
export type LineSink = (line: string) => void;

/** pino's err serializer: the type, message and stack, then the error's own fields (code, ...). */
function errorFields(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.constructor?.name ?? err.name, message: err.message, stack: err.stack };
  for (const [k, v] of Object.entries(err)) if (!(k in out)) out[k] = v instanceof Error ? errorFields(v) : v;
  if (err.cause !== undefined && !('cause' in out)) out.cause = err.cause instanceof Error ? errorFields(err.cause) : err.cause;
  return out;
}

/** JSON of the fields, without the braces ('' for none); never throws (a cycle, a BigInt). */
function fieldsJson(fields: Record<string, unknown>): string {
  const keys = Object.keys(fields);
  if (keys.length === 0) return '';
  let json: string;
  try {
    const seen = new WeakSet<object>();
    json = JSON.stringify(fields, (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Error) v = errorFields(v);
      if (v !== null && typeof v === 'object') {
        if (seen.has(v)) return '[Circular]';
        seen.add(v);
      }
      return v;
    });
  } catch (err) {
    json = JSON.stringify({ logFieldsError: `fields could not be written as JSON: ${(err as Error).message}` });
  }
  return json.slice(1, -1);
}

class JsonLogger implements Logger {
  /** `"level":` is added per line; this is the rest of the head, bindings included. */
  constructor(
    private readonly threshold: number,
    private readonly sink: LineSink,
    private readonly head: string,
  ) {}

  private line(level: number, a: object | string, msg: string | undefined): void {
    if (level < this.threshold) return;
    let fields = '';
    if (typeof a === 'string') msg = a;
    else if (a instanceof Error) {
      fields = fieldsJson({ err: a });
      msg ??= a.message;
    } else fields = fieldsJson(a as Record<string, unknown>);
    const tail = (fields === '' ? '' : ',' + fields) + (msg === undefined ? '' : ',"msg":' + JSON.stringify(msg));
    this.sink(`{"level":${level},"time":${Date.now()}${this.head}${tail}}\n`);
  }

  trace: LogFn = (a: object | string, msg?: string) => this.line(10, a, msg);
  debug: LogFn = (a: object | string, msg?: string) => this.line(20, a, msg);
  info: LogFn = (a: object | string, msg?: string) => this.line(30, a, msg);
  warn: LogFn = (a: object | string, msg?: string) => this.line(40, a, msg);
  error: LogFn = (a: object | string, msg?: string) => this.line(50, a, msg);
  fatal: LogFn = (a: object | string, msg?: string) => this.line(60, a, msg);

  child(bindings: Record<string, unknown>): Logger {
    const more = fieldsJson(bindings);
    return new JsonLogger(this.threshold, this.sink, more === '' ? this.head : `${this.head},${more}`);
  }
}

/** A logger writing pino-format lines to `sink` (default: stderr); `name` as pino's option. */
export function jsonLogger(level: LogLevel, sink: LineSink, name?: string): Logger {
  const threshold = level === 'silent' ? Infinity : LEVELS[level];
  if (threshold === undefined) throw new Error(`unknown log level '${String(level)}'; levels: ${[...Object.keys(LEVELS), 'silent'].join(', ')}`);
  const head = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}` + (name === undefined ? '' : `,"name":${JSON.stringify(name)}`);
  return new JsonLogger(threshold, sink, head);
}

/**
 * Lines to a file descriptor, in order, one fs.write at a time (a partial write continues
 * with the rest; EAGAIN, from a non-blocking pipe that is full, is retried shortly). Lines
 * that arrive meanwhile are written together next. At exit, what is queued is written
 * synchronously. A descriptor that is gone (EPIPE: the reader closed it) drops the lines.
 */
export class FdLines {
  private queued: string[] = [];
  private inFlight = false;
  private closed = false;
  private hooked = false;

  constructor(private readonly fd: number) {}

  readonly write: LineSink = (line) => {
    if (this.closed) return;
    this.queued.push(line);
    if (!this.hooked) {
      this.hooked = true;
      process.once('exit', () => this.flushSync());
    }
    if (!this.inFlight) this.next();
  };

  private next(): void {
    if (this.queued.length === 0) return;
    const buf = Buffer.from(this.queued.join(''));
    this.queued = [];
    this.inFlight = true;
    this.send(buf);
  }

  private send(buf: Buffer): void {
    write(this.fd, buf, 0, buf.length, null, (err, written) => {
      if (err !== null) {
        if (err.code === 'EAGAIN') {
          setTimeout(() => this.send(buf), 10).unref();
          return;
        }
        this.closed = true;
        this.queued = [];
        this.inFlight = false;
        return;
      }
      if (written < buf.length) {
        this.send(buf.subarray(written));
        return;
      }
      this.inFlight = false;
      this.next();
    });
  }

  /** Writes what is queued now (not a write already handed to the thread pool). */
  flushSync(): void {
    if (this.closed || this.queued.length === 0) return;
    const text = this.queued.join('');
    this.queued = [];
    try {
      writeSync(this.fd, text);
    } catch {
      // stderr gone or full at exit: nothing left to tell
    }
  }
}

let stderrLines: FdLines | null = null;

export function createLogger(level: string = process.env.LOG_TRIAGE_LOG_LEVEL ?? 'info'): Logger {
  stderrLines ??= new FdLines(2);
  return jsonLogger(level as LogLevel, stderrLines.write, 'log-triage-mcp');
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = jsonLogger('silent', () => undefined);
