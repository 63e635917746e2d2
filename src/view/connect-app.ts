/**
 * The view as an MCP App (SEP-1865) inside a host's sandboxed iframe: the official
 * `@modelcontextprotocol/ext-apps` App speaks to the host over postMessage, receives the tool
 * input and result the agent's call produced, and calls tools back through the host. It
 * never touches the network: the resource's CSP allows none.
 */
import { App, type McpUiHostContext, applyDocumentTheme, applyHostStyleVariables } from '@modelcontextprotocol/ext-apps';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { IncidentView, DEFAULT_OPTIONS, type ToolCaller } from './controller.js';
import { type ToolName, kindOf } from './model.js';
import { setStatus } from './render.js';

export const VIEW_INFO = { name: 'log-triage-incident-view', version: '1.0.0' };

/** structuredContent of a tool result; a tool error becomes an Error with the tool's own message. */
export function structuredOf(result: CallToolResult): unknown {
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ').trim();
  if (result.isError === true) throw new Error(text || 'the tool reported an error');
  if (result.structuredContent === undefined) throw new Error('the result has no structuredContent');
  return result.structuredContent;
}

function applyContext(ctx: McpUiHostContext | undefined): void {
  if (ctx?.theme !== undefined) applyDocumentTheme(ctx.theme);
  if (ctx?.styles?.variables !== undefined) applyHostStyleVariables(ctx.styles.variables);
}

export async function startApp(): Promise<void> {
  document.body.dataset.mode = 'app';
  const app = new App(VIEW_INFO, {}, { autoResize: true });
  const caller: ToolCaller = { call: async (name, args) => structuredOf(await app.callServerTool({ name, arguments: args })) };
  const view = new IncidentView(caller, { ...DEFAULT_OPTIONS });
  let args: Record<string, unknown> = {};
  // Handlers go in before connect(): the host sends the tool input right after the handshake.
  app.ontoolinput = (p) => {
    args = p.arguments ?? {};
  };
  app.ontoolresult = (result) => {
    const hostSays = app.getHostContext()?.toolInfo?.tool.name;
    const kind: ToolName | null = kindOf(result.structuredContent) ?? (hostSays === 'find_nearest_log' || hostSays === 'log_histogram' || hostSays === 'triage_confidence' ? hostSays : null);
    try {
      const structured = structuredOf(result);
      if (kind === null) throw new Error('this result is not one the incident view knows');
      void view.showResult(kind, structured, args);
    } catch (err) {
      setStatus((err as Error).message, 'error');
    }
  };
  app.ontoolcancelled = (p) => setStatus(`the tool call was cancelled${p.reason ? `: ${p.reason}` : ''}`, 'error');
  app.onhostcontextchanged = (ctx) => applyContext(ctx);
  // Nothing to save: the view holds no state a person would lose.
  app.onteardown = async () => ({});
  setStatus('waiting for the tool result from the host ...');
  await app.connect();
  applyContext(app.getHostContext());
}
