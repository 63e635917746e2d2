/**
 * The incident view as an MCP App (SEP-1865, the `io.modelcontextprotocol/ui` extension): one
 * `ui://` resource holding the self-contained HTML document that tools/build-view.ts writes
 * to dist/view/incident.html, and the `_meta` that links find_nearest_log, log_histogram and
 * triage_confidence to it. Hosts with MCP Apps render the view beside those tools' results;
 * hosts without it ignore `_meta`, and the results themselves are the same either way.
 *
 * The constants mirror `@modelcontextprotocol/ext-apps` (RESOURCE_MIME_TYPE, and the tool
 * `_meta` its registerAppTool writes: `ui.resourceUri` plus the deprecated flat
 * `ui/resourceUri` for older hosts); test/unit/incident-view.test.ts holds them equal to what
 * the package's own helpers produce. The package is a build-time (and test) dependency,
 * bundled into the document; the server does not import it: its server module costs 30-133 ms
 * at start-up (two series of 3 runs on the shared, loaded 2-core VM), spent building App-side
 * schemas a server never uses, and its type declarations do not resolve under NodeNext
 * (extensionless re-exports), so the two shapes are spelled out below.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { sha256 } from '../text/index.js';

export const INCIDENT_VIEW_URI = 'ui://log-triage/incident';
/** ext-apps RESOURCE_MIME_TYPE. */
export const MCP_APP_MIME_TYPE = 'text/html;profile=mcp-app';

/** The `_meta` of each tool the view renders. */
/** SEP-1865 McpUiResourceCsp: the origins a view may reach; empty means none. */
export interface UiResourceCsp {
  connectDomains: string[];
  resourceDomains: string[];
  frameDomains: string[];
  baseUriDomains: string[];
}

export const INCIDENT_VIEW_TOOL_META: { ui: { resourceUri: string }; 'ui/resourceUri': string } = {
  ui: { resourceUri: INCIDENT_VIEW_URI },
  'ui/resourceUri': INCIDENT_VIEW_URI,
};

/**
 * The resource's `_meta.ui`: empty domain lists, i.e. no network connections, no external
 * scripts, styles, images or fonts, no nested frames. The document carries everything it needs.
 */
export const INCIDENT_VIEW_RESOURCE_META: { csp: UiResourceCsp; prefersBorder: boolean } = {
  csp: { connectDomains: [], resourceDomains: [], frameDomains: [], baseUriDomains: [] },
  prefersBorder: true,
};

export interface IncidentViewDocument {
  html: string;
  /**
   * The Content-Security-Policy of the web page (GET / over HTTP): the one inline script and
   * the one inline style by hash, connections to this origin only (its /mcp), Trusted Types
   * enforced so no string can reach an HTML sink, and no framing.
   */
  csp: string;
}

/**
 * Where the build puts the document: dist/view/incident.html. Found by walking up from this
 * module, which runs from dist/src/mcp (tsc), from a bundle in dist/ (esbuild) or from
 * src/mcp (tests).
 */
export function incidentViewPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here, i = 0; i < 6; i++, dir = dirname(dir)) {
    const candidate = basename(dir) === 'dist' ? join(dir, 'view', 'incident.html') : join(dir, 'dist', 'view', 'incident.html');
    if (existsSync(candidate)) return candidate;
  }
  return join(here, '..', '..', '..', 'dist', 'view', 'incident.html');
}

const cspHash = (text: string): string => `'sha256-${sha256(text, 'base64')}'`;

/**
 * The text of the document's inline element of this kind: from its first opening tag to the
 * last closing one. The build refuses code holding `</script` or `</style`, so the closing tag
 * found is the element's own.
 */
function inlineText(html: string, tag: 'script' | 'style'): string {
  const open = `<${tag}>`;
  const start = html.indexOf(open);
  const end = html.lastIndexOf(`</${tag}>`);
  if (start < 0 || end < start) throw new Error(`the incident view has no inline <${tag}>`);
  return html.slice(start + open.length, end);
}

let cached: IncidentViewDocument | null = null;

/** Reads the built document once (about 450 KiB) and derives the page's CSP from it. */
export function loadIncidentView(): IncidentViewDocument {
  if (cached !== null) return cached;
  const path = incidentViewPath();
  let html: string;
  try {
    html = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`the incident view is not built (${path} is missing): run npm run build`);
  }
  const csp = [
    "default-src 'none'",
    `script-src ${cspHash(inlineText(html, 'script'))}`,
    `style-src ${cspHash(inlineText(html, 'style'))}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
  cached = { html, csp };
  return cached;
}

/** Lists and serves the view as `ui://log-triage/incident`. */
export function registerIncidentViewResource(server: McpServer): void {
  server.registerResource(
    'incident-view',
    INCIDENT_VIEW_URI,
    {
      title: 'Incident view',
      description:
        'Interactive view of an incident for hosts with MCP Apps: error burst on a timeline around the alert, the nearest ' +
        'entries with context, and the triage decision. Rendered beside find_nearest_log, log_histogram and triage_confidence results.',
      mimeType: MCP_APP_MIME_TYPE,
      _meta: { ui: INCIDENT_VIEW_RESOURCE_META },
    },
    async (uri) => {
      let doc: IncidentViewDocument;
      try {
        doc = loadIncidentView();
      } catch (err) {
        throw new McpError(ErrorCode.InternalError, (err as Error).message);
      }
      return { contents: [{ uri: uri.href, mimeType: MCP_APP_MIME_TYPE, text: doc.html, _meta: { ui: INCIDENT_VIEW_RESOURCE_META } }] };
    },
  );
}
