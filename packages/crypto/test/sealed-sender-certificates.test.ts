/**
 * Server and sender certificates on their own: libsignal's published vectors (a certificate
 * with an unknown field, one with the sender UUID as bytes, one naming its server certificate
 * by id, Signal's known server certificates), every failure as its typed error, every single
 * bit flip of a serialized certificate refused, and the argument checks at the boundary.
 */
import { describe, expect, test } from 'vitest';
import { fromBase64, fromHex } from '../src/_bytes.ts';
import { aes256Ctr } from '../src/_primitives.ts';
import { ProtoWriter } from '../src/_protobuf.ts';
import { KeyPair, PrivateKey, PublicKey } from '../src/curve.ts';
import { ProtocolError } from '../src/errors.ts';
import {
  REVOKED_SERVER_CERTIFICATE_KEY_IDS,
  SenderCertificate,
  ServerCertificate,
} from '../src/sealed-sender.ts';
import { readFileSync } from 'node:fs';
import { code } from './support/sealed.ts';

const vectors = JSON.parse(
  readFileSync(new URL('./fixtures/sealed-sender-vectors.json', import.meta.url), 'utf8'),
) as Vectors;
const ROOT = PrivateKey.deserialize(fromHex(vectors.trustRootPrivateKey)).publicKey();
interface Signed {
  certificate: string;
  signature: string;
}
interface Vectors {
  trustRootPrivateKey: string;
  senderUuid: string;
  senderDeviceId: number;
  expiration: number;
  senderCertificates: { uuidStringWithUnknownField: Signed; uuidBytes: Signed; signerById: Signed };
  knownServerCertificates: { name: string; id: number; trustRoot: string; certificate: string }[];
  aes256Ctr: { key: string; plaintextZeros: number; ciphertext: string };
}
const ALICE = '9d0652a3-dcc3-4d11-975f-74d61598733f';

function vectorCert(v: { certificate: string; signature: string }): Uint8Array {
  return new ProtoWriter().bytes(1, fromHex(v.certificate)).bytes(2, fromHex(v.signature)).finish();
}

const knownServerCerts = vectors.knownServerCertificates.map((k) => ({
  ...k,
  cert: ServerCertificate.deserialize(fromHex(k.certificate)),
  root: PublicKey.deserialize(fromBase64(k.trustRoot)),
}));

function issue(options: { keyId?: number; expiration?: number; e164?: string } = {}) {
  const root = KeyPair.generate();
  const server = KeyPair.generate();
  const serverCert = ServerCertificate.create(
    options.keyId ?? 1,
    server.publicKey,
    root.privateKey,
  );
  const identity = KeyPair.generate();
  const cert = SenderCertificate.create(
    {
      senderUuid: ALICE,
      senderE164: options.e164,
      senderDeviceId: 3,
      identityKey: identity.publicKey,
      expiration: options.expiration ?? 1_700_000_000_000,
    },
    serverCert,
    server.privateKey,
  );
  return { root, server, serverCert, identity, cert };
}

describe("libsignal's vectors", () => {
  test.each([
    [
      'a certificate with an unknown field (999)',
      vectors.senderCertificates.uuidStringWithUnknownField,
    ],
    ['the sender UUID as 16 bytes', vectors.senderCertificates.uuidBytes],
  ])('%s decodes and validates', async (_name, v) => {
    const cert = SenderCertificate.deserialize(vectorCert(v));
    expect(cert.senderUuid).toBe(vectors.senderUuid);
    expect(cert.senderE164).toBeUndefined();
    expect(cert.senderDeviceId).toBe(vectors.senderDeviceId);
    expect(cert.expiration).toBe(vectors.expiration);
    expect(cert.embeddedSigner).toBeDefined();
    await cert.validate(ROOT, vectors.expiration - 1);
    await cert.validate(ROOT, vectors.expiration);
    await expect(cert.validate(ROOT, vectors.expiration + 1)).rejects.toEqual(
      code('ExpiredCertificate'),
    );
    // The unknown field is kept: the signature covers the bytes as received.
    expect(cert.certificateData()).toEqual(fromHex(v.certificate));
  });

  test('a server certificate named by id validates once that certificate is known', async () => {
    const cert = SenderCertificate.deserialize(vectorCert(vectors.senderCertificates.signerById));
    expect(cert.embeddedSigner).toBeUndefined();
    expect(cert.signerKeyId).toBe(0x7357c357);
    await expect(cert.validate(ROOT, 31336)).rejects.toEqual(code('UnknownServerCertificate'));
    const known = knownServerCerts.map((k) => k.cert);
    await cert.validate(ROOT, 31336, { knownServerCertificates: known });
    // A known certificate still has to chain to the trust root we are given.
    await expect(
      cert.validate(KeyPair.generate().publicKey, 31336, { knownServerCertificates: known }),
    ).rejects.toEqual(code('InvalidCertificate'));
  });

  test.each(knownServerCerts)('$name: signed by its trust root, and no other', async (k) => {
    expect(k.cert.keyId).toBe(k.id);
    await k.cert.validate(k.root);
    const other = knownServerCerts.find((o) => o !== k)!.root;
    await expect(k.cert.validate(other)).rejects.toEqual(code('InvalidCertificate'));
  });

  test("AES-256-CTR as libsignal's crypto.rs", () => {
    const { key, plaintextZeros, ciphertext } = vectors.aes256Ctr;
    expect(aes256Ctr(fromHex(key), new Uint8Array(plaintextZeros))).toEqual(fromHex(ciphertext));
  });
});

describe('validation', () => {
  test('a valid chain, with one or several trust roots', async () => {
    const { root, cert } = issue();
    await cert.validate(root.publicKey, cert.expiration);
    await cert.validate([KeyPair.generate().publicKey, root.publicKey], 0);
    expect(await cert.isValid(root.publicKey, 0)).toBe(true);
    expect(cert.senderAddress().toString()).toBe(`${ALICE}.3`);
  });

  test('expired, wrong trust root, wrong server key: typed errors', async () => {
    const { root, serverCert, identity, cert } = issue();
    await expect(cert.validate(root.publicKey, cert.expiration + 1)).rejects.toEqual(
      code('ExpiredCertificate'),
    );
    await expect(cert.validate(KeyPair.generate().publicKey, 0)).rejects.toEqual(
      code('InvalidCertificate'),
    );
    // Signed by a key that is not the server certificate's.
    const forged = SenderCertificate.create(
      {
        senderUuid: ALICE,
        senderDeviceId: 3,
        identityKey: identity.publicKey,
        expiration: cert.expiration,
      },
      serverCert,
      KeyPair.generate().privateKey,
    );
    await expect(forged.validate(root.publicKey, 0)).rejects.toEqual(code('InvalidCertificate'));
    expect(await forged.isValid(root.publicKey, 0)).toBe(false);
  });

  test("libsignal's revoked id, and ids the application revokes", async () => {
    expect(REVOKED_SERVER_CERTIFICATE_KEY_IDS).toEqual([0xdeadc357]);
    const revoked = issue({ keyId: 0xdeadc357 });
    await expect(revoked.cert.validate(revoked.root.publicKey, 0)).rejects.toEqual(
      code('RevokedCertificate'),
    );
    const mine = issue({ keyId: 77 });
    await mine.cert.validate(mine.root.publicKey, 0);
    await expect(
      mine.cert.validate(mine.root.publicKey, 0, { revokedServerKeyIds: [5, 77] }),
    ).rejects.toEqual(code('RevokedCertificate'));
    await expect(
      mine.serverCert.validate(mine.root.publicKey, { revokedServerKeyIds: new Set([77]) }),
    ).rejects.toEqual(code('RevokedCertificate'));
  });

  test('round trip keeps every field and the exact bytes', () => {
    const { cert, serverCert } = issue({ e164: '+14152222222' });
    const again = SenderCertificate.deserialize(cert.serialize());
    expect(again.equals(cert)).toBe(true);
    expect(again.senderE164).toBe('+14152222222');
    expect(again.identityKey.equals(cert.identityKey)).toBe(true);
    expect(again.embeddedSigner!.equals(serverCert)).toBe(true);
    expect(ServerCertificate.deserialize(serverCert.serialize()).keyId).toBe(1);
    expect(String(cert)).toContain(ALICE);
  });

  test('every single bit flip of a sender certificate is refused (parse or validation)', async () => {
    const { root, cert } = issue({ e164: '+1555' });
    const bytes = cert.serialize();
    const codes = new Set<string>();
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = bytes.slice();
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      let outcome: string;
      try {
        const c = SenderCertificate.deserialize(flipped);
        await c.validate(root.publicKey, 0);
        outcome = 'valid';
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
        outcome = (err as ProtocolError).code;
      }
      if (outcome === 'valid') throw new Error(`bit ${bit} flipped still validates`);
      codes.add(outcome);
    }
    // Flips that re-bracket the protobuf can make an id look like a by-id signer reference.
    for (const c of codes) {
      expect(['InvalidCertificate', 'UnknownServerCertificate', 'ExpiredCertificate']).toContain(c);
    }
  });

  test('malformed certificates: InvalidCertificate', () => {
    const { cert, serverCert } = issue();
    const data = cert.certificateData();
    const sig = cert.signature();
    const wrap = (c: Uint8Array) => new ProtoWriter().bytes(1, c).bytes(2, sig).finish();
    const key = KeyPair.generate().publicKey.serialize();
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(0xff),
      new ProtoWriter().bytes(1, data).finish(), // no signature
      // device 0, device 128
      wrap(
        new ProtoWriter()
          .uint(2, 0)
          .fixed64(3, 1)
          .bytes(4, key)
          .bytes(5, serverCert.serialize())
          .bytes(6, new TextEncoder().encode(ALICE))
          .finish(),
      ),
      wrap(
        new ProtoWriter()
          .uint(2, 128)
          .fixed64(3, 1)
          .bytes(4, key)
          .bytes(5, serverCert.serialize())
          .bytes(6, new TextEncoder().encode(ALICE))
          .finish(),
      ),
      // no expiry, no key, no signer, no sender, both signers, both sender ids, bad UUID bytes
      wrap(
        new ProtoWriter()
          .uint(2, 1)
          .bytes(4, key)
          .bytes(5, serverCert.serialize())
          .bytes(6, new TextEncoder().encode(ALICE))
          .finish(),
      ),
      wrap(
        new ProtoWriter()
          .uint(2, 1)
          .fixed64(3, 1)
          .bytes(5, serverCert.serialize())
          .bytes(6, new TextEncoder().encode(ALICE))
          .finish(),
      ),
      wrap(
        new ProtoWriter()
          .uint(2, 1)
          .fixed64(3, 1)
          .bytes(4, key)
          .bytes(6, new TextEncoder().encode(ALICE))
          .finish(),
      ),
      wrap(
        new ProtoWriter()
          .uint(2, 1)
          .fixed64(3, 1)
          .bytes(4, key)
          .bytes(5, serverCert.serialize())
          .finish(),
      ),
      wrap(
        new ProtoWriter()
          .uint(2, 1)
          .fixed64(3, 1)
          .bytes(4, key)
          .bytes(5, serverCert.serialize())
          .uint(8, 9)
          .bytes(6, new TextEncoder().encode(ALICE))
          .finish(),
      ),
      wrap(
        new ProtoWriter()
          .uint(2, 1)
          .fixed64(3, 1)
          .bytes(4, key)
          .bytes(5, serverCert.serialize())
          .bytes(6, new TextEncoder().encode(ALICE))
          .bytes(7, new Uint8Array(16))
          .finish(),
      ),
      wrap(
        new ProtoWriter()
          .uint(2, 1)
          .fixed64(3, 1)
          .bytes(4, key)
          .bytes(5, serverCert.serialize())
          .bytes(7, new Uint8Array(15))
          .finish(),
      ),
      // an empty or non-UTF-8 sender id, a 34-byte key, a broken embedded server certificate
      wrap(
        new ProtoWriter()
          .uint(2, 1)
          .fixed64(3, 1)
          .bytes(4, key)
          .bytes(5, serverCert.serialize())
          .bytes(6, new Uint8Array(0))
          .finish(),
      ),
      wrap(
        new ProtoWriter()
          .uint(2, 1)
          .fixed64(3, 1)
          .bytes(4, key)
          .bytes(5, serverCert.serialize())
          .bytes(6, Uint8Array.of(0xc3, 0x28))
          .finish(),
      ),
      wrap(
        new ProtoWriter()
          .uint(2, 1)
          .fixed64(3, 1)
          .bytes(4, Uint8Array.of(...key, 0))
          .bytes(5, serverCert.serialize())
          .bytes(6, new TextEncoder().encode(ALICE))
          .finish(),
      ),
      wrap(
        new ProtoWriter()
          .uint(2, 1)
          .fixed64(3, 1)
          .bytes(4, key)
          .bytes(5, Uint8Array.of(1, 2, 3))
          .bytes(6, new TextEncoder().encode(ALICE))
          .finish(),
      ),
    ];
    for (const bytes of cases) {
      expect(() => SenderCertificate.deserialize(bytes)).toThrow(code('InvalidCertificate'));
    }
    expect(() =>
      ServerCertificate.deserialize(
        new ProtoWriter().bytes(1, new ProtoWriter().uint(1, 1).finish()).bytes(2, sig).finish(),
      ),
    ).toThrow(code('InvalidCertificate'));
    expect(() => SenderCertificate.deserialize('x' as never)).toThrow(code('InvalidCertificate'));
  });

  test('arguments are checked at the boundary', async () => {
    const { root, server, serverCert, identity, cert } = issue();
    const fields = {
      senderUuid: ALICE,
      senderDeviceId: 1,
      identityKey: identity.publicKey,
      expiration: 1,
    };
    const bad: [string, () => unknown][] = [
      ['keyId -1', () => ServerCertificate.create(-1, server.publicKey, root.privateKey)],
      ['keyId 2^32', () => ServerCertificate.create(2 ** 32, server.publicKey, root.privateKey)],
      [
        'server key bytes',
        () => ServerCertificate.create(1, new Uint8Array(33) as never, root.privateKey),
      ],
      ['root public', () => ServerCertificate.create(1, server.publicKey, root.publicKey as never)],
      [
        'empty uuid',
        () =>
          SenderCertificate.create({ ...fields, senderUuid: '' }, serverCert, server.privateKey),
      ],
      [
        'long uuid',
        () =>
          SenderCertificate.create(
            { ...fields, senderUuid: 'x'.repeat(257) },
            serverCert,
            server.privateKey,
          ),
      ],
      [
        'device 0',
        () =>
          SenderCertificate.create({ ...fields, senderDeviceId: 0 }, serverCert, server.privateKey),
      ],
      [
        'device 128',
        () =>
          SenderCertificate.create(
            { ...fields, senderDeviceId: 128 },
            serverCert,
            server.privateKey,
          ),
      ],
      [
        'expiration NaN',
        () =>
          SenderCertificate.create({ ...fields, expiration: NaN }, serverCert, server.privateKey),
      ],
      [
        'e164 number',
        () =>
          SenderCertificate.create(
            { ...fields, senderE164: 5 as never },
            serverCert,
            server.privateKey,
          ),
      ],
      [
        'signer bytes',
        () => SenderCertificate.create(fields, serverCert.serialize() as never, server.privateKey),
      ],
      ['fields null', () => SenderCertificate.create(null as never, serverCert, server.privateKey)],
    ];
    for (const [name, f] of bad) {
      expect(f, name).toThrow(code('InvalidArgument'));
    }
    await expect(cert.validate([], 0)).rejects.toEqual(code('InvalidArgument'));
    await expect(cert.validate(root.publicKey.serialize() as never, 0)).rejects.toEqual(
      code('InvalidArgument'),
    );
    await expect(cert.validate(root.publicKey, NaN)).rejects.toEqual(code('InvalidArgument'));
  });
});
