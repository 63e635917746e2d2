/**
 * Parsing: log bytes in, columns out. Owns timestamp parsing, level normalization, the
 * format registry and line splitting on bytes. Pure: safe to import from a worker.
 */
export * from './levels.js';
export * from './meta.js';
export * from './timestamp.js';
export * from './parsed-chunk.js';
export type { LogFormat } from './format.js';
export { DEFAULT_FORMAT, builtinFormats, describeUnrecognized, detect, detectFormat, formatNames, getFormat, resolveFormat, type Detection } from './formats.js';
export { CustomFormatError, validateCustomFormat } from './custom-format.js';
export { DETECT_BYTES } from './line-loop.js';
