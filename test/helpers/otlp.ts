/** Runs test/helpers/otlp-receiver.mjs as its own process and reads back what it received. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RECEIVER = fileURLToPath(new URL('./otlp-receiver.mjs', import.meta.url));

/** One span as the receiver decoded it (ids as lowercase hex, '' for no parent). */
export interface ReceivedSpan {
  encoding: 'protobuf' | 'json';
  resource: Record<string, unknown>;
  scope: string | null;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
}

export const KIND = { internal: 1, server: 2, client: 3 } as const;

export interface OtlpReceiver {
  /** http://127.0.0.1:port: the base for OTEL_EXPORTER_OTLP_ENDPOINT. */
  base: string;
  spans(): Promise<ReceivedSpan[]>;
  /** Polls until `done` holds for the spans received (condition, not time), else throws with what arrived. */
  waitFor(what: string, done: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  stop(): Promise<void>;
}

export function startReceiver(): Promise<OtlpReceiver> {
  const child: ChildProcess = spawn(process.execPath, [RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`otlp receiver exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      const { port } = JSON.parse(out.split('\n')[0]!) as { port: number };
      const base = `http://127.0.0.1:${port}`;
      const spans = async (): Promise<ReceivedSpan[]> => ((await (await fetch(`${base}/spans`)).json()) as { spans: ReceivedSpan[] }).spans;
      resolve({
        base,
        spans,
        async waitFor(what, done, timeoutMs = 60_000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const got = await spans();
            if (done(got)) return got;
            if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; received: ${got.map((s) => s.name).join(', ')}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        },
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
