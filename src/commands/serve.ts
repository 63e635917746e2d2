/**
 * `serve`: follow the sources and answer MCP requests until told to stop.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Config } from '../config.js';
import { openEngine } from '../engine.js';
import type { Logger } from '../log.js';
import { createServer } from '../mcp/server.js';
import { checkSources } from './preflight.js';

export async function serve(config: Config, logger: Logger): Promise<void> {
  await checkSources(config.sources);
  const engine = await openEngine(config, logger);
  engine.ingestor.start();
  const { server } = createServer({ store: engine.store, bodyCap: config.bodyCap });
  const transport = new StdioServerTransport();
  let stopping = false;
  const stop = async (reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    await server.close().catch(() => undefined);
    await engine.close();
    process.exit(0);
  };
  transport.onclose = () => void stop('client closed stdin');
  process.stdin.on('end', () => void stop('stdin ended'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await server.connect(transport);
  logger.info({ sources: config.sources.map((s) => s.path), transport: 'stdio' }, 'serving');
  void engine.ingestor.caughtUp().then(async () => {
    const c = await engine.store.coverage();
    logger.info({ entries: c.entries }, 'caught up with every source');
  });
}
