/**
 * Sealing a history archive for upload: AES-256-GCM under a fresh 32-byte key, in chunks, so
 * a large archive never needs one huge WebCrypto call and any truncation or reordering of the
 * blob is detected, not just bit flips.
 *
 *   blob      = version(1 byte) ‖ chunk_0 ‖ … ‖ chunk_n
 *   chunk_i   = AES-256-GCM(key, nonce_i, plaintext[i·CHUNK, (i+1)·CHUNK), aad_i)  (CHUNK + 16 bytes, the last shorter)
 *   nonce_i   = 0x00000000 ‖ uint64_be(i)       (the key is used for this one archive only)
 *   aad_i     = "Parley History v1" ‖ uint64_be(i) ‖ final_i   (final_i = 1 for the last chunk, else 0)
 *
 * A blob cut at a chunk boundary ends in a chunk sealed with final = 0 and fails to open; a
 * swapped chunk fails because its index is in the nonce and the AAD. Whoever holds the blob's
 * SHA-256 (sent with the key) checks it before anything is decrypted.
 * @module
 */
import { bytesEqual, utf8 } from '../util/bytes.ts';
import { HistoryTransferError } from './errors.ts';

/** The sealed-blob format this client writes and reads. */
export const SEAL_VERSION = 1;
/** Plaintext bytes per chunk. */
export const CHUNK_BYTES = 1024 * 1024;
const TAG_BYTES = 16;
const LABEL = utf8.encode('Parley History v1');

export interface SealedArchive {
  blob: Uint8Array;
  /** Fresh AES-256 key, 32 bytes. Secret. */
  key: Uint8Array;
  /** SHA-256 of `blob`. */
  digest: Uint8Array;
}

function nonce(index: number): Uint8Array<ArrayBuffer> {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setBigUint64(4, BigInt(index));
  return n;
}

function aad(index: number, final: boolean): Uint8Array<ArrayBuffer> {
  const a = new Uint8Array(LABEL.length + 9);
  a.set(LABEL);
  new DataView(a.buffer).setBigUint64(LABEL.length, BigInt(index));
  a[LABEL.length + 8] = final ? 1 : 0;
  return a;
}

function importKey(key: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  if (key.length !== 32)
    throw new HistoryTransferError('decrypt_failed', 'history key is not 32 bytes');
  return crypto.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [usage]);
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** Seals `plaintext` under a fresh key from `rng` (32 bytes). */
export async function sealArchive(
  plaintext: Uint8Array,
  rng: (n: number) => Uint8Array,
): Promise<SealedArchive> {
  const key = rng(32);
  const cryptoKey = await importKey(key, 'encrypt');
  const count = Math.max(1, Math.ceil(plaintext.length / CHUNK_BYTES));
  const blob = new Uint8Array(1 + plaintext.length + count * TAG_BYTES);
  blob[0] = SEAL_VERSION;
  let at = 1;
  for (let i = 0; i < count; i++) {
    const part = plaintext.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES);
    const ct = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: nonce(i), additionalData: aad(i, i === count - 1) },
      cryptoKey,
      part as Uint8Array<ArrayBuffer>,
    );
    blob.set(new Uint8Array(ct), at);
    at += ct.byteLength;
  }
  return { blob, key, digest: await sha256(blob) };
}

/**
 * Checks `blob` against `digest`, then opens it with `key`. Throws `HistoryTransferError`
 * (`digest_mismatch`, `unsupported_version`, `decrypt_failed`) on anything wrong.
 */
export async function openArchive(
  blob: Uint8Array,
  key: Uint8Array,
  digest: Uint8Array,
): Promise<Uint8Array> {
  if (!bytesEqual(await sha256(blob), digest)) {
    throw new HistoryTransferError(
      'digest_mismatch',
      'the downloaded history is not what your other device uploaded',
    );
  }
  if (blob[0] !== SEAL_VERSION) {
    throw new HistoryTransferError(
      'unsupported_version',
      `history archive format ${blob[0] ?? 'none'} is not supported by this version`,
    );
  }
  const body = blob.subarray(1);
  const sealedChunk = CHUNK_BYTES + TAG_BYTES;
  const count = Math.max(1, Math.ceil(body.length / sealedChunk));
  const cryptoKey = await importKey(key, 'decrypt');
  const out = new Uint8Array(Math.max(0, body.length - count * TAG_BYTES));
  let at = 0;
  for (let i = 0; i < count; i++) {
    const part = body.subarray(i * sealedChunk, (i + 1) * sealedChunk);
    let pt: ArrayBuffer;
    try {
      pt = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonce(i), additionalData: aad(i, i === count - 1) },
        cryptoKey,
        part as Uint8Array<ArrayBuffer>,
      );
    } catch (cause) {
      throw new HistoryTransferError(
        'decrypt_failed',
        'the history archive is damaged or incomplete (it did not decrypt)',
        { cause },
      );
    }
    out.set(new Uint8Array(pt), at);
    at += pt.byteLength;
  }
  return out;
}
