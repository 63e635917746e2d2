/**
 * Debian's chromium driven by playwright-core (no browser download: .ci/run installs the
 * `chromium` package), and a watcher that turns everything a page should never do into a
 * list a test can assert empty: console errors, uncaught exceptions, CSP violations,
 * dialogs (alert/confirm: the classic XSS probe).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

export const CHROMIUM = process.env.LOG_TRIAGE_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots land here, one folder per test file (git-ignored). */
export function outputDir(name: string): string {
  const dir = fileURLToPath(new URL(`../../test-results/${name}/`, import.meta.url));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does), or set LOG_TRIAGE_CHROMIUM`);
  const profile = mkdtempSync(join(tmpdir(), 'ltm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1000, height: 800 },
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Collects what a page (and its frames) should never do. CSP violations are reported from
 * inside each frame by an init script, so one in the sandboxed view counts too.
 */
export async function watch(page: Page, allow: RegExp[] = []): Promise<string[]> {
  const problems: string[] = [];
  const note = (s: string): void => {
    if (!allow.some((re) => re.test(s))) problems.push(s);
  };
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') note(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => note(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    note(`dialog: ${d.type()} ${d.message()}`);
    void d.dismiss();
  });
  return problems;
}

/** Relative luminance of a computed CSS color (rgb()/rgba()), 0 = black, 1 = white. */
export function luminance(css: string): number {
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(css);
  if (m === null) throw new Error(`not an rgb() color: ${css}`);
  const lin = (v: number): number => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(Number(m[1])) + 0.7152 * lin(Number(m[2])) + 0.0722 * lin(Number(m[3]));
}
