/**
 * Small pieces of HTTP plumbing shared by the transports: the bounded body reader, JSON
 * answers, and error answers shaped like JSON-RPC errors (what MCP clients know how to show).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An HTTP-level refusal: status, message, and optional extra headers (Retry-After...). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** JSON-RPC code for the body; -32000 is the SDK's "server error" for transport failures. */
    readonly code = -32000,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** Answers with a JSON-RPC error body, the shape the SDK uses for its own transport errors. */
export function sendError(res: ServerResponse, err: HttpError, extraHeaders: Record<string, string> = {}): void {
  sendJson(res, err.status, { jsonrpc: '2.0', error: { code: err.code, message: err.message }, id: null }, { ...extraHeaders, ...err.headers });
}

/**
 * Reads and parses a JSON body of at most `limit` bytes. A declared Content-Length over the
 * limit is refused before a byte is read; a chunked body is cut off as soon as it passes it.
 * Security: without the cap one client could make the server buffer any amount of memory.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): HttpError => new HttpError(413, `request body is larger than ${limit} bytes (--max-body-bytes)`, { Connection: 'close' });
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks, size).toString('utf8');
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpError(400, 'Parse error: the request body is not valid JSON', {}, -32700));
      }
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(new HttpError(400, `could not read the request body: ${err.message}`));
    });
  });
}

/** JSON-RPC messages in a parsed body (a single message or a batch). */
export function messagesOf(body: unknown): Record<string, unknown>[] {
  const list = Array.isArray(body) ? body : [body];
  return list.filter((m): m is Record<string, unknown> => m !== null && typeof m === 'object');
}

/** Requests (method and id) as opposed to notifications and responses. */
export function countRequests(body: unknown): number {
  return messagesOf(body).filter((m) => typeof m.method === 'string' && m.id !== undefined && m.id !== null).length;
}

export function isInitialize(body: unknown): boolean {
  return messagesOf(body).some((m) => m.method === 'initialize');
}
