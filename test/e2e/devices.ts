/**
 * One browser context per simulated device, all opened the same way (viewport, page errors
 * printed, CSP violations collected) and closed together when a spec ends.
 */
import type { Browser, BrowserContext, BrowserContextOptions, Page } from '@playwright/test';

export const DESKTOP = { width: 1200, height: 780 };
export const PHONE = { width: 390, height: 800 };

export class Devices {
  readonly #contexts: BrowserContext[] = [];
  /** Everything any page's Content-Security-Policy blocked (a spec expects none). */
  readonly cspViolations: string[] = [];

  /** A new device: its own context (storage, cookies) and one page in it. */
  async open(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: DESKTOP, ...options });
    this.#contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) this.cspViolations.push(msg.text());
    });
    return page;
  }

  async closeAll(): Promise<void> {
    for (const context of this.#contexts.splice(0)) await context.close();
  }
}
