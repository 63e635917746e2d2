/**
 * A progress line on stderr for one-shot catch-up: percent, lines/s and ETA per source.
 * On a terminal the line is redrawn in place; otherwise a line is printed every few seconds.
 */
import type { IngestStatus } from '../store/index.js';

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

function human(n: number): string {
  if (n >= 1e6) return `${fmt.format(n / 1e6)}M`;
  if (n >= 1e3) return `${fmt.format(n / 1e3)}k`;
  return fmt.format(n);
}

export function progressLine(statuses: readonly IngestStatus[], elapsedMs: number): string {
  let read = 0;
  let total = 0;
  let lines = 0;
  for (const s of statuses) {
    read += s.bytesRead;
    total += Math.max(s.fileBytes, s.bytesRead);
    lines += s.linesRead;
  }
  const pct = total === 0 ? 100 : (100 * read) / total;
  const secs = elapsedMs / 1000;
  const rate = secs > 0 ? lines / secs : 0;
  const bytesRate = secs > 0 ? read / secs : 0;
  const eta = bytesRate > 0 ? (total - read) / bytesRate : 0;
  const width = 24;
  const filled = Math.min(width, Math.round((pct / 100) * width));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct.toFixed(1).padStart(5)}%  ${human(lines)} lines  ${human(rate)} lines/s  ETA ${eta < 1 ? '<1' : Math.round(eta)}s`;
}

/** Starts reporting; the returned function stops it and prints the final line. */
export function startProgress(statuses: () => IngestStatus[], stream: NodeJS.WriteStream = process.stderr): (final?: string) => void {
  const started = Date.now();
  const tty = stream.isTTY === true;
  let last = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    if (!tty && now - last < 2000) return;
    last = now;
    const line = progressLine(statuses(), now - started);
    stream.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  }, 200);
  timer.unref();
  return (final?: string) => {
    clearInterval(timer);
    const line = progressLine(statuses(), Date.now() - started);
    stream.write(tty ? `\r${line}\x1b[K\n` : `${line}\n`);
    if (final !== undefined) stream.write(final + '\n');
  };
}
