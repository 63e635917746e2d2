/**
 * Issue 14: the MCP Apps wiring against the official package. The server spells out the MIME
 * type and the tool `_meta` instead of importing @modelcontextprotocol/ext-apps at start-up
 * (src/mcp/incident-view.ts says why); these tests hold both equal to what the package's own
 * helpers produce, and check the resource a host reads: its MIME type, its CSP that allows
 * nothing, and a document that needs nothing beyond itself.
 */
import { createHash } from 'node:crypto';
import { RESOURCE_MIME_TYPE, RESOURCE_URI_META_KEY, registerAppResource, registerAppTool } from '@modelcontextprotocol/ext-apps/server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { INCIDENT_VIEW_RESOURCE_META, INCIDENT_VIEW_TOOL_META, INCIDENT_VIEW_URI, MCP_APP_MIME_TYPE, loadIncidentView } from '../../src/mcp/incident-view.js';
import { createServer } from '../../src/mcp/server.js';
import { kindOf } from '../../src/view/model.js';
import { FileBodyStore } from '../../src/store/file-body-store.js';
import { EmbeddedStore } from '../../src/store/embedded-store.js';

async function connect(): Promise<Client> {
  const { server } = createServer({ store: new EmbeddedStore({ sources: ['app'], bodies: new FileBodyStore() }) });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: 'apps-test', version: '1.0.0' });
  await client.connect(b);
  return client;
}

describe('incident view: MCP Apps wiring', () => {
  it('uses the MIME type and tool _meta that @modelcontextprotocol/ext-apps itself writes', () => {
    expect(MCP_APP_MIME_TYPE).toBe(RESOURCE_MIME_TYPE);
    let toolMeta: unknown;
    const fakeTools = { registerTool: (_n: string, config: { _meta?: unknown }) => ((toolMeta = config._meta), undefined) } as unknown as Pick<McpServer, 'registerTool'>;
    registerAppTool(fakeTools, 'x', { _meta: { ui: { resourceUri: INCIDENT_VIEW_URI } } }, async () => ({ content: [] }));
    expect(INCIDENT_VIEW_TOOL_META).toEqual(toolMeta);
    expect(INCIDENT_VIEW_TOOL_META[RESOURCE_URI_META_KEY]).toBe(INCIDENT_VIEW_URI);
    let resourceConfig: { mimeType?: string } = {};
    const fakeResources = { registerResource: (_n: string, _u: string, config: { mimeType?: string }) => ((resourceConfig = config), undefined) } as unknown as Pick<McpServer, 'registerResource'>;
    registerAppResource(fakeResources, 'x', INCIDENT_VIEW_URI, {}, async () => ({ contents: [] }));
    expect(resourceConfig.mimeType).toBe(MCP_APP_MIME_TYPE);
  });

  it('links exactly the three tools the view renders, and lists the ui:// resource', async () => {
    const client = await connect();
    const tools = (await client.listTools()).tools;
    const linked = tools.filter((t) => t._meta !== undefined).map((t) => [t.name, t._meta]);
    expect(linked).toEqual(['find_nearest_log', 'log_histogram', 'triage_confidence'].map((n) => [n, INCIDENT_VIEW_TOOL_META]));
    const listed = (await client.listResources()).resources.find((r) => r.uri === INCIDENT_VIEW_URI);
    expect(listed).toMatchObject({ mimeType: MCP_APP_MIME_TYPE, _meta: { ui: INCIDENT_VIEW_RESOURCE_META } });
    await client.close();
  });

  it('serves one self-contained HTML document whose CSP metadata allows no origin at all', async () => {
    const client = await connect();
    const read = await client.readResource({ uri: INCIDENT_VIEW_URI });
    expect(read.contents).toHaveLength(1);
    const c = read.contents[0] as { uri: string; mimeType: string; text: string; _meta: unknown };
    expect(c).toMatchObject({ uri: INCIDENT_VIEW_URI, mimeType: MCP_APP_MIME_TYPE, _meta: { ui: { csp: { connectDomains: [], resourceDomains: [], frameDomains: [], baseUriDomains: [] } } } });
    expect(c.text.startsWith('<!doctype html>')).toBe(true);
    // No external anything: one inline script, one inline style, no src=, no URL but data:.
    expect(c.text.match(/<script\b[^>]*>/g)).toEqual(['<script>']);
    expect(c.text.match(/<style\b[^>]*>/g)).toEqual(['<style>']);
    expect(c.text).not.toMatch(/<(?:script|img|iframe|link)\b[^>]*\bsrc=/i);
    expect(c.text.match(/\bhref=("[^"]*")/g)).toEqual(['href="data:,"']);
    await client.close();
  });

  it('tells the three tools\' real results apart by their shape (the view relies on it)', async () => {
    const client = await connect();
    for (const name of ['find_nearest_log', 'log_histogram', 'triage_confidence'] as const) {
      const r = await client.callTool({ name, arguments: { timestamp: '2024-01-15T10:30:00Z' } });
      expect(r.isError, JSON.stringify(r.content)).not.toBe(true);
      expect(kindOf(r.structuredContent)).toBe(name);
    }
    const status = await client.callTool({ name: 'tail_status', arguments: {} });
    expect(kindOf(status.structuredContent)).toBeNull();
    await client.close();
  });

  it('derives the page CSP from the document: hashes of its own script and style, nothing else', () => {
    const { html, csp } = loadIncidentView();
    const inner = (tag: string): string => html.slice(html.indexOf(`<${tag}>`) + tag.length + 2, html.lastIndexOf(`</${tag}>`));
    const hash = (s: string): string => createHash('sha256').update(s).digest('base64');
    expect(csp).toContain(`script-src 'sha256-${hash(inner('script'))}'`);
    expect(csp).toContain(`style-src 'sha256-${hash(inner('style'))}'`);
    expect(csp.split('; ')[0]).toBe("default-src 'none'");
    expect(csp).not.toMatch(/unsafe|https?:|\*/);
  });
});
