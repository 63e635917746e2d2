/**
 * Who may talk to the HTTP transports: the bind check at startup, bearer-token auth, Host and
 * Origin validation against DNS rebinding, and CORS (off unless --cors-origin names an origin).
 *
 * The SDK's hostHeaderValidation middleware checks the Host name only (no port, no Origin), so
 * both checks live here, port included.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { ConfigError } from '../../errors.js';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** True for 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

function isWildcard(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === '0.0.0.0' || h === '::' || h === '';
}

/** How a host appears in a URL or a Host header: IPv6 literals in brackets, lower case. */
export function urlHost(host: string): string {
  const h = host.toLowerCase();
  return isIP(h.replace(/^\[|\]$/g, '')) === 6 && !h.startsWith('[') ? `[${h}]` : h;
}

export interface SecurityOptions {
  host: string;
  authToken: string | null;
  allowedHosts: readonly string[];
  corsOrigins: readonly string[];
}

/**
 * Startup checks, run before anything is opened: a ConfigError becomes one line and exit 2.
 * Security: a server bound beyond loopback without a token would hand the logs to anyone on
 * the network, so that combination is refused rather than warned about.
 */
export function checkSecurityOptions(o: SecurityOptions): void {
  if (!isLoopback(o.host) && (o.authToken === null || o.authToken === '')) {
    throw new ConfigError(
      `--host ${o.host} is reachable from other machines; set --auth-token TOKEN (or LOG_TRIAGE_AUTH_TOKEN) to bind it, or use --host 127.0.0.1`,
    );
  }
  if (o.authToken !== null && /[\s]/.test(o.authToken)) throw new ConfigError('--auth-token must not contain whitespace');
  for (const h of o.allowedHosts) {
    if (!/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/.test(h)) throw new ConfigError(`--allowed-host '${h}' must be a host name or address without port or scheme, e.g. logs.example.com`);
  }
  for (const origin of o.corsOrigins) {
    // Security: a wildcard would let any web page call the server from a user's browser.
    if (origin === '*' || origin === 'null') throw new ConfigError(`--cors-origin '${origin}' is not allowed; name an exact origin such as https://app.example.com`);
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(`--cors-origin '${origin}' is not an origin; use scheme://host[:port], e.g. https://app.example.com`);
    }
    if (url.origin !== origin || !/^https?:$/.test(url.protocol)) {
      throw new ConfigError(`--cors-origin '${origin}' must be exactly scheme://host[:port] (http or https, no path), e.g. ${url.origin}`);
    }
  }
}

/**
 * Host and Origin validation against DNS rebinding. A page on evil.example that re-resolves
 * its name to 127.0.0.1 makes the browser send `Host: evil.example` and
 * `Origin: http://evil.example`; both are refused. Built once the port is known (--port 0).
 */
export class RequestGuard {
  private readonly names: Set<string>;
  private readonly anyPortNames: Set<string>;
  private readonly corsOrigins: Set<string>;
  private readonly tokenDigest: Buffer | null;

  constructor(o: SecurityOptions, private readonly port: number) {
    const names = new Set<string>();
    if (isWildcard(o.host)) {
      // Bound to every interface: accept the machine's own addresses and name.
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(urlHost(a.address.split('%')[0]!));
      names.add(osHostname().toLowerCase());
      for (const n of LOOPBACK_NAMES) names.add(n);
    } else {
      names.add(urlHost(o.host));
      if (isLoopback(o.host)) for (const n of LOOPBACK_NAMES) names.add(n);
    }
    this.names = names;
    this.anyPortNames = new Set(o.allowedHosts.map((h) => h.toLowerCase()));
    this.corsOrigins = new Set(o.corsOrigins);
    this.tokenDigest = o.authToken ? digest(o.authToken) : null;
  }

  /** Null when the Host header names this server; else why not. */
  checkHost(req: IncomingMessage): string | null {
    const header = req.headers.host;
    if (header === undefined || header === '') return 'missing Host header';
    return this.hostAllowed(header) ? null : `Host '${clip(header)}' is not this server`;
  }

  /** Null when Origin is absent, this server itself, or a --cors-origin; else why not. */
  checkOrigin(req: IncomingMessage): string | null {
    const origin = req.headers.origin;
    if (origin === undefined) return null;
    if (this.corsOrigins.has(origin)) return null;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return `Origin '${clip(origin)}' is not allowed`;
    }
    if (!/^https?:$/.test(url.protocol) || !this.hostAllowed(url.host, url.protocol === 'https:' ? '443' : '80')) {
      return `Origin '${clip(origin)}' is not allowed`;
    }
    return null;
  }

  /** The CORS response headers for this request (none unless its Origin is a --cors-origin). */
  corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (origin === undefined || !this.corsOrigins.has(origin)) return {};
    return {
      'Access-Control-Allow-Origin': origin,
      Vary: 'Origin',
      'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type, Authorization, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID',
      'Access-Control-Expose-Headers': 'Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate',
      'Access-Control-Max-Age': '600',
    };
  }

  get authRequired(): boolean {
    return this.tokenDigest !== null;
  }

  /**
   * True when no token is configured or the request carries `Authorization: Bearer <token>`.
   * Security: both sides are hashed to equal-length digests first, so timingSafeEqual never
   * throws on a length mismatch and the comparison time says nothing about the token.
   */
  checkAuth(req: IncomingMessage): boolean {
    if (this.tokenDigest === null) return true;
    const header = req.headers.authorization;
    if (header === undefined) return false;
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (m === null) return false;
    return timingSafeEqual(digest(m[1]!), this.tokenDigest);
  }

  private hostAllowed(hostPort: string, defaultPort = '80'): boolean {
    let url: URL;
    try {
      url = new URL(`http://${hostPort}`);
    } catch {
      return false;
    }
    if (url.username !== '' || url.password !== '' || url.pathname !== '/') return false;
    const name = url.hostname.toLowerCase();
    if (this.anyPortNames.has(name)) return true;
    const port = url.port === '' ? defaultPort : url.port;
    return this.names.has(name) && port === String(this.port);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function clip(s: string): string {
  return s.length > 100 ? s.slice(0, 100) + '...' : s;
}
