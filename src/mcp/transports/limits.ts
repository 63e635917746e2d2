/**
 * The admission gate: caps on sessions and on requests in flight, and the drain switch used by
 * graceful shutdown. A refusal is an HttpError with Retry-After, decided before the message
 * reaches the SDK, so an overloaded server sheds work instead of queueing it.
 */
import type { CallTracker } from './call-tracker.js';
import { HttpError, countRequests } from './http-util.js';
import type { Metrics } from './metrics.js';

export interface Limits {
  /** Concurrent MCP sessions (Streamable HTTP sessions or SSE streams). */
  maxSessions: number;
  /** MCP requests received and not yet answered, over all sessions. */
  maxInflight: number;
  /** Largest request body, bytes. */
  maxBodyBytes: number;
  /** A session with no open request for this long is closed (its client went away). */
  sessionIdleMs: number;
}

export const DEFAULT_SESSION_IDLE_MS = 30 * 60_000;

export class Gate {
  draining = false;

  constructor(
    readonly limits: Limits,
    private readonly tracker: CallTracker,
    private readonly metrics: Metrics,
  ) {}

  /** Throws unless one more session may open, `open` being the sessions open or opening now. */
  admitSession(open: number): void {
    this.checkDraining();
    if (open >= this.limits.maxSessions) {
      this.metrics.reject('sessions_full');
      throw new HttpError(503, `session limit reached: ${this.limits.maxSessions} sessions are open (--max-sessions); close unused sessions or retry later`, { 'Retry-After': '5' });
    }
  }

  /**
   * Throws unless the requests in `body` may start. Responses and notifications always pass:
   * they finish work (a sampling reply, a cancellation) rather than start it.
   */
  admitMessages(body: unknown): void {
    const n = countRequests(body);
    if (n === 0) return;
    this.checkDraining();
    if (this.tracker.inflight + n > this.limits.maxInflight) {
      this.metrics.reject('inflight_full');
      throw new HttpError(429, `too many requests in flight: the limit is ${this.limits.maxInflight} (--max-inflight); retry in a moment`, { 'Retry-After': '1' });
    }
  }

  private checkDraining(): void {
    if (this.draining) {
      this.metrics.reject('draining');
      throw new HttpError(503, 'the server is shutting down; reconnect to another instance or retry later', { 'Retry-After': '5', Connection: 'close' });
    }
  }
}
