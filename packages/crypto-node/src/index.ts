/**
 * A curve backend for `@parley/crypto` on Node's `node:crypto` (OpenSSL), for Node
 * applications: the CLI, bots, servers. `@parley/crypto` itself stays free of Node built-ins.
 *
 *   import { setCryptoBackend } from '@parley/crypto/backend.js';
 *   import { nodeCryptoBackend } from '@parley/crypto-node';
 *   setCryptoBackend(nodeCryptoBackend);
 *
 * Why: WebCrypto in Node runs every call as a job on the libuv thread pool and answers
 * through a promise, ≈ 75 µs of hand-off around ≈ 45 µs of X25519; `node:crypto` does the
 * same OpenSSL work synchronously. Measured on a 2-core VM (Node 20): X25519 agreement
 * ≈ 44 µs (WebCrypto ≈ 118), key pair + JWK export ≈ 41 µs (≈ 182), JWK private import
 * ≈ 41 µs, Ed25519 sign ≈ 51 µs (≈ 75), verify ≈ 138 µs (≈ 180).
 *
 * The results are noble's bit for bit (tested, and the whole @parley/crypto suite runs on
 * this backend): agreements on any u (OpenSSL masks bit 255 and reduces u as RFC 7748 asks),
 * low-order u rejected with `InvalidKey`, XEdDSA verification through Ed25519 with the cases
 * where OpenSSL and libsignal's dalek differ handed to noble (`xeddsaRoute`,
 * `edwardsPublicKey`). Keys imported or generated here are kept as KeyObjects in small LRU
 * caches: private keys under SHA-256 of the scalar, never the scalar itself.
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  sign as ed25519Sign,
  verify as ed25519Verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import {
  clampScalar,
  ed25519Signature,
  edwardsPublicKey,
  nobleBackend,
  x25519FromEd25519,
  xeddsaRoute,
  xeddsaSignBit,
  type CurveBackend,
  type SymmetricPrimitives,
} from '@parley/crypto/backend.js';
import { ProtocolError } from '@parley/crypto/errors.js';

/** A bounded map that forgets the least recently used entry. */
class Lru<V> {
  readonly #map = new Map<string, V>();
  constructor(readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value!);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
  clear(): void {
    this.#map.clear();
  }
}

const privateKeys = new Lru<KeyObject>(512);
const publicKeys = new Lru<KeyObject>(512);
/** Ed25519 verify keys by `u ‖ sign`; `null` = no such point (reject), `'noble'` = low order. */
const edwardsKeys = new Lru<KeyObject | null | 'noble'>(512);
/** Ed25519 signing keys behind the X25519 scalars `generateSigning` made. */
const signingKeys = new Lru<{ key: KeyObject; signBit: number }>(256);

/** Forgets every cached key (tests; or after wiping keys from storage). */
export function clearNodeCryptoCaches(): void {
  privateKeys.clear();
  publicKeys.clear();
  edwardsKeys.clear();
  signingKeys.clear();
}

/** Drops the handles of private key `k` (import and signing seed): the protocol erased it. */
export function forgetNodeCryptoKey(k: Uint8Array): void {
  const id = secretId(k);
  privateKeys.delete(id);
  signingKeys.delete(id);
}

const b64url = (b: Uint8Array) =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
const secretId = (k: Uint8Array) => createHash('sha256').update(k).digest('base64');
const publicId = (u: Uint8Array) =>
  Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('latin1');
/** A plain Uint8Array copy: no Buffer leaves this module. */
const bytes = (b: Buffer) => new Uint8Array(b);

/** PKCS#8 `PrivateKeyInfo` prefix for an X25519 key (RFC 8410 §7), followed by 32 bytes. */
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

function importPrivate(k: Uint8Array, kPublic: Uint8Array | undefined): KeyObject {
  if (kPublic) {
    const jwk: JsonWebKey = { kty: 'OKP', crv: 'X25519', d: b64url(k), x: b64url(kPublic) };
    try {
      return createPrivateKey({ key: jwk, format: 'jwk' });
    } catch {
      // OpenSSL checks x against d: a wrong hint falls back to the slower PKCS#8 import.
    } finally {
      jwk.d = '';
    }
  }
  const der = Buffer.concat([PKCS8_X25519, k]);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

function privateKey(k: Uint8Array, kPublic?: Uint8Array): KeyObject {
  const id = secretId(k);
  let key = privateKeys.get(id);
  if (!key) {
    key = importPrivate(k, kPublic);
    privateKeys.set(id, key);
  }
  return key;
}

function publicKey(u: Uint8Array): KeyObject {
  const id = publicId(u);
  let key = publicKeys.get(id);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(u) }, format: 'jwk' });
    publicKeys.set(id, key);
  }
  return key;
}

function agreeSync(k: Uint8Array, u: Uint8Array, kPublic?: Uint8Array): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = bytes(diffieHellman({ privateKey: privateKey(k, kPublic), publicKey: publicKey(u) }));
  } catch (cause) {
    // OpenSSL refuses an all-zero result (RFC 7748 §6.1) with an error.
    throw new ProtocolError('InvalidKey', 'public key is of low order', { cause });
  }
  let acc = 0;
  for (const b of shared) acc |= b;
  if (acc === 0) throw new ProtocolError('InvalidKey', 'public key is of low order');
  return shared;
}

/*
 * Raw key bytes come out through DER, never `KeyObject.export({ format: 'jwk' })`: on Node 20
 * a loop of JWK exports of OKP keys hangs the process after a few hundred to a few thousand
 * calls (seen here, reproducible); DER exports do not.
 */
const PKCS8_PREFIX_LENGTH = 16; // PKCS#8 for X25519 and Ed25519: 16-byte header ‖ 32 bytes
const SPKI_PREFIX_LENGTH = 12; // SPKI: 12-byte header ‖ 32 bytes

function rawPrivate(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  const raw = new Uint8Array(der.subarray(PKCS8_PREFIX_LENGTH));
  der.fill(0);
  return raw;
}

/** The X25519 base point u = 9, as a public key: X25519(k, 9) is a key's public u. */
let basePoint: KeyObject | undefined;
function publicOfKey(key: KeyObject): Uint8Array {
  basePoint ??= publicKey(Uint8Array.of(9, ...new Uint8Array(31)));
  return bytes(diffieHellman({ privateKey: key, publicKey: basePoint }));
}

function generateSync(drawn?: Uint8Array): { k: Uint8Array; u: Uint8Array } {
  if (drawn) return { k: drawn, u: publicOf(drawn) };
  const pair = generateKeyPairSync('x25519');
  // OpenSSL keeps the scalar as drawn; clamping changes neither its public key nor any
  // agreement, and gives the bytes libsignal stores.
  const k = clampScalar(rawPrivate(pair.privateKey));
  privateKeys.set(secretId(k), pair.privateKey);
  return { k, u: publicOfKey(pair.privateKey) };
}

/** X25519(k, 9) for a scalar we did not make: import once (kept for the agreements to come). */
function publicOf(k: Uint8Array): Uint8Array {
  return publicOfKey(privateKey(k));
}

function generateSigningSync(drawn?: Uint8Array): { k: Uint8Array; u: Uint8Array } {
  if (drawn) return generateSync(drawn);
  const pair = generateKeyPairSync('ed25519');
  const seed = rawPrivate(pair.privateKey);
  const A = new Uint8Array(
    pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX_LENGTH),
  );
  const hashed = new Uint8Array(createHash('sha512').update(seed).digest());
  const { k, u, signBit } = x25519FromEd25519(hashed, A);
  seed.fill(0);
  hashed.fill(0);
  signingKeys.set(secretId(k), { key: pair.privateKey, signBit });
  return { k, u };
}

function edwardsKey(u: Uint8Array, signBit: number): KeyObject | null | 'noble' {
  const id = publicId(u) + (signBit ? '1' : '0');
  const hit = edwardsKeys.get(id);
  if (hit !== undefined) return hit;
  const encoded = edwardsPublicKey(u, signBit);
  let key: KeyObject | null | 'noble' = null;
  if (encoded === 'noble') key = 'noble';
  else if (encoded !== null) {
    try {
      const jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(encoded) };
      key = createPublicKey({ key: jwk, format: 'jwk' });
    } catch {
      key = null; // not a point: dalek's decompress fails too
    }
  }
  edwardsKeys.set(id, key);
  return key;
}

function verifySync(
  u: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean | Promise<boolean> {
  const route = xeddsaRoute(signature);
  if (route === 'reject') return false;
  if (route === 'noble') return nobleBackend.verify(u, message, signature);
  const key = edwardsKey(u, xeddsaSignBit(signature));
  if (key === 'noble') return nobleBackend.verify(u, message, signature);
  if (key === null) return false;
  try {
    return ed25519Verify(null, message, key, ed25519Signature(signature));
  } catch {
    return false; // an encoding OpenSSL cannot decode is no valid signature
  }
}

/** Buffers in, plain Uint8Array copies out (no Buffer leaves this module). */
const view = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** OpenSSL's HMAC, HKDF, SHA-512 and AES-256-CBC: ≈ 3–7 µs a call where noble takes 10–20. */
export const nodeSymmetric: SymmetricPrimitives = {
  hmacSha256: (key, data) => bytes(createHmac('sha256', view(key)).update(view(data)).digest()),
  // An absent salt is HashLen zeros (RFC 5869 §2.2); HMAC pads an empty key to the same.
  hkdfSha256: (ikm, salt, info, length) =>
    new Uint8Array(hkdfSync('sha256', view(ikm), salt ? view(salt) : EMPTY, view(info), length)),
  sha512: (data) => bytes(createHash('sha512').update(view(data)).digest()),
  aes256CbcEncrypt: (key, iv, plaintext) => {
    const c = createCipheriv('aes-256-cbc', view(key), view(iv));
    return bytes(Buffer.concat([c.update(view(plaintext)), c.final()]));
  },
  aes256CbcDecrypt: (key, iv, ciphertext) => {
    const d = createDecipheriv('aes-256-cbc', view(key), view(iv));
    return bytes(Buffer.concat([d.update(view(ciphertext)), d.final()])); // final() checks padding
  },
};
const EMPTY = Buffer.alloc(0);

export const nodeCryptoBackend: CurveBackend = {
  symmetric: nodeSymmetric,
  name: 'node',
  agree: (k, u, kPublic) => {
    try {
      return Promise.resolve(agreeSync(k, u, kPublic));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  },
  publicFromPrivate: (k) => Promise.resolve(publicOf(k)),
  generate: (drawn) => Promise.resolve(generateSync(drawn)),
  generateSigning: (drawn) => Promise.resolve(generateSigningSync(drawn)),
  sign: (k, message, rng) => {
    const handle = signingKeys.get(secretId(k));
    if (!handle) return nobleBackend.sign(k, message, rng);
    const signature = bytes(ed25519Sign(null, message, handle.key));
    signature[63]! |= handle.signBit; // s < L, so bit 255 is free, as in XEdDSA
    return signature;
  },
  verify: async (u, message, signature) => verifySync(u, message, signature),
  forget: forgetNodeCryptoKey,
  clearCaches: clearNodeCryptoCaches,
};

/** Internals for the tests only. */
export const __TESTS = Object.freeze({
  hasSigningKey: (k: Uint8Array) => signingKeys.get(secretId(k)) !== undefined,
  hasPrivateKey: (k: Uint8Array) => privateKeys.get(secretId(k)) !== undefined,
});
