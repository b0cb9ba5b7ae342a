import { describe, expect, it } from 'vitest';
import { Keyring, WrongPassphraseError } from './keyring.ts';

const FAST = { N: 2 ** 4, r: 1, p: 1 };
let n = 0;
const fresh = () => Keyring.open({ name: `keyring-test-${++n}`, scrypt: FAST });

async function roundTrip(key: CryptoKey): Promise<Uint8Array> {
  const iv = new Uint8Array(12);
  return new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new Uint8Array([1, 2, 3])),
  );
}

describe('Keyring', () => {
  it('creates a non-extractable key once and returns the same key later', async () => {
    const ring = await fresh();
    const a = await ring.unlock();
    expect(a.extractable).toBe(false);
    const b = await ring.unlock();
    expect(await roundTrip(b)).toEqual(await roundTrip(a));
    expect(await ring.hasPassphrase()).toBe(false);
  });

  it('sets, checks, changes and removes a passphrase without changing the data key', async () => {
    const ring = await fresh();
    const original = await roundTrip(await ring.unlock());
    await ring.setPassphrase('correct horse');
    expect(await ring.hasPassphrase()).toBe(true);
    ring.lock();
    await expect(ring.unlock()).rejects.toBeInstanceOf(WrongPassphraseError);
    await expect(ring.unlock('wrong one')).rejects.toBeInstanceOf(WrongPassphraseError);
    expect(await roundTrip(await ring.unlock('correct horse'))).toEqual(original);
    await ring.setPassphrase('battery staple');
    await expect(ring.unlock('correct horse')).rejects.toBeInstanceOf(WrongPassphraseError);
    await ring.unlock('battery staple');
    await ring.setPassphrase(null);
    expect(await ring.hasPassphrase()).toBe(false);
    expect(await roundTrip(await ring.unlock())).toEqual(original);
  });

  it('cannot change the passphrase while locked', async () => {
    const ring = await fresh();
    await ring.unlock();
    await ring.setPassphrase('pw-12345');
    ring.lock();
    await expect(ring.setPassphrase('other')).rejects.toThrow(/unlock/i);
  });

  it('destroy makes a new key', async () => {
    const ring = await fresh();
    const before = await roundTrip(await ring.unlock());
    await ring.destroy();
    expect(await roundTrip(await ring.unlock())).not.toEqual(before);
  });
});
