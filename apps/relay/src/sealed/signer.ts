/**
 * The relay's sealed sender keys: a trust root (an XEdDSA key pair; clients pin its public key
 * at registration) and a server key certified by it, which signs the short-lived sender
 * certificates devices seal their messages with (libsignal's formats, `@parley/crypto`).
 *
 * Both are generated at the first start and kept in the store (`sealed_sender_keys`), so every
 * relay node on one database signs with the same keys and a restart keeps them. Rotation is
 * described in the README.
 * @module
 */
import { PrivateKey, PublicKey, SenderCertificate, ServerCertificate } from '@parley/crypto';
import type { RelayStore } from '../store/types.ts';

/** The first server key's id (libsignal's revocation list names ids; ours start here). */
const FIRST_SERVER_KEY_ID = 1;

export class SealedSenderSigner {
  readonly trustRoot: PublicKey;
  readonly serverCertificate: ServerCertificate;
  readonly #serverKey: PrivateKey;

  private constructor(trustRoot: PublicKey, serverCertificate: ServerCertificate, key: PrivateKey) {
    this.trustRoot = trustRoot;
    this.serverCertificate = serverCertificate;
    this.#serverKey = key;
  }

  /** The stored keys, generating and storing them first if this database has none. */
  static async load(store: RelayStore, now: number): Promise<SealedSenderSigner> {
    const root = PrivateKey.generate();
    const server = PrivateKey.generate();
    const certificate = ServerCertificate.create(FIRST_SERVER_KEY_ID, server.publicKey(), root);
    const record = await store.sealedSenderKeys({
      trustRootPrivateKey: root.serialize(),
      serverKeyId: FIRST_SERVER_KEY_ID,
      serverPrivateKey: server.serialize(),
      serverCertificate: certificate.serialize(),
      createdAt: now,
    });
    const trustRoot = PrivateKey.deserialize(record.trustRootPrivateKey).publicKey();
    return new SealedSenderSigner(
      trustRoot,
      ServerCertificate.deserialize(record.serverCertificate),
      PrivateKey.deserialize(record.serverPrivateKey),
    );
  }

  /** A sender certificate for a device (its account's identity key, base64), until `expiresAt`. */
  issue(accountId: string, deviceId: number, identityKey: string, expiresAt: number): Uint8Array {
    return SenderCertificate.create(
      {
        senderUuid: accountId,
        senderDeviceId: deviceId,
        identityKey: PublicKey.deserialize(Buffer.from(identityKey, 'base64')),
        expiration: expiresAt,
      },
      this.serverCertificate,
      this.#serverKey,
    ).serialize();
  }

  /** Avoid printing key material by accident. */
  toJSON(): string {
    return `SealedSenderSigner(server key ${this.serverCertificate.keyId})`;
  }
}
