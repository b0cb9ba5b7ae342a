/**
 * A message typed while the network is down: one bubble, shown as queued, the composer empty;
 * once the browser is back online it is sent by itself, exactly once.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { expectMessage, openConversation, register, send, startChat } from './app.ts';

const run = Date.now().toString(36);
const names = { alice: `oa_${run}`, bob: `ob_${run}` };
const contexts: BrowserContext[] = [];

test.afterAll(async () => {
  for (const c of contexts) await c.close();
});

function bubbles(page: Page, text: string) {
  return page.getByTestId('message').filter({ hasText: text });
}

test('a message typed during an outage is queued, then sent once', async ({ browser }) => {
  const pages: Page[] = [];
  for (let i = 0; i < 2; i++) {
    const context = await browser.newContext({ viewport: { width: 1200, height: 780 } });
    contexts.push(context);
    pages.push(await context.newPage());
  }
  const [alice, bob] = pages as [Page, Page];
  await register(alice, names.alice);
  await register(bob, names.bob);
  await startChat(alice, names.bob);
  await send(alice, `before the outage ${run}`);

  const text = `typed during the outage ${run}`;
  await alice.context().setOffline(true);
  const box = alice.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
  await expect(bubbles(alice, text)).toHaveCount(1);
  await expect(bubbles(alice, text).locator('[data-status]')).toHaveAttribute(
    'data-status',
    'queued',
  );
  await expect(box).toHaveValue('');

  // Back online: the browser's `online` event reconnects and sends what was queued.
  await alice.context().setOffline(false);
  await expect(bubbles(alice, text).locator('[data-status]')).toHaveAttribute(
    'data-status',
    /^(sent|delivered|read)$/,
  );
  await expect(bubbles(alice, text)).toHaveCount(1);
  await expect(box).toHaveValue('');

  await openConversation(bob, names.alice);
  await expectMessage(bob, text);
  await expect(bubbles(bob, text)).toHaveCount(1);
});
