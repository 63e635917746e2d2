/**
 * The view as a web page (GET / with --transport http): the SDK's MCP client talks to the
 * server's own /mcp endpoint. With --auth-token the page asks for the token and keeps it in
 * sessionStorage: this tab only, gone when it closes. URL parameters: t (the alert moment),
 * source, tag (comma-separated), count, context, window_s.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { structuredOf, VIEW_INFO } from './connect-app.js';
import { DEFAULT_OPTIONS, IncidentView, type ToolCaller, type ViewOptions } from './controller.js';
import { byId } from './dom.js';
import { type NearestResult, iso, parseMoment } from './model.js';
import { setStatus } from './render.js';

const TOKEN_KEY = 'log-triage-mcp.token';

function optionsFromUrl(p: URLSearchParams): ViewOptions {
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const n = Number(p.get(name) ?? NaN);
    return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
  };
  const tag = p.get('tag');
  return {
    ...DEFAULT_OPTIONS,
    count: int('count', DEFAULT_OPTIONS.count, 1, 100),
    context: int('context', DEFAULT_OPTIONS.context, 0, 50),
    windowS: int('window_s', DEFAULT_OPTIONS.windowS, 10, 21_600),
    withTriage: true,
    ...(p.get('source') ? { source: p.get('source')! } : {}),
    ...(tag ? { tag: tag.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
  };
}

/** Shows the token form and resolves with what the person typed. */
function askToken(message: string): Promise<string> {
  const form = byId<HTMLFormElement>('auth');
  const input = byId<HTMLInputElement>('token');
  form.hidden = false;
  setStatus(message, 'error');
  input.focus();
  return new Promise((resolve) => {
    form.addEventListener(
      'submit',
      (ev) => {
        ev.preventDefault();
        form.hidden = true;
        resolve(input.value.trim());
        input.value = '';
      },
      { once: true },
    );
  });
}

/** /mcp next to the page (relative, so a reverse proxy's path prefix is kept). */
async function connect(): Promise<Client> {
  let token = sessionStorage.getItem(TOKEN_KEY);
  for (;;) {
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    const transport = new StreamableHTTPClientTransport(new URL('mcp', location.href), { requestInit: { headers } });
    const client = new Client(VIEW_INFO);
    try {
      await client.connect(transport);
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      window.addEventListener('pagehide', () => void transport.terminateSession().catch(() => undefined));
      return client;
    } catch (err) {
      if (!(err instanceof StreamableHTTPError && err.code === 401)) throw err;
      sessionStorage.removeItem(TOKEN_KEY);
      token = await askToken(token ? 'That token was refused; try again.' : 'This server needs its bearer token (--auth-token). It is kept for this tab only.');
    }
  }
}

/** Without ?t=: the latest ERROR/FATAL entry, else the end of what was ingested. */
async function defaultMoment(caller: ToolCaller, source: string | undefined): Promise<number | null> {
  const src = source === undefined ? {} : { source };
  const any = (await caller.call('find_nearest_log', { timestamp: iso(Date.now()), ...src })) as NearestResult;
  const last = any.coverage.last_timestamp;
  if (last === null) return null;
  try {
    const err = (await caller.call('find_nearest_log', { timestamp: last, tag: ['ERROR', 'FATAL'], direction: 'before', ...src })) as NearestResult;
    if (err.entries[0] !== undefined) return Date.parse(err.entries[0].timestamp);
  } catch {
    // No ERROR or FATAL entry was ever ingested: the tag is unknown. Fall back to the end.
  }
  return Date.parse(last);
}

export async function startWeb(): Promise<void> {
  document.body.dataset.mode = 'web';
  const params = new URLSearchParams(location.search);
  const opts = optionsFromUrl(params);
  setStatus('connecting to /mcp ...');
  const client = await connect();
  const caller: ToolCaller = { call: async (name, args) => structuredOf((await client.callTool({ name, arguments: args })) as CallToolResult) };
  const view = new IncidentView(caller, opts);

  const form = byId<HTMLFormElement>('moment');
  const input = byId<HTMLInputElement>('t-input');
  form.hidden = false;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = parseMoment(input.value);
    if (t === null) {
      setStatus('T must be ISO 8601 with a zone (2024-01-15T10:30:40Z) or epoch milliseconds', 'error');
      return;
    }
    params.set('t', iso(t));
    history.replaceState(null, '', `?${params.toString()}`);
    void view.open(t);
  });

  const given = params.get('t');
  const t = given === null ? await defaultMoment(caller, opts.source) : parseMoment(given);
  if (t === null) {
    setStatus(given === null ? 'nothing has been ingested yet; reload in a moment' : `t=${given} is not ISO 8601 with a zone or epoch milliseconds`, 'error');
    return;
  }
  input.value = iso(t);
  await view.open(t);
}
