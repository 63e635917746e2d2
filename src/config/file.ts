/**
 * The --config file (JSON or YAML): option names in kebab-case, camelCase or snake_case,
 * `format:` as a mapping of source to format, and `formats:` defining custom formats.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import { CustomFormatError, validateCustomFormat, formatNames, type CustomFormatSpec } from '../parse/index.js';
import { OPTIONS } from './options.js';
import { parseBoolean } from './values.js';

/** Option values as given, before validation. */
export type Raw = Record<string, string | boolean | string[] | undefined>;

export interface ConfigFile {
  raw: Raw;
  customFormats: CustomFormatSpec[];
}

/** `formats:` of the config file: name -> definition, each validated (CustomFormatError names the field). */
function readCustomFormats(path: string, value: unknown): CustomFormatSpec[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`--config ${path}: formats must be a mapping of format names to definitions (regex, timestamp)`);
  }
  const builtin = new Set(['auto', ...formatNames()]);
  return Object.entries(value as Record<string, unknown>).map(([name, def]) => {
    if (builtin.has(name)) throw new ConfigError(`--config ${path}: format '${name}' is a built-in format name; give the custom format another name`);
    try {
      return validateCustomFormat(name, def);
    } catch (err) {
      if (err instanceof CustomFormatError) throw new ConfigError(`--config ${path}: ${err.message}`);
      throw err;
    }
  });
}

export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let data: unknown;
  try {
    data = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`--config ${path}: not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`--config ${path}: expected a mapping of option names to values`);
  const raw: Raw = {};
  let customFormats: CustomFormatSpec[] = [];
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (key === 'formats') {
      customFormats = readCustomFormats(path, value);
      continue;
    }
    if (key === 'format' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      // format: { app: pino, nginx: combined } is the same as --format app=pino --format nginx=combined
      raw.format = Object.entries(value as Record<string, unknown>).map(([source, name]) => `${source}=${String(name)}`);
      continue;
    }
    const name = key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()).replace(/_/g, '-');
    const spec = OPTIONS[name];
    if (spec === undefined || name === 'config') throw new ConfigError(`--config ${path}: unknown option '${key}'`);
    if (spec.kind === 'list') raw[name] = (Array.isArray(value) ? value : [value]).map(String);
    else if (spec.kind === 'boolean') raw[name] = parseBoolean(name, value, `in ${path}`);
    else raw[name] = String(value);
  }
  return { raw, customFormats };
}
