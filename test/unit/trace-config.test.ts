/** Which OTEL_* settings turn tracing on (src/trace/config.ts), and the no-op default. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { NOOP_TRACING, traceSettings, tracing } from '../../src/trace/index.js';

describe('traceSettings', () => {
  it('is off without OTEL_* variables, with OTEL_TRACES_EXPORTER=none, and with OTEL_SDK_DISABLED=true', () => {
    expect(traceSettings({})).toBeNull();
    expect(traceSettings({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBeNull();
    expect(traceSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
    expect(traceSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeNull();
    expect(traceSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBeNull();
  });

  it('appends /v1/traces to the base endpoint, uses the traces endpoint as is, defaults to localhost:4318 for OTEL_TRACES_EXPORTER=otlp', () => {
    expect(traceSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toEqual({ endpoint: 'http://c:4318/v1/traces', protocol: 'http/protobuf', serviceName: 'log-triage-mcp' });
    expect(traceSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://t/x' })?.endpoint).toBe('https://t/x');
    expect(traceSettings({ OTEL_TRACES_EXPORTER: 'otlp' })?.endpoint).toBe('http://localhost:4318/v1/traces');
    expect(traceSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SERVICE_NAME: 'svc' })?.serviceName).toBe('svc');
  });

  it('takes the traces protocol over the general one', () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(traceSettings({ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })?.protocol).toBe('http/json');
    expect(traceSettings({ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })?.protocol).toBe('http/protobuf');
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' }, /^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc: /],
    [{ OTEL_TRACES_EXPORTER: 'otlp,console' }, /^OTEL_TRACES_EXPORTER=console: /],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://c/v1/traces' }, /^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=ftp:\/\/c\/v1\/traces: OTLP over HTTP needs/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, /^OTEL_EXPORTER_OTLP_ENDPOINT=not a url: not a URL/],
  ])('refuses %j with a ConfigError naming the variable', (env, message) => {
    expect(() => traceSettings(env)).toThrow(ConfigError);
    expect(() => traceSettings(env)).toThrow(message);
  });
});

describe('the default tracing', () => {
  it('is the no-op: span() runs the function and passes its result and its error through', async () => {
    expect(tracing()).toBe(NOOP_TRACING);
    await expect(tracing().span('x', {}, async (s) => (s.set({ a: 1 }), 42))).resolves.toBe(42);
    await expect(tracing().span('x', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
