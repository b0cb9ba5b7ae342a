// @vitest-environment node
/// <reference types="node" />
/**
 * `ClientModel` on the real client core and the real relay process (fake-indexeddb for
 * storage, the `ws` package for WebSockets): what the screens see after registering,
 * chatting both ways, reading, and reopening storage.
 */
import { useRelay } from '@parley/e2e/use-relay.js';
import { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { ClientModel } from './client-model.ts';
import type { ModelState } from './types.ts';

const { relay } = useRelay();

let n = 0;
function model(profile = `p${++n}-${Date.now()}`) {
  return new ClientModel({
    relayUrl: relay.url,
    dbName: `parley-${profile}`,
    keyringName: `keyring-${profile}`,
    WebSocket: WebSocket as unknown as ConstructorParameters<typeof ClientModel>[0]['WebSocket'],
  });
}

/** Resolves when the model's state satisfies `predicate`. */
function until(
  m: ClientModel,
  predicate: (s: ModelState) => boolean,
  what: string,
): Promise<ModelState> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, 90_000); // only bounds a hang: generous for a busy machine
    const check = () => {
      const s = m.getState();
      if (predicate(s)) {
        clearTimeout(timer);
        off();
        resolve(s);
      }
    };
    const off = m.subscribe(check);
    check();
  });
}

const texts = (s: ModelState, id: string) =>
  (s.messages[id] ?? []).filter((m) => m.kind === 'text').map((m) => m.text);

describe('ClientModel with the real relay', () => {
  it('registers, chats both ways, tracks unread and read state, and survives reopening', async () => {
    const run = Date.now().toString(36);
    const alice = model(`alice-${run}`);
    const bob = model(`bob-${run}`);
    await alice.init();
    await bob.init();
    expect(alice.getState().phase.kind).toBe('welcome');
    await alice.register(`alice_${run}`);
    await bob.register(`bob_${run}`);
    const a = alice.getState().me!;
    const b = bob.getState().me!;
    expect(a.username).toBe(`alice_${run}`);
    expect(a.isPrimary).toBe(true);
    await until(alice, (s) => s.connection === 'online', 'alice online');

    const toBob = await alice.startDirect(`bob_${run}`);
    expect(toBob).toBe(`direct:${b.accountId}`);
    await expect(alice.startDirect('nobody_here_xyz')).rejects.toThrow(/No one is called/);
    await alice.sendText(toBob, 'hello bob');
    expect(texts(alice.getState(), toBob)).toEqual(['hello bob']);

    const toAlice = `direct:${a.accountId}`;
    let s = await until(
      bob,
      (st) => st.conversations.some((c) => c.id === toAlice && c.unread === 1),
      'bob unread',
    );
    // A first message from a stranger names its sender once the relay confirms the username
    // the message claims.
    s = await until(
      bob,
      (st) => st.conversations.some((c) => c.id === toAlice && c.title === `alice_${run}`),
      'sender name',
    );
    expect(s.conversations[0]).toMatchObject({
      title: `alice_${run}`,
      lastMessage: { text: 'hello bob', direction: 'in' },
    });
    await bob.openConversation(toAlice);
    await bob.markRead(toAlice);
    expect(bob.getState().conversations.find((c) => c.id === toAlice)?.unread).toBe(0);
    // A first message from a stranger is a message request: the read receipt waits for Accept.
    expect(bob.getState().conversations.find((c) => c.id === toAlice)?.request).toBe(true);
    await bob.acceptRequest(toAlice);
    expect(bob.getState().conversations.find((c) => c.id === toAlice)?.request).toBeUndefined();
    await until(
      alice,
      (st) => st.messages[toBob]?.find((m) => m.text === 'hello bob')?.status === 'read',
      'read receipt',
    );

    await bob.sendText(toAlice, 'hi alice');
    s = await until(alice, (st) => texts(st, toBob).includes('hi alice'), 'reply');
    expect(texts(s, toBob)).toEqual(['hello bob', 'hi alice']);

    // Safety numbers agree.
    const sa = await alice.safetyNumber(b.accountId);
    const sb = await bob.safetyNumber(a.accountId);
    expect(sa.digits).toMatch(/^[0-9]{60}$/);
    expect(sa.digits).toBe(sb.digits);
    await alice.setVerified(b.accountId, true);
    expect(alice.getState().contacts[b.accountId]?.verified).toBe(true);

    // A second model on the same storage (a reload) sees the history.
    const devices = await alice.listDevices();
    expect(devices).toMatchObject([{ deviceId: 1, current: true }]);
    const again = new ClientModel({
      relayUrl: relay.url,
      dbName: `parley-alice-${run}`,
      keyringName: `keyring-alice-${run}`,
      WebSocket: WebSocket as unknown as ConstructorParameters<typeof ClientModel>[0]['WebSocket'],
    });
    await again.init();
    expect(again.getState().phase.kind).toBe('ready');
    await again.openConversation(toBob);
    expect(texts(again.getState(), toBob)).toEqual(['hello bob', 'hi alice']);
    expect(again.getState().contacts[b.accountId]?.verified).toBe(true);

    const blob = await alice.exportData();
    const exported = JSON.parse(await blob.text()) as { account: { username: string } };
    expect(exported.account.username).toBe(`alice_${run}`);
    expect(await blob.text()).not.toMatch(/identityKeyPair/);
    await Promise.all([alice.close(), bob.close(), again.close()]);
  }, 240_000);

  it('shows catch-up progress while a backlog is worked through, and clears it once drained', async () => {
    const run = Date.now().toString(36);
    const alice = model(`alice-c-${run}`);
    const bob = model(`bob-c-${run}`);
    await alice.init();
    await bob.init();
    await alice.register(`alicec_${run}`);
    await bob.register(`bobc_${run}`);
    const b = bob.getState().me!;
    await bob.close(); // offline
    const toBob = await alice.startDirect(`bobc_${run}`);
    for (let i = 0; i < 30; i++) await alice.sendText(toBob, `queued ${i}`);

    const again = model(`bob-c-${run}`);
    const progress: number[] = [];
    again.subscribe(() => {
      const done = again.getState().catchUp?.done;
      if (done !== undefined) progress.push(done);
    });
    await again.init();
    const toAlice = `direct:${alice.getState().me!.accountId}`;
    const s = await until(
      again,
      (st) => st.conversations.some((c) => c.id === toAlice && c.unread === 30),
      'the backlog',
    );
    await until(again, (st) => st.catchUp === undefined && st.connection === 'online', 'drained');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBeGreaterThanOrEqual(30);
    expect(s.me!.accountId).toBe(b.accountId);
    await Promise.all([alice.close(), again.close()]);
  }, 240_000);

  it('links a second device, and runs a group of three with a member removed', async () => {
    const run = Date.now().toString(36);
    const [alice, alice2, bob, carol] = [model(), model(), model(), model()];
    await Promise.all([alice.init(), alice2.init(), bob.init(), carol.init()]);
    await alice.register(`alice_${run}`);
    await bob.register(`bob_${run}`);
    await carol.register(`carol_${run}`);

    // Linking: the new device shows a code, the primary approves it.
    const offer = new Promise<string>((resolve) => {
      void alice2.startLinking((o) => resolve(o.uri), new AbortController().signal);
    });
    await alice.approveDevice(await offer);
    await until(
      alice2,
      (st) => st.phase.kind === 'ready' && st.me?.username === `alice_${run}`,
      'linked',
    );
    expect(alice2.getState().me).toMatchObject({ deviceId: 2, isPrimary: false });
    expect((await alice.listDevices()).map((d) => d.deviceId)).toEqual([1, 2]);

    const b = bob.getState().me!;
    const toBob = await alice.startDirect(`bob_${run}`);
    await alice.sendText(toBob, 'from my first device');
    await until(
      bob,
      (st) => st.conversations.some((c) => c.lastMessage?.text === 'from my first device'),
      'bob got it',
    );
    await until(
      alice2,
      (st) => st.conversations.some((c) => c.id === toBob),
      'transcript on device 2',
    );
    await alice2.openConversation(toBob);
    await until(
      alice2,
      (st) => texts(st, toBob).includes('from my first device'),
      'device 2 sees it',
    );
    await bob.sendText(`direct:${alice.getState().me!.accountId}`, 'to both devices');
    await alice.openConversation(toBob);
    await until(alice, (st) => texts(st, toBob).includes('to both devices'), 'device 1 receives');
    await until(alice2, (st) => texts(st, toBob).includes('to both devices'), 'device 2 receives');

    // A group of three; Carol is removed and does not get what follows.
    const groupConv = await alice.createGroup('Trip', [`bob_${run}`, `carol_${run}`]);
    const groupId = groupConv.slice('group:'.length);
    expect(
      alice
        .getState()
        .groups[groupId]?.members.map((m) => m.username)
        .sort(),
    ).toEqual([`bob_${run}`, `carol_${run}`]);
    await alice.sendText(groupConv, 'group hello');
    for (const m of [bob, carol]) {
      await until(
        m,
        (st) =>
          st.conversations.some((c) => c.id === groupConv && c.lastMessage?.text === 'group hello'),
        'group message',
      );
      expect(m.getState().groups[groupId]?.title).toBe('Trip');
    }
    await alice.removeMember(groupId, carol.getState().me!.accountId);
    expect(alice.getState().groups[groupId]?.members.map((m) => m.accountId)).toEqual([
      b.accountId,
    ]);
    await until(carol, (st) => st.groups[groupId]?.left === true, 'carol removed');
    await alice.sendText(groupConv, 'after carol left');
    await until(
      bob,
      (st) =>
        st.conversations.some(
          (c) => c.id === groupConv && c.lastMessage?.text === 'after carol left',
        ),
      'bob still in',
    );
    await carol.openConversation(groupConv);
    expect(texts(carol.getState(), groupConv)).not.toContain('after carol left');

    await Promise.all([alice, alice2, bob, carol].map((m) => m.close()));
  }, 240_000);
  it('two models of one profile (tabs without Web Locks): a replaced socket comes back, and the other tab sees new messages', async () => {
    const run = Date.now().toString(36);
    const alice = model(`tabs-alice-${run}`);
    const bob = model();
    await Promise.all([alice.init(), bob.init()]);
    await Promise.all([alice.register(`tabs_alice_${run}`), bob.register(`tabs_bob_${run}`)]);
    await until(alice, (st) => st.connection === 'online', 'alice online');
    const toBob = await alice.startDirect(`tabs_bob_${run}`);
    await alice.sendText(toBob, 'from the first tab');
    const a = alice.getState().me!;
    const toAlice = `direct:${a.accountId}`;
    await until(bob, (st) => st.conversations.some((c) => c.id === toAlice), 'bob sees alice');

    // Node has no Web Locks, so the second model opens its own socket and the relay closes
    // the first one (Replaced). The first does not stay offline: it claims the socket again.
    const tab2 = model(`tabs-alice-${run}`);
    await tab2.init();
    expect(tab2.getState().me?.accountId).toBe(a.accountId);
    await until(alice, (st) => st.connection === 'offline', 'first tab replaced');
    await until(alice, (st) => st.connection === 'online', 'first tab back online');

    // Whichever of the two holds the socket, both show Bob's message (one stores it, the
    // other hears of the change on the BroadcastChannel and re-reads storage).
    await Promise.all([alice.openConversation(toBob), tab2.openConversation(toBob)]);
    await bob.openConversation(toAlice);
    await bob.sendText(toAlice, 'to both tabs');
    for (const m of [alice, tab2]) {
      const st = await until(m, (x) => texts(x, toBob).includes('to both tabs'), 'bob → both');
      expect(texts(st, toBob)).toEqual(['from the first tab', 'to both tabs']);
    }
    await tab2.sendText(toBob, 'from the second tab');
    const st = await until(
      bob,
      (x) => texts(x, toAlice).includes('from the second tab'),
      'second tab → bob',
    );
    expect(texts(st, toAlice)).toEqual([
      'from the first tab',
      'to both tabs',
      'from the second tab',
    ]);
    await Promise.all([alice.close(), tab2.close(), bob.close()]);
  }, 240_000);
});
