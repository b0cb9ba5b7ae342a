/**
 * The WebCrypto curve backend: X25519 through `deriveBits`, XEdDSA verification through
 * Ed25519 `verify` after the Montgomery → Edwards conversion.
 *
 * Costs that shape it differ by platform (measured on the 2-core VM):
 *
 *   operation                                  Node 20 (OpenSSL 3)   Chromium 156 (BoringSSL)
 *   import private key, PKCS#8                       ≈ 390 µs               ≈ 46 µs
 *   import private key, JWK (d with x)               ≈ 80 µs                ≈ 64 µs
 *   generateKey + export JWK                          ≈ 180 µs               ≈ 160 µs
 *   deriveBits (keys imported)                        ≈ 100 µs               ≈ 67 µs
 *   import raw public key                             ≈ 22 µs
 *
 * So imported keys are kept in small LRU caches (private keys under SHA-256 of the scalar,
 * never the scalar itself; public keys under their bytes), and keys made here enter the
 * cache at birth, so the agreement that follows in a DH ratchet step is a hit. The import
 * and key-generation strategy follows the platform (`JWK_FIRST`): in Node, private keys go in
 * as JWK when the caller knows the public key (key pairs always do) and new key pairs are
 * born in `generateKey` (the platform CSPRNG behind `getRandomValues`); elsewhere PKCS#8
 * imports, and new keys are random scalars imported once. An injected RNG always keeps keys
 * reproducible. (In Node, `@parley/crypto-node` is faster still: no thread-pool hand-off.)
 *
 * Signing: sender-key signing keys made here (`generateSigning`, system RNG) are Ed25519
 * keys from a WebCrypto seed, with k = clamp(SHA-512(seed)[0..32]) as the X25519 scalar. An
 * Ed25519 signature by that key is R ‖ s with s = r + SHA-512(R ‖ A ‖ M)·k mod L and A = k·B:
 * libsignal's XEdDSA equation exactly, so with A's sign bit in bit 7 of byte 63 it verifies
 * as XEdDSA for u = X25519(k, 9). Only the nonce differs: Ed25519's deterministic
 * r = SHA-512(seed-prefix ‖ M) (RFC 8032) instead of XEdDSA's hashed 64 random bytes; both
 * are secret and unique per message. The seed lives in this process only (a CryptoKey in an
 * LRU); a key loaded without it (another process, a restart) signs through noble's XEdDSA.
 *
 * Where XEdDSA and Ed25519 verification could disagree, noble decides (`_ed25519-bridge.ts`).
 * Internal: not exported from the package.
 * @module
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { clampScalar, type CurveBackend } from './_backend.ts';
import { fromBase64, fromHex, toBase64, toHex, wipe } from './_bytes.ts';
import {
  LOW_ORDER_U,
  SMALL_ORDER_R,
  ed25519Signature,
  edwardsPublicKey,
  x25519FromEd25519,
  xeddsaRoute,
  xeddsaSignBit,
} from './_ed25519-bridge.ts';
import { ProtocolError } from './errors.ts';
import { Lru, secretId } from './_lru.ts';
import { systemRandom, type RandomSource } from './random.ts';
import { xeddsaSign, xeddsaVerify } from './_xeddsa.ts';

/** PKCS#8 `PrivateKeyInfo` prefix for an X25519 key (RFC 8410 §7), followed by 32 bytes. */
const PKCS8_X25519 = /* @__PURE__ */ fromHex('302e020100300506032b656e04220420');

/** Imported X25519 keys; a settled import replaces its promise, so hits need no await. */
const privateKeys = /* @__PURE__ */ new Lru<CryptoKey | Promise<CryptoKey>>(512);
const publicKeys = /* @__PURE__ */ new Lru<CryptoKey | Promise<CryptoKey>>(512);
/** Ed25519 verify keys by `u ‖ sign`; `null` = no Edwards point (reject). */
const edwardsKeys = /* @__PURE__ */ new Lru<CryptoKey | null | Promise<CryptoKey | null>>(512);
/** Ed25519 signing keys behind the X25519 scalars `generateSigning` made, by `secretId(k)`. */
const signingKeys = /* @__PURE__ */ new Lru<{ key: CryptoKey; signBit: number }>(256);

/** Forgets every cached CryptoKey (tests; or after wiping keys from storage). */
export function clearWebcryptoCaches(): void {
  privateKeys.clear();
  publicKeys.clear();
  edwardsKeys.clear();
  signingKeys.clear();
}

/** Drops the handles of private key `k` (import and signing seed): the protocol erased it. */
export function forgetWebcryptoKey(k: Uint8Array): void {
  const id = secretId(k);
  privateKeys.delete(id);
  signingKeys.delete(id);
}

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;
/** Our byte arrays never sit on a SharedArrayBuffer; WebCrypto's types want that said. */
const bs = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;
const X25519 = { name: 'X25519' } as const;
const ED25519 = { name: 'Ed25519' } as const;

const publicId = (u: Uint8Array): string => String.fromCharCode(...u);

function importPkcs8(k: Uint8Array): Promise<CryptoKey> {
  const der = new Uint8Array(48);
  der.set(PKCS8_X25519);
  der.set(k, 16);
  const p = subtle().importKey('pkcs8', der, X25519, true, ['deriveBits']);
  der.fill(0);
  return p;
}

const toBase64url = (b: Uint8Array): string =>
  toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/**
 * Node's OpenSSL decodes PKCS#8 slowly and JWK fast; BoringSSL (Chromium) the other way
 * round (see the table above). Detected, not imported: no Node built-in is touched.
 */
const JWK_FIRST = /* @__PURE__ */ (() =>
  typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node ===
  'string')();
let jwkFirst = JWK_FIRST;

/** JWK needs the public key beside the scalar (and checks it): a wrong one falls back. */
function importPrivate(k: Uint8Array, kPublic: Uint8Array | undefined): Promise<CryptoKey> {
  if (!kPublic || !jwkFirst) return importPkcs8(k);
  const jwk: JsonWebKey = { kty: 'OKP', crv: 'X25519', d: toBase64url(k), x: toBase64url(kPublic) };
  const p = subtle().importKey('jwk', jwk, X25519, true, ['deriveBits']);
  jwk.d = '';
  return p.catch(() => importPkcs8(k));
}

function cachedKey(
  cache: Lru<CryptoKey | Promise<CryptoKey>>,
  id: string,
  make: () => Promise<CryptoKey>,
): CryptoKey | Promise<CryptoKey> {
  const hit = cache.get(id);
  if (hit) return hit;
  const p = make().then(
    (key) => {
      if (cache.get(id) === p) cache.set(id, key);
      return key;
    },
    (err: unknown) => {
      cache.delete(id);
      throw err;
    },
  );
  cache.set(id, p);
  return p;
}

const privateKey = (k: Uint8Array, kPublic?: Uint8Array) =>
  cachedKey(privateKeys, secretId(k), () => importPrivate(k, kPublic));

const publicKey = (u: Uint8Array) =>
  cachedKey(publicKeys, publicId(u), () =>
    subtle().importKey('raw', bs(u.slice()), X25519, true, []),
  );

const isKey = (k: CryptoKey | Promise<CryptoKey>): k is CryptoKey => !('then' in k);

const base64url = (s: string): Uint8Array =>
  fromBase64(
    s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4),
    'InvalidKey',
  );

async function agree(k: Uint8Array, u: Uint8Array, kPublic?: Uint8Array): Promise<Uint8Array> {
  let shared: Uint8Array;
  try {
    const priv = privateKey(k, kPublic);
    const pub = publicKey(u);
    // Cached keys: hand the work to the platform now, without a round through the microtasks.
    const bits =
      isKey(priv) && isKey(pub)
        ? subtle().deriveBits({ name: 'X25519', public: pub }, priv, 256)
        : Promise.all([priv, pub]).then(([a, b]) =>
            subtle().deriveBits({ name: 'X25519', public: b }, a, 256),
          );
    shared = new Uint8Array(await bits);
  } catch (cause) {
    // OpenSSL and BoringSSL refuse an all-zero result (RFC 7748 §6.1) with an error.
    throw new ProtocolError('InvalidKey', 'public key is of low order', { cause });
  }
  let acc = 0;
  for (const b of shared) acc |= b;
  if (acc === 0) throw new ProtocolError('InvalidKey', 'public key is of low order');
  return shared;
}

async function publicFromPrivate(k: Uint8Array): Promise<Uint8Array> {
  // Import once (the expensive part), read the public key back from the JWK (cheap: the
  // platform computed it on import), and keep the CryptoKey for the agreements to come.
  const key = await privateKey(k);
  const jwk = await subtle().exportKey('jwk', key);
  const x = base64url(jwk.x!);
  if (jwk.d) jwk.d = '';
  return x;
}

async function generate(drawn?: Uint8Array): Promise<{ k: Uint8Array; u: Uint8Array }> {
  if (drawn) return { k: drawn, u: await publicFromPrivate(drawn) };
  if (!jwkFirst) {
    const k = clampScalar(systemRandom(32));
    return { k, u: await publicFromPrivate(k) };
  }
  const pair = (await subtle().generateKey(X25519, true, ['deriveBits'])) as CryptoKeyPair;
  const jwk = await subtle().exportKey('jwk', pair.privateKey);
  // WebCrypto keeps the scalar as drawn; clamping it changes neither its public key nor
  // any agreement, and gives the bytes libsignal stores.
  const k = clampScalar(base64url(jwk.d!));
  jwk.d = '';
  privateKeys.set(secretId(k), pair.privateKey);
  return { k, u: base64url(jwk.x!) };
}

async function generateSigning(drawn?: Uint8Array): Promise<{ k: Uint8Array; u: Uint8Array }> {
  if (drawn) return generate(drawn);
  const pair = (await subtle().generateKey(ED25519, true, ['sign', 'verify'])) as CryptoKeyPair;
  const jwk = await subtle().exportKey('jwk', pair.privateKey);
  const seed = base64url(jwk.d!);
  jwk.d = '';
  const hashed = sha512(seed);
  const { k, u, signBit } = x25519FromEd25519(hashed, base64url(jwk.x!));
  wipe(seed, hashed);
  signingKeys.set(secretId(k), { key: pair.privateKey, signBit });
  return { k, u };
}

function sign(
  k: Uint8Array,
  message: Uint8Array,
  rng: RandomSource,
): Uint8Array | Promise<Uint8Array> {
  const handle = signingKeys.get(secretId(k));
  if (!handle) return xeddsaSign(k, message, rng(64));
  return subtle()
    .sign(ED25519, handle.key, bs(message))
    .then((sig) => {
      const signature = new Uint8Array(sig);
      signature[63]! |= handle.signBit; // s < L, so bit 255 is free, as in XEdDSA
      return signature;
    });
}

/**
 * The Ed25519 verify key for Montgomery u with the given sign (cached by `u ‖ sign`):
 * `null` when there is no such point (reject), `'noble'` for the low-order u's.
 */
function edwardsKey(
  u: Uint8Array,
  signBit: number,
): CryptoKey | null | 'noble' | Promise<CryptoKey | null> {
  const id = publicId(u) + (signBit ? '1' : '0');
  const hit = edwardsKeys.get(id);
  if (hit !== undefined) return hit;
  const encoded = edwardsPublicKey(u, signBit);
  if (encoded === null || encoded === 'noble') return encoded;
  const p = subtle()
    .importKey('raw', bs(encoded), ED25519, true, ['verify'])
    .catch(() => null); // not on the curve (u on the twist): dalek's decompress fails too
  edwardsKeys.set(id, p);
  void p.then((key) => {
    if (edwardsKeys.get(id) === p) edwardsKeys.set(id, key);
  });
  return p;
}

async function verify(u: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const route = xeddsaRoute(signature);
  if (route === 'reject') return false;
  if (route === 'noble') return xeddsaVerify(u, message, signature);
  const key = edwardsKey(u, xeddsaSignBit(signature));
  if (key === 'noble') return xeddsaVerify(u, message, signature);
  const A = key === null || !('then' in key) ? key : await key;
  if (A === null) return false;
  return subtle().verify(ED25519, A, bs(ed25519Signature(signature)), bs(message));
}

export const webcryptoBackend: CurveBackend = {
  name: 'webcrypto',
  agree,
  publicFromPrivate,
  generate,
  generateSigning,
  sign,
  verify,
  forget: forgetWebcryptoKey,
  clearCaches: clearWebcryptoCaches,
};

// RFC 7748 §6.1 and RFC 8032 §7.1 test 1.
const KAT_K = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const KAT_U = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
const KAT_SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
const KAT_ED_PUB = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const KAT_ED_SIG =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

let works: Promise<boolean> | undefined;

/** Whether this platform's WebCrypto has X25519 and Ed25519 and gets the RFC answers. */
export function webcryptoWorks(): Promise<boolean> {
  works ??= (async () => {
    try {
      const s = globalThis.crypto?.subtle;
      if (!s) return false;
      const k = fromHex(KAT_K);
      k[0]! &= 248;
      k[31]! &= 127;
      k[31]! |= 64;
      const shared = await agree(k, fromHex(KAT_U));
      if (toHex(shared) !== KAT_SHARED) return false;
      const edKey = await s.importKey('raw', bs(fromHex(KAT_ED_PUB)), ED25519, false, ['verify']);
      const ok = await s.verify(ED25519, edKey, bs(fromHex(KAT_ED_SIG)), new Uint8Array(0));
      const bad = fromHex(KAT_ED_SIG);
      bad[0]! ^= 1;
      const notOk = await s.verify(ED25519, edKey, bs(bad), new Uint8Array(0));
      return ok && !notOk;
    } catch {
      return false;
    } finally {
      clearWebcryptoCaches();
    }
  })();
  return works;
}

/** Internals for the tests only. */
export const __TESTS = /* @__PURE__ */ Object.freeze({
  LOW_ORDER_U,
  SMALL_ORDER_R,
  hasSigningKey: (k: Uint8Array) => signingKeys.get(secretId(k)) !== undefined,
  hasPrivateKey: (k: Uint8Array) => privateKeys.get(secretId(k)) !== undefined,
  /** Runs the other platform's import strategy (tests: both paths on one platform). */
  setJwkFirst: (on: boolean) => {
    jwkFirst = on;
    clearWebcryptoCaches();
  },
  JWK_FIRST,
});
