#!/usr/bin/env node
/**
 * The log-triage-mcp command line. Bad flags and unreadable sources print one line on stderr
 * and exit with code 2; everything else logs to stderr through pino.
 */
import { ConfigError, helpText, resolveConfig } from './config.js';
import { serve } from './commands/serve.js';
import { query } from './commands/query.js';
import { ingest } from './commands/ingest.js';
import { status } from './commands/status.js';
import { demo } from './commands/demo.js';
import { createLogger } from './log.js';
import { RunbookError } from './triage/index.js';
import { SERVER_VERSION } from './version.js';

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--version' || argv[0] === '-V') {
    process.stdout.write(SERVER_VERSION + '\n');
    return;
  }
  const config = resolveConfig(argv);
  if (config.help) {
    process.stderr.write(helpText(argv[0] !== undefined && !argv[0].startsWith('-') ? config.command : null) + '\n');
    return;
  }
  const logger = createLogger(config.logLevel);
  switch (config.command) {
    case 'serve':
      return serve(config, logger);
    case 'query':
      return query(config, logger);
    case 'ingest':
      return ingest(config, logger);
    case 'status':
      return status(config, logger);
    case 'demo':
      return demo(config, config.logLevel === 'info' && process.env.LOG_TRIAGE_LOG_LEVEL === undefined ? createLogger('warn') : logger);
    default:
      throw new ConfigError(`'${config.command}' is not available yet`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof RunbookError) {
    process.stderr.write(`log-triage-mcp: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`log-triage-mcp: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
