/**
 * Linking a device by scanning its QR code: the new device shows its link code; that QR code is
 * turned into a fake camera (a Y4M file) for a second Chromium, where the existing device opens
 * Devices → Scan QR code, reads it, approves, and the new device finishes linking. Also: with
 * the camera denied, the scanner says so and pasting still works.
 *
 * Playwright's own browser fixture has no fake camera; the scanning device gets a second
 * Chromium launched with the fake-capture flags, which must name the file at launch.
 */
import { mkdirSync } from 'node:fs';
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { register, shot } from './app.ts';
import { E2E } from './env.ts';
import { qrModulesOf, writeQrY4m } from './fake-camera.ts';

test.describe.configure({ mode: 'serial' });

const run = Date.now().toString(36);
const baseArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const browsers: Browser[] = [];
const cspViolations: string[] = [];

function watch(page: Page): Page {
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
  });
  return page;
}

test.afterAll(async () => {
  for (const b of browsers) await b.close();
});

/** The Permissions-Policy the relay serves the app with. */
async function servedPolicy(): Promise<string> {
  return (await fetch(`${E2E.webUrl}/`)).headers.get('permissions-policy') ?? '';
}
const forbidsCamera = (policy: string) => /(^|[\s,])camera=\(\)/.test(policy);

test('the relay lets the app use the camera (Permissions-Policy camera=(self))', async () => {
  const policy = await servedPolicy();
  expect(policy).toMatch(/(^|[\s,])camera=\(self\)/);
});

test('the existing device scans the new device’s QR code and approves it', async ({ browser }) => {
  const username = `scan_${run}`;
  // The new device shows its link code first: its QR code becomes the other browser's camera.
  const fresh = watch(
    await (await browser.newContext({ viewport: { width: 390, height: 800 } })).newPage(),
  );
  await fresh.goto('/');
  await fresh.getByRole('tab', { name: 'Link to my account' }).click();
  await expect(fresh.getByTestId('link-code')).toHaveValue(/^parley:\/\/link\?/);
  const qr = await qrModulesOf(fresh.getByRole('img', { name: 'Link code as a QR code' }));
  mkdirSync(E2E.relayDir, { recursive: true });
  const y4m = `${E2E.relayDir}/link-qr-${run}.y4m`;
  writeQrY4m(y4m, qr);

  const withCamera = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      ...baseArgs,
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${y4m}`,
    ],
  });
  browsers.push(withCamera);
  const context = await withCamera.newContext({
    baseURL: E2E.webUrl,
    viewport: { width: 1200, height: 780 },
  });
  await context.grantPermissions(['camera'], { origin: E2E.webUrl });
  expect(forbidsCamera(await servedPolicy())).toBe(false);
  const existing = watch(await context.newPage());
  await register(existing, username);
  await existing.getByRole('button', { name: 'Devices' }).click();
  // Keyboard only: focus the action and press Enter.
  const scan = existing.getByRole('button', { name: 'Scan QR code' });
  await scan.focus();
  await existing.keyboard.press('Enter');
  await expect(existing.getByRole('group', { name: 'QR code scanner' })).toBeVisible();
  await expect(existing.getByText('Device linked.')).toBeVisible();
  // The camera is released after the scan.
  await expect(existing.getByTestId('qr-scanner-video')).toHaveCount(0);
  expect(await existing.evaluate(() => document.querySelectorAll('video').length)).toBe(0);
  await expect(fresh.getByTestId('my-username')).toHaveText(username);
  await expect(existing.getByTestId('device')).toHaveCount(2);
  await shot(existing, '20-linked-by-scan');
  expect(cspViolations).toEqual([]);
  await fresh.context().close();
});

test('with the camera denied the scanner says so, and pasting still links', async ({ browser }) => {
  const username = `nocam_${run}`;
  // Default browser: no fake camera, and no camera permission granted.
  const context = await browser.newContext({ viewport: { width: 1200, height: 780 } });
  const existing = watch(await context.newPage());
  // A browser that refuses the camera outright.
  await existing.addInitScript(() => {
    Object.defineProperty(navigator.mediaDevices, 'getUserMedia', {
      value: () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError')),
    });
  });
  await register(existing, username);
  await existing.getByRole('button', { name: 'Devices' }).click();
  await existing.getByRole('button', { name: 'Scan QR code' }).click();
  // Denied by the user, or turned off by the page's Permissions-Policy: either way, paste.
  await expect(existing.getByRole('alert')).toHaveText(
    /Camera access was denied|does not allow the camera/,
  );
  await shot(existing, '21-scan-camera-denied');

  const fresh = watch(await (await browser.newContext()).newPage());
  await fresh.goto('/');
  await fresh.getByRole('tab', { name: 'Link to my account' }).click();
  const code = fresh.getByTestId('link-code');
  await expect(code).toHaveValue(/^parley:\/\/link\?/);
  await existing.getByTestId('approve-code').fill(await code.inputValue());
  await existing.getByRole('button', { name: 'Approve device' }).click();
  await expect(existing.getByText('Device linked.')).toBeVisible();
  await expect(fresh.getByTestId('my-username')).toHaveText(username);
  await existing.getByRole('button', { name: 'Close' }).click();
  await expect(existing.getByRole('button', { name: 'Scan QR code' })).toBeFocused();
  expect(cspViolations).toEqual([]);
  await context.close();
  await fresh.context().close();
});
