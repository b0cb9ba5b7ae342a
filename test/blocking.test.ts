/**
 * Blocking (issue 12): blocked on one device, blocked on all of them; what a blocked account
 * sends is dropped without a receipt; unblocking anywhere lets it through again; a group with
 * a blocked member keeps working for us.
 */
import { describe, expect, it } from 'vitest';
import { BlockedContactError, type ParleyClient } from '@parley/client';
import { inbox, linkDevice, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();

/** Resolves once `client` has processed an envelope from `from` (stored or dropped). */
function processedFrom(client: ParleyClient, from: ParleyClient) {
  return client.waitFor('processed', (e) => e.sourceAccountId === from.accountId);
}

describe('blocking', () => {
  it('syncs block and unblock across two devices; blocked messages are dropped without receipts', async () => {
    const ada1 = track(await registeredClient(relay.url, 'blk_ada'));
    const ada2 = track(await linkDevice(relay.url, ada1));
    const troll = track(await registeredClient(relay.url, 'blk_troll'));
    const conv = `direct:${troll.accountId}`;
    const trollConv = `direct:${ada1.accountId}`;

    await troll.addContact('blk_ada');
    await troll.sendText(ada1.accountId, 'hello?');
    for (const a of [ada1, ada2]) {
      await until(a, 'message', async () => (await a.messages(conv)).length === 1);
    }

    // Blocked from the request on device 1; device 2 follows.
    const synced = until(
      ada2,
      'contacts',
      async () => (await ada2.contact(troll.accountId))?.blocked === true,
    );
    await ada1.blockRequest(conv);
    expect((await ada1.contact(troll.accountId))?.blocked).toBe(true);
    await synced;
    expect((await ada2.messages(conv)).map((m) => m.event ?? m.text)).toEqual([
      'hello?',
      'contact_blocked',
    ]);
    await expect(ada1.sendText(troll.accountId, 'no')).rejects.toBeInstanceOf(BlockedContactError);
    // A device linked now starts with the troll blocked.
    const ada3 = track(await linkDevice(relay.url, ada1));
    expect((await ada3.contact(troll.accountId))?.blocked).toBe(true);

    // Both devices drop what the troll sends now (from any of its devices), and answer nothing.
    const dropped = [processedFrom(ada1, troll), processedFrom(ada2, troll)];
    const blockedText = await troll.sendText(ada1.accountId, 'let me in');
    await Promise.all(dropped);
    for (const a of [ada1, ada2]) {
      expect((await a.messages(conv)).map((m) => m.text)).not.toContain('let me in');
    }
    const troll2 = track(await linkDevice(relay.url, troll));
    const dropped2 = [processedFrom(ada1, troll), processedFrom(ada2, troll)];
    await troll2.sendText(ada1.accountId, 'from my other phone');
    await Promise.all(dropped2);
    for (const a of [ada1, ada2]) {
      expect((await a.messages(conv)).map((m) => m.text)).not.toContain('from my other phone');
    }

    // Unblocked on device 2; device 1 follows, and messages arrive (with receipts) again.
    const unsynced = until(
      ada1,
      'contacts',
      async () => (await ada1.contact(troll.accountId))?.blocked !== true,
    );
    await ada2.unblock(troll.accountId);
    await unsynced;
    const inboxes = [ada1, ada2].map(inbox);
    const welcome = await troll.sendText(ada1.accountId, 'sorry');
    for (const i of inboxes) await i.waitFor(1, (m) => m.text === 'sorry');
    await until(troll, 'status', async () => {
      const sent = await troll.messages(trollConv);
      return sent.find((m) => m.id === welcome.id)?.status === 'delivered';
    });
    // Receipts go out in order: none ever went for the message sent while blocked.
    const whileBlocked = (await troll.messages(trollConv)).find((m) => m.id === blockedText.id);
    expect(whileBlocked?.status).toBe('sent');
    expect(whileBlocked?.deliveredTo).toBeUndefined();
  });

  it('a group with a blocked member still works: we send to it and drop what they post', async () => {
    const eve1 = track(await registeredClient(relay.url, 'blk_eve'));
    const eve2 = track(await linkDevice(relay.url, eve1));
    const fay = track(await registeredClient(relay.url, 'blk_fay'));
    const gus = track(await registeredClient(relay.url, 'blk_gus'));
    const group = await eve1.createGroup('with gus', [fay.accountId, gus.accountId]);
    for (const c of [eve2, fay, gus]) {
      await until(c, 'group', async () => (await c.group(group.groupId)) !== undefined);
    }
    const synced = until(
      eve2,
      'contacts',
      async () => (await eve2.contact(gus.accountId))?.blocked === true,
    );
    await eve1.block(gus.accountId);
    await synced;

    const fayInbox = inbox(fay);
    const gusInbox = inbox(gus);
    const dropped = [processedFrom(eve1, gus), processedFrom(eve2, gus)];
    await gus.sendGroupText(group.groupId, 'from the blocked one');
    await fayInbox.waitFor(1, (m) => m.text === 'from the blocked one'); // others still get it
    await Promise.all(dropped);
    const conv = `group:${group.groupId}`;
    for (const e of [eve1, eve2]) {
      expect((await e.messages(conv)).map((m) => m.text)).not.toContain('from the blocked one');
    }

    // We still post to the group, and (as Signal does) still encrypt to the blocked member.
    await eve1.sendGroupText(group.groupId, 'still here');
    await fayInbox.waitFor(1, (m) => m.text === 'still here');
    await gusInbox.waitFor(1, (m) => m.text === 'still here');
  });
});
