/**
 * src/generate: the realistic log generator for the original format
 * (`2024-01-15T10:30:45.123Z [ERROR] body`). It owns synthetic log content (background
 * bodies, incident signatures with their regexes), the deterministic generator, the fast file
 * writer and the real-time writer with rotation. Used by `demo`, by tools/generate and by tests.
 * Nothing here writes to stdout.
 */
export { LogGenerator, MAX_ENTRY_BYTES, incidentSignature, type Batch, type FillLimits, type FillResult, type GeneratorIncident } from './generator.js';
export {
  DEFAULT_INCIDENT_DURATION_MS, DEFAULT_INCIDENT_RATE, DEFAULT_RATE, DEFAULT_START, DEFAULT_TAG_MIX, GENERATED_TAGS,
  GeneratorOptionError, resolveOptions,
  type GeneratedTag, type GeneratorOptions, type IncidentSpec, type ResolvedOptions,
} from './options.js';
export {
  SIGNATURE_CATALOG, SIGNATURE_NAMES, isSignatureName, signatureSpec,
  type CatalogSignatureName, type SignatureName, type SignatureSpec,
} from './signatures.js';
export { writeLogFile, writeLogStream, type WriteLogOptions, type WriteLogStats } from './write-file.js';
export { startLiveStream, startLiveWriter, type LiveStats, type LiveWriter, type LiveWriterOptions } from './live-writer.js';
export type { RotateMode, RotateOptions } from './sinks.js';
