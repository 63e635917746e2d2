/**
 * `ingest`: one-shot catch-up of the sources into the data dir (or, with --ephemeral, just
 * a parse-and-index pass), with a progress bar on stderr. Exits when everything is applied
 * and checkpointed; a later `serve` continues exactly where it stopped.
 */
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { openEngine } from '../engine.js';
import type { Logger } from '../log.js';
import { startTracing, tracing } from '../trace/index.js';
import { checkSources } from './preflight.js';
import { startProgress } from './progress.js';

/** A one-shot read that could not use a source (no format recognizes it, unreadable): exit 2. */
export function unusableSource(statuses: readonly { path: string; state: string; error?: string }[]): void {
  const bad = statuses.find((s) => s.state === 'error');
  if (bad !== undefined) throw new ConfigError(`--source ${bad.path}: ${bad.error ?? 'cannot be read'}`);
}

export async function ingest(config: Config, logger: Logger): Promise<void> {
  await checkSources(config.sources, { oneShot: true });
  await startTracing(process.env, logger);
  const started = Date.now();
  const engine = await openEngine(config, logger);
  const before = (await engine.store.coverage()).entries;
  const stop = startProgress(() => engine.ingestor.statuses());
  try {
    await engine.ingestor.readAllOnce();
    unusableSource(engine.ingestor.statuses());
    // With --store clickhouse: until the cluster has acknowledged every batch.
    await engine.backend.flushed();
  } finally {
    const c = await engine.store.coverage();
    const statuses = engine.ingestor.statuses();
    const errors = statuses.reduce((n, s) => n + s.parseErrors, 0);
    stop(
      `ingested ${c.entries - before} new entries from ${statuses.length} source(s) in ${((Date.now() - started) / 1000).toFixed(1)}s` +
        (errors > 0 ? `, ${errors} malformed lines (see status)` : '') +
        (config.ephemeral ? ' (ephemeral: nothing kept)' : config.store === 'clickhouse' ? `; ClickHouse now holds ${c.entries}` : `; ${config.dataDir} now holds ${c.entries}`),
    );
    await engine.close();
    await tracing().shutdown();
  }
}
