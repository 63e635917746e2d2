#!/usr/bin/env node
/**
 * The log-triage-mcp command line. Bad flags and unreadable sources print one line on stderr
 * and exit with code 2; everything else logs to stderr through pino.
 *
 * This file imports nothing but the version and the error classes (src/errors.ts, which
 * imports nothing): `--version` answers before the option parser,
 * the logger or any command is loaded, and every command loads only what it uses (start-up
 * time is paid by every stdio session a client starts, and is part of restart-to-serving).
 */
import { isUsageError } from './errors.js';
import { SERVER_VERSION } from './version.js';

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--version' || argv[0] === '-V') {
    process.stdout.write(SERVER_VERSION + '\n');
    return;
  }
  const [{ helpText, resolveConfig }, { createLogger }] = await Promise.all([import('./config.js'), import('./log.js')]);
  const config = resolveConfig(argv);
  if (config.help) {
    process.stderr.write(helpText(argv[0] !== undefined && !argv[0].startsWith('-') ? config.command : null) + '\n');
    return;
  }
  const logger = createLogger(config.logLevel);
  switch (config.command) {
    case 'serve':
      return (await import('./commands/serve.js')).serve(config, logger);
    case 'query':
      return (await import('./commands/query.js')).query(config, logger);
    case 'ingest':
      return (await import('./commands/ingest.js')).ingest(config, logger);
    case 'status':
      return (await import('./commands/status.js')).status(config, logger);
    case 'demo':
      return (await import('./commands/demo.js')).demo(config, config.logLevel === 'info' && process.env.LOG_TRIAGE_LOG_LEVEL === undefined ? createLogger('warn') : logger);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (isUsageError(err)) {
    process.stderr.write(`log-triage-mcp: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`log-triage-mcp: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
