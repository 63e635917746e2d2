/**
 * Issue 14: the incident view in a real browser (Debian's chromium), against real server
 * processes on generated logs. (a) the web page at GET /: its timeline and list equal what
 * log_histogram and find_nearest_log answer, and clicking a bucket or pressing an arrow key
 * moves T; the token prompt of --auth-token; (b) the MCP App path through a test host that
 * uses the official AppBridge; (c) hostile log lines stay inert text. Screenshots go to
 * test-results/incident-view/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INCIDENT_VIEW_URI, MCP_APP_MIME_TYPE } from '../../src/mcp/incident-view.js';
import { bucketMiddleMs, type HistogramResult, iso, planHistogram } from '../../src/view/model.js';
import { type ServeProcess, connectHttp, rawRequest, startServe, waitLive, writeSecondsLog } from '../helpers/cli.js';
import { type Browser, launchChromium, luminance, outputDir, watch } from './chromium.js';
import {
  HOST_HTML,
  HOSTILE_BODIES,
  HOSTILE_START,
  INCIDENT_AT,
  expectedBuckets,
  expectedEntries,
  hostPageBundle,
  readBuckets,
  readEntries,
  settled,
  writeHostileLog,
  writeIncidentLog,
  writeRunbooks,
} from './view-fixtures.js';

const OUT = outputDir('incident-view');
const T = INCIDENT_AT + 20_000;
const WINDOW_S = 300;

// One browser for the file; each test opens its own pages (tabs).
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

describe('incident view in chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-view-'));
  let srv: ServeProcess;
  let client: Client;

  const call = async (name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    expect(r.isError, JSON.stringify(r.content)).not.toBe(true);
    return r.structuredContent as Record<string, unknown>;
  };

  beforeAll(async () => {
    await writeIncidentLog(join(dir, 'app.log'));
    writeHostileLog(join(dir, 'hostile.log'));
    writeRunbooks(join(dir, 'runbooks.json'));
    srv = await startServe(['--transport', 'http', '--ephemeral', '--runbooks', join(dir, 'runbooks.json'), '--source', `app=${join(dir, 'app.log')}`, '--source', `hostile=${join(dir, 'hostile.log')}`]);
    client = await connectHttp(srv.url);
    await waitLive(client);
  });
  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('(a) the web page at GET /', () => {
    let page: Page;
    let problems: string[];

    beforeAll(async () => {
      page = await browser.context.newPage();
      problems = await watch(page);
    });
    afterAll(async () => page?.close());

    it('serves one self-contained document with a strict CSP, after the Host and Origin checks', async () => {
      const r = await rawRequest(srv.base, { path: '/', headers: { Host: `127.0.0.1:${srv.port}` } });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+';/);
      expect(csp).toMatch(/connect-src 'self'/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
      // Nothing to fetch: no src= or href= pointing anywhere but an empty data: icon.
      expect(r.body.match(/\b(?:src|href)=("[^"]*"|[^\s>]+)/g)).toEqual(['href="data:,"']);
      expect((await rawRequest(srv.base, { path: '/ui', headers: { Host: `localhost:${srv.port}` } })).status).toBe(200);
      expect((await rawRequest(srv.base, { path: '/', headers: { Host: 'evil.test' } })).status).toBe(403);
      expect((await rawRequest(srv.base, { path: '/', headers: { Host: `127.0.0.1:${srv.port}`, Origin: 'http://evil.test' } })).status).toBe(403);
      expect((await rawRequest(srv.base, { method: 'POST', path: '/', headers: { Host: `127.0.0.1:${srv.port}` } })).status).toBe(405);
    });

    it('shows the counts log_histogram gives, the entries find_nearest_log gives, and the triage decision', async () => {
      await page.goto(`${srv.base}/?t=${iso(T)}&source=app&window_s=${WINDOW_S}`);
      await settled(page, T);
      const plan = planHistogram(WINDOW_S);
      const hist = (await call('log_histogram', { timestamp: iso(T), source: 'app', ...plan })) as unknown as HistogramResult;
      const buckets = await readBuckets(page);
      expect(buckets).toEqual(expectedBuckets(hist));
      // The burst is there to see: the busiest error bucket lies in the incident and dwarfs the quiet ones.
      const errors = buckets.map((b) => b.counts.ERROR! + b.counts.FATAL!);
      const peak = errors.indexOf(Math.max(...errors));
      expect(Math.abs(Date.parse(buckets[peak]!.start) - INCIDENT_AT)).toBeLessThanOrEqual(60_000);
      expect(errors[peak]).toBeGreaterThan(5 * Math.max(1, errors[0]!, errors[1]!));

      const near = await call('find_nearest_log', { timestamp: iso(T), source: 'app', count: 5, context: 2 });
      const entries = await readEntries(page);
      expect(entries).toHaveLength(5);
      expect(entries).toEqual(expectedEntries(near.entries as never));
      expect(entries.some((e) => e.contextLines.length > 0)).toBe(true);

      const triage = await call('triage_confidence', { timestamp: iso(T), source: 'app', window_s: WINDOW_S });
      expect(await page.getAttribute('#triage .decision', 'data-decision')).toBe(triage.decision);
      expect(await page.textContent('#triage .runbook')).toContain((triage.runbook as { id: string }).id);
      expect(await page.isVisible('#bars .bucket.alert')).toBe(true);
      expect(await page.locator('#bars .bucket.in-window').count()).toBeGreaterThan(10);
      await page.screenshot({ path: join(OUT, 'web-light.png'), fullPage: true });
      // The README's picture (src/view/incident-view.png is a copy of it): the top of the page.
      await page.screenshot({ path: join(OUT, 'readme.png'), clip: { x: 0, y: 0, width: 1000, height: 1000 } });
      expect(problems).toEqual([]);
    });

    it('moves T to a clicked bucket and by one bucket per arrow key, asking find_nearest_log again', async () => {
      const before = await readEntries(page);
      const hist = (await call('log_histogram', { timestamp: iso(T), source: 'app', ...planHistogram(WINDOW_S) })) as unknown as HistogramResult;
      const t1 = bucketMiddleMs(hist, 3);
      await page.click('#bars .bucket[data-index="3"]');
      await settled(page, t1);
      const after = await readEntries(page);
      expect(after).not.toEqual(before);
      expect(after).toEqual(expectedEntries((await call('find_nearest_log', { timestamp: iso(t1), source: 'app', count: 5, context: 2 })).entries as never));
      expect(await page.getAttribute('#bars .bucket.cursor', 'data-index')).toBe('3');

      const t2 = t1 + hist.bucket_s * 1000;
      await page.keyboard.press('ArrowRight');
      await settled(page, t2);
      expect(await readEntries(page)).toEqual(expectedEntries((await call('find_nearest_log', { timestamp: iso(t2), source: 'app', count: 5, context: 2 })).entries as never));
      expect(await page.getAttribute('#bars .bucket.cursor', 'data-index')).toBe('4');
      expect(problems).toEqual([]);
    });

    it('follows a dark colour scheme and fits a narrow column without scrolling sideways', async () => {
      await page.emulateMedia({ colorScheme: 'dark' });
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const fg = await page.evaluate(() => getComputedStyle(document.body).color);
      expect(luminance(bg)).toBeLessThan(0.05);
      expect(luminance(fg)).toBeGreaterThan(0.6);
      await page.screenshot({ path: join(OUT, 'web-dark.png'), fullPage: true });
      await page.emulateMedia({ colorScheme: 'light' });
      expect(luminance(await page.evaluate(() => getComputedStyle(document.body).backgroundColor))).toBeGreaterThan(0.9);

      await page.setViewportSize({ width: 360, height: 800 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(OUT, 'web-narrow.png'), fullPage: true });
      await page.setViewportSize({ width: 1000, height: 800 });
      expect(problems).toEqual([]);
    });
  });

  describe('(b) the MCP App path: a test host with the ext-apps AppBridge', () => {
    it('lists the resource, links three tools to it, and leaves results unchanged', async () => {
      const tools = (await client.listTools()).tools;
      const linked = tools.filter((t) => (t._meta as { ui?: { resourceUri?: string } } | undefined)?.ui?.resourceUri === INCIDENT_VIEW_URI).map((t) => t.name);
      expect(linked.sort()).toEqual(['find_nearest_log', 'log_histogram', 'triage_confidence']);
      const resources = (await client.listResources()).resources;
      expect(resources.find((r) => r.uri === INCIDENT_VIEW_URI)?.mimeType).toBe(MCP_APP_MIME_TYPE);
      // A result is the same tool answer it always was: text plus structuredContent, no UI payload.
      const r = (await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: iso(T), source: 'app' } })) as CallToolResult;
      expect(Object.keys(r).sort()).toEqual(['content', 'structuredContent']);
      expect(r.content.map((c) => c.type)).toEqual(['text']);
    });

    it('renders a real tool result in the host, calls tools back through it, and follows the host theme', async () => {
      const read = await client.readResource({ uri: INCIDENT_VIEW_URI });
      const doc = read.contents[0] as unknown as { mimeType: string; text: string; _meta: { ui: { csp: Record<string, string[]> } } };
      expect(doc.mimeType).toBe(MCP_APP_MIME_TYPE);
      expect(doc._meta.ui.csp).toEqual({ connectDomains: [], resourceDomains: [], frameDomains: [], baseUriDomains: [] });

      const toolArgs = { timestamp: iso(T), source: 'app', tag: 'ERROR', count: 3 };
      const toolResult = (await client.callTool({ name: 'find_nearest_log', arguments: toolArgs })) as CallToolResult;
      const page = await browser.context.newPage();
      const problems = await watch(page);
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const calls: { name: string; arguments: Record<string, unknown> }[] = [];
      await page.exposeFunction('hostCallTool', async (p: { name: string; arguments: Record<string, unknown> }) => {
        calls.push({ name: p.name, arguments: p.arguments }); // without the bridge's progressToken
        return client.callTool(p);
      });
      const hostJs = await hostPageBundle();
      await page.route('http://mcp-host.test/**', (route) =>
        route.request().url().endsWith('/host.js')
          ? route.fulfill({ body: hostJs, contentType: 'text/javascript' })
          : route.fulfill({ body: HOST_HTML, contentType: 'text/html' }),
      );
      // Tall enough for the whole view: a full-page capture leaves an out-of-process frame blank past the viewport.
      await page.setViewportSize({ width: 480, height: 2400 });
      await page.goto('http://mcp-host.test/');
      await page.evaluate((a) => window.mountView(a), { html: doc.text, csp: doc._meta.ui.csp, toolName: 'find_nearest_log', toolArgs, toolResult, theme: 'dark' as const, width: 440 });
      await expect.poll(() => page.frames().length).toBe(2);
      const view = page.frames()[1]!;
      await settled(view, T);

      // The view asked for the timeline and for context around T, with the agent's filter and source.
      const viewNearest = { timestamp: iso(T), count: 5, context: 2, tag: 'ERROR', source: 'app' };
      expect(calls).toContainEqual({ name: 'log_histogram', arguments: { timestamp: iso(T), source: 'app', ...planHistogram(WINDOW_S) } });
      expect(calls).toContainEqual({ name: 'find_nearest_log', arguments: viewNearest });
      expect(await readEntries(view)).toEqual(expectedEntries((await call('find_nearest_log', viewNearest)).entries as never));
      expect(await readBuckets(view)).toEqual(expectedBuckets((await call('log_histogram', { timestamp: iso(T), source: 'app', ...planHistogram(WINDOW_S) })) as never));
      expect(luminance(await view.evaluate(() => getComputedStyle(document.body).backgroundColor))).toBeLessThan(0.05);
      await page.screenshot({ path: join(OUT, 'app-dark.png') });

      // A click in the view is a tool call through the host.
      const hist = (await call('log_histogram', { timestamp: iso(T), source: 'app', ...planHistogram(WINDOW_S) })) as unknown as HistogramResult;
      const t1 = bucketMiddleMs(hist, 5);
      const before = await readEntries(view);
      await view.click('#bars .bucket[data-index="5"]');
      await settled(view, t1);
      expect(calls).toContainEqual({ name: 'find_nearest_log', arguments: { ...viewNearest, timestamp: iso(t1) } });
      expect(await readEntries(view)).not.toEqual(before);

      await page.evaluate(() => window.setHostTheme('light'));
      await view.waitForFunction(() => document.documentElement.dataset.theme === 'light');
      expect(luminance(await view.evaluate(() => getComputedStyle(document.body).backgroundColor))).toBeGreaterThan(0.9);
      await page.screenshot({ path: join(OUT, 'app-light.png') });

      // The view never reached the network: every request was the host's own page and script.
      expect(requests.filter((u) => !u.startsWith('http://mcp-host.test/') && !u.startsWith('data:'))).toEqual([]);
      expect(problems).toEqual([]);
      await page.close();
    });
  });

  it('(c) renders hostile log lines as inert text: no markup, no script, no escapes, no reordering', async () => {
    const page = await browser.context.newPage();
    const problems = await watch(page);
    // Through /ui this time: the page finds /mcp relative to itself.
    await page.goto(`${srv.base}/ui?source=hostile&t=${iso(HOSTILE_START + 3000)}&count=${HOSTILE_BODIES.length + 1}&context=0`);
    await settled(page, HOSTILE_START + 3000);
    const entries = await readEntries(page);
    expect(entries).toHaveLength(HOSTILE_BODIES.length + 1);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    // Only the view's own elements inside the list: nothing a body could have made.
    const tags = await page.$$eval('#entries *', (els) => [...new Set(els.map((e) => e.tagName.toLowerCase()))].sort());
    expect(tags).toEqual(['bdi', 'div', 'li', 'span']);
    const text = await page.textContent('#entries');
    expect(text).toContain(`<script>window.__pwned = 'script'; alert(1)</script>`);
    expect(text).toContain(`<img src=x onerror="window.__pwned='img'; alert(2)">`);
    expect(text).toContain(`<a href="javascript:window.__pwned='link'">click me</a>`);
    expect(text).toContain('\\u001b[31mRED ALERT');
    expect(text).toMatch(/bidi \\u202eexe\.txt\\u202c isolate \\u2066x\\u2069 zero\\u200bwidth/i);
    // No raw control or format character anywhere in the rendered page.
    const raw = await page.evaluate(() => /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/.test(document.body.innerText));
    expect(raw).toBe(false);
    await page.screenshot({ path: join(OUT, 'xss.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('incident view with --auth-token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-view-auth-'));
  const TOKEN = 'view-test-token-7f3a';
  let srv: ServeProcess;

  beforeAll(async () => {
    writeSecondsLog(join(dir, 'app.log'));
    srv = await startServe(['--transport', 'http', '--ephemeral', '--auth-token', TOKEN, '--source', `app=${join(dir, 'app.log')}`]);
  });
  afterAll(async () => {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks for the token, refuses a wrong one, keeps the right one for this tab only', async () => {
    // The refused attempts show up as failed requests in the console; nothing else may.
    const allow = [/status of 401/];
    const page = await browser.context.newPage();
    const problems = await watch(page, allow);
    const url = `${srv.base}/?t=2024-01-15T10:05:00Z`;
    await page.goto(url);
    await page.waitForSelector('#auth:not([hidden])');
    await page.fill('#token', 'wrong-token');
    await page.click('#auth button');
    await page.waitForFunction(() => /refused/.test(document.getElementById('status')?.textContent ?? ''));
    await page.waitForSelector('#auth:not([hidden])');
    await page.fill('#token', TOKEN);
    await page.click('#auth button');
    await settled(page, Date.parse('2024-01-15T10:05:00Z'));
    expect((await readEntries(page))[0]?.body).toBe('event 300');
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([1, 0]);
    await page.screenshot({ path: join(OUT, 'web-token.png') });

    await page.reload();
    await settled(page, Date.parse('2024-01-15T10:05:00Z'));
    expect(await page.isHidden('#auth')).toBe(true);

    const other = await browser.context.newPage();
    const otherProblems = await watch(other, allow);
    await other.goto(url);
    await other.waitForSelector('#auth:not([hidden])');
    expect(problems).toEqual([]);
    expect(otherProblems).toEqual([]);
    await other.close();
    await page.close();
  });
});
