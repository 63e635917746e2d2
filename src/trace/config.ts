/**
 * Which OTEL_* settings turn tracing on, read once at start-up. The variables are the
 * OpenTelemetry SDK's standard ones, so an operator's existing setup applies unchanged:
 *
 *   on   OTEL_EXPORTER_OTLP_ENDPOINT (base URL; /v1/traces is appended) or
 *        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (full URL) is set, or OTEL_TRACES_EXPORTER=otlp
 *        (then http://localhost:4318/v1/traces)
 *   off  none of those, OTEL_TRACES_EXPORTER=none, or OTEL_SDK_DISABLED=true
 *
 * OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL picks the encoding: http/protobuf (the OTLP default)
 * or http/json. The exporter and SDK read the rest themselves (OTEL_EXPORTER_OTLP_HEADERS,
 * _TIMEOUT, _COMPRESSION, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER,
 * OTEL_BSP_*). Settings this server cannot honour (gRPC, another exporter) are a start-up
 * error rather than silently no traces.
 */
import { ConfigError } from '../errors.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TraceSettings {
  /** Full URL the spans are POSTed to. */
  endpoint: string;
  protocol: OtlpProtocol;
  /** OTEL_SERVICE_NAME, else log-triage-mcp (also overridable by OTEL_RESOURCE_ATTRIBUTES). */
  serviceName: string;
}

export class TraceConfigError extends ConfigError {}

const DEFAULT_ENDPOINT = 'http://localhost:4318/v1/traces';
const TRUE = new Set(['true', '1', 'yes', 'on']);

function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function checkUrl(name: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TraceConfigError(`${name}=${url}: not a URL (expected e.g. http://localhost:4318)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TraceConfigError(`${name}=${url}: OTLP over HTTP needs an http:// or https:// URL`);
  }
  return url;
}

/** The settings when tracing is on, null when off. Throws TraceConfigError for unusable ones. */
export function traceSettings(env: NodeJS.ProcessEnv): TraceSettings | null {
  if (TRUE.has((value(env, 'OTEL_SDK_DISABLED') ?? '').toLowerCase())) return null;
  const exporters = (value(env, 'OTEL_TRACES_EXPORTER') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (exporters.includes('none')) return null;
  const other = exporters.filter((e) => e !== 'otlp');
  if (other.length > 0) {
    throw new TraceConfigError(`OTEL_TRACES_EXPORTER=${other.join(',')}: log-triage-mcp exports traces over OTLP/HTTP only (otlp or none)`);
  }
  const tracesEndpoint = value(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const baseEndpoint = value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (tracesEndpoint === undefined && baseEndpoint === undefined && exporters.length === 0) return null;

  const protocolVar = value(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = value(env, protocolVar) ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new TraceConfigError(`${protocolVar}=${protocol}: log-triage-mcp exports traces over OTLP/HTTP only (http/protobuf or http/json)`);
  }
  const endpoint =
    tracesEndpoint !== undefined
      ? checkUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', tracesEndpoint)
      : baseEndpoint !== undefined
        ? checkUrl('OTEL_EXPORTER_OTLP_ENDPOINT', baseEndpoint).replace(/\/*$/, '') + '/v1/traces'
        : DEFAULT_ENDPOINT;
  return { endpoint, protocol, serviceName: value(env, 'OTEL_SERVICE_NAME') ?? 'log-triage-mcp' };
}
