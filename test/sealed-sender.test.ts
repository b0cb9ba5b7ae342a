/**
 * Proof that sealed sender keeps the social graph off the relay: real clients talk to a real
 * relay process (SQLite). First contacts go with the login (the sender does not yet hold the
 * recipient's access secret); from then on 1:1 texts, receipts, group control, sender keys and
 * group texts go sealed. With the recipients offline, so everything sent after the first
 * contacts is still queued, the test reads every table, every column and every byte of the
 * relay's database and everything the relay logged: no sealed envelope row carries a sender's
 * account or device id, and the only cells naming someone as a sender were written during the
 * first contacts.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ParleyClient } from '@parley/client';
import { clientOptions, inbox, registeredClient } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, clients } = useRelay<ParleyClient>();

async function client(name: string) {
  const c = await registeredClient(relay.url, name);
  clients.push(c);
  return c;
}

interface Hit {
  table: string;
  column: string;
  row: Record<string, unknown>;
}

/** Every cell of every table that mentions `accountId` (as text, or in a blob as text or bytes). */
function cellsNaming(dbPath: string, accountId: string): Hit[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const text = Buffer.from(accountId);
    const raw = Buffer.from(accountId.replaceAll('-', ''), 'hex');
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as {
      name: string;
    }[];
    const hits: Hit[] = [];
    for (const { name } of tables) {
      // Table names come from sqlite_master itself.
      for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
        for (const [column, value] of Object.entries(row)) {
          const found =
            (typeof value === 'string' && value.includes(accountId)) ||
            (Buffer.isBuffer(value) && (value.includes(text) || value.includes(raw)));
          if (found) hits.push({ table: name, column, row });
        }
      }
    }
    return hits;
  } finally {
    db.close();
  }
}

describe('sealed sender: what the relay keeps', () => {
  it('after first contacts, the database and the logs name no sender', async () => {
    const alice = await client('alice');
    const bob = await client('bob');
    const carol = await client('carol');
    const inboxes = new Map([alice, bob, carol].map((c) => [c, inbox(c)]));
    const exchange = async (from: ParleyClient, to: ParleyClient, text: string) => {
      await from.sendText(to.accountId, text);
      await inboxes.get(to)!.waitFor(1, (m) => m.text === text);
    };

    // First contacts, both ways: each first message goes with the login and carries the
    // sender's access secret; the answers already go sealed.
    await alice.addContact('bob');
    await alice.addContact('carol');
    await bob.addContact('carol');
    await exchange(alice, bob, 'hi bob');
    await exchange(bob, alice, 'hi alice');
    await exchange(alice, carol, 'hi carol');
    await exchange(carol, alice, 'hi alice, carol here');
    await exchange(bob, carol, 'carol, it is bob');
    await exchange(carol, bob, 'hello bob');
    for (const [me, them] of [
      [alice, bob],
      [alice, carol],
      [bob, alice],
      [bob, carol],
      [carol, alice],
      [carol, bob],
    ] as const) {
      expect((await me.contact(them.accountId))?.sealedSender, `${me.account?.username}`).toBe(
        true,
      );
    }

    // Everything after this point is sealed. Bob and Carol are offline: it stays queued.
    await bob.stop();
    await carol.stop();
    const sealedFrom = Date.now();
    const logsBefore = relay.output().length;
    expect((await alice.sendText(bob.accountId, 'sealed to bob')).status).toBe('sent');
    expect((await alice.sendText(carol.accountId, 'sealed to carol')).status).toBe('sent');
    await alice.sendTyping(bob.accountId, true); // typing notices go sealed too
    await alice.markRead(`direct:${bob.accountId}`); // and read receipts
    const group = await alice.createGroup('sealed group', [bob.accountId, carol.accountId]);
    expect((await alice.sendGroupText(group.groupId, 'sealed to the group')).status).toBe('sent');

    // The database: rows naming a sender exist only from before `sealedFrom`; queued
    // envelopes sent since have no sender at all.
    const db = new Database(relay.dbPath, { readonly: true });
    const queued = db
      .prepare(
        `SELECT type, source_account_id, source_device_id, server_timestamp FROM envelopes
           WHERE server_timestamp >= ?`,
      )
      .all(sealedFrom) as { type: string; source_account_id: unknown; source_device_id: unknown }[];
    db.close();
    // Two 1:1 texts, a typing notice, a read receipt, group control and sender keys to both,
    // the group text to both.
    expect(queued.length).toBeGreaterThanOrEqual(8);
    for (const row of queued) {
      expect(row).toMatchObject({
        type: 'unidentified_sender',
        source_account_id: null,
        source_device_id: null,
      });
    }
    // About themselves, accounts are named by their own rows (keys, devices, their queue);
    // as a sender only in envelope and send records from the first contacts.
    const ownRows = new Set([
      'accounts',
      'devices',
      'signed_prekeys',
      'one_time_prekeys',
      'unidentified_access',
    ]);
    for (const sender of [alice, bob, carol]) {
      for (const hit of cellsNaming(relay.dbPath, sender.accountId)) {
        if (ownRows.has(hit.table) && hit.column === 'account_id') continue;
        if (hit.table === 'envelopes' && hit.column === 'account_id') continue; // its queue
        const where = `${hit.table}.${hit.column}`;
        expect(['envelopes.source_account_id', 'sends.source_account_id'], where).toContain(where);
        expect(hit.row.server_timestamp as number, where).toBeLessThan(sealedFrom);
      }
    }

    // The logs since then name nobody.
    const logged = relay.output().slice(logsBefore);
    for (const c of [alice, bob, carol]) expect(logged).not.toContain(c.accountId);

    // And it all arrives, opened, from Alice.
    await bob.start();
    await carol.start();
    for (const [c, text] of [
      [bob, 'sealed to bob'],
      [carol, 'sealed to carol'],
      [bob, 'sealed to the group'],
      [carol, 'sealed to the group'],
    ] as const) {
      const [m] = await inboxes.get(c)!.waitFor(1, (x) => x.text === text);
      expect(m!.senderAccountId).toBe(alice.accountId);
    }
  });

  it('a key the relay refuses is forgotten and the message goes with the login, once', async () => {
    const dan = await client('dan');
    const erin = await client('erin');
    const erinInbox = inbox(erin);
    const danInbox = inbox(dan);
    await dan.addContact('erin');
    await dan.sendText(erin.accountId, 'first');
    await erinInbox.waitFor(1, (m) => m.text === 'first');
    await erin.sendText(dan.accountId, 'reply');
    await danInbox.waitFor(1, (m) => m.text === 'reply');
    expect((await dan.contact(erin.accountId))?.sealedSender).toBe(true);

    // Erin's key changes on the relay (e.g. she reset it): Dan's copy is now wrong.
    await erin.http.setUnidentifiedAccess(
      Buffer.from(new Uint8Array(16).fill(7)).toString('base64'),
    );
    expect((await dan.sendText(erin.accountId, 'after the change')).status).toBe('sent');
    await erinInbox.waitFor(1, (m) => m.text === 'after the change');
    expect((await dan.contact(erin.accountId))?.sealedSender).toBe(false);
    expect(erinInbox.texts().filter((t) => t === 'after the change')).toHaveLength(1);
  });

  it('a sealed envelope whose certificate does not chain to the pinned trust root is dropped', async () => {
    const fay = await client('fay');
    const gus = await client('gus');
    const gusInbox = inbox(gus);
    const fayInbox = inbox(fay);
    await fay.addContact('gus');
    await fay.sendText(gus.accountId, 'hello gus');
    await gusInbox.waitFor(1, (m) => m.text === 'hello gus');
    // Gus now holds Fay's secret; pin another root on Fay's side, as if the relay were an
    // impostor signing its own certificates.
    const state = (await fay.storage.get<Record<string, unknown>>('meta', 'sealed'))!;
    const other = new Uint8Array(33).fill(9);
    other[0] = 5;
    await fay.storage.transaction((tx) => tx.put('meta', 'sealed', { ...state, trustRoot: other }));
    await fay.stop();
    const reopened = await ParleyClient.open(clientOptions(relay.url, fay.storage));
    clients.push(reopened);
    const reopenedInbox = inbox(reopened);
    await reopened.start();
    const rejected = reopened.waitFor('sealedRejected');
    await gus.sendText(fay.accountId, 'sealed with a real certificate');
    expect((await rejected).reason).toBe('InvalidCertificate');
    expect(reopenedInbox.texts()).not.toContain('sealed with a real certificate');
    expect(fayInbox.texts()).not.toContain('sealed with a real certificate');
  });
});
