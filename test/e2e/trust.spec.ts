/**
 * Message requests, blocking and group admins in the web client (issue 12), in Chromium
 * against the real relay: a stranger's first message waits as a request (no read receipt)
 * until accepted; blocking drops what they send; in a group only admins see the controls
 * to change it, and a non-admin's update (from a modified client) is ignored and shown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import {
  acceptRequest,
  expectMessage,
  openByPreview,
  openConversation,
  register,
  send,
  shot,
  startChat,
} from './app.ts';
import { Devices } from './devices.ts';
import { E2E } from './env.ts';

test.describe.configure({ mode: 'serial' });

const run = Date.now().toString(36);
const names = { ann: `tr_ann_${run}`, ben: `tr_ben_${run}`, cal: `tr_cal_${run}` };
const devices = new Devices();
let rogue: ChildProcess | undefined;

/** The modified member (rogue-member.ts), and the lines it prints, as they come. */
function startRogue(username: string) {
  const script = fileURLToPath(new URL('./rogue-member.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--conditions=@parley/source', '--import', 'tsx', script, E2E.relayUrl, username],
    // Run where tsx is installed (the client core's dev dependency).
    {
      cwd: fileURLToPath(new URL('../../packages/client', import.meta.url)),
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, string>> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the rogue member exited');
    return JSON.parse(value as string) as Record<string, string>;
  };
  return { child, next };
}

const lastOutStatus = (page: Page) =>
  page.locator('[data-testid=message].bubble-row--out [data-status]').last();

let ann: Page;
let ben: Page;
let cal: Page;

test.afterAll(async () => {
  rogue?.stdin?.end();
  await devices.closeAll();
});

test('a first message from a stranger is a request until accepted', async ({ browser }) => {
  ann = await devices.open(browser);
  ben = await devices.open(browser);
  await register(ann, names.ann);
  await register(ben, names.ben);

  await startChat(ben, names.ann);
  const hello = `Hello, we have not met [${run}]`;
  await send(ben, hello);
  await expect(lastOutStatus(ben)).toHaveAttribute('data-status', 'delivered');

  // Ann's list marks it as a request; opening it shows Accept / Delete / Block, no composer.
  await expect(
    ann.getByTestId('conversation-item').filter({ hasText: hello }).getByText('Request'),
  ).toBeVisible();
  await openByPreview(ann, hello);
  const bar = ann.getByRole('region', { name: 'Message request' });
  await expect(bar).toContainText('wants to message you');
  await expect(ann.getByLabel('Message', { exact: true })).toHaveCount(0);
  await shot(ann, 'trust-01-request');

  // Ann has seen it (the conversation is open), yet Ben's bubble only says delivered: a later
  // message from Ben shows delivered too, so nothing else came back in between.
  const again = `Are you there? [${run}]`;
  await send(ben, again);
  await expectMessage(ann, again);
  await expect(lastOutStatus(ben)).toHaveAttribute('data-status', 'delivered');
  await expect(ben.locator('[data-testid=message].bubble-row--out [data-status=read]')).toHaveCount(
    0,
  );

  await acceptRequest(ann);
  await expect(lastOutStatus(ben)).toHaveAttribute('data-status', 'read');
  const reply = `Hi Ben, accepted [${run}]`;
  await send(ann, reply);
  await expectMessage(ben, reply);
});

test('blocking drops what they send; unblocking lets it through again', async () => {
  await ann.getByRole('button', { name: 'Block', exact: true }).click();
  const blocked = ann.getByRole('region', { name: 'Blocked' });
  await expect(blocked).toContainText('You blocked');
  await expect(ann.getByTestId('event').filter({ hasText: 'You blocked' })).toBeVisible();
  await shot(ann, 'trust-02-blocked');

  const dropped = `Sent while blocked [${run}]`;
  await send(ben, dropped);
  await expect(lastOutStatus(ben)).toHaveAttribute('data-status', 'sent');

  await blocked.getByRole('button', { name: 'Unblock' }).click();
  await expect(ann.getByLabel('Message', { exact: true })).toBeVisible();
  const through = `After the unblock [${run}]`;
  await send(ben, through);
  await expectMessage(ann, through);
  // Ben's messages arrive in order: the one sent while blocked was dropped, never shown.
  await expect(ann.getByTestId('message-text').filter({ hasText: dropped })).toHaveCount(0);
  await expect(lastOutStatus(ben)).toHaveAttribute('data-status', /^(delivered|read)$/);
  // ... and answered with no receipt.
  await expect(
    ben.locator('[data-testid=message]').filter({ hasText: dropped }).locator('[data-status]'),
  ).toHaveAttribute('data-status', 'sent');
});

test('only admins change a group; a non-admin’s update is ignored and shown', async ({
  browser,
}) => {
  cal = await devices.open(browser);
  await register(cal, names.cal);
  // A modified client (a Node client of the same core) that will claim to be an admin.
  const rogueName = `tr_rogue_${run}`;
  const modified = startRogue(rogueName);
  rogue = modified.child;
  expect(await modified.next()).toHaveProperty('ready');

  await ann.getByRole('button', { name: 'New group' }).click();
  await ann.getByLabel('Group name').fill('Admins only');
  await ann.getByLabel('Members').fill(`${names.ben}, ${names.cal}, ${rogueName}`);
  await ann.getByRole('button', { name: 'Create group' }).click();
  await expect(ann.getByTestId('conversation-title')).toHaveText('Admins only');
  const welcome = `Welcome to the group [${run}]`;
  await send(ann, welcome);

  // Cal never wrote to Ann: the group is a request for her.
  await openConversation(cal, 'Admins only');
  await expect(cal.getByRole('region', { name: 'Message request' })).toContainText(
    'added you to “Admins only”',
  );
  await acceptRequest(cal);

  // Ben (no admin) sees no controls to change the group.
  await openConversation(ben, 'Admins only');
  await ben.getByRole('button', { name: 'Group info' }).click();
  await expect(ben.getByText('Only admins can rename the group')).toBeVisible();
  await expect(ben.getByRole('button', { name: /^Remove / })).toHaveCount(0);
  await expect(ben.getByRole('button', { name: 'Rename' })).toBeDisabled();
  await expect(ben.getByTestId('member').filter({ hasText: names.ann })).toContainText('Admin');
  await ben.getByRole('button', { name: 'Back' }).click();

  // The rogue member removes the creator, with a forged admin list: ignored on every device.
  expect(await modified.next()).toHaveProperty('removed');
  for (const page of [ann, ben, cal]) {
    await openConversation(page, 'Admins only');
    await expect(
      page.getByTestId('event').filter({ hasText: 'only admins can. Ignored.' }),
    ).toBeVisible();
  }
  await shot(ben, 'trust-03-refused-update');

  // Ann makes Ben an admin: now Ben may remove a member, and everyone follows.
  await ann.getByRole('button', { name: 'Group info' }).click();
  await ann.getByRole('button', { name: `Make ${names.ben} admin` }).click();
  await expect(ann.getByTestId('member').filter({ hasText: names.ben })).toContainText('Admin');
  await ann.getByRole('button', { name: 'Back' }).click();
  await ben.getByRole('button', { name: 'Group info' }).click();
  await ben.getByRole('button', { name: `Remove ${names.cal}` }).click();
  await expect(ben.getByTestId('member')).toHaveCount(2);
  await expect(cal.getByText('You are no longer a member of this group.')).toBeVisible();
  await shot(ben, 'trust-04-admin');
});
