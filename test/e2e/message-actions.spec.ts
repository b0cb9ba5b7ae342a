/**
 * Replies, reactions, edits and deletions between two browsers through the real relay: what
 * one person does to a message shows on the other's screen.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { acceptRequest, expectMessage, openByPreview, register, send, startChat } from './app.ts';
import { Devices } from './devices.ts';

test.describe.configure({ mode: 'serial' });

const run = Date.now().toString(36);
const names = { alice: `xalice_${run}`, bob: `xbob_${run}` };
const devices = new Devices();
let alice: Page;
let bob: Page;

test.afterAll(() => devices.closeAll());

/** The message whose own text (not a quote of it) contains `text`. */
const bubble = (page: Page, text: string): Locator =>
  page
    .getByTestId('message')
    .filter({ has: page.getByTestId('message-text').filter({ hasText: text }) });

async function menu(page: Page, text: string): Promise<Locator> {
  const row = bubble(page, text);
  await row.hover();
  await row.getByRole('button', { name: 'Message actions' }).click();
  return row.getByRole('menu');
}

test('a reply quotes, a reaction shows on the other side', async ({ browser }) => {
  alice = await devices.open(browser);
  bob = await devices.open(browser);
  await register(alice, names.alice);
  await register(bob, names.bob);
  await startChat(alice, names.bob);
  await send(alice, `lunch at noon? ${run}`);
  await openByPreview(bob, `lunch at noon? ${run}`);
  await acceptRequest(bob); // a first message from a stranger is a request

  await (await menu(bob, 'lunch at noon?')).getByRole('menuitem', { name: 'Reply' }).click();
  await expect(bob.getByTestId('composer-draft')).toContainText('Replying to');
  await send(bob, `yes! ${run}`);
  await expect(bubble(alice, 'yes!').getByTestId('quote')).toContainText('lunch at noon?');

  await (
    await menu(bob, 'lunch at noon?')
  )
    .getByRole('menuitemcheckbox', { name: 'React ❤️' })
    .click();
  await expect(
    bubble(alice, 'lunch at noon?').getByRole('button', { name: new RegExp(`^❤️ 1: `) }),
  ).toBeVisible();
});

test('an edit and a deletion for everyone reach the other side', async () => {
  await (await menu(alice, 'lunch at noon?')).getByRole('menuitem', { name: 'Edit' }).click();
  const box = alice.getByLabel('Message', { exact: true });
  await expect(box).toHaveValue(`lunch at noon? ${run}`);
  await box.fill(`lunch at one? ${run}`);
  await box.press('Enter');
  await expectMessage(bob, `lunch at one? ${run}`);
  await expect(bubble(bob, 'lunch at one?').getByTestId('edited')).toBeVisible();
  await expect(bob.getByText(`lunch at noon? ${run}`, { exact: true })).toHaveCount(0);

  await (
    await menu(alice, 'lunch at one?')
  )
    .getByRole('menuitem', { name: 'Delete for everyone' })
    .click();
  await expect(alice.getByText('You deleted this message.')).toBeVisible();
  await expect(bob.getByText('This message was deleted.')).toBeVisible();
  await expect(bob.getByText(`lunch at one? ${run}`, { exact: true })).toHaveCount(0);
});
