/**
 * The eval's runbook catalog: one runbook per generator catalog signature, its pattern taken
 * from SIGNATURE_CATALOG, written as the YAML a user would pass to --runbooks and parsed by
 * the real parser. cert-expired is manual (rotating a certificate needs a human); the rest
 * may run automatically. min_confidence is left out everywhere, so the default (0.8) holds.
 */
import { type CatalogSignatureName, SIGNATURE_CATALOG } from '../../src/generate/index.js';
import { parseRunbookCatalog, type RunbookCatalog } from '../../src/triage/index.js';

/** Signatures whose runbook is auto_execute: false. */
export const MANUAL_SIGNATURES: readonly CatalogSignatureName[] = ['cert-expired'];
export const CATALOG_SIGNATURES = Object.keys(SIGNATURE_CATALOG) as CatalogSignatureName[];
export const AUTO_SIGNATURES: readonly CatalogSignatureName[] = CATALOG_SIGNATURES.filter((s) => !MANUAL_SIGNATURES.includes(s));

const yamlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export function evalCatalogYaml(): string {
  const lines = ['runbooks:'];
  for (const name of CATALOG_SIGNATURES) {
    const spec = SIGNATURE_CATALOG[name];
    lines.push(
      `  - id: ${name}`,
      `    title: ${yamlString(spec.title)}`,
      `    match:`,
      `      tags: [ERROR, FATAL]`,
      `      pattern: ${yamlString(spec.pattern)}`,
      `    steps: [${yamlString(`Follow the ${spec.title.toLowerCase()} SOP`)}, 'Confirm the error rate is back to baseline']`,
      `    auto_execute: ${MANUAL_SIGNATURES.includes(name) ? 'false' : 'true'}`,
    );
  }
  return lines.join('\n') + '\n';
}

export function evalCatalog(): RunbookCatalog {
  return parseRunbookCatalog(evalCatalogYaml(), { origin: 'triage-eval runbooks' });
}
