/**
 * One-line -32602 errors for bad request params, on every transport.
 *
 * The SDK parses each request against its schema inside the handler it registers; a failure
 * there (tools/call with `arguments` that is not an object, prompts/get with a number for an
 * argument) surfaced as -32603 Internal error carrying a multi-line zod dump, and its own
 * -32602 messages join several issues with newlines (issue 15, item 13). This wraps every
 * registered request handler: a zod error becomes -32602 naming the field, and any -32602
 * message is folded onto one line.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

interface ZodLikeIssue {
  path?: PropertyKey[];
  message: string;
}

type Handler = (request: { method: string }, extra: unknown) => Promise<unknown>;

function issueText(issue: ZodLikeIssue): string {
  const path = (issue.path ?? []).map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ').trim();
}

export function foldParamErrors(server: McpServer): void {
  // The SDK keeps handlers in Protocol's private `_requestHandlers` map and offers no hook
  // around its request parsing; this is the one place that reaches in.
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, Handler> })._requestHandlers;
  for (const [method, handler] of handlers) {
    handlers.set(method, async (request, extra) => {
      try {
        return await handler(request, extra);
      } catch (err) {
        const issues = (err as { issues?: unknown }).issues;
        if (/ZodError/.test((err as Error).name) && Array.isArray(issues) && issues.length > 0) {
          const first = issues[0] as ZodLikeIssue;
          const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
          throw new McpError(ErrorCode.InvalidParams, `Invalid params for ${method}: ${oneLine(issueText(first))}${more}`);
        }
        if (err instanceof McpError && err.code === ErrorCode.InvalidParams) {
          throw new McpError(ErrorCode.InvalidParams, oneLine(err.message.replace(/^MCP error -32602: /, '')), err.data);
        }
        throw err;
      }
    });
  }
}
