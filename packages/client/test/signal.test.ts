/** The client's adapters to @parley/crypto's session API. */
import { describe, expect, it } from 'vitest';
import { IdentityKeyPair } from '@parley/crypto/curve.js';
import { systemRandom } from '@parley/crypto/random.js';
import type { DeviceBundle } from '@parley/protocol';
import { bundleFromRelay, newKyberPreKey, newSignedPreKey } from '../src/signal.ts';
import { toBase64 } from '../src/util/bytes.ts';

describe('bundleFromRelay', () => {
  const identity = IdentityKeyPair.generate();
  const signed = newSignedPreKey(identity, 1, Date.now(), systemRandom).upload;
  const pq = newKyberPreKey(identity, 2, Date.now(), systemRandom).upload;
  const identityKey = toBase64(identity.publicKey.serialize());

  it('builds a PQXDH bundle from a relay answer', () => {
    const d: DeviceBundle = {
      deviceId: 1,
      registrationId: 7,
      signedPreKey: signed,
      pqPreKey: pq,
      pqPreKeyIsLastResort: false,
    };
    const bundle = bundleFromRelay(identityKey, d);
    expect(bundle.kyberPreKeyId).toBe(2);
  });

  it('refuses a bundle stripped of its Kyber prekey with a typed error (a downgrade)', () => {
    const stripped = { deviceId: 1, registrationId: 7, signedPreKey: signed } as DeviceBundle;
    expect(() => bundleFromRelay(identityKey, stripped)).toThrow(
      expect.objectContaining({ name: 'ProtocolError', code: 'LegacyCiphertextVersion' }),
    );
  });
});
