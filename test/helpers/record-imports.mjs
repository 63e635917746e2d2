/**
 * `node --import ./record-imports.mjs ...`: appends every @opentelemetry module specifier
 * the process imports (through the ESM loader) to the file named by LTM_IMPORT_LOG, one a
 * line, so a test can tell whether tracing was loaded at all.
 */
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@opentelemetry/') && process.env.LTM_IMPORT_LOG) appendFileSync(process.env.LTM_IMPORT_LOG, specifier + '\\n');
  return next(specifier, context);
}`),
);
