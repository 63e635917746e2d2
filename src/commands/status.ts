/**
 * `status`: what a data dir holds: sources and their positions, WAL segments and
 * durability, index size and time range. Prints a summary, or tail_status's JSON with --json.
 */
import type { Config } from '../config.js';
import { openEngine } from '../engine.js';
import type { Logger } from '../log.js';
import { renderTailStatus, tailStatusJson } from '../mcp/tools/tail-status.js';

export async function status(config: Config, logger: Logger): Promise<void> {
  const engine = await openEngine({ ...config, sources: [], ephemeral: false }, logger, { readOnly: true });
  try {
    const json = tailStatusJson(await engine.store.status());
    process.stdout.write(config.query.json ? JSON.stringify(json, null, 2) + '\n' : renderTailStatus(json) + '\n');
  } finally {
    await engine.close();
  }
}
