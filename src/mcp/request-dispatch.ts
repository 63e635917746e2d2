/**
 * Requests straight to the SDK's request handling, past its two response checks.
 *
 * The SDK's Protocol.connect installs a `transport.onmessage` that classifies each message with
 * zod type guards in this order: result response? error response? request? notification? A
 * request therefore fails the two response schemas first, and a failed zod parse builds a
 * ZodError with its issues: 19 us a request (10.7 + 8.2 us warm, measured in isolation on the
 * 2-core machine), plus the garbage, against 0.6 us for the request check that succeeds. In the
 * served process at 1M entries (p99 notes, sampling heap profile): 41.5 -> 36.6 KB allocated per
 * find_nearest_log call.
 *
 * The three schemas are strict objects (SDK types.ts): a value that passes JSONRPCRequestSchema
 * has no `result` and no `error` key, so it can pass neither response schema, and the SDK would
 * hand it to `_onrequest` after failing both. Asking the request check first is the same
 * decision for every message; everything that is not a request goes to the SDK's own handler
 * unchanged. Installed inside Protocol.connect, so wrappers put on the transport after connect
 * (tracing) still see every message first.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isJSONRPCRequest, type JSONRPCMessage, type JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';

type OnMessage = NonNullable<Transport['onmessage']>;

/** The SDK's Protocol as seen from here: `connect` and the private request entry. */
interface ProtocolInternals {
  connect(transport: Transport): Promise<void>;
  _onrequest(request: JSONRPCRequest, extra?: Parameters<OnMessage>[1]): void;
}

export function dispatchRequestsFirst(server: McpServer): void {
  const protocol = server.server as unknown as ProtocolInternals;
  if (typeof protocol._onrequest !== 'function') return; // another SDK: keep its dispatch as is
  const connect = protocol.connect.bind(protocol);
  protocol.connect = async (transport: Transport): Promise<void> => {
    // The SDK's handler first calls the transport's own earlier onmessage; with one set, keep
    // the SDK's path so that it still does.
    const earlier = transport.onmessage;
    await connect(transport);
    const sdk = transport.onmessage;
    if (earlier !== undefined || sdk === undefined) return;
    transport.onmessage = (message: JSONRPCMessage, extra) => {
      if (isJSONRPCRequest(message)) protocol._onrequest(message, extra);
      else sdk(message, extra);
    };
  };
}
