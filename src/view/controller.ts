/**
 * The view's state and its moves: open at a moment T, show a result a host delivered, move T
 * (a bucket click or the arrow keys) and ask find_nearest_log again. It talks to the server
 * only through a ToolCaller: the MCP Apps host bridge or the page's own MCP client.
 */
import {
  DEFAULT_WINDOW_S,
  type HistogramResult,
  type NearestResult,
  type ToolName,
  type TriageResult,
  WINDOW_AFTER_S,
  bucketMiddleMs,
  bucketOf,
  iso,
  planHistogram,
} from './model.js';
import { clock, renderEntries, renderTimeline, renderTriage, setStatus } from './render.js';

/** Calls a server tool and returns its structuredContent; throws with the tool's message on isError. */
export interface ToolCaller {
  call(name: ToolName, args: Record<string, unknown>): Promise<unknown>;
}

export interface ViewOptions {
  source?: string;
  tag?: string | string[];
  /** Entries per find_nearest_log call (default 5) and context lines around each (default 2). */
  count: number;
  context: number;
  windowS: number;
  /** Ask triage_confidence at the alert moment too (the web page; an MCP App shows it when the agent asked). */
  withTriage: boolean;
}

export const DEFAULT_OPTIONS: ViewOptions = { count: 5, context: 2, windowS: DEFAULT_WINDOW_S, withTriage: false };

export class IncidentView {
  private alertMs: number | null = null;
  private cursorMs = NaN;
  private histogram: HistogramResult | null = null;
  private triage: TriageResult | null = null;
  /** Answers to an older move are dropped when a newer one was asked for. */
  private nearestSeq = 0;
  private pending = 0;

  constructor(
    private readonly caller: ToolCaller,
    private opts: ViewOptions,
  ) {
    document.addEventListener('keydown', (ev) => this.onKey(ev));
  }

  /** Opens at the alert moment: timeline, nearest entries and (when asked) the triage decision. */
  async open(tMs: number): Promise<void> {
    this.alertMs = tMs;
    this.cursorMs = tMs;
    const jobs: Promise<void>[] = [this.loadHistogram(tMs), this.loadNearest(tMs)];
    if (this.opts.withTriage) jobs.push(this.loadTriage(tMs));
    await Promise.all(jobs);
    document.body.dataset.ready = '1';
  }

  /**
   * A tool result the host delivered (MCP Apps): shown as it is, then the view asks for the
   * parts it lacks, at the same moment and source.
   */
  async showResult(kind: ToolName, structured: unknown, args: Record<string, unknown>): Promise<void> {
    if (typeof args.source === 'string') this.opts.source = args.source;
    if (typeof args.window_s === 'number') this.opts.windowS = args.window_s;
    if (kind === 'find_nearest_log' && args.tag !== undefined) this.opts.tag = args.tag as string | string[];
    const t = Date.parse((structured as { query: { timestamp: string } }).query.timestamp);
    this.alertMs = t;
    this.cursorMs = t;
    const jobs: Promise<void>[] = [];
    if (kind === 'log_histogram') {
      this.histogram = structured as HistogramResult;
      this.drawTimeline();
    } else jobs.push(this.loadHistogram(t));
    if (kind === 'triage_confidence') {
      this.triage = structured as TriageResult;
      renderTriage(this.triage);
      this.drawTimeline();
    }
    if (kind === 'find_nearest_log') renderEntries(structured as NearestResult);
    // The delivered answer may lack context lines: ask once with the view's own settings.
    jobs.push(this.loadNearest(t));
    await Promise.all(jobs);
    document.body.dataset.ready = '1';
  }

  /** Moves T and asks find_nearest_log again; re-centres the timeline when T leaves it. */
  async moveTo(tMs: number): Promise<void> {
    this.cursorMs = tMs;
    const h = this.histogram;
    const jobs = [this.loadNearest(tMs)];
    if (h === null || bucketOf(h, tMs) < 0) jobs.push(this.loadHistogram(tMs));
    else this.drawTimeline();
    await Promise.all(jobs);
  }

  private onKey(ev: KeyboardEvent): void {
    if (ev.target instanceof HTMLInputElement || this.histogram === null || Number.isNaN(this.cursorMs)) return;
    const step = this.histogram.bucket_s * 1000;
    if (ev.key === 'ArrowLeft') void this.moveTo(this.cursorMs - step);
    else if (ev.key === 'ArrowRight') void this.moveTo(this.cursorMs + step);
    else return;
    ev.preventDefault();
  }

  private get windowMs(): { from: number; to: number } | null {
    if (this.triage !== null) return { from: Date.parse(this.triage.evidence.window.from), to: Date.parse(this.triage.evidence.window.to) };
    if (this.alertMs === null) return null;
    return { from: this.alertMs - this.opts.windowS * 1000, to: this.alertMs + WINDOW_AFTER_S * 1000 };
  }

  private drawTimeline(): void {
    if (this.histogram === null) return;
    renderTimeline(this.histogram, { alertMs: this.alertMs, cursorMs: this.cursorMs, window: this.windowMs }, (i) => {
      if (this.histogram !== null) void this.moveTo(bucketMiddleMs(this.histogram, i));
    });
    document.body.dataset.cursor = iso(this.cursorMs);
  }

  private withSource(args: Record<string, unknown>): Record<string, unknown> {
    return this.opts.source === undefined ? args : { ...args, source: this.opts.source };
  }

  private async loadHistogram(tMs: number): Promise<void> {
    const plan = planHistogram(this.opts.windowS);
    const r = await this.run('log_histogram', this.withSource({ timestamp: iso(tMs), ...plan }));
    if (r === undefined) return;
    this.histogram = r as HistogramResult;
    this.drawTimeline();
  }

  private async loadNearest(tMs: number): Promise<void> {
    const seq = ++this.nearestSeq;
    const args: Record<string, unknown> = { timestamp: iso(tMs), count: this.opts.count, context: this.opts.context };
    if (this.opts.tag !== undefined) args.tag = this.opts.tag;
    setStatus(`T = ${clock(tMs, true)} UTC: asking find_nearest_log ...`);
    const r = await this.run('find_nearest_log', this.withSource(args));
    if (r === undefined || seq !== this.nearestSeq) return;
    renderEntries(r as NearestResult);
    setStatus(`T = ${clock(tMs, true)} UTC. Click a bucket or use ← → to move T by one bucket.`);
  }

  private async loadTriage(tMs: number): Promise<void> {
    const r = await this.run('triage_confidence', this.withSource({ timestamp: iso(tMs), window_s: this.opts.windowS }));
    if (r === undefined) return;
    this.triage = r as TriageResult;
    renderTriage(this.triage);
    this.drawTimeline();
  }

  /** One tool call, counted in data-busy (tests wait on it); a failure is shown, not thrown. */
  private async run(name: ToolName, args: Record<string, unknown>): Promise<unknown> {
    this.pending++;
    document.body.dataset.busy = String(this.pending);
    try {
      return await this.caller.call(name, args);
    } catch (err) {
      setStatus(`${name} failed: ${(err as Error).message}`, 'error');
      return undefined;
    } finally {
      this.pending--;
      document.body.dataset.busy = String(this.pending);
    }
  }
}
