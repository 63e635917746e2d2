/**
 * The OpenTelemetry implementation of Tracing, loaded by startTracing() only when tracing is
 * on: a NodeTracerProvider (AsyncLocalStorage context, W3C trace context), a batch span
 * processor (OTEL_BSP_* apply) and the OTLP/HTTP exporter for the chosen encoding.
 *
 * Why both encodings are installed: http/protobuf is the OTLP default and what collectors
 * (Jaeger, Tempo, the OpenTelemetry Collector) expect on port 4318 unless told otherwise;
 * http/json is there for receivers and proxies that only take JSON, selected by the standard
 * OTEL_EXPORTER_OTLP_PROTOCOL. Neither module is loaded unless chosen.
 */
import { type Attributes, context, type Context, diag, DiagLogLevel, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Logger } from '../log.js';
import { SERVER_NAME, SERVER_VERSION } from '../version.js';
import type { TraceSettings } from './config.js';
import type { Attrs, SpanHandle, SpanOptions, Tracing } from './index.js';
import { instrumentServer } from './otel-mcp.js';

/** Drops null and undefined values: OpenTelemetry attributes have no null. */
export function cleanAttrs(attrs: Attrs): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

/** error.type for a thrown error: its code (ENOSPC, WAL_FAILED...) or its class name. */
export function errorType(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  return err instanceof Error ? err.name : '_OTHER';
}

/** The exporter for the chosen encoding; the other one is never loaded. */
async function exporterFor(settings: TraceSettings): Promise<SpanExporter> {
  const { OTLPTraceExporter } = settings.protocol === 'http/json' ? await import('@opentelemetry/exporter-trace-otlp-http') : await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ url: settings.endpoint });
}

/** OpenTelemetry's own complaints (an unreachable collector...) go to the one logger. */
function forwardDiagnostics(logger: Logger): void {
  const log = (level: 'warn' | 'error' | 'debug') => (message: string, ...args: unknown[]) =>
    logger[level]({ otel: args.length > 0 ? args.map(String).join(' ') : undefined }, `OpenTelemetry: ${message}`);
  diag.setLogger({ error: log('error'), warn: log('warn'), info: log('debug'), debug: log('debug'), verbose: log('debug') }, DiagLogLevel.WARN);
}

export async function openTelemetryTracing(settings: TraceSettings, logger: Logger): Promise<Tracing> {
  forwardDiagnostics(logger);
  const resource = resourceFromAttributes({ 'service.name': settings.serviceName, 'service.version': SERVER_VERSION }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(await exporterFor(settings))] });
  // Registers the AsyncLocalStorage context manager and the W3C trace context propagator.
  provider.register();
  const tracer: Tracer = trace.getTracer(SERVER_NAME, SERVER_VERSION);

  const span = <T>(name: string, attrs: Attrs, fn: (span: SpanHandle) => Promise<T>, options?: SpanOptions): Promise<T> => {
    const parent: Context = options?.root === true ? ROOT_CONTEXT : context.active();
    return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes: cleanAttrs(attrs) }, parent, async (s) => {
      try {
        return await fn({ set: (more) => s.setAttributes(cleanAttrs(more)) });
      } catch (err) {
        s.setAttribute('error.type', errorType(err));
        s.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        s.end();
      }
    });
  };

  let stopped: Promise<void> | null = null;
  const self: Tracing = {
    enabled: true,
    span,
    traceServer: (server, kind) => instrumentServer(server, kind, tracer),
    shutdown() {
      stopped ??= provider.shutdown().catch((err: Error) => logger.warn({ err: err.message }, 'OpenTelemetry: flushing spans at exit failed'));
      return stopped;
    },
  };
  return self;
}
