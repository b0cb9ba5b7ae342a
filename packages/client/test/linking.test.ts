/** Linking, the approving side: the sealed provisioning message carries account and contacts. */
import { describe, expect, it } from 'vitest';
import { KeyPair } from '@parley/crypto/curve.js';
import { systemRandom } from '@parley/crypto/random.js';
import { encodeLinkUri } from '@parley/client';
import { openProvisionMessage } from '../src/provisioning.ts';
import { fromBase64 } from '../src/util/bytes.ts';
import { FakeRelay } from './support/fake-relay.ts';

const ADDRESS = 'a'.repeat(43);

describe('linking', () => {
  it('seals our identity, a linking code and our contacts to the new device', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    const bob = await relay.client('bob');
    await alice.addContact('bob');
    const ephemeral = KeyPair.generate(systemRandom);
    await alice.approveLink(encodeLinkUri({ address: ADDRESS, publicKey: ephemeral.publicKey }));
    const sealed = relay.provisioning.get(ADDRESS)!;
    const msg = await openProvisionMessage(ephemeral, fromBase64(sealed));
    expect(msg.accountId).toBe(alice.accountId);
    expect(msg.username).toBe('alice');
    expect(msg.linkingCode).toBe('x'.repeat(22));
    expect(msg.contacts?.contacts.map((c) => c.accountId)).toEqual([bob.accountId]);
  });
});
