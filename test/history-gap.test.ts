/**
 * The history gap (issue 17), against the real relay: messages the primary stores after it
 * made the history archive but before the new device is registered — texts received and texts
 * sent — reach neither the archive nor the new device's queue. The new device asks the primary
 * for them after importing, and they arrive, once each, in the right conversations; a large gap
 * comes as a sealed upload instead of inline.
 */
import { describe, expect, it } from 'vitest';
import { ParleyClient, type MessageRecord } from '@parley/client';
import type { FetchLike } from '@parley/client/relay.js';
import { clientOptions, newStorage, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();

const urlOf = (input: Parameters<FetchLike>[0]) =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;

/**
 * Links a new device of `primary` with history, running `duringLink` after the primary made
 * its archive and before the new device registers (its registration request is held). The new
 * device's attachment downloads are recorded in `downloaded` (by attachment id).
 */
async function linkWithGap(
  primary: ParleyClient,
  duringLink: () => Promise<void>,
  downloaded: Set<string>,
): Promise<ParleyClient> {
  const holding: FetchLike = async (input, init) => {
    const url = urlOf(input);
    if (/\/v1\/devices\/link$/.test(url) && init?.method === 'POST') await duringLink();
    const id = /\/v1\/attachments\/([^/?]+)/.exec(url)?.[1];
    if (id && (init?.method ?? 'GET') === 'GET') downloaded.add(id);
    return fetch(input, init);
  };
  let approval: Promise<void> | undefined;
  const device = await ParleyClient.link(
    { ...clientOptions(relay.url, await newStorage(), { fetch: holding }), relayUrl: relay.url },
    (uri) => {
      approval = primary.approveLink(uri, { transferHistory: true });
    },
  );
  await approval;
  return track(device);
}

const texts = async (c: ParleyClient, conversationId: string) =>
  (await c.messages(conversationId)).filter((m) => m.kind === 'text');
const shown = (m: MessageRecord) => ({
  id: m.id,
  direction: m.direction,
  senderAccountId: m.senderAccountId,
  text: m.text,
  timestamp: m.timestamp,
});

describe('history gap', () => {
  it(
    'messages stored while a device is being linked reach it after the import',
    { timeout: 180_000 },
    async () => {
      const alice = track(await registeredClient(relay.url, 'hg_alice'));
      const bob = track(await registeredClient(relay.url, 'hg_bob'));
      await alice.addContact('hg_bob');
      await bob.addContact('hg_alice');
      const withBob = `direct:${bob.accountId}`;
      await alice.sendText(bob.accountId, 'before the archive');
      await until(
        bob,
        'message',
        async () => (await texts(bob, `direct:${alice.accountId}`)).length === 1,
      );

      const downloaded = new Set<string>();
      const alice2 = await linkWithGap(
        alice,
        async () => {
          // After the snapshot, before the new device exists: Bob writes, Alice answers.
          for (let i = 0; i < 3; i++) await bob.sendText(alice.accountId, `in the gap ${i}`);
          await until(alice, 'message', async () => (await texts(alice, withBob)).length === 4);
          await alice.sendText(bob.accountId, 'my answer in the gap');
        },
        downloaded,
      );
      const filled = alice2.waitFor('historyGapFilled');
      const answered = alice.waitFor('historyGapAnswered');
      await alice2.start();
      // The archive holds only what was there before.
      expect(await alice2.historyTransferState()).toMatchObject({
        state: 'imported',
        messages: 1,
      });
      expect((await answered).deviceId).toBe(alice2.deviceId);
      expect((await filled).messages).toBe(4);
      expect(await alice2.historyTransferState()).toMatchObject({
        state: 'imported',
        gap: { state: 'filled' },
      });
      expect((await texts(alice2, withBob)).map(shown)).toEqual(
        (await texts(alice, withBob)).map(shown),
      );
      expect((await texts(alice2, withBob)).filter((m) => m.direction === 'out')).toHaveLength(2);
      expect(downloaded.size).toBe(1); // the archive; the small gap came inline

      // Later messages arrive as usual, once each.
      await alice2.announceToOwnDevices();
      await bob.sendText(alice.accountId, 'after the link');
      await until(alice2, 'message', async () => (await texts(alice2, withBob)).length === 6);
      const ids = (await texts(alice2, withBob)).map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect((await texts(alice2, withBob)).at(-1)?.text).toBe('after the link');
    },
  );

  it('a large gap arrives as a sealed upload', { timeout: 300_000 }, async () => {
    const alice = track(await registeredClient(relay.url, 'hgl_alice'));
    const bob = track(await registeredClient(relay.url, 'hgl_bob'));
    await alice.addContact('hgl_bob');
    await bob.addContact('hgl_alice');
    const withBob = `direct:${bob.accountId}`;
    await alice.sendText(bob.accountId, 'before the archive');
    const count = 150;
    // Random text does not compress: 150 × 400 bytes is well over the inline limit.
    const noise = () =>
      Array.from(crypto.getRandomValues(new Uint8Array(200)), (b) =>
        b.toString(16).padStart(2, '0'),
      ).join('');
    const downloaded = new Set<string>();
    const alice2 = await linkWithGap(
      alice,
      async () => {
        await Promise.all(
          Array.from({ length: count }, (_, i) => bob.sendText(alice.accountId, `${i} ${noise()}`)),
        );
        await until(
          alice,
          'message',
          async () => (await texts(alice, withBob)).length === count + 1,
        );
      },
      downloaded,
    );
    const filled = alice2.waitFor('historyGapFilled');
    await alice2.start();
    expect((await filled).messages).toBe(count);
    expect((await texts(alice2, withBob)).map(shown)).toEqual(
      (await texts(alice, withBob)).map(shown),
    );
    // It came through the relay's attachment store, not inline: a second download.
    expect(downloaded.size).toBe(2);
    expect(await alice2.historyTransferState()).toMatchObject({ gap: { state: 'filled' } });
  });
});
