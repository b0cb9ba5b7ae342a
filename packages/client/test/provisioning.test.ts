import { describe, expect, it } from 'vitest';
import { KeyPair } from '@parley/crypto/curve.js';
import { create } from '@bufbuild/protobuf';
import { ProvisionMessageSchema } from '../src/content/index.ts';
import {
  LinkError,
  encodeLinkUri,
  openProvisionMessage,
  parseLinkUri,
  sealProvisionMessage,
} from '../src/provisioning.ts';

const rng = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const address = 'A'.repeat(43);

describe('linking payloads', () => {
  it('round-trips a link URI', () => {
    const kp = KeyPair.generate();
    const uri = encodeLinkUri({ address, publicKey: kp.publicKey });
    expect(uri).toMatch(/^parley:\/\/link\?address=A{43}&key=[A-Za-z0-9_-]+$/);
    const parsed = parseLinkUri(uri);
    expect(parsed.address).toBe(address);
    expect(parsed.publicKey.equals(kp.publicKey)).toBe(true);
    expect(() => parseLinkUri('https://example.com')).toThrow(LinkError);
    expect(() => parseLinkUri('parley://link?address=short&key=AAAA')).toThrow(LinkError);
  });

  it('seals a provisioning message only the new device can open', async () => {
    const newDevice = KeyPair.generate();
    const msg = create(ProvisionMessageSchema, {
      identityKeyPair: new Uint8Array([1, 2, 3]),
      accountId: 'acct',
      username: 'alice',
      linkingCode: 'code',
      contacts: { contacts: [{ accountId: 'bob', username: 'bob' }] },
    });
    const sealed = await sealProvisionMessage(newDevice.publicKey, msg, rng);
    const opened = await openProvisionMessage(newDevice, sealed);
    expect(opened.accountId).toBe('acct');
    expect(opened.contacts?.contacts[0]?.username).toBe('bob');
    // Nothing readable on the wire.
    expect(Buffer.from(sealed).includes('alice')).toBe(false);
    // Another key cannot open it; a flipped bit is detected.
    await expect(openProvisionMessage(KeyPair.generate(), sealed)).rejects.toThrow(LinkError);
    const tampered = sealed.slice();
    tampered[tampered.length - 1]! ^= 1;
    await expect(openProvisionMessage(newDevice, tampered)).rejects.toThrow(LinkError);
  });
});
