/**
 * Imported first by main.ts. The CSP allows no eval, and zod probes for it (new Function)
 * while the SDK's modules build their schemas at load time; the probe logs a CSP violation.
 * Turning the JIT off before those modules load skips the probe.
 */
import { config } from 'zod/v4';

config({ jitless: true });
