/**
 * Entry of the incident view (bundled into one HTML document by tools/build-view.ts). In an
 * iframe it is an MCP App talking to its host; at the top level it is the web page served at
 * GET / that talks to the server's /mcp.
 */
import './jitless.js';
import { startApp } from './connect-app.js';
import { startWeb } from './connect-web.js';
import { setStatus } from './render.js';

const start = window.parent === window ? startWeb : startApp;
start().catch((err: unknown) => setStatus(`the view could not start: ${(err as Error).message}`, 'error'));
