/**
 * Deleted accounts and reused usernames in the web client against the real relay (issue 12):
 * Carol deletes her account; Alice's chat with her says "account deleted" and stops sending; a
 * group with her keeps working for everyone else and drops her on every member's screen; then
 * a newcomer registers Carol's username and writes to Alice, who gets a new conversation
 * flagged "not the … you talked to before" while the old one keeps Carol's name.
 */
import { expect, test, type Page } from '@playwright/test';
import {
  acceptRequest,
  expectMessage,
  openConversation,
  register,
  send,
  shot,
  startChat,
} from './app.ts';
import { Devices } from './devices.ts';

test.describe.configure({ mode: 'serial' });

const run = Date.now().toString(36);
const names = { alice: `lc_alice_${run}`, bob: `lc_bob_${run}`, carol: `lc_carol_${run}` };

const devices = new Devices();
test.afterAll(() => devices.closeAll());

let alice: Page;
let bob: Page;

const subtitle = (page: Page) => page.getByTestId('conversation-subtitle');

test('a deleted account: its chat says so, and its group keeps working without it', async ({
  browser,
}) => {
  alice = await devices.open(browser);
  bob = await devices.open(browser);
  const carol = await devices.open(browser);
  await register(alice, names.alice);
  await register(bob, names.bob);
  await register(carol, names.carol);

  await startChat(alice, names.carol);
  await send(alice, 'Hi Carol');
  await openConversation(carol, names.alice);
  await expectMessage(carol, 'Hi Carol');

  await alice.getByRole('button', { name: 'New group' }).click();
  await alice.getByLabel('Group name').fill('Book club');
  await alice.getByLabel('Members').fill(`${names.bob}, ${names.carol}`);
  await alice.getByRole('button', { name: 'Create group' }).click();
  await expect(alice.getByTestId('conversation-title')).toHaveText('Book club');
  await send(alice, 'Chapter one by Friday');
  await openConversation(bob, 'Book club');
  await acceptRequest(bob); // Alice added Bob, a stranger so far: a group request
  await expectMessage(bob, 'Chapter one by Friday');
  await expect(subtitle(bob)).toHaveText('3 members');

  // Carol deletes her account.
  await carol.getByRole('button', { name: 'Settings' }).click();
  await carol.getByRole('button', { name: 'Delete account…' }).click();
  await carol.getByLabel(`Type your username, ${names.carol}, to confirm`).fill(names.carol);
  await carol.getByRole('button', { name: 'Delete my account' }).click();
  await expect(carol.getByRole('button', { name: 'Create account' })).toBeVisible();

  // Alice writes to her: not sent, "account deleted", and the composer is gone.
  await openConversation(alice, names.carol);
  const box = alice.getByLabel('Message', { exact: true });
  await box.fill('Are you there?');
  await box.press('Enter');
  await expect(alice.getByTestId('send-failure')).toHaveText('Not sent: this account was deleted.');
  await expect(
    alice.getByTestId('send-failure').getByRole('button', { name: 'Retry' }),
  ).toHaveCount(0);
  await expect(subtitle(alice)).toHaveText('Account deleted');
  await expect(alice.getByTestId('account-deleted')).toContainText(
    `${names.carol} deleted their account`,
  );
  await expect(alice.getByLabel('Message', { exact: true })).toHaveCount(0);
  await shot(alice, 'lifecycle-01-account-deleted');

  // The group: Alice's message reaches Bob; both see Carol gone and two members.
  await openConversation(alice, 'Book club');
  await send(alice, 'Carol left us');
  await expectMessage(bob, 'Carol left us');
  const goneText = `${names.carol} deleted their account and is no longer in the group.`;
  for (const page of [alice, bob]) {
    await expect(page.getByText(goneText)).toBeVisible();
    await expect(subtitle(page)).toHaveText('2 members');
  }
  await bob.getByRole('button', { name: 'Group info' }).click();
  await expect(bob.getByTestId('member')).toHaveCount(1);
  await expect(bob.getByTestId('member').filter({ hasText: names.carol })).toHaveCount(0);
  await shot(bob, 'lifecycle-02-group-member-gone');
  await bob.getByRole('button', { name: 'Back' }).click();
  await send(bob, 'Just the two of us');
  await expectMessage(alice, 'Just the two of us');
});

test('a newcomer with Carol’s username gets a new conversation, flagged', async ({ browser }) => {
  const mallory = await devices.open(browser);
  await register(mallory, names.carol);
  await startChat(mallory, names.alice);
  await send(mallory, 'It is me, Carol, new phone');

  // Alice: a second conversation titled with the name, flagged; the old one keeps the name.
  const items = alice.getByTestId('conversation-item').filter({ hasText: names.carol });
  await expect(items).toHaveCount(2);
  await items.filter({ hasText: 'It is me, Carol, new phone' }).click();
  await expect(alice.getByTestId('conversation-title')).toHaveText(names.carol);
  await expect(alice.getByTestId('reused-username')).toContainText(
    `Not the ${names.carol} you talked to before`,
  );
  await shot(alice, 'lifecycle-03-reused-username');
  await alice.getByRole('button', { name: 'Safety number' }).click();
  await expect(alice.getByTestId('safety-number')).toHaveText(/^[0-9]{60}$/);
  await expect(alice.getByTestId('reused-username')).toContainText(
    `Not the ${names.carol} you talked to before`,
  );
  await alice.getByRole('button', { name: 'Back' }).click();

  // The old one is marked in the list too; the newcomer's is not.
  await expect(
    items.filter({ hasText: 'Are you there?' }).getByTestId('account-status'),
  ).toHaveText('deleted');
  await expect(
    items.filter({ hasText: 'It is me, Carol, new phone' }).getByTestId('account-status'),
  ).toHaveCount(0);
  await items.filter({ hasText: 'Are you there?' }).click();
  await expect(subtitle(alice)).toHaveText('Account deleted');
  await expect(alice.getByTestId('reused-username')).toHaveCount(0);
});
