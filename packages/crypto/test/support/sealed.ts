/**
 * Sealed sender fixtures for both implementations: a trust root and a server certificate (made
 * by either side), sender certificates for parties, and libsignal's sealed sender calls with
 * each version's argument conventions.
 */
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import { KeyPair, PublicKey } from '../../src/curve.ts';
import { SenderCertificate, ServerCertificate } from '../../src/sealed-sender.ts';
import { bytesFor, ls072, ls090, ls0103, u8 } from './libsignal.ts';
import type { Ls, LsParty } from './parties.ts';

export const LIBSIGNALS_SEALED = [
  ['0.72.1', ls072],
  ['0.90.0', ls090],
  // The typings differ only in native-handle brands; the calls are the same.
  ['0.103.0', ls0103 as unknown as Ls],
] as const;

/** 0.72.1 predates SPQR: sessions with it need SPQR off. */
export const spqrFor = (version: string) => (version === '0.72.1' ? { spqr: 'off' as const } : {});

export const code = (c: string) => expect.objectContaining({ name: 'ProtocolError', code: c });

/** One year from now, in ms: certificates in the tests are valid unless a test says otherwise. */
export const LATER = Date.now() + 365 * 24 * 3600 * 1000;

export type Issuer = 'parley' | 'libsignal';

/** A trust root and a server certificate, usable from both libraries. */
export class Trust {
  readonly root = KeyPair.generate();
  readonly server = KeyPair.generate();
  readonly serverCert: ServerCertificate;
  readonly #ls: Ls;

  constructor(
    ls: Ls,
    readonly issuer: Issuer,
    readonly keyId = 1,
  ) {
    this.#ls = ls;
    const b = bytesFor(ls);
    if (issuer === 'parley') {
      this.serverCert = ServerCertificate.create(
        keyId,
        this.server.publicKey,
        this.root.privateKey,
      );
    } else {
      const lsCert = ls.ServerCertificate.new(
        keyId,
        ls.PublicKey.deserialize(b(this.server.publicKey.serialize())),
        ls.PrivateKey.deserialize(b(this.root.privateKey.serialize())),
      );
      this.serverCert = ServerCertificate.deserialize(u8(lsCert.serialize()));
    }
  }

  get rootPublic(): PublicKey {
    return this.root.publicKey;
  }

  /** The trust root as the libsignal version's PublicKey. */
  lsRoot() {
    return this.#ls.PublicKey.deserialize(bytesFor(this.#ls)(this.root.publicKey.serialize()));
  }

  /** A sender certificate for `party`, issued by this trust's issuer. */
  certify(
    party: { name: string; deviceId: number; identityKey: PublicKey },
    expiration = LATER,
    e164?: string,
  ): SenderCertificate {
    if (this.issuer === 'parley') {
      return SenderCertificate.create(
        {
          senderUuid: party.name,
          senderE164: e164,
          senderDeviceId: party.deviceId,
          identityKey: party.identityKey,
          expiration,
        },
        this.serverCert,
        this.server.privateKey,
      );
    }
    const ls = this.#ls;
    const b = bytesFor(ls);
    const lsCert = ls.SenderCertificate.new(
      party.name,
      e164 ?? null,
      party.deviceId,
      ls.PublicKey.deserialize(b(party.identityKey.serialize())),
      expiration,
      ls.ServerCertificate.deserialize(b(this.serverCert.serialize())),
      ls.PrivateKey.deserialize(b(this.server.privateKey.serialize())),
    );
    return SenderCertificate.deserialize(u8(lsCert.serialize()));
  }

  /** `cert` as the libsignal version's SenderCertificate. */
  lsCert(cert: SenderCertificate) {
    return this.#ls.SenderCertificate.deserialize(bytesFor(this.#ls)(cert.serialize()));
  }
}

/** libsignal's `sealedSenderEncryptMessage` (v1) from `from` to `to`. */
export async function lsSeal(
  from: LsParty,
  to: { name: string; deviceId: number },
  cert: SenderCertificate,
  plaintext: Uint8Array,
  trust: Trust,
): Promise<Uint8Array> {
  const { ls } = from;
  const b = bytesFor(ls);
  return u8(
    await ls.sealedSenderEncryptMessage(
      b(plaintext),
      ls.ProtocolAddress.new(to.name, to.deviceId),
      trust.lsCert(cert),
      from.stores.session,
      from.stores.identity,
    ),
  );
}

/** libsignal's `sealedSenderDecryptMessage` at `to`. */
export async function lsOpen(to: LsParty, envelope: Uint8Array, trust: Trust, now = Date.now()) {
  const { ls } = to;
  const s = to.stores;
  const r = await ls.sealedSenderDecryptMessage(
    bytesFor(ls)(envelope),
    trust.lsRoot(),
    now,
    null,
    to.name,
    to.deviceId,
    s.session,
    s.identity,
    s.preKey,
    s.signedPreKey,
    s.kyberPreKey,
  );
  return {
    plaintext: u8(r.message()),
    senderUuid: r.senderUuid(),
    deviceId: r.deviceId(),
  };
}

/** libsignal's `sealedSenderDecryptToUsmc` at `to`. */
export function lsOpenToUsmc(to: LsParty, envelope: Uint8Array) {
  return to.ls.sealedSenderDecryptToUsmc(bytesFor(to.ls)(envelope), to.stores.identity);
}

/** libsignal's server-side SentMessage parser (`SealedSenderMultiRecipientMessage`), per version. */
const require = createRequire(import.meta.url);
type LsSplitter = new (bytes: Uint8Array) => {
  recipientsByServiceIdString(): Readonly<
    Record<string, { deviceIds: number[]; registrationIds: number[] }>
  >;
  excludedRecipientServiceIdStrings(): ReadonlyArray<string>;
  messageForRecipient(r: { deviceIds: number[]; registrationIds: number[] }): Uint8Array;
};
export async function lsSplitter(version: string): Promise<LsSplitter> {
  if (version === '0.72.1') {
    return (
      require('libsignal-0.72/dist/SealedSenderMultiRecipientMessage') as {
        default: LsSplitter;
      }
    ).default;
  }
  const mod = (version === '0.90.0'
    ? await import('libsignal-0.90/dist/SealedSenderMultiRecipientMessage.js')
    : await import('libsignal-0.103/dist/SealedSenderMultiRecipientMessage.js')) as unknown as {
    default: LsSplitter;
  };
  return mod.default;
}

/** A libsignal SenderKeyStore keeping serialised records. */
export function lsSenderKeyStore(ls: Ls) {
  const b = bytesFor(ls);
  const records = new Map<string, Uint8Array>();
  type Addr = ReturnType<Ls['ProtocolAddress']['new']>;
  type Rec = ReturnType<Ls['SenderKeyRecord']['deserialize']>;
  const key = (a: Addr, id: string) => `${a.name()}.${a.deviceId()}::${id.toLowerCase()}`;
  class Store extends ls.SenderKeyStore {
    async saveSenderKey(sender: Addr, id: string, record: Rec) {
      records.set(key(sender, id), u8(record.serialize()));
    }
    async getSenderKey(sender: Addr, id: string) {
      const r = records.get(key(sender, id));
      return r ? ls.SenderKeyRecord.deserialize(b(r)) : null;
    }
  }
  return { store: new Store(), records };
}
