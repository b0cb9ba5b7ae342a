/**
 * Several tabs, one account (Chromium): two tabs of Alice's profile in one browser context
 * share one IndexedDB. Storage work is serialised across them with the Web Locks API, only
 * the tab holding the socket lock connects to the relay, the other sends over HTTP and hears
 * of new messages over a BroadcastChannel. Both tabs send to Bob at once, interleaved, while
 * Bob writes back: Bob reads every message exactly once (no decryption failures), both tabs
 * show every message exactly once. Then the leader tab closes and the other takes over the
 * socket and keeps receiving.
 */
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import {
  expectMessage,
  acceptRequest,
  openByPreview,
  openConversation,
  register,
  shot,
  startChat,
} from './app.ts';

const run = Date.now().toString(36);
const names = { alice: `tabs_alice_${run}`, bob: `tabs_bob_${run}` };

const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];
/** The relay WebSockets each page opened, and how many of them closed. */
const sockets = new Map<Page, { opened: number; closed: number }>();

async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  contexts.push(context);
  return context;
}

async function tab(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    pageErrors.push(err.message);
    console.error(`[page error] ${err.message}`);
  });
  const count = { opened: 0, closed: 0 };
  sockets.set(page, count);
  page.on('websocket', (ws) => {
    count.opened++;
    ws.on('close', () => count.closed++);
  });
  return page;
}

test.afterAll(async () => {
  for (const c of contexts) await c.close();
});

/** The message bubbles showing `text` (every text here ends with its own " [run]"). */
const bubbles = (page: Page, text: string) =>
  page.getByTestId('message-text').filter({ hasText: text });

/** Types and sends `text` without waiting for it to show (so tabs can send at once). */
async function type(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

async function expectEachOnce(page: Page, texts: readonly string[]): Promise<void> {
  for (const t of texts) await expect(bubbles(page, t), t).toHaveCount(1);
}

const role = (page: Page) => page.getByTestId('connection');

test('two tabs of one account: one socket, no corrupted session, nothing processed twice', async ({
  browser,
}) => {
  const aliceContext = await newContext(browser);
  const tab1 = await tab(aliceContext);
  const bob = await tab(await newContext(browser));
  await register(tab1, names.alice);
  await register(bob, names.bob);
  await expect(role(tab1)).toHaveAttribute('data-tab', 'leader');

  // A second tab of the same profile: same account, no second socket.
  const tab2 = await tab(aliceContext);
  await tab2.goto('/');
  await expect(tab2.getByTestId('my-username')).toHaveText(names.alice);
  await expect(role(tab2)).toHaveAttribute('data-tab', 'follower');
  for (const p of [tab1, tab2]) await expect(role(p)).toHaveText('Connected');

  // Tab 1 starts the chat; tab 2 sees the conversation appear.
  await startChat(tab1, names.bob);
  const first = `Alice tab one opens [${run}]`;
  await type(tab1, first);
  await expectMessage(tab1, first);
  await openConversation(tab2, names.bob);
  await expectMessage(tab2, first);
  await openByPreview(bob, first);
  await expectMessage(bob, first);
  await acceptRequest(bob);
  await shot(tab2, 'tabs-01-second-tab');

  // Both tabs send at the same moment, over and over, while Bob writes back.
  const fromAlice = [first];
  const fromBob: string[] = [];
  const rounds = 6;
  const alice = (async () => {
    for (let i = 1; i <= rounds; i++) {
      const a = `tab one says ${i} [${run}]`;
      const b = `tab two says ${i} [${run}]`;
      fromAlice.push(a, b);
      await Promise.all([type(tab1, a), type(tab2, b)]);
      await Promise.all([expectMessage(tab1, a), expectMessage(tab2, b)]);
    }
  })();
  const bobSends = (async () => {
    for (let i = 1; i <= rounds; i++) {
      const t = `Bob answers ${i} [${run}]`;
      fromBob.push(t);
      await type(bob, t);
      await expectMessage(bob, t);
    }
  })();
  await Promise.all([alice, bobSends]);

  const all = [...fromAlice, ...fromBob];
  // Bob: every message of both tabs exactly once, all readable.
  await expectEachOnce(bob, all);
  // Both of Alice's tabs: each of Bob's messages (received by the leader) and each of the
  // other tab's messages exactly once.
  await expectEachOnce(tab1, all);
  await expectEachOnce(tab2, all);
  for (const p of [bob, tab1, tab2]) {
    await expect(p.getByTestId('message-text')).toHaveCount(all.length);
    await expect(p.getByTestId('event').filter({ hasText: 'could not be decrypted' })).toHaveCount(
      0,
    );
  }
  // The messages of both tabs reached the relay (none stuck as "sending" or "not sent").
  for (const p of [tab1, tab2]) {
    await expect(p.getByText('Not sent')).toHaveCount(0);
  }
  await expect(role(tab1)).toHaveAttribute('data-tab', 'leader');
  await expect(role(tab2)).toHaveAttribute('data-tab', 'follower');
  // One socket for the device all along: the leader's, never replaced; none from tab 2.
  expect(sockets.get(tab1)).toEqual({ opened: 1, closed: 0 });
  expect(sockets.get(tab2)).toEqual({ opened: 0, closed: 0 });
  await shot(tab1, 'tabs-02-leader-tab');
  await shot(tab2, 'tabs-03-follower-tab');
  await shot(bob, 'tabs-04-bob');

  // The leader tab closes: the other tab takes over the socket and keeps receiving.
  await tab1.close();
  await expect(role(tab2)).toHaveAttribute('data-tab', 'leader');
  await expect(role(tab2)).toHaveText('Connected');
  const after = `Bob after the first tab closed [${run}]`;
  await type(bob, after);
  await expectMessage(bob, after);
  await expect(bubbles(tab2, after)).toHaveCount(1);
  const reply = `tab two, now alone, replies [${run}]`;
  await type(tab2, reply);
  await expectMessage(tab2, reply);
  await expect(bubbles(bob, reply)).toHaveCount(1);
  for (const p of [bob, tab2]) {
    await expect(p.getByTestId('message-text')).toHaveCount(all.length + 2);
    await expect(p.getByTestId('event').filter({ hasText: 'could not be decrypted' })).toHaveCount(
      0,
    );
  }
  await shot(tab2, 'tabs-05-takeover');

  // A new tab joins as a follower of the new leader.
  const tab3 = await tab(aliceContext);
  await tab3.goto('/');
  await expect(role(tab3)).toHaveAttribute('data-tab', 'follower');
  await expect(role(tab3)).toHaveText('Connected');
  await openConversation(tab3, names.bob);
  await expectEachOnce(tab3, [...all, after, reply]);
  expect(sockets.get(tab2)).toEqual({ opened: 1, closed: 0 });
  expect(sockets.get(tab3)).toEqual({ opened: 0, closed: 0 });
  expect(pageErrors).toEqual([]);
});

test('a tab on the welcome screen follows a registration in another tab', async ({ browser }) => {
  const context = await newContext(browser);
  const waiting = await tab(context);
  await waiting.goto('/');
  await expect(waiting.getByRole('button', { name: 'Create account' })).toBeVisible();
  const other = await tab(context);
  const name = `tabs_carol_${run}`;
  await register(other, name);
  // No reload: the waiting tab hears of the new account and opens it, as a follower.
  await expect(waiting.getByTestId('my-username')).toHaveText(name);
  await expect(role(waiting)).toHaveAttribute('data-tab', 'follower');
  await expect(role(waiting)).toHaveText('Connected');
  await expect(role(other)).toHaveAttribute('data-tab', 'leader');
  expect(sockets.get(waiting)).toEqual({ opened: 0, closed: 0 });
  await shot(waiting, 'tabs-06-registered-elsewhere');

  // Locking one tab locks them all (the keys leave every tab); unlocking one makes it the
  // leader again if the other is still locked.
  await other.getByRole('button', { name: 'Settings' }).click();
  const passphrase = 'correct horse battery';
  await other.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await other.getByLabel('Repeat').fill(passphrase);
  await other.getByRole('button', { name: 'Set passphrase' }).click();
  await expect(other.getByText('Passphrase saved.')).toBeVisible();
  await other.getByRole('button', { name: 'Lock now' }).click();
  for (const p of [other, waiting]) {
    await expect(p.getByRole('button', { name: 'Unlock' })).toBeVisible();
  }
  await shot(waiting, 'tabs-07-locked-from-the-other-tab');
  await waiting.getByLabel('Passphrase').fill(passphrase);
  await waiting.getByRole('button', { name: 'Unlock' }).click();
  await expect(waiting.getByTestId('my-username')).toHaveText(name);
  await expect(role(waiting)).toHaveAttribute('data-tab', 'leader');
  await expect(role(waiting)).toHaveText('Connected');
  await expect(other.getByRole('button', { name: 'Unlock' })).toBeVisible();
  expect(pageErrors).toEqual([]);
});
