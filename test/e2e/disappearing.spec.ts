/**
 * Disappearing messages between two browsers through the real relay: a timer set in one
 * person's header shows as an event on the other side, and a message vanishes from the other
 * side's screen once it was read and its time ran out (the real 30 s timer; the wait is
 * generous and nothing asserts how long it took).
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { acceptRequest, expectMessage, openByPreview, register, send, startChat } from './app.ts';

test.describe.configure({ mode: 'serial' });

const run = Date.now().toString(36);
const names = { alice: `dalice_${run}`, bob: `dbob_${run}` };
const contexts: BrowserContext[] = [];
let alice: Page;
let bob: Page;

/** Long enough for a 30 s timer plus a busy machine. */
const VANISH_MS = 150_000;

test.afterAll(async () => {
  for (const c of contexts) await c.close();
});

test('a timer set in the header shows on the other side', async ({ browser }) => {
  for (let i = 0; i < 2; i++) {
    contexts.push(await browser.newContext({ viewport: { width: 1200, height: 780 } }));
  }
  alice = await contexts[0]!.newPage();
  bob = await contexts[1]!.newPage();
  await register(alice, names.alice);
  await register(bob, names.bob);
  await startChat(alice, names.bob);
  await send(alice, `hello ${run}`);
  await openByPreview(bob, `hello ${run}`);
  await acceptRequest(bob); // a first message from a stranger is a request

  await alice.getByLabel('Disappearing messages').selectOption({ label: '30 seconds' });
  await expect(
    alice.getByText('You set the disappearing message timer to 30 seconds.'),
  ).toBeVisible();
  await expect(
    bob.getByText(`${names.alice} set the disappearing message timer to 30 seconds.`),
  ).toBeVisible();
  await expect(bob.getByLabel('Disappearing messages')).toHaveValue('30');
});

test('a message read on the other side disappears from both screens', async () => {
  test.setTimeout(4 * VANISH_MS);
  const text = `this will self-destruct ${run}`;
  await send(alice, text);
  // Bob has the conversation open: the message is read as it arrives.
  await expectMessage(bob, text);
  const bobRow = bob.getByTestId('message').filter({ hasText: text });
  await expect(bobRow.getByTestId('disappearing')).toHaveText('⏱ 30s');
  await expect(bob.getByText(text, { exact: true })).toHaveCount(0, { timeout: VANISH_MS });
  await expect(alice.getByText(text, { exact: true })).toHaveCount(0, { timeout: VANISH_MS });
  // The timer change stays.
  await expect(
    bob.getByText(`${names.alice} set the disappearing message timer to 30 seconds.`),
  ).toBeVisible();
});
