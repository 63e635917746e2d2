/**
 * MCP spans, per the OpenTelemetry semantic conventions for MCP (gen-ai/mcp.md, status
 * Development): one SERVER span per request or notification a client sends, from its arrival
 * to the response, named `{mcp.method.name} {target}` (the tool or prompt name), with
 * mcp.method.name, jsonrpc.request.id, gen_ai.tool.name and gen_ai.operation.name=execute_tool
 * for tools/call, mcp.session.id, mcp.protocol.version, network.transport (pipe for stdio, tcp
 * for HTTP), error.type (the JSON-RPC code, or tool_error for an isError result) and status.
 *
 * Trace context comes from the request's params._meta (traceparent, tracestate), as the
 * conventions ask: the client's span becomes the parent. A request the server sends (sampling
 * for triage_confidence's use_llm) gets a CLIENT span, child of the tool call that sent it,
 * and carries its own traceparent in params._meta.
 *
 * Spans are opened and closed by watching messages cross the transport (like CallTracker), so
 * every method is covered, whatever the transport; the handler runs inside its request's
 * span context, which makes the store queries it issues children of it.
 */
import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { McpTransportKind } from './index.js';

type Message = Record<string, unknown>;
type Params = Record<string, unknown> | undefined;

/** Reads W3C headers from params._meta; only strings count (it is client-controlled data). */
const metaGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key];
    return typeof v === 'string' ? v : undefined;
  },
};

const hasId = (m: Message): boolean => m.id !== undefined && m.id !== null;
const idKey = (id: unknown): string => `${typeof id}:${String(id)}`;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The low-cardinality target of a span name: the tool or prompt name. */
function target(method: string, params: Params): string | undefined {
  if (method === 'tools/call' || method === 'prompts/get') return str(params?.name);
  return undefined;
}

function requestAttrs(method: string, m: Message, params: Params, kind: McpTransportKind): Attributes {
  const attrs: Attributes = {
    'mcp.method.name': method,
    'network.transport': kind === 'stdio' ? 'pipe' : 'tcp',
  };
  if (kind !== 'stdio') attrs['network.protocol.name'] = 'http';
  if (hasId(m)) attrs['jsonrpc.request.id'] = String(m.id);
  const name = str(params?.name);
  if (method === 'tools/call' && name !== undefined) {
    attrs['gen_ai.tool.name'] = name;
    attrs['gen_ai.operation.name'] = 'execute_tool';
  }
  if (method === 'prompts/get' && name !== undefined) attrs['gen_ai.prompt.name'] = name;
  const uri = str(params?.uri);
  if (uri !== undefined && method.startsWith('resources/')) attrs['mcp.resource.uri'] = uri;
  return attrs;
}

/** Sets error.type, rpc.response.status_code and the status from a JSON-RPC response. */
function recordOutcome(span: Span, m: Message): void {
  const error = m.error as { code?: unknown; message?: unknown } | undefined;
  if (error !== undefined) {
    const code = String(error.code ?? '_OTHER');
    span.setAttributes({ 'error.type': code, 'rpc.response.status_code': code });
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof error.message === 'string' ? error.message : code });
    return;
  }
  const result = m.result as { isError?: unknown; structuredContent?: Record<string, unknown> } | undefined;
  // What the tool answered, for an operator scanning traces: find_nearest_log's status, triage's decision.
  const answer = str(result?.structuredContent?.status) ?? str(result?.structuredContent?.decision);
  if (answer !== undefined) span.setAttribute('log_triage.status', answer);
  if (result?.isError === true) {
    span.setAttribute('error.type', 'tool_error');
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'tool_error' });
  }
}

function endWith(span: Span, errorType: string): void {
  span.setAttribute('error.type', errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
  span.end();
}

/** Watches one connected transport (call after McpServer.connect installed its handlers). */
export function instrumentTransport(transport: Transport, kind: McpTransportKind, tracer: Tracer): void {
  const incoming = new Map<string, Span>();
  const outgoing = new Map<string, Span>();
  let protocolVersion: string | undefined;
  const common = (span: Span): void => {
    const session = transport.sessionId;
    if (session !== undefined) span.setAttribute('mcp.session.id', session);
    if (protocolVersion !== undefined) span.setAttribute('mcp.protocol.version', protocolVersion);
  };

  const onmessage = transport.onmessage;
  transport.onmessage = (message, extra) => {
    const m = message as Message;
    if (typeof m.method !== 'string') {
      // A client's response to a request this server sent.
      const span = hasId(m) ? outgoing.get(idKey(m.id)) : undefined;
      if (span !== undefined) {
        outgoing.delete(idKey(m.id));
        recordOutcome(span, m);
        span.end();
      }
      onmessage?.(message, extra);
      return;
    }
    const method = m.method;
    const params = m.params as Params;
    if (method === 'initialize') protocolVersion = str(params?.protocolVersion) ?? protocolVersion;
    if (method === 'notifications/cancelled') {
      const key = idKey(params?.requestId);
      const cancelled = incoming.get(key);
      if (cancelled !== undefined) {
        incoming.delete(key);
        endWith(cancelled, 'cancelled');
      }
    }
    // The client's context from params._meta is the parent; the ambient one (if any
    // instrumentation made one for the HTTP request) is linked, as the conventions ask.
    const meta = params?._meta;
    const parent = meta !== null && typeof meta === 'object' ? propagation.extract(ROOT_CONTEXT, meta as Record<string, unknown>, metaGetter) : ROOT_CONTEXT;
    const ambient = trace.getSpanContext(context.active());
    const name = target(method, params);
    const span = tracer.startSpan(
      name === undefined ? method : `${method} ${name}`,
      { kind: SpanKind.SERVER, attributes: requestAttrs(method, m, params, kind), ...(ambient === undefined ? {} : { links: [{ context: ambient }] }) },
      parent,
    );
    common(span);
    const request = hasId(m);
    if (request) incoming.set(idKey(m.id), span);
    try {
      context.with(trace.setSpan(parent, span), () => onmessage?.(message, extra));
    } finally {
      // A notification is handled when onmessage returns; a request when it is answered.
      if (!request) span.end();
    }
  };

  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage, options) => {
    const m = message as Message;
    if (typeof m.method !== 'string' && hasId(m)) {
      const span = incoming.get(idKey(m.id));
      if (span !== undefined) {
        incoming.delete(idKey(m.id));
        if (protocolVersion === undefined) protocolVersion = str((m.result as Params)?.protocolVersion);
        common(span);
        recordOutcome(span, m);
        span.end();
      }
    } else if (typeof m.method === 'string' && hasId(m)) {
      // A request to the client (sampling): a CLIENT span under the call that sent it.
      const params = (m.params as Params) ?? {};
      const span = tracer.startSpan(m.method, { kind: SpanKind.CLIENT, attributes: requestAttrs(m.method, m, params, kind) }, context.active());
      common(span);
      outgoing.set(idKey(m.id), span);
      const meta: Record<string, unknown> = { ...((params._meta as Record<string, unknown> | undefined) ?? {}) };
      propagation.inject(trace.setSpan(context.active(), span), meta);
      message = { ...m, params: { ...params, _meta: meta } } as JSONRPCMessage;
    }
    return send(message, options);
  };

  const onclose = transport.onclose;
  transport.onclose = () => {
    for (const span of [...incoming.values(), ...outgoing.values()]) endWith(span, 'connection_closed');
    incoming.clear();
    outgoing.clear();
    onclose?.();
  };
}

/** Makes every transport `server` connects to traced (see instrumentTransport). */
export function instrumentServer(server: McpServer, kind: McpTransportKind, tracer: Tracer): McpServer {
  const connect = server.connect.bind(server);
  server.connect = async (transport: Transport): Promise<void> => {
    await connect(transport);
    instrumentTransport(transport, kind, tracer);
  };
  return server;
}
