/**
 * The stdio transport: newline-delimited JSON-RPC on stdin/stdout, like the SDK's
 * StdioServerTransport, but a bad message gets a JSON-RPC error reply and the server stays up.
 *
 * Why not the SDK's class as is (issue 15, items 4 and 12): a line over its 10 MB buffer made
 * it close the transport, so the server exited 0 with no reply; a non-JSON line, a batch
 * array, `id: null` or `params` given as an array went to `onerror` and got no reply at all,
 * leaving the client waiting. Here:
 *   - not JSON                         -> -32700 Parse error, id null;
 *   - an array (batch), id null, or not a request/notification/response -> -32600 Invalid
 *     Request (with the id when it is a string or number, else null);
 *   - a request whose params is not an object -> -32602 Invalid params, with its id;
 *   - a line over the limit            -> -32600, skipped while streaming (memory stays at the
 *     limit), with the id when the line's first or last bytes show it;
 *   - a malformed notification (no id) -> no reply (JSON-RPC never answers notifications).
 */
import process from 'node:process';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';

/** The SDK's own limit for one stdio message. */
export const STDIO_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/** Bytes kept of each end of an oversized line, to find its id. */
const ID_PROBE_BYTES = 256;

type Id = string | number | null;

const isId = (v: unknown): v is string | number => typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));

/** The id of an oversized request, when its first or last bytes show it; else null. */
function probeId(head: string, tail: string): Id {
  const value = '(-?\\d{1,16}|"(?:[^"\\\\]|\\\\.){0,200}")';
  const m =
    new RegExp(`^\\s*\\{\\s*(?:"jsonrpc"\\s*:\\s*"2\\.0"\\s*,\\s*)?"id"\\s*:\\s*${value}`).exec(head) ??
    new RegExp(`"id"\\s*:\\s*${value}\\s*\\}\\s*$`).exec(tail);
  if (m === null) return null;
  try {
    const id = JSON.parse(m[1]!) as unknown;
    return isId(id) ? id : null;
  } catch {
    return null;
  }
}

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The value itself when it is a request or notification that JSONRPCMessageSchema accepts
 * unchanged: jsonrpc "2.0", a string or safe-integer id (or none), a string method, params
 * absent or an object without `_meta`, no other keys. Anything else (responses, `_meta`,
 * every malformed message) returns null and goes through the schema.
 *
 * Why: the schema is a zod union of four strict objects, parsed for every message, and the
 * SDK parses each request again against its method's own schema. Profiled over ~9,700
 * find_nearest_log calls at 1M entries (startup3 notes): 64 ms in the union parse (~7 us a
 * call, ~4 % of the server's CPU per call), 2 ms in this check.
 * test/property/stdio-plain-request.property.test.ts checks that this accepts only what the
 * schema accepts, and hands on what the schema would.
 */
export function plainRequest(value: unknown): JSONRPCMessage | null {
  if (!isPlainObject(value) || value.jsonrpc !== '2.0' || typeof value.method !== 'string') return null;
  for (const key in value) if (!REQUEST_KEYS.has(key)) return null;
  if ('id' in value && !(typeof value.id === 'string' || Number.isSafeInteger(value.id))) return null;
  if ('params' in value && !(isPlainObject(value.params) && !('_meta' in value.params))) return null;
  return value as unknown as JSONRPCMessage;
}

export class LineStdioServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Skipping the rest of an oversized line: its size so far and its first bytes. */
  private oversize: { bytes: number; head: string; tail: Buffer } | null = null;
  private closed = false;

  constructor(
    private readonly stdin: NodeJS.ReadableStream = process.stdin,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly maxMessageBytes = STDIO_MAX_MESSAGE_BYTES,
  ) {}

  async start(): Promise<void> {
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onStdinError);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onStdinError);
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.parts = [];
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(JSON.stringify(message) + '\n')) resolve();
      else this.stdout.once('drain', resolve);
    });
  }

  private readonly onStdinError = (err: Error): void => this.onerror?.(err);

  private readonly onData = (chunk: Buffer): void => {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(10, from);
      const piece = chunk.subarray(from, nl < 0 ? chunk.length : nl);
      this.take(piece);
      if (nl < 0) return;
      this.endLine();
      from = nl + 1;
    }
  };

  /** Adds bytes of the current line, switching to skipping past the limit. */
  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.oversize !== null) {
      this.oversize.bytes += piece.length;
      this.oversize.tail = Buffer.concat([this.oversize.tail, piece]).subarray(-ID_PROBE_BYTES);
      return;
    }
    if (this.partBytes + piece.length <= this.maxMessageBytes) {
      this.parts.push(piece);
      this.partBytes += piece.length;
      return;
    }
    const all = Buffer.concat([...this.parts, piece]);
    this.oversize = { bytes: all.length, head: all.subarray(0, ID_PROBE_BYTES).toString('utf8'), tail: Buffer.from(all.subarray(-ID_PROBE_BYTES)) };
    this.parts = [];
    this.partBytes = 0;
  }

  private endLine(): void {
    if (this.oversize !== null) {
      const { bytes, head, tail } = this.oversize;
      this.oversize = null;
      const id = probeId(head, tail.toString('utf8'));
      this.reply(id, -32600, `Invalid Request: message of ${bytes} bytes is over the limit of ${this.maxMessageBytes} bytes; it was skipped`);
      return;
    }
    const line = Buffer.concat(this.parts).toString('utf8').replace(/\r$/, '');
    this.parts = [];
    this.partBytes = 0;
    if (line.trim() === '') return;
    this.handleLine(line);
  }

  private handleLine(line: string): void {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      this.reply(null, -32700, `Parse error: not valid JSON (${(err as Error).message.split('\n')[0]})`);
      return;
    }
    if (Array.isArray(value)) {
      this.reply(null, -32600, 'Invalid Request: batches (JSON arrays) are not supported; send one JSON-RPC message per line');
      return;
    }
    const plain = plainRequest(value);
    if (plain !== null) {
      this.onmessage?.(plain);
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (parsed.success) {
      this.onmessage?.(parsed.data);
      return;
    }
    this.refuse(value);
  }

  /** Answers a JSON value that is not a valid JSON-RPC message, as the spec says. */
  private refuse(value: unknown): void {
    if (value === null || typeof value !== 'object') {
      this.reply(null, -32600, 'Invalid Request: expected a JSON-RPC object with jsonrpc "2.0"');
      return;
    }
    const msg = value as Record<string, unknown>;
    const hasId = 'id' in msg;
    // A notification is never answered, even a malformed one.
    if (!hasId && typeof msg.method === 'string') return;
    const id: Id = isId(msg.id) ? msg.id : null;
    if (msg.jsonrpc !== '2.0') {
      this.reply(id, -32600, 'Invalid Request: jsonrpc must be "2.0"');
    } else if (hasId && !isId(msg.id)) {
      this.reply(null, -32600, 'Invalid Request: id must be a string or an integer (null is not accepted)');
    } else if (typeof msg.method === 'string' && 'params' in msg && (msg.params === null || typeof msg.params !== 'object' || Array.isArray(msg.params))) {
      this.reply(id, -32602, `Invalid params: params of ${msg.method} must be an object (by-name parameters), not ${Array.isArray(msg.params) ? 'an array' : typeof msg.params}`);
    } else {
      this.reply(id, -32600, 'Invalid Request: not a JSON-RPC request, notification or response');
    }
  }

  private reply(id: Id, code: number, message: string): void {
    this.onerror?.(new Error(message));
    void this.send({ jsonrpc: '2.0', id, error: { code, message } } as unknown as JSONRPCMessage);
  }
}
