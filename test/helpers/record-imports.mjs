/**
 * `node --import ./record-imports.mjs ...`: appends every @opentelemetry module the process
 * loads to the file named by LTM_IMPORT_LOG, one specifier a line, so a test can tell whether
 * tracing was loaded at all. Both loaders are watched: the bundle (dist/bundle) requires its
 * external packages through the CommonJS loader, the tsc output (dist/src) imports them.
 */
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const log = process.env.LTM_IMPORT_LOG;
const load = Module._load;
Module._load = function (request, ...rest) {
  if (log && typeof request === 'string' && request.startsWith('@opentelemetry/')) appendFileSync(log, request + '\n');
  return load.call(this, request, ...rest);
};

register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@opentelemetry/') && process.env.LTM_IMPORT_LOG) appendFileSync(process.env.LTM_IMPORT_LOG, specifier + '\\n');
  return next(specifier, context);
}`),
);
