/**
 * Streamable HTTP sessions at /mcp: POST carries client messages (initialize opens a session
 * and returns its Mcp-Session-Id), GET opens the session's server-to-client stream, DELETE
 * ends it. Each session gets its own McpServer from the factory, all sharing one Store.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log.js';
import type { CallTracker } from './call-tracker.js';
import { HttpError, isInitialize, readJsonBody } from './http-util.js';
import type { Gate } from './limits.js';
import type { McpFactory, SessionHost } from './session-host.js';
import { SessionTransport } from './session-transport.js';

interface Session {
  transport: SessionTransport;
  close: () => Promise<void>;
  /** HTTP requests of this session still open (a GET stream counts while it lasts). */
  open: number;
  lastSeen: number;
}

export class StreamableSessions implements SessionHost {
  readonly kind = 'http' as const;
  private readonly sessions = new Map<string, Session>();
  /** Sessions created by an initialize request that has not been answered yet. */
  private opening = 0;
  private readonly reaper: NodeJS.Timeout;

  constructor(
    private readonly factory: McpFactory,
    private readonly gate: Gate,
    private readonly tracker: CallTracker,
    private readonly logger: Logger,
    private readonly onCountChange: (n: number) => void,
  ) {
    const idle = gate.limits.sessionIdleMs;
    this.reaper = setInterval(() => this.reapIdle(), Math.max(1000, Math.min(60_000, idle / 4)));
    this.reaper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sid = sessionHeader(req);
    if (req.method === 'POST') {
      checkPostHeaders(req);
      const body = await readJsonBody(req, this.gate.limits.maxBodyBytes);
      if (sid !== undefined) {
        const session = this.lookup(sid);
        this.gate.admitMessages(body);
        this.track(session, res);
        session.transport.handlePost(req, res, body);
        return;
      }
      if (!isInitialize(body)) {
        throw new HttpError(400, 'Bad Request: Mcp-Session-Id header is required; a session starts with an initialize request');
      }
      if (this.sessions.size + this.opening >= this.gate.limits.maxSessions) this.evictOldestIdle();
      this.gate.admitSession(this.sessions.size + this.opening);
      this.gate.admitMessages(body);
      return this.open(req, res, body);
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      if (sid === undefined) throw new HttpError(400, `Bad Request: ${req.method} /mcp needs the Mcp-Session-Id header of an open session`);
      const session = this.lookup(sid);
      if (req.method === 'DELETE') return session.transport.handleDelete(req, res);
      if (this.gate.draining) throw new HttpError(503, 'the server is shutting down', { 'Retry-After': '5' });
      this.track(session, res);
      session.transport.handleGet(req, res);
      return;
    }
    throw new HttpError(405, `${req.method ?? 'this method'} is not supported on /mcp; use POST, GET or DELETE`, { Allow: 'GET, POST, DELETE' });
  }

  async closeAll(): Promise<void> {
    clearInterval(this.reaper);
    await Promise.all([...this.sessions.values()].map((s) => s.close().catch(() => undefined)));
    this.sessions.clear();
    this.onCountChange(0);
  }

  private async open(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const mcp = this.factory();
    const transport = new SessionTransport({
      // Security: session ids are unguessable (122 random bits): on an unauthenticated
      // loopback server the id is what keeps one local client out of another's session.
      sessionId: randomUUID(),
      onInitialized: (id) => {
        this.sessions.set(id, session);
        this.onCountChange(this.sessions.size);
        this.logger.debug({ session: id.slice(0, 8) }, 'session opened');
      },
    });
    const session: Session = { transport, close: mcp.close, open: 0, lastSeen: Date.now() };
    this.opening += 1;
    try {
      await mcp.server.connect(transport);
      this.tracker.attach(transport, () => {
        const id = transport.sessionId;
        if (id !== undefined && this.sessions.get(id) === session) {
          this.sessions.delete(id);
          this.onCountChange(this.sessions.size);
          this.logger.debug({ session: id.slice(0, 8) }, 'session closed');
        }
      });
      this.track(session, res);
      transport.handlePost(req, res, body);
    } finally {
      this.opening -= 1;
      // An initialize that was refused never got a session: nothing else would close it.
      if (transport.sessionId === undefined) await mcp.close().catch(() => undefined);
    }
  }

  /** Counts the request as open on its session until the response closes (idle tracking). */
  private track(session: Session, res: ServerResponse): void {
    session.open += 1;
    session.lastSeen = Date.now();
    res.once('close', () => {
      session.open -= 1;
      session.lastSeen = Date.now();
    });
  }

  private lookup(sid: string): Session {
    const session = this.sessions.get(sid);
    // 404 tells a client its session is gone (expired, or the server restarted): re-initialize.
    if (session === undefined) throw new HttpError(404, 'Session not found: initialize a new session', {}, -32001);
    return session;
  }

  /**
   * Makes room by closing the least recently used session that holds no open request. SDK
   * clients end without DELETE, so finished clients would otherwise fill the cap until the idle
   * timeout; a live client of an evicted session gets 404 and initializes again.
   */
  private evictOldestIdle(): void {
    let oldest: [string, Session] | null = null;
    for (const entry of this.sessions) if (entry[1].open === 0 && (oldest === null || entry[1].lastSeen < oldest[1].lastSeen)) oldest = entry;
    if (oldest === null) return;
    const [id, s] = oldest;
    this.sessions.delete(id);
    this.onCountChange(this.sessions.size);
    this.logger.info({ session: id.slice(0, 8), idle_s: Math.round((Date.now() - s.lastSeen) / 1000) }, 'session limit reached: closing the least recently used idle session');
    void s.close().catch(() => undefined);
  }

  private reapIdle(): void {
    const cutoff = Date.now() - this.gate.limits.sessionIdleMs;
    for (const [id, s] of this.sessions) {
      if (s.open === 0 && s.lastSeen < cutoff) {
        this.logger.info({ session: id.slice(0, 8), idle_s: Math.round((Date.now() - s.lastSeen) / 1000) }, 'closing idle session');
        void s.close().catch(() => undefined);
      }
    }
  }
}

/** The SDK's header rules for POST, checked before the body is read. */
function checkPostHeaders(req: IncomingMessage): void {
  const accept = req.headers.accept ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    throw new HttpError(406, 'Not Acceptable: Client must accept both application/json and text/event-stream');
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'Unsupported Media Type: Content-Type must be application/json');
}

function sessionHeader(req: IncomingMessage): string | undefined {
  const v = req.headers['mcp-session-id'];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}
