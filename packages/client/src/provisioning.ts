/**
 * Linking a new device.
 *
 * 1. The new device opens the relay's provisioning socket, gets a one-time address, creates an
 *    ephemeral X25519 key pair and shows `parley://link?address=<a>&key=<base64url(0x05‖pub)>`
 *    (as text or a QR code).
 * 2. An existing device (the primary, which may issue linking codes) asks the relay for a
 *    linking code, builds a `ProvisionMessage` (identity key pair, account id, username, code,
 *    contacts, groups) and seals it to the ephemeral key:
 *      e = fresh X25519 key pair;  s = X25519(e, pub)
 *      k = HKDF-SHA256(ikm = s, salt = 32 zero bytes, info = "Parley Provisioning v1", 32)
 *      envelope = ProvisionEnvelope{version 1, public_key = e.pub, body = iv ‖ AES-256-GCM(k, iv, msg, aad = e.pub ‖ pub)}
 *    and PUTs it to the address. The relay only forwards opaque bytes.
 * 3. The new device opens it with its ephemeral private key, registers itself with the code
 *    (its own registration id and prekeys) and becomes another device of the account.
 * @module
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { KeyPair, PublicKey } from '@parley/crypto/curve.js';
import { ProtocolError } from '@parley/crypto/errors.js';
import {
  ProvisionEnvelopeSchema,
  ProvisionMessageSchema,
  type ProvisionMessage,
} from './content/index.ts';
import { concatBytes, fromBase64Url, toBase64Url, utf8 } from './util/bytes.ts';

const INFO = utf8.encode('Parley Provisioning v1');
const VERSION = 1;
const SCHEME = 'parley:';

export class LinkError extends Error {
  override readonly name = 'LinkError';
}

export interface LinkRequest {
  address: string;
  publicKey: PublicKey;
}

export function encodeLinkUri(req: LinkRequest): string {
  const params = new URLSearchParams({
    address: req.address,
    key: toBase64Url(req.publicKey.serialize()),
  });
  return `parley://link?${params.toString()}`;
}

export function parseLinkUri(uri: string): LinkRequest {
  let url: URL;
  try {
    url = new URL(uri.trim());
  } catch {
    throw new LinkError('not a link URI');
  }
  if (url.protocol !== SCHEME || url.host !== 'link')
    throw new LinkError('not a parley://link URI');
  const address = url.searchParams.get('address');
  const key = url.searchParams.get('key');
  if (!address || !/^[A-Za-z0-9_-]{43}$/.test(address) || !key) {
    throw new LinkError('link URI lacks a valid address or key');
  }
  try {
    return { address, publicKey: PublicKey.deserialize(fromBase64Url(key)) };
  } catch (cause) {
    throw new LinkError('link URI has an invalid key', { cause });
  }
}

async function aesKey(shared: Uint8Array): Promise<CryptoKey> {
  const k = hkdf(sha256, shared, new Uint8Array(32), INFO, 32);
  try {
    return await crypto.subtle.importKey('raw', k, 'AES-GCM', false, ['encrypt', 'decrypt']);
  } finally {
    k.fill(0);
    shared.fill(0);
  }
}

/** Seals a provisioning message to the new device's ephemeral key. */
export async function sealProvisionMessage(
  recipient: PublicKey,
  message: ProvisionMessage,
  rng: (n: number) => Uint8Array,
): Promise<Uint8Array> {
  const ephemeral = KeyPair.generate(rng);
  const key = await aesKey(ephemeral.privateKey.agree(recipient));
  const iv = rng(12);
  const aad = concatBytes(ephemeral.publicKey.serialize(), recipient.serialize());
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      {
        name: 'AES-GCM',
        iv: iv as Uint8Array<ArrayBuffer>,
        additionalData: aad as Uint8Array<ArrayBuffer>,
      },
      key,
      toBinary(ProvisionMessageSchema, message) as Uint8Array<ArrayBuffer>,
    ),
  );
  return toBinary(
    ProvisionEnvelopeSchema,
    create(ProvisionEnvelopeSchema, {
      version: VERSION,
      publicKey: ephemeral.publicKey.serialize(),
      body: concatBytes(iv, ct),
    }),
  );
}

/** Opens a provisioning envelope with the new device's ephemeral key pair. */
export async function openProvisionMessage(
  ours: KeyPair,
  envelope: Uint8Array,
): Promise<ProvisionMessage> {
  try {
    const env = fromBinary(ProvisionEnvelopeSchema, envelope);
    if (env.version !== VERSION) throw new LinkError(`unknown provisioning version ${env.version}`);
    const theirs = PublicKey.deserialize(env.publicKey);
    const key = await aesKey(ours.privateKey.agree(theirs));
    const aad = concatBytes(env.publicKey, ours.publicKey.serialize());
    const pt = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: env.body.subarray(0, 12) as Uint8Array<ArrayBuffer>,
        additionalData: aad as Uint8Array<ArrayBuffer>,
      },
      key,
      env.body.subarray(12) as Uint8Array<ArrayBuffer>,
    );
    return fromBinary(ProvisionMessageSchema, new Uint8Array(pt));
  } catch (cause) {
    if (cause instanceof LinkError) throw cause;
    if (cause instanceof ProtocolError) throw new LinkError('invalid provisioning key', { cause });
    throw new LinkError('provisioning message could not be opened', { cause });
  }
}

const NAME_INFO = utf8.encode('Parley device name v1');

async function deviceNameKey(identityPrivateKey: Uint8Array): Promise<CryptoKey> {
  const k = hkdf(sha256, identityPrivateKey, new Uint8Array(32), NAME_INFO, 32);
  try {
    return await crypto.subtle.importKey('raw', k, 'AES-GCM', false, ['encrypt', 'decrypt']);
  } finally {
    k.fill(0);
  }
}

/**
 * A device name as the relay stores it: `iv ‖ AES-256-GCM(k, name)` with k derived from the
 * account's identity private key, so only the account's own devices can read it.
 */
export async function sealDeviceName(
  identityPrivateKey: Uint8Array,
  name: string,
  rng: (n: number) => Uint8Array,
): Promise<Uint8Array> {
  const bytes = utf8.encode(name.slice(0, 100));
  const iv = rng(12);
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: iv as Uint8Array<ArrayBuffer> },
    await deviceNameKey(identityPrivateKey),
    bytes as Uint8Array<ArrayBuffer>,
  );
  return concatBytes(iv, new Uint8Array(ct));
}

export async function openDeviceName(
  identityPrivateKey: Uint8Array,
  sealed: Uint8Array,
): Promise<string | undefined> {
  try {
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: sealed.subarray(0, 12) as Uint8Array<ArrayBuffer> },
      await deviceNameKey(identityPrivateKey),
      sealed.subarray(12) as Uint8Array<ArrayBuffer>,
    );
    return utf8.decode(new Uint8Array(pt));
  } catch {
    return undefined;
  }
}
