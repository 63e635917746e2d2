/**
 * /healthz: 200 once the sources are open and read up to where they stood at startup (the index
 * holds what the files held), 503 before that, while shutting down, and for good once the WAL
 * failed (an fsync error: ingestion stops until a restart), with a JSON body saying why. MCP
 * requests are served all along; a load balancer just waits for ready.
 */
import type { ServerResponse } from 'node:http';
import { type Store, walFailedMessage } from '../../store/index.js';
import { sendJson } from './http-util.js';

export type Phase = 'starting' | 'ready' | 'stopping';

export class Readiness {
  phase: Phase = 'starting';
  private readonly since = Date.now();
  private readyAt: number | null = null;

  markReady(): void {
    if (this.phase === 'starting') {
      this.phase = 'ready';
      this.readyAt = Date.now();
    }
  }

  markStopping(): void {
    this.phase = 'stopping';
  }

  async respond(res: ServerResponse, store: Store): Promise<void> {
    const s = await store.status();
    const sources = s.sources.map((x) => ({
      name: x.name,
      state: x.state,
      bytes_read: x.bytesRead,
      file_bytes: x.fileBytes,
      lag_ms: x.lagMs === null ? null : Math.round(x.lagMs),
      ...(x.error === undefined ? {} : { error: x.error }),
    }));
    const base = { sources, index: { entries: s.index.entries }, uptime_s: s.uptimeS };
    if (this.phase !== 'stopping' && s.wal.error != null) {
      // No Retry-After: waiting does not help, a restart does.
      sendJson(res, 503, { status: 'failed', reason: `${walFailedMessage(s.wal.error)}; restart the server after checking the disk`, ...base });
      return;
    }
    if (this.phase === 'ready') {
      sendJson(res, 200, { status: 'ready', ready_after_ms: (this.readyAt ?? this.since) - this.since, ...base });
      return;
    }
    if (this.phase === 'stopping') {
      sendJson(res, 503, { status: 'stopping', reason: 'shutting down: finishing in-flight calls', ...base }, { 'Retry-After': '5' });
      return;
    }
    const behind = s.sources.filter((x) => x.state === 'catching_up').map((x) => `${x.name} ${pct(x.bytesRead, x.fileBytes)}`);
    const reason = behind.length > 0 ? `catching up with the sources: ${behind.join(', ')}` : 'opening the sources and restoring the index';
    sendJson(res, 503, { status: 'starting', reason, ...base }, { 'Retry-After': '1' });
  }
}

function pct(done: number, total: number): string {
  return total <= 0 ? '0%' : `${Math.min(100, Math.floor((done / total) * 100))}%`;
}
