/**
 * The validated configuration every command receives (src/config.ts builds it).
 */
import type { CustomFormatSpec } from '../parse/index.js';
import type { FsyncPolicy } from '../model/index.js';
import type { Command } from './options.js';

export interface SourceSpec {
  name: string;
  path: string;
  /** Its own --format SOURCE=NAME, when given (else Config.format applies). */
  format?: string;
}

export type { FsyncPolicy } from '../model/index.js';
export type TransportKind = 'stdio' | 'http' | 'sse';

export interface Config {
  command: Command;
  sources: SourceSpec[];
  /** 'auto' or a format name, for every source without a SOURCE=NAME of its own. */
  format: string;
  /** Custom formats defined under `formats:` in the config file. */
  customFormats: CustomFormatSpec[];
  timezone: string;
  dataDir: string;
  ephemeral: boolean;
  fsync: FsyncPolicy;
  segmentBytes: number;
  retentionMs: number | null;
  maxWalBytes: number | null;
  transport: TransportKind;
  host: string;
  port: number;
  authToken: string | null;
  /** Limits and browser rules of the http/sse transports (src/mcp/transports). */
  http: { allowedHosts: string[]; corsOrigins: string[]; maxSessions: number; maxInflight: number; maxBodyBytes: number };
  runbooks: string | null;
  store: 'embedded' | 'clickhouse';
  clickhouseUrl: string;
  clickhouseDatabase: string;
  clickhouseCluster: string | null;
  /** Host part of source names in ClickHouse (null: the host name). */
  agentName: string | null;
  bodyCap: number;
  /** Log lines longer than this are cut to it while reading (the rest skipped, counted). */
  maxLineBytes: number;
  logLevel: string;
  help: boolean;
  /** Limits of one text search (find_nearest_log with contains, pattern or fields; related_log). */
  scanBudget: { entries: number; ms: number };
  /** Field names related_log takes request and trace ids from. */
  idFields: string[];
  query: {
    timestamp: string | null;
    tags: string[] | null;
    count: number;
    context: number;
    direction: 'nearest' | 'before' | 'after';
    maxDistanceMs: number | null;
    json: boolean;
    contains: string[];
    caseSensitive: boolean;
    pattern: string | null;
    fields: Record<string, string>;
  };
}
