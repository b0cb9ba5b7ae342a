/**
 * Attachment encryption in Signal's format, on WebCrypto (`crypto.subtle`: native AES and
 * SHA-2 in Node 20 and every browser, fast enough for 100 MiB where a pure-JS AES is not).
 *
 * ```text
 * key    = aesKey (32) ‖ macKey (32)            fresh per attachment, from the platform CSPRNG
 * blob   = iv (16) ‖ AES-256-CBC(aesKey, iv, PKCS7(pad(plaintext))) ‖ mac (32)
 * mac    = HMAC-SHA256(macKey, iv ‖ ciphertext)
 * digest = SHA-256(blob)                        travels in the pointer, like key and size
 * ```
 *
 * Why CBC + HMAC and not an AEAD with chunking: it is the format Signal ships and
 * documents, encrypt-then-MAC with one MAC over the whole blob is simple to get right, and the
 * relay's transport already moves the blob whole (resumed by range). A chunked AEAD would only
 * pay off for streaming playback, which Parley does not do.
 *
 * Decryption checks, in order and before any plaintext exists: key and digest lengths, blob
 * length, the digest (constant time), the MAC (constant time), then decrypts, checks PKCS7
 * (WebCrypto) and the plaintext size. Every failure is an `AttachmentIntegrityError`.
 * @module
 */
import { ClientError } from '../errors.ts';
import { AttachmentIntegrityError } from './errors.ts';
import { pad, paddedSize } from './padding.ts';

export const ATTACHMENT_KEY_LENGTH = 64;
export const ATTACHMENT_DIGEST_LENGTH = 32;
const IV_LENGTH = 16;
const MAC_LENGTH = 32;
const BLOCK = 16;

/** What the recipient needs besides the blob; all of it goes inside the encrypted message. */
export interface AttachmentSecrets {
  /** aesKey ‖ macKey. */
  key: Uint8Array;
  /** SHA-256 of the blob. */
  digest: Uint8Array;
  /** The plaintext's real length (the blob holds it padded). */
  size: number;
}

export interface EncryptedAttachment extends AttachmentSecrets {
  blob: Uint8Array;
}

type Bytes = Uint8Array<ArrayBuffer>;
const buf = (b: Uint8Array) => b as Bytes;

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new ClientError('unsupported_platform', 'WebCrypto (crypto.subtle) is missing');
  return s;
}

/** Random bytes from `crypto.getRandomValues` (at most 64 KiB per call, so chunked). */
function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  }
  return out;
}

/** Compares without an early exit, so timing does not tell how many bytes matched. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

async function hmac(macKey: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await subtle().importKey('raw', buf(macKey), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return new Uint8Array(await subtle().sign('HMAC', k, buf(data)));
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-256', buf(data)));
}

function aesKey(key: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  return subtle().importKey('raw', buf(key.subarray(0, 32)), 'AES-CBC', false, [usage]);
}

/** Encrypts with a fresh random key and IV. */
export function encryptAttachment(plaintext: Uint8Array): Promise<EncryptedAttachment> {
  return encryptAttachmentWith(plaintext, randomBytes(ATTACHMENT_KEY_LENGTH), randomBytes(16));
}

/** Encrypts with the given key and IV: for test vectors only; `encryptAttachment` otherwise. */
export async function encryptAttachmentWith(
  plaintext: Uint8Array,
  key: Uint8Array,
  iv: Uint8Array,
): Promise<EncryptedAttachment> {
  if (!(plaintext instanceof Uint8Array)) throw new TypeError('plaintext must be a Uint8Array');
  if (key.length !== ATTACHMENT_KEY_LENGTH) throw new RangeError('key must be 64 bytes');
  if (iv.length !== IV_LENGTH) throw new RangeError('iv must be 16 bytes');
  // WebCrypto's AES-CBC adds the PKCS7 padding itself.
  const ct = new Uint8Array(
    await subtle().encrypt(
      { name: 'AES-CBC', iv: buf(iv) },
      await aesKey(key, 'encrypt'),
      buf(pad(plaintext)),
    ),
  );
  const blob = new Uint8Array(IV_LENGTH + ct.length + MAC_LENGTH);
  blob.set(iv);
  blob.set(ct, IV_LENGTH);
  const mac = await hmac(key.subarray(32), blob.subarray(0, IV_LENGTH + ct.length));
  blob.set(mac, IV_LENGTH + ct.length);
  return { blob, key, digest: await sha256(blob), size: plaintext.length };
}

/** The blob length an attachment of `size` bytes has: what the relay sees. */
export function blobSize(size: number): number {
  const padded = paddedSize(size);
  return IV_LENGTH + (Math.floor(padded / BLOCK) + 1) * BLOCK + MAC_LENGTH;
}

/** Checks and decrypts a downloaded blob; throws `AttachmentIntegrityError`, never partial data. */
export async function decryptAttachment(
  blob: Uint8Array,
  secrets: AttachmentSecrets,
): Promise<Uint8Array> {
  const { key, digest, size } = secrets;
  if (key.length !== ATTACHMENT_KEY_LENGTH || digest.length !== ATTACHMENT_DIGEST_LENGTH) {
    throw new AttachmentIntegrityError('bad_key', 'the attachment key or digest has a bad length');
  }
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new AttachmentIntegrityError('bad_size', 'the attachment size is not a length');
  }
  // The digest first: it commits to the exact blob the sender uploaded.
  if (!constantTimeEqual(await sha256(blob), digest)) {
    throw new AttachmentIntegrityError('bad_digest', 'the attachment does not match its digest');
  }
  const ctLength = blob.length - IV_LENGTH - MAC_LENGTH;
  if (ctLength < BLOCK || ctLength % BLOCK !== 0) {
    throw new AttachmentIntegrityError('bad_size', 'the attachment blob has an impossible length');
  }
  const macStart = IV_LENGTH + ctLength;
  const ours = await hmac(key.subarray(32), blob.subarray(0, macStart));
  if (!constantTimeEqual(ours, blob.subarray(macStart))) {
    throw new AttachmentIntegrityError('bad_mac', 'the attachment failed its MAC');
  }
  let padded: Uint8Array;
  try {
    padded = new Uint8Array(
      await subtle().decrypt(
        { name: 'AES-CBC', iv: buf(blob.slice(0, IV_LENGTH)) },
        await aesKey(key, 'decrypt'),
        buf(blob.slice(IV_LENGTH, macStart)),
      ),
    );
  } catch {
    throw new AttachmentIntegrityError('bad_padding', 'the attachment has bad padding');
  }
  if (size > padded.length) {
    throw new AttachmentIntegrityError('bad_size', 'the attachment is shorter than its size');
  }
  // The tail past `size` is our zero padding; anything else there was not made by a client.
  for (let i = size; i < padded.length; i++) {
    if (padded[i] !== 0) {
      throw new AttachmentIntegrityError('bad_padding', 'the attachment padding is not zeros');
    }
  }
  return padded.subarray(0, size);
}
