/**
 * The legacy HTTP+SSE transport (protocol 2024-11-05) for older clients: GET /sse opens a
 * stream whose first event names the POST endpoint, /messages?sessionId=..., where the client
 * sends its messages; every answer travels back on the stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
// SSEServerTransport is deprecated in the SDK in favour of Streamable HTTP; it is still the
// only implementation of the legacy transport, which `--transport sse` exists to serve.
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { Logger } from '../../log.js';
import type { CallTracker } from './call-tracker.js';
import { HttpError, readJsonBody } from './http-util.js';
import type { Gate } from './limits.js';
import type { McpFactory, SessionHost } from './session-host.js';

/** Comment frames keep idle streams alive through proxies that cut silent connections. */
const KEEPALIVE_MS = 15_000;

interface Session {
  transport: SSEServerTransport;
  close: () => Promise<void>;
}

export class SseSessions implements SessionHost {
  readonly kind = 'sse' as const;
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly factory: McpFactory,
    private readonly gate: Gate,
    private readonly tracker: CallTracker,
    private readonly logger: Logger,
    private readonly onCountChange: (n: number) => void,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/sse') {
      if (req.method !== 'GET') throw new HttpError(405, 'GET /sse opens the event stream; messages go to POST /messages', { Allow: 'GET' });
      return this.open(res);
    }
    if (req.method !== 'POST') throw new HttpError(405, 'POST /messages?sessionId=... carries client messages', { Allow: 'POST' });
    const sid = new URL(req.url ?? '/', 'http://localhost').searchParams.get('sessionId');
    if (sid === null || sid === '') throw new HttpError(400, 'Bad Request: POST /messages needs the sessionId query parameter from the endpoint event of GET /sse');
    const session = this.sessions.get(sid);
    if (session === undefined) throw new HttpError(404, 'Session not found: open a new stream with GET /sse', {}, -32001);
    const body = await readJsonBody(req, this.gate.limits.maxBodyBytes);
    this.gate.admitMessages(body);
    await session.transport.handlePostMessage(req, res, body);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.close().catch(() => undefined)));
    this.sessions.clear();
    this.onCountChange(0);
  }

  private async open(res: ServerResponse): Promise<void> {
    this.gate.admitSession(this.sessions.size);
    const mcp = this.factory();
    const transport = new SSEServerTransport('/messages', res);
    // No idle reaping here: a session lives exactly as long as its client holds the stream open.
    const session: Session = { transport, close: mcp.close };
    const id = transport.sessionId;
    this.sessions.set(id, session);
    this.onCountChange(this.sessions.size);
    const keepalive = setInterval(() => {
      if (!res.writableEnded) res.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    keepalive.unref();
    try {
      // connect() starts the transport: it writes the stream headers and the endpoint event.
      await mcp.server.connect(transport);
    } catch (err) {
      clearInterval(keepalive);
      this.sessions.delete(id);
      this.onCountChange(this.sessions.size);
      throw err;
    }
    this.tracker.attach(transport, () => {
      clearInterval(keepalive);
      if (this.sessions.get(id) === session) {
        this.sessions.delete(id);
        this.onCountChange(this.sessions.size);
        this.logger.debug({ session: id.slice(0, 8) }, 'sse session closed');
      }
    });
    this.logger.debug({ session: id.slice(0, 8) }, 'sse session opened');
  }
}
