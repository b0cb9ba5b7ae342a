/**
 * The raw crypto cost of a backlog, for the catch-up bench (Node and the Chromium page): the same
 * envelopes decrypted by @parley/crypto's ciphers on its in-memory reference stores, loaded with
 * the device's keys, sessions and sender keys before the catch-up. No client, no storage.
 * @module
 */
import { ProtocolAddress } from '@parley/crypto/address.js';
import { IdentityKeyPair, PublicKey } from '@parley/crypto/curve.js';
import {
  GroupCipher,
  InMemorySenderKeyStore,
  SenderKeyDistributionMessage,
  SenderKeyRecord,
} from '@parley/crypto/group.js';
import { InMemoryProtocolStore } from '@parley/crypto/inmem-stores.js';
import { SessionCipher } from '@parley/crypto/session.js';
import type { Envelope } from '@parley/protocol';
import { decodeContent } from '../../packages/client/src/content/index.ts';
import type { AccountRecord } from '../../packages/client/src/model.ts';
import {
  KyberPreKeyRecord,
  PreKeyRecord,
  SessionRecord,
  SignedPreKeyRecord,
} from '../../packages/client/src/signal.ts';
import type { Storage } from '../../packages/client/src/storage/index.ts';
import { fromBase64 } from '../../packages/client/src/util/bytes.ts';

function address(key: string): ProtocolAddress {
  const dot = key.lastIndexOf('.');
  return new ProtocolAddress(key.slice(0, dot), Number(key.slice(dot + 1)));
}

/** The reference stores, loaded from the device's storage (its state before the catch-up). */
export async function loadStores(storage: Storage) {
  const account = (await storage.get<AccountRecord>('meta', 'account'))!;
  const stores = new InMemoryProtocolStore(
    IdentityKeyPair.deserialize(account.identityKeyPair),
    account.registrationId,
  );
  const senderKeys = new InMemorySenderKeyStore();
  type Stored = { record: Uint8Array; lastResort?: boolean };
  for (const [k, v] of await storage.list<Stored>('preKeys')) {
    await stores.preKey.savePreKey(Number(k.slice(3)), PreKeyRecord.deserialize(v.record));
  }
  for (const [k, v] of await storage.list<Stored>('signedPreKeys')) {
    await stores.signedPreKey.saveSignedPreKey(Number(k), SignedPreKeyRecord.deserialize(v.record));
  }
  for (const [k, v] of await storage.list<Stored>('kyberPreKeys')) {
    const record = KyberPreKeyRecord.deserialize(v.record);
    await stores.kyberPreKey.saveKyberPreKey(Number(k), record, v.lastResort ?? false);
  }
  for (const [k, v] of await storage.list<{ publicKey: Uint8Array }>('identities')) {
    await stores.identity.saveIdentity(
      new ProtocolAddress(k, 1),
      PublicKey.deserialize(v.publicKey),
    );
  }
  for (const [k, v] of await storage.list<Uint8Array>('sessions')) {
    await stores.session.storeSession(address(k), SessionRecord.deserialize(v));
  }
  for (const [k, v] of await storage.list<Uint8Array>('senderKeys')) {
    const [who, distributionId] = k.split('/') as [string, string];
    await senderKeys.storeSenderKey(address(who), distributionId, SenderKeyRecord.deserialize(v));
  }
  return { stores, senderKeys };
}

/** Decrypts `envelopes` in order (and takes the sender keys they distribute); failures counted. */
export async function decryptAll(
  { stores, senderKeys }: Awaited<ReturnType<typeof loadStores>>,
  envelopes: readonly Envelope[],
): Promise<number> {
  const cipher = new SessionCipher(stores);
  const group = new GroupCipher(senderKeys);
  let failures = 0;
  for (const env of envelopes) {
    const sender = new ProtocolAddress(env.sourceAccountId, env.sourceDeviceId);
    const body = fromBase64(env.content);
    try {
      const plaintext =
        env.type === 'sender_key_message'
          ? await group.decrypt(sender, body)
          : await cipher.decrypt(sender, {
              type: env.type === 'prekey_message' ? 'prekey' : 'whisper',
              body,
            });
      const content = decodeContent(plaintext);
      if (content.body.case === 'senderKeyDistribution') {
        await group.processDistributionMessage(
          sender,
          SenderKeyDistributionMessage.deserialize(content.body.value.distributionMessage),
        );
      }
    } catch {
      failures++;
    }
  }
  return failures;
}
