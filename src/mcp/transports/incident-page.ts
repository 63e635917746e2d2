/**
 * GET / and GET /ui with --transport http: the incident view as a web page, the same document
 * the MCP App resource serves. The page talks to this server's own /mcp.
 *
 * Security: the page is a static shell with no log data in it; everything it shows comes
 * through /mcp, which needs the bearer token. A browser cannot attach a bearer token to a
 * navigation, so the page is served once the Host and Origin checks pass and asks for the
 * token itself (kept in the tab's sessionStorage). Its CSP allows its own inline script and
 * style (by hash) and connections to this origin, nothing else; it cannot be framed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { loadIncidentView } from '../incident-view.js';
import { HttpError } from './http-util.js';

let gzipped: Buffer | null = null;

export function serveIncidentPage(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'the incident view answers GET only', { Allow: 'GET, HEAD' });
  let doc;
  try {
    doc = loadIncidentView();
  } catch (err) {
    throw new HttpError(500, (err as Error).message);
  }
  // 451 KiB of HTML, 131 KiB gzipped: worth it beyond loopback. Compressed once, kept.
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  if (gzip && gzipped === null) gzipped = gzipSync(doc.html, { level: 9 });
  const body = gzip && gzipped !== null ? gzipped : Buffer.from(doc.html, 'utf8');
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(body.length),
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    Vary: 'Accept-Encoding',
    'Content-Security-Policy': doc.csp,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
