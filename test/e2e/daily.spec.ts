/**
 * Everyday things in real Chromium against the real relay: a link in a message opens safely;
 * the URL follows the open screen, so Back, Forward and reload stay in the app; the unread
 * count shows in the tab title and on the favicon; a desktop notification while the tab is
 * hidden; dark mode from the system and from Settings.
 */
import { expect, test, type Page } from '@playwright/test';
import { acceptRequest, expectMessage, openByPreview, register, send, startChat } from './app.ts';
import { Devices } from './devices.ts';

test.describe.configure({ mode: 'serial' });

const run = Date.now().toString(36);
const names = { alice: `dalice_${run}`, bob: `dbob_${run}` };
let alice: Page;
let bob: Page;

const devices = new Devices();
test.afterAll(() => devices.closeAll());

const background = (page: Page) =>
  page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);

test('a link in a message is clickable and opens without a handle on Parley', async ({
  browser,
}) => {
  alice = await devices.open(browser, { colorScheme: 'light' });
  bob = await devices.open(browser, { colorScheme: 'dark' });
  await register(alice, names.alice);
  await register(bob, names.bob);
  await startChat(alice, names.bob);
  await send(alice, `read https://example.org/doc?x=${run} please`);
  await openByPreview(bob, `please`);
  await acceptRequest(bob); // a first message from a stranger is a request
  const link = bob.getByRole('link', { name: `https://example.org/doc?x=${run}` });
  await expect(link).toHaveAttribute('href', `https://example.org/doc?x=${run}`);
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(link).toHaveAttribute('target', '_blank');
});

test('the URL follows the screen: Back, Forward and reload stay in the app', async () => {
  await expect(bob).toHaveURL(/#\/c\/direct%3A/);
  const chatUrl = bob.url();
  await bob.getByRole('button', { name: 'Settings' }).click();
  await expect(bob).toHaveURL(/#\/settings$/);
  await bob.goBack();
  await expect(bob).toHaveURL(chatUrl);
  await expect(bob.getByTestId('conversation-title')).toHaveText(names.alice);
  await bob.goForward();
  await expect(bob.getByRole('heading', { name: 'Settings' })).toBeVisible();
  await bob.goBack();
  await bob.reload();
  await expect(bob.getByTestId('conversation-title')).toHaveText(names.alice);
  await expectMessage(bob, 'please');
});

test('dark mode follows the system and can be switched in Settings', async () => {
  // Bob's browser prefers dark, Alice's light.
  const dark = await background(bob);
  const light = await background(alice);
  expect(dark).not.toBe(light);
  await bob.getByRole('button', { name: 'Settings' }).click();
  await bob.getByRole('radio', { name: 'Light' }).check();
  await expect.poll(() => background(bob)).toBe(light);
  await bob.reload();
  await expect.poll(() => background(bob)).toBe(light);
  await bob.getByRole('radio', { name: 'As the system' }).check();
  await expect.poll(() => background(bob)).toBe(dark);
});

test('unread messages show in the title and favicon; a hidden tab gets a notification', async () => {
  // Record notifications, and let the test say when the tab counts as hidden (a headless
  // browser never hides a page).
  await alice.context().grantPermissions(['notifications']);
  await alice.addInitScript(() => {
    const w = window as unknown as { shown: unknown[]; hidden: boolean };
    w.shown = [];
    w.hidden = false;
    const Real = window.Notification;
    // Records each notification, then shows it if this headless browser can.
    class Recording {
      static get permission() {
        return Real.permission;
      }
      static requestPermission = () => Real.requestPermission();
      onclick: (() => void) | null = null;
      #real: Notification | undefined;
      constructor(title: string, options?: NotificationOptions) {
        w.shown.push({ title, body: options?.body, tag: options?.tag });
        try {
          this.#real = new Real(title, options);
        } catch {
          // No notification service in this browser: the record is what the test checks.
        }
      }
      close() {
        this.#real?.close();
      }
    }
    Object.defineProperty(window, 'Notification', { value: Recording });
    Object.defineProperty(document, 'visibilityState', {
      get: () => (w.hidden ? 'hidden' : 'visible'),
    });
  });
  await alice.reload();
  await alice.getByRole('button', { name: 'Settings' }).click();
  await alice.getByRole('radio', { name: 'Sender and message' }).check();
  await expect(alice.getByText(/blocks notifications/)).toHaveCount(0);

  await openByPreview(bob, 'please');
  await send(bob, `first ${run}`);
  await expect(alice).toHaveTitle('(1) Parley');
  await expect(alice.locator('link[rel="icon"]')).toHaveAttribute('data-badge', '1');
  expect(await alice.evaluate(() => (window as unknown as { shown: unknown[] }).shown)).toEqual([]);

  await alice.evaluate(() => {
    (window as unknown as { hidden: boolean }).hidden = true;
  });
  await send(bob, `second ${run}`);
  await expect(alice).toHaveTitle('(2) Parley');
  await expect
    .poll(() => alice.evaluate(() => (window as unknown as { shown: unknown[] }).shown))
    .toEqual([{ title: names.bob, body: `second ${run}`, tag: expect.stringMatching(/^direct:/) }]);

  await alice.evaluate(() => {
    (window as unknown as { hidden: boolean }).hidden = false;
  });
  await openByPreview(alice, `second ${run}`);
  await expect(alice).toHaveTitle('Parley');
  await expect(alice.locator('link[rel="icon"]')).not.toHaveAttribute('data-badge');
});
