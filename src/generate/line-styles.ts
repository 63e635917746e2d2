/**
 * How the generator writes one entry in each log format (`tools/generate --format NAME`): the
 * part before the body, the part after it, and where a stack trace goes (continuation lines,
 * a JSON field, or one wrapped record per line for CRI and Docker). Bodies, incidents, late
 * lines and stack traces are the same in every format; access logs (clf, combined) write a
 * request line instead of the body, with a status of the level's class.
 *
 * Timestamps are written in UTC (zone-less formats: read them with the default --timezone UTC);
 * the text of each second is formatted once and cached, as in timestamp-writer.ts.
 */
import { type BodyWriter, enc, encAll } from './body-writer.js';
import { TimestampWriter } from './timestamp-writer.js';
import { METHODS, path } from './vocab.js';

/** Generator tag ids: 0 TRACE, 1 INFO, 2 WARN, 3 ERROR. */
type Tag = number;

export interface LineStyle {
  readonly name: string;
  /** Fractional digits the format writes whatever --precision says (null: --precision). */
  readonly precision: number | null;
  /** The body goes inside a JSON string: `"` and `\` are escaped. */
  readonly json: boolean;
  /** Stack traces: raw continuation lines, a JSON string field, or one wrapped record per line. */
  readonly stack: 'lines' | 'json' | 'wrapped';
  /** The year is not in the text: the file's modification time must tell it. */
  readonly yearless: boolean;
  head(w: BodyWriter, us: number, tag: Tag): void;
  tail(w: BodyWriter, us: number, tag: Tag): void;
  /** 'wrapped' styles: the record around one stack-trace line. */
  wrapHead?(w: BodyWriter, us: number): void;
  wrapTail?(w: BodyWriter, us: number): void;
  /** Writes the whole entry instead of head + body + tail (access logs). */
  whole?(w: BodyWriter, us: number, tag: Tag): void;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** Caches the formatted text of the current and previous second. */
class SecondText {
  private keyA = NaN;
  private keyB = NaN;
  private textA: Uint8Array = new Uint8Array(0);
  private textB: Uint8Array = new Uint8Array(0);
  constructor(private readonly format: (d: Date) => string) {}

  write(w: BodyWriter, us: number): void {
    const sec = Math.floor(us / 1e6);
    if (sec === this.keyA) return w.lit(this.textA);
    if (sec === this.keyB) return w.lit(this.textB);
    this.keyB = this.keyA;
    this.textB = this.textA;
    this.keyA = sec;
    this.textA = enc(this.format(new Date(sec * 1000)));
    w.lit(this.textA);
  }
}

/** The fraction of a second at `digits` digits, after a separator. */
function fraction(w: BodyWriter, us: number, digits: number, sep = 46): void {
  if (digits <= 0) return;
  w.byte(sep);
  const micros = us - Math.floor(us / 1e6) * 1e6;
  w.padded(Math.floor(micros / 10 ** (6 - digits)), digits);
}

const isoSecond = (d: Date): string => d.toISOString().slice(0, 19);
const isoSpaceSecond = (d: Date): string => d.toISOString().slice(0, 19).replace('T', ' ');

/** `2024-01-15T10:30:45.123Z` at the given digits. */
function isoWriter(digits: number | (() => number)): (w: BodyWriter, us: number) => void {
  const text = new SecondText(isoSecond);
  return (w, us) => {
    text.write(w, us);
    fraction(w, us, typeof digits === 'number' ? digits : digits());
    w.byte(90);
  };
}

const lits = (...list: string[]): Uint8Array[] => encAll(list);
const UPPER = lits('TRACE', 'INFO', 'WARN', 'ERROR');

/** The styles, given the generator's --precision. */
export function lineStyles(precision: number): Record<string, LineStyle> {
  const iso = isoWriter(precision);
  const base = { precision: null, json: false, stack: 'lines', yearless: false } as const;
  const jsonBase = { precision: null, json: true, stack: 'json', yearless: false } as const;
  const close = enc('"}');
  const styles: LineStyle[] = [];
  const add = (s: LineStyle): void => void styles.push(s);

  const original = new TimestampWriter(precision);
  add({ ...base, name: 'iso-bracket', head: (w, us, tag) => original.write(w, us, tag), tail: () => undefined });

  {
    const text = new SecondText(isoSpaceSecond);
    const mid = lits(' - app.orders - TRACE - ', ' - app.orders - INFO - ', ' - app.orders - WARNING - ', ' - app.orders - ERROR - ');
    add({ ...base, name: 'iso-level', head: (w, us, tag) => { text.write(w, us); fraction(w, us, precision, 44); w.lit(mid[tag]!); }, tail: () => undefined });
  }
  {
    const a = enc('{"time":"');
    const b = lits('","level":"trace","msg":"', '","level":"info","msg":"', '","level":"warning","msg":"', '","level":"error","msg":"');
    const t = enc('","service":"orders"}');
    add({ ...jsonBase, name: 'json', head: (w, us, tag) => { w.lit(a); iso(w, us); w.lit(b[tag]!); }, tail: (w) => w.lit(t) });
  }
  {
    const a = lits('{"level":10,"time":', '{"level":30,"time":', '{"level":40,"time":', '{"level":50,"time":');
    const b = enc(',"pid":4242,"hostname":"web-1","msg":"');
    add({ ...jsonBase, name: 'pino', precision: 3, head: (w, us, tag) => { w.lit(a[tag]!); w.uint(Math.floor(us / 1000)); w.lit(b); }, tail: (w) => w.lit(close) });
  }
  {
    const iso3 = isoWriter(3);
    const a = lits('{"name":"orders","hostname":"web-1","pid":4242,"level":10,"msg":"', '{"name":"orders","hostname":"web-1","pid":4242,"level":30,"msg":"',
      '{"name":"orders","hostname":"web-1","pid":4242,"level":40,"msg":"', '{"name":"orders","hostname":"web-1","pid":4242,"level":50,"msg":"');
    const b = enc('","time":"');
    const c = enc('","v":0}');
    add({ ...jsonBase, name: 'bunyan', precision: 3, head: (w, _us, tag) => w.lit(a[tag]!), tail: (w, us) => { w.lit(b); iso3(w, us); w.lit(c); } });
  }
  {
    const a = lits('{"level":"debug","ts":', '{"level":"info","ts":', '{"level":"warn","ts":', '{"level":"error","ts":');
    const b = enc(',"caller":"orders/handler.go:42","msg":"');
    add({ ...jsonBase, name: 'zap', head: (w, us, tag) => { w.lit(a[tag]!); w.uint(Math.floor(us / 1e6)); fraction(w, us, precision); w.lit(b); }, tail: (w) => w.lit(close) });
  }
  {
    const a = enc('{"@timestamp":"');
    const b = lits('","log.level":"trace","message":"', '","log.level":"info","message":"', '","log.level":"warn","message":"', '","log.level":"error","message":"');
    const t = enc('","ecs.version":"1.6.0"}');
    add({ ...jsonBase, name: 'ecs', head: (w, us, tag) => { w.lit(a); iso(w, us); w.lit(b[tag]!); }, tail: (w) => w.lit(t) });
  }
  {
    const a = enc('{"timeUnixNano":"');
    const b = lits('000","severityNumber":1,"severityText":"TRACE","body":{"stringValue":"', '000","severityNumber":9,"severityText":"INFO","body":{"stringValue":"',
      '000","severityNumber":13,"severityText":"WARN","body":{"stringValue":"', '000","severityNumber":17,"severityText":"ERROR","body":{"stringValue":"');
    const t = enc('"}}');
    add({ ...jsonBase, name: 'otel', head: (w, us, tag) => { w.lit(a); w.uint(us); w.lit(b[tag]!); }, tail: (w) => w.lit(t) });
  }
  {
    const a = enc('{"__REALTIME_TIMESTAMP":"');
    const b = lits('","PRIORITY":"7","_HOSTNAME":"web-1","SYSLOG_IDENTIFIER":"orders","MESSAGE":"', '","PRIORITY":"6","_HOSTNAME":"web-1","SYSLOG_IDENTIFIER":"orders","MESSAGE":"',
      '","PRIORITY":"4","_HOSTNAME":"web-1","SYSLOG_IDENTIFIER":"orders","MESSAGE":"', '","PRIORITY":"3","_HOSTNAME":"web-1","SYSLOG_IDENTIFIER":"orders","MESSAGE":"');
    add({ ...jsonBase, name: 'journald', head: (w, us, tag) => { w.lit(a); w.uint(us); w.lit(b[tag]!); }, tail: (w) => w.lit(close) });
  }
  {
    // Docker: the application's own line (the original format) inside the `log` field.
    const inner = new TimestampWriter(precision);
    const a = enc('{"log":"');
    const b = enc('\\n","stream":"stdout","time":"');
    const nano = isoWriter(6);
    const c = enc('"}');
    const tail = (w: BodyWriter, us: number): void => { w.lit(b); nano(w, us); w.pos--; w.lit(enc('000Z')); w.lit(c); };
    add({
      precision: null, json: true, stack: 'wrapped', yearless: false, name: 'docker-json',
      head: (w, us, tag) => { w.lit(a); inner.write(w, us, tag); }, tail, wrapHead: (w) => w.lit(a), wrapTail: tail,
    });
  }
  {
    const a = enc('time=');
    const b = lits(' level=trace msg="', ' level=info msg="', ' level=warn msg="', ' level=error msg="');
    const t = enc('" service=orders');
    add({ ...base, json: true, name: 'logfmt', head: (w, us, tag) => { w.lit(a); iso(w, us); w.lit(b[tag]!); }, tail: (w) => w.lit(t) });
  }
  {
    const text = new SecondText((d) => `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`);
    const b = lits(' web-1 orders[4242]: [TRACE] ', ' web-1 orders[4242]: [INFO] ', ' web-1 orders[4242]: [WARN] ', ' web-1 orders[4242]: [ERROR] ');
    add({ ...base, name: 'syslog', precision: 0, yearless: true, head: (w, us, tag) => { text.write(w, us); w.lit(b[tag]!); }, tail: () => undefined });
  }
  {
    const a = lits('<15>1 ', '<14>1 ', '<12>1 ', '<11>1 ');
    const b = enc(' web-1 orders 4242 - - ');
    add({ ...base, name: 'syslog-5424', head: (w, us, tag) => { w.lit(a[tag]!); iso(w, us); w.lit(b); }, tail: () => undefined });
  }
  {
    const inner = new TimestampWriter(precision);
    const nano = isoWriter(6);
    const f = enc('000Z stdout F ');
    const runtime = (w: BodyWriter, us: number): void => { nano(w, us); w.pos--; w.lit(f); };
    add({
      precision: null, json: false, stack: 'wrapped', yearless: false, name: 'cri',
      head: (w, us, tag) => { runtime(w, us); inner.write(w, us, tag); }, tail: () => undefined, wrapHead: runtime, wrapTail: () => undefined,
    });
  }
  for (const combined of [false, true]) {
    const text = new SecondText((d) => `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000] "`);
    const ip = enc('10.0.');
    const user = enc(' - - [');
    const proto = enc(' HTTP/1.1" ');
    const status = [lits('200', '200', '204', '304'), lits('200', '201', '200', '302'), lits('404', '401', '429', '403'), lits('500', '502', '503', '504')];
    const agent = enc(' "-" "Mozilla/5.0 (X11; Linux x86_64)"');
    add({
      ...base, name: combined ? 'combined' : 'clf', precision: 0, head: () => undefined, tail: () => undefined,
      whole: (w, us, tag) => {
        w.lit(ip); w.int(0, 15); w.byte(46); w.int(1, 254); w.lit(user); text.write(w, us);
        w.pick(METHODS); w.byte(32); path(w); w.lit(proto); w.pick(status[tag]!); w.byte(32); w.skewed(60000);
        if (combined) w.lit(agent);
      },
    });
  }
  {
    const text = new SecondText((d) => d.toISOString().slice(0, 19).replace(/-/g, '/').replace('T', ' '));
    const b = lits(' [debug] 4242#0: ', ' [info] 4242#0: ', ' [warn] 4242#0: ', ' [error] 4242#0: *17 ');
    add({ ...base, name: 'nginx-error', precision: 0, head: (w, us, tag) => { text.write(w, us); w.lit(b[tag]!); }, tail: () => undefined });
  }
  {
    const head = new SecondText((d) => `[${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`);
    const year = new SecondText((d) => ` ${d.getUTCFullYear()}] `);
    const b = lits('[core:trace1] [pid 4242] ', '[core:info] [pid 4242] ', '[core:warn] [pid 4242] ', '[proxy:error] [pid 4242:tid 140] ');
    add({ ...base, name: 'apache-error', precision: 6, head: (w, us, tag) => { head.write(w, us); fraction(w, us, 6); year.write(w, us); w.lit(b[tag]!); }, tail: () => undefined });
  }
  {
    const text = new SecondText(isoSpaceSecond);
    const b = lits(' UTC [4242] DEBUG1:  ', ' UTC [4242] LOG:  ', ' UTC [4242] WARNING:  ', ' UTC [4242] ERROR:  ');
    add({ ...base, name: 'postgres', precision: 3, head: (w, us, tag) => { text.write(w, us); fraction(w, us, 3); w.lit(b[tag]!); }, tail: () => undefined });
  }
  {
    const iso6 = isoWriter(6);
    const b = lits(' 17 [Note] [MY-010000] [Server] ', ' 17 [Note] [MY-010000] [Server] ', ' 17 [Warning] [MY-010000] [Server] ', ' 17 [ERROR] [MY-010000] [Server] ');
    add({ ...base, name: 'mysql', precision: 6, head: (w, us, tag) => { iso6(w, us); w.lit(b[tag]!); }, tail: () => undefined });
  }
  {
    const text = new SecondText((d) => `4242:M ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`);
    const b = lits(' . ', ' * ', ' # ', ' # ');
    add({ ...base, name: 'redis', precision: 3, head: (w, us, tag) => { text.write(w, us); fraction(w, us, 3); w.lit(b[tag]!); }, tail: () => undefined });
  }
  {
    const text = new SecondText((d) => d.toISOString().slice(0, 19).replace(/-/g, '/').replace('T', ' '));
    const b = lits(' TRACE: ', ' INFO: ', ' WARN: ', ' ERROR: ');
    add({ ...base, name: 'go-log', precision: 6, head: (w, us, tag) => { text.write(w, us); fraction(w, us, 6); w.lit(b[tag]!); }, tail: () => undefined });
  }
  {
    const text = new SecondText((d) => `${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`);
    const letters = [73, 73, 87, 69]; // I I W E
    const b = enc('    4242 handler.go:42] ');
    add({ ...base, name: 'klog', precision: 6, yearless: true, head: (w, us, tag) => { w.byte(letters[tag]!); text.write(w, us); fraction(w, us, 6); w.lit(b); }, tail: () => undefined });
  }
  {
    const b = UPPER.map((t) => enc(` ${new TextDecoder().decode(t)} `));
    add({ ...base, name: 'epoch', head: (w, us, tag) => { w.uint(Math.floor(us / 1e6)); fraction(w, us, precision); w.lit(b[tag]!); }, tail: () => undefined });
  }
  {
    const hex = (w: BodyWriter, n: number, digits: number): void => {
      for (let i = digits - 1; i >= 0; i--) w.byte('0123456789abcdef'.charCodeAt(Math.floor(n / 16 ** i) % 16));
    };
    const at = enc('@40000000');
    const b = UPPER.map((t) => enc(` ${new TextDecoder().decode(t)} `));
    add({
      ...base, name: 'tai64n', precision: 6,
      head: (w, us, tag) => { const s = Math.floor(us / 1e6); w.lit(at); hex(w, s + 10, 8); hex(w, (us - s * 1e6) * 1000, 8); w.lit(b[tag]!); },
      tail: () => undefined,
    });
  }
  return Object.fromEntries(styles.map((s) => [s.name, s]));
}

/** Names of the formats the generator writes (the same names `--format` reads). */
export const STYLE_NAMES = Object.keys(lineStyles(3));
