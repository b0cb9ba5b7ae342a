/**
 * Encrypted attachments against the real relay (its tus upload and ranged download routes):
 * 1:1 with Alice's second device following through the sent transcript, a group image, a
 * blob altered in the relay's store (typed integrity error, no bytes), and the plaintext scan:
 * no part of a marked file is anywhere in the relay's folder (blob store and database).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttachmentIntegrityError, blobSize, type ParleyClient } from '@parley/client';
import { inbox, linkDevice, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();

/** Every file under the relay's folder (its SQLite files and its attachment blobs). */
function relayFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dirname(relay.dbPath));
  return out;
}

/** Deterministic bytes, different per seed. */
function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('attachments through the relay', () => {
  it('1:1: Bob and Alice’s second device download identical bytes; the relay sees ciphertext', async () => {
    const alice = track(await registeredClient(relay.url, 'att_alice'));
    const bob = track(await registeredClient(relay.url, 'att_bob'));
    const alice2 = track(await linkDevice(relay.url, alice));
    await alice.refreshOwnDevices();
    await alice.addContact('att_bob');
    const bobInbox = inbox(bob);
    const alice2Inbox = inbox(alice2);

    // ~2 MiB, with a marker that must never reach the relay in the clear.
    const marker = new TextEncoder().encode('PARLEY-PLAINTEXT-MARKER-7f3a9c');
    const bytes = pattern(2 * 1024 * 1024 + 123, 1);
    for (let at = 0; at + marker.length < bytes.length; at += 64 * 1024) bytes.set(marker, at);

    const uploads: number[] = [];
    const sent = await alice.sendAttachment(
      `direct:${bob.accountId}`,
      { bytes, fileName: 'big.bin', contentType: 'application/octet-stream' },
      { caption: 'two megabytes', onProgress: (done) => uploads.push(done) },
    );
    expect(sent.status).toBe('sent');
    expect(uploads.at(-1)).toBe(blobSize(bytes.length));

    const [got] = await bobInbox.waitFor(1, (m) => m.id === sent.id);
    expect(got!.text).toBe('two megabytes');
    expect(got!.attachments?.[0]).toMatchObject({ fileName: 'big.bin', size: bytes.length });
    const downloads: number[] = [];
    const opened = await bob.downloadAttachment(`direct:${alice.accountId}`, sent.id, 0, {
      onProgress: (done) => downloads.push(done),
    });
    expect(same(opened, bytes)).toBe(true);
    expect(downloads.at(-1)).toBe(blobSize(bytes.length));

    // Alice's other device has the pointer from the sent transcript, and can open it.
    const [synced] = await alice2Inbox.waitFor(1, (m) => m.id === sent.id);
    expect(synced!.direction).toBe('out');
    const mine = await alice2.downloadAttachment(`direct:${bob.accountId}`, sent.id);
    expect(same(mine, bytes)).toBe(true);

    // The plaintext scan: no window of the file is in any file of the relay.
    const needles = [marker, bytes.subarray(1000, 1032), bytes.subarray(bytes.length - 40)];
    let blobFound = false;
    for (const file of relayFiles()) {
      const content = readFileSync(file);
      if (content.length === blobSize(bytes.length)) blobFound = true;
      for (const n of needles) expect(content.includes(Buffer.from(n)), file).toBe(false);
    }
    expect(blobFound).toBe(true); // the scan did look at the blob store
  });

  it('group: an image with dimensions and thumbnail reaches every member intact', async () => {
    const alice = track(await registeredClient(relay.url, 'attg_alice'));
    const bob = track(await registeredClient(relay.url, 'attg_bob'));
    const carol = track(await registeredClient(relay.url, 'attg_carol'));
    const group = await alice.createGroup('pictures', [bob.accountId, carol.accountId]);
    for (const m of [bob, carol]) {
      await until(m, 'group', async () => (await m.group(group.groupId)) !== undefined);
    }
    const inboxes = [bob, carol].map(inbox);
    const image = pattern(150_000, 2);
    const thumbnail = pattern(2_000, 3);
    const sent = await alice.sendAttachment(`group:${group.groupId}`, {
      bytes: image,
      fileName: 'photo.jpg',
      contentType: 'image/jpeg',
      width: 1200,
      height: 800,
      thumbnail,
    });
    for (const [i, member] of [bob, carol].entries()) {
      const [m] = await inboxes[i]!.waitFor(1, (x) => x.id === sent.id);
      const a = m!.attachments![0]!;
      expect(a).toMatchObject({ contentType: 'image/jpeg', width: 1200, height: 800 });
      expect(same(a.thumbnail!, thumbnail)).toBe(true);
      const opened = await member.downloadAttachment(`group:${group.groupId}`, sent.id);
      expect(same(opened, image)).toBe(true);
    }
  });

  it('a blob altered in the relay’s store gives AttachmentIntegrityError and no bytes', async () => {
    const alice = track(await registeredClient(relay.url, 'attt_alice'));
    const bob = track(await registeredClient(relay.url, 'attt_bob'));
    await alice.addContact('attt_bob');
    const bobInbox = inbox(bob);
    // A size no other test's blob has.
    const bytes = pattern(777_777, 4);
    const before = new Set(relayFiles());
    const sent = await alice.sendAttachment(`direct:${bob.accountId}`, {
      bytes,
      fileName: 'x.bin',
      contentType: 'application/octet-stream',
    });
    await bobInbox.waitFor(1, (m) => m.id === sent.id);
    const stored = relayFiles().filter(
      (f) => !before.has(f) && statSync(f).size === blobSize(bytes.length),
    );
    expect(stored).toHaveLength(1);
    const blob = readFileSync(stored[0]!);
    blob[blob.length >> 1]! ^= 0x01;
    writeFileSync(stored[0]!, blob);

    const err = await bob
      .downloadAttachment(`direct:${alice.accountId}`, sent.id)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AttachmentIntegrityError);
    expect((err as AttachmentIntegrityError).code).toBe('bad_digest');
    const [m] = (await bob.messages(`direct:${alice.accountId}`)).filter((x) => x.id === sent.id);
    expect(m!.attachments![0]!.downloadedAt).toBeUndefined();
  });
});
