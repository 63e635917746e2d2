/**
 * MCP: the server the clients talk to, bound to a Store (src/store/store.ts) and to nothing
 * below it.
 *
 *   server.ts            createServer(deps): one McpServer with every tool, resource and prompt
 *   tools/<tool>.ts      one file per tool, registerXTool(server, deps); triage_confidence's
 *                        schema, rendering and second opinion sit beside it
 *   schemas.ts           input field builders and output pieces shared by the tools
 *   text-filters.ts      the text search inputs and outputs (contains, pattern, fields)
 *   response-budget.ts   the 64 KiB ceiling of one response
 *   param-errors.ts      one-line -32602 errors for malformed request params
 *   resources.ts, prompts.ts, incident-view.ts   runbooks as resources, the triage prompt, the ui:// view
 *   stdio-transport.ts   line-delimited JSON-RPC on stdin/stdout
 *   transports/          Streamable HTTP and legacy SSE: security, limits, sessions, metrics
 *
 * Three doors are loaded separately on purpose: src/commands/serve.ts imports server.ts,
 * stdio-transport.ts and transports/index.ts each with a dynamic import when it needs them,
 * so a stdio session never loads the HTTP stack (start-up time is paid by every session a
 * client starts). Code that wants the whole room comes in here.
 */
export { createServer, DEFAULT_BODY_CAP, type ServerDeps } from './server.js';
export { findNearestLog, type FindNearestArgs, type FindNearestDeps } from './tools/find-nearest-log.js';
export { logHistogram, type LogHistogramArgs, type LogHistogramDeps } from './tools/log-histogram.js';
export { relatedLog, type RelatedLogArgs, type RelatedLogDeps } from './tools/related-log.js';
export { renderTailStatus, tailStatusJson, type TailStatusDeps } from './tools/tail-status.js';
export { triageConfidence, type TriageConfidenceArgs, type TriageConfidenceDeps } from './tools/triage-confidence.js';
export { searchedNote } from './text-filters.js';
export { ToolInputError } from './schemas.js';
