/**
 * The web client against the real relay, one browser context per device:
 * registration, 1:1 chat both ways, safety numbers, reload (IndexedDB), linking a second
 * device, a group of three with a member removed, and finally a scan of the relay's database
 * for every message text sent.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import {
  acceptRequest,
  expectConversation,
  expectMessage,
  openConversation,
  register,
  safetyNumber,
  send,
  shot,
  startChat,
} from './app.ts';
import { Devices, PHONE } from './devices.ts';
import { E2E } from './env.ts';

test.describe.configure({ mode: 'serial' });

const run = Date.now().toString(36);
const names = { alice: `alice_${run}`, bob: `bob_${run}`, carol: `carol_${run}` };
/** Every text sent, to look for in the relay's database at the end. */
const sent: string[] = [];
const say = (text: string) => {
  const t = `${text} [${run}]`;
  sent.push(t);
  return t;
};

const devices = new Devices();

let alice: Page;
let bob: Page;
let alice2: Page;
let carol: Page;

test.afterAll(() => devices.closeAll());

test('Alice and Bob register and chat both ways', async ({ browser }) => {
  alice = await devices.open(browser);
  bob = await devices.open(browser);
  // The relay serves the page with its own strict policy; the app talks to that origin only.
  const page = await alice.goto('/');
  const csp = page?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain(`connect-src 'self' ws://${new URL(E2E.webUrl).host}`);
  expect(csp).not.toContain('unsafe-');
  await shot(alice, '01-onboarding');
  await register(alice, names.alice);
  await register(bob, names.bob);
  await shot(alice, '02-empty-conversations');

  await startChat(alice, names.bob);
  const hello = say('Hello Bob, this is Alice');
  await send(alice, hello);

  // Bob never looked Alice up: her first message names her (confirmed with the relay).
  await openConversation(bob, names.alice);
  await expectMessage(bob, hello);
  await acceptRequest(bob); // a first message from a stranger is a request
  // Her message carried her access secret: Bob's replies go sealed (the header says so).
  await expect(bob.getByText('Sealed sender: on')).toBeVisible();
  const reply = say('Hi Alice! Bob here <b>not bold</b>');
  await send(bob, reply);

  await expectMessage(alice, reply);
  await expect(alice.getByText('Sealed sender: on')).toBeVisible();
  // Bob read Alice's message: her last outgoing message shows "read".
  await expect(
    alice.locator('[data-testid=message].bubble-row--out [data-status]').last(),
  ).toHaveAttribute('data-status', 'read');
  // Text stays text.
  await expect(alice.locator('.bubble b')).toHaveCount(0);
  await shot(alice, '03-conversation');
});

test('safety numbers are equal on both sides', async () => {
  const a = await safetyNumber(alice, names.bob);
  const b = await safetyNumber(bob); // Bob still has Alice's chat open
  expect(a).toHaveLength(60);
  expect(a).toBe(b);
  await shot(alice, '04-safety-number');
  await alice.getByRole('button', { name: 'Mark as verified' }).click();
  await expect(alice.getByTestId('verified')).toBeVisible();
  await alice.getByRole('button', { name: 'Back' }).click();
  await bob.getByRole('button', { name: 'Back' }).click();
});

test('a reload keeps the history (IndexedDB)', async () => {
  await alice.reload();
  await expect(alice.getByTestId('my-username')).toHaveText(names.alice);
  await openConversation(alice, names.bob);
  for (const text of sent) await expectMessage(alice, text);
  // The keys never reach localStorage. The URL names the open screen and nothing else, in the
  // fragment (which a browser never sends to the relay): the conversation reloaded into.
  expect(await alice.evaluate(() => Object.keys(localStorage).length)).toBe(0);
  expect(new URL(alice.url()).search).toBe('');
  expect(new URL(alice.url()).hash).toMatch(/^#\/c\/direct%3A[A-Za-z0-9_-]+$/);
});

test('Alice links a second device and both of her devices stay in the conversation', async ({
  browser,
}) => {
  alice2 = await devices.open(browser, { viewport: PHONE });
  await alice2.goto('/');
  await alice2.getByRole('tab', { name: 'Link to my account' }).click();
  const code = alice2.getByTestId('link-code');
  await expect(code).toHaveValue(/^parley:\/\/link\?/);
  await shot(alice2, '05-link-this-device');
  const uri = await code.inputValue();

  await alice.getByRole('button', { name: 'Devices' }).click();
  await alice.getByTestId('approve-code').fill(uri);
  await alice.getByRole('button', { name: 'Approve device' }).click();
  await expect(alice.getByText('Device linked.')).toBeVisible();
  await expect(alice2.getByTestId('my-username')).toHaveText(names.alice);
  await expect(alice.getByTestId('device')).toHaveCount(2);
  // Names are sealed to the account: both devices read them; "last active" is a day.
  await expect(alice.getByTestId('device-name')).toHaveText(['Chrome (web)', 'Chrome (web)']);
  await expect(alice.getByTestId('device-last-active')).toHaveText([
    'Active today',
    'Active today',
  ]);
  await shot(alice, '06-devices');
  await alice2.getByRole('button', { name: 'Devices' }).click();
  await expect(alice2.getByTestId('device-name')).toHaveText(['Chrome (web)', 'Chrome (web)']);
  await alice2.getByRole('button', { name: 'Back' }).click();
  // History came along (approved with the default choice): the chat with Bob is there before
  // he writes again, with the earlier messages, and says where it came from.
  await openConversation(alice2, names.bob);
  await expect(alice2.getByTestId('message-text').first()).toBeVisible();
  await expect(alice2.getByTestId('linked-device-note').first()).toHaveAttribute(
    'data-history',
    'imported',
  );
  await alice2.getByRole('button', { name: 'Back to conversations' }).click();

  // Bob → Alice reaches both devices.
  const toBoth = say('Bob to both of your devices');
  await send(bob, toBoth); // Bob is back in Alice's chat
  await openConversation(alice, names.bob);
  await expectMessage(alice, toBoth);
  await expectConversation(alice2, names.bob, toBoth);
  await openConversation(alice2, names.bob);
  await expectMessage(alice2, toBoth);

  // Alice's second device → Bob, and her first device sees what it sent.
  const fromPhone = say('Sent from my second device');
  await send(alice2, fromPhone);
  await expectMessage(bob, fromPhone);
  await expectMessage(alice, fromPhone);
  await shot(alice2, '07-second-device-phone');
});

test('a group of three, then a member is removed', async ({ browser }) => {
  carol = await devices.open(browser);
  await register(carol, names.carol);

  await alice.getByRole('button', { name: 'New group' }).click();
  await alice.getByLabel('Group name').fill('Weekend trip');
  await alice.getByLabel('Members').fill(`${names.bob}, ${names.carol}`);
  await alice.getByRole('button', { name: 'Create group' }).click();
  await expect(alice.getByTestId('conversation-title')).toHaveText('Weekend trip');

  const plan = say('Group plan: leave at 9');
  await send(alice, plan);
  for (const page of [bob, carol]) {
    await openConversation(page, 'Weekend trip');
    await expectMessage(page, plan);
  }
  await acceptRequest(carol); // Carol never wrote to Alice: the group is a request for her
  const carolSays = say('Carol agrees');
  await send(carol, carolSays);
  await expectMessage(alice, carolSays);
  await expectMessage(bob, carolSays);
  await shot(bob, '08-group');
  // Bob never met Carol: the group's member list names her all the same.
  await bob.getByRole('button', { name: 'Group info' }).click();
  await expect(bob.getByTestId('member').filter({ hasText: names.carol })).toBeVisible();
  await bob.getByRole('button', { name: 'Back' }).click();

  await alice.getByRole('button', { name: 'Group info' }).click();
  await alice.getByRole('button', { name: `Remove ${names.carol}` }).click();
  await expect(alice.getByTestId('member')).toHaveCount(1);
  await shot(alice, '09-group-info');
  await alice.getByRole('button', { name: 'Back' }).click();

  const secret = say('Only Alice and Bob see this');
  await send(alice, secret);
  await expectMessage(bob, secret);
  await expect(carol.getByText('You are no longer a member of this group.')).toBeVisible();
  await expect(carol.getByTestId('message-text').filter({ hasText: secret })).toHaveCount(0);
});

test('the relay’s database holds none of the message texts', async () => {
  // Every message was delivered above, so anything the relay kept is in these files.
  const files = readdirSync(E2E.relayDir)
    .filter((f) => f.startsWith(basename(E2E.dbPath)))
    .map((f) => `${dirname(E2E.dbPath)}/${f}`);
  expect(files.length).toBeGreaterThan(0);
  const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
  expect(bytes.length).toBeGreaterThan(0);
  expect(bytes.includes(Buffer.from(names.alice))).toBe(true); // usernames are stored: the scan sees data
  for (const text of sent) {
    expect(bytes.includes(Buffer.from(text, 'utf8')), text).toBe(false);
    expect(bytes.includes(Buffer.from(text, 'utf16le')), text).toBe(false);
  }
  expect(sent.length).toBeGreaterThanOrEqual(7);
});

test('the Content-Security-Policy blocked nothing', () => {
  expect(devices.cspViolations).toEqual([]);
});
