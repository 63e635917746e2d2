/**
 * The shape both HTTP transports share: a set of MCP sessions behind one route family, each
 * session served by its own McpServer built by the factory (all sharing one Store).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

/** createServer(deps) bound to the shared deps: one call per session. */
export type McpFactory = () => { server: McpServer; close: () => Promise<void> };

export interface SessionHost {
  readonly kind: 'http' | 'sse';
  /** Open sessions. */
  readonly size: number;
  /** Serves one request on this host's routes; throws HttpError to refuse it. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /** Closes every session (graceful shutdown, after in-flight calls finished). */
  closeAll(): Promise<void>;
}
