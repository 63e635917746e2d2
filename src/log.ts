/**
 * The one logger. pino writing to stderr (fd 2): in stdio mode stdout carries only protocol
 * messages, so nothing in src/ may write logs there.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.LOG_TRIAGE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'log-triage-mcp', level }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = pino({ level: 'silent' });
