/**
 * A small OTLP/HTTP trace receiver, run as its own process by the tracing tests: it takes
 * POST /v1/traces in both OTLP encodings (application/x-protobuf, decoded with protobufjs and
 * the OTLP trace schema below; application/json, parsed) and serves what it received as one
 * flat list of spans on GET /spans (ids as lowercase hex, attributes as a plain object, the
 * encoding each span arrived in). It prints {"port": N} on stdout once listening.
 *
 * The schema is the part of opentelemetry-proto's trace.proto, common.proto, resource.proto
 * and trace_service.proto the tests read, with the official field numbers; fields left out
 * are skipped by the decoder.
 */
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

const OTLP_TRACE_PROTO = `
syntax = "proto3";
package opentelemetry.proto;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; repeated Link links = 13; Status status = 15; fixed32 flags = 16;
}
message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; }
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
`;

const Request = protobuf.parse(OTLP_TRACE_PROTO).root.lookupType('opentelemetry.proto.ExportTraceServiceRequest');
/** Both encodings decode to the OTLP/JSON shape (camelCase names, hex ids, strings for 64-bit ints). */
const fromProtobuf = (buf) => Request.toObject(Request.decode(buf), { longs: String, bytes: Array, defaults: false, arrays: true });

function value(v) {
  if (v === undefined || v === null) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(value);
  return null;
}

const attrs = (list) => Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
/** OTLP/JSON ids are hex strings; protobuf ids arrive as byte arrays. */
const hex = (id) => (typeof id === 'string' ? id.toLowerCase() : Array.isArray(id) ? Buffer.from(id).toString('hex') : '');

const spans = [];
const exports = [];

function collect(body, encoding) {
  exports.push(encoding);
  for (const rs of body.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          encoding,
          resource,
          scope: ss.scope?.name ?? null,
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: s.kind ?? 0,
          startNs: String(s.startTimeUnixNano ?? '0'),
          endNs: String(s.endTimeUnixNano ?? '0'),
          attributes: attrs(s.attributes),
          links: (s.links ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
        });
      }
    }
  }
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/spans') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ spans, exports }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    const raw = Buffer.concat(chunks);
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    const type = req.headers['content-type'] ?? '';
    try {
      if (type.startsWith('application/x-protobuf')) {
        collect(fromProtobuf(body), 'protobuf');
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } else if (type.startsWith('application/json')) {
        collect(JSON.parse(body.toString('utf8')), 'json');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        res.writeHead(415).end(`unsupported content-type ${type}`);
      }
    } catch (err) {
      process.stderr.write(`otlp-receiver: ${err.stack}\n`);
      res.writeHead(400).end(String(err));
    }
  });
});

server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
