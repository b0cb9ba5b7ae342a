import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  blobSize,
  decryptAttachment,
  encryptAttachment,
  encryptAttachmentWith,
} from '../src/attachments/cipher.ts';
import { AttachmentIntegrityError } from '../src/attachments/errors.ts';
import { MIN_PADDED_SIZE, paddedSize } from '../src/attachments/padding.ts';

/** Deterministic bytes (a counter pattern), so the vectors are reproducible. */
function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7) & 0xff;
  return out;
}

/** An independent implementation of the same format on node:crypto. */
function nodeEncrypt(plaintext: Uint8Array, key: Uint8Array, iv: Uint8Array) {
  const padded = Buffer.alloc(paddedSize(plaintext.length));
  padded.set(plaintext);
  const c = createCipheriv('aes-256-cbc', key.subarray(0, 32), iv);
  const ct = Buffer.concat([c.update(padded), c.final()]);
  const mac = createHmac('sha256', key.subarray(32)).update(iv).update(ct).digest();
  const blob = Buffer.concat([iv, ct, mac]);
  return { blob, digest: createHash('sha256').update(blob).digest() };
}

function nodeDecrypt(blob: Uint8Array, key: Uint8Array, size: number): Uint8Array {
  const d = createDecipheriv('aes-256-cbc', key.subarray(0, 32), blob.subarray(0, 16));
  const padded = Buffer.concat([d.update(blob.subarray(16, blob.length - 32)), d.final()]);
  return padded.subarray(0, size);
}

async function integrityCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AttachmentIntegrityError);
    return (err as AttachmentIntegrityError).code;
  }
  throw new Error('expected an AttachmentIntegrityError, got plaintext');
}

describe('attachment padding', () => {
  it("follows Signal's buckets", () => {
    expect(paddedSize(0)).toBe(MIN_PADDED_SIZE);
    expect(paddedSize(1)).toBe(541);
    expect(paddedSize(541)).toBe(541);
    expect(paddedSize(542)).toBe(Math.floor(1.05 ** Math.ceil(Math.log(542) / Math.log(1.05))));
    // ceil(log(1e6) / log(1.05)) = 284 and 1.05^284 ≈ 1,041,743.9 (Signal's value too).
    expect(paddedSize(1_000_000)).toBe(1_041_743);
    expect(paddedSize(1_041_743)).toBe(1_041_743);
    expect(paddedSize(1_041_744)).toBe(Math.floor(1.05 ** 285));
    for (const size of [2, 100, 540, 1000, 4096, 65_537, 2 * 1024 * 1024, 100 * 1024 * 1024]) {
      const p = paddedSize(size);
      expect(p).toBeGreaterThanOrEqual(size);
      // Never more than 5 % (plus the floor of 541 for tiny files).
      expect(p).toBeLessThanOrEqual(Math.max(541, Math.ceil(size * 1.05)));
    }
  });

  it('hides the exact size: nearby sizes give the same blob length', async () => {
    const a = await encryptAttachment(pattern(10_000));
    const b = await encryptAttachment(pattern(10_100));
    expect(a.blob.length).toBe(b.blob.length);
    expect(a.blob.length).toBe(blobSize(10_000));
    expect(a.size).toBe(10_000);
    expect(b.size).toBe(10_100);
  });
});

describe('attachment cipher', () => {
  it('matches an independent node:crypto implementation, both ways', async () => {
    for (const size of [0, 1, 15, 16, 541, 542, 5000, 123_457]) {
      const key = pattern(64, size + 3);
      const iv = pattern(16, size + 5);
      const plaintext = pattern(size, size);
      const ours = await encryptAttachmentWith(plaintext, key, iv);
      const theirs = nodeEncrypt(plaintext, key, iv);
      expect(Buffer.from(ours.blob).equals(theirs.blob)).toBe(true);
      expect(Buffer.from(ours.digest).equals(theirs.digest)).toBe(true);
      expect(ours.blob.length).toBe(blobSize(size));
      // Their blob decrypts with our code, ours with theirs.
      const back = await decryptAttachment(theirs.blob, {
        key,
        digest: theirs.digest,
        size,
      });
      expect(Buffer.from(back).equals(Buffer.from(plaintext))).toBe(true);
      expect(Buffer.from(nodeDecrypt(ours.blob, key, size)).equals(Buffer.from(plaintext))).toBe(
        true,
      );
    }
  });

  it('uses a fresh key and IV for every attachment', async () => {
    const plaintext = pattern(2000);
    const a = await encryptAttachment(plaintext);
    const b = await encryptAttachment(plaintext);
    expect(a.key.length).toBe(64);
    expect(Buffer.from(a.key).equals(Buffer.from(b.key))).toBe(false);
    expect(Buffer.from(a.blob.subarray(0, 16)).equals(Buffer.from(b.blob.subarray(0, 16)))).toBe(
      false,
    );
    expect(Buffer.from(await decryptAttachment(a.blob, a)).equals(Buffer.from(plaintext))).toBe(
      true,
    );
  });

  it('a flipped byte anywhere in the blob gives a typed error and no plaintext', async () => {
    const enc = await encryptAttachment(pattern(3000));
    // IV, first and last ciphertext block, MAC.
    for (const at of [
      0,
      15,
      16,
      40,
      enc.blob.length - 33,
      enc.blob.length - 32,
      enc.blob.length - 1,
    ]) {
      const tampered = enc.blob.slice();
      tampered[at]! ^= 0x01;
      expect(await integrityCode(decryptAttachment(tampered, enc))).toBe('bad_digest');
    }
    // Truncated or extended blobs.
    expect(await integrityCode(decryptAttachment(enc.blob.subarray(1), enc))).toBe('bad_digest');
    const longer = new Uint8Array(enc.blob.length + 16);
    longer.set(enc.blob);
    expect(await integrityCode(decryptAttachment(longer, enc))).toBe('bad_digest');
  });

  it('checks the MAC before decrypting, even when the digest was forged to match', async () => {
    const enc = await encryptAttachment(pattern(3000));
    const tampered = enc.blob.slice();
    tampered[100]! ^= 0x80;
    const digest = new Uint8Array(createHash('sha256').update(tampered).digest());
    expect(await integrityCode(decryptAttachment(tampered, { ...enc, digest }))).toBe('bad_mac');
    // The wrong MAC key (a pointer with a mixed-up key) is caught the same way.
    const key = enc.key.slice();
    key[40]! ^= 1;
    expect(await integrityCode(decryptAttachment(enc.blob, { ...enc, key }))).toBe('bad_mac');
  });

  it('rejects bad padding that carries a valid MAC', async () => {
    // A sender that MACs a ciphertext whose PKCS7 padding is broken.
    const key = pattern(64, 9);
    const iv = pattern(16, 4);
    const c = createCipheriv('aes-256-cbc', key.subarray(0, 32), iv).setAutoPadding(false);
    const ct = Buffer.concat([c.update(Buffer.alloc(560, 0x07)), c.final()]);
    const mac = createHmac('sha256', key.subarray(32)).update(iv).update(ct).digest();
    const blob = Buffer.concat([iv, ct, mac]);
    const digest = createHash('sha256').update(blob).digest();
    expect(await integrityCode(decryptAttachment(blob, { key, digest, size: 10 }))).toBe(
      'bad_padding',
    );
    // Valid PKCS7, but the zero padding past `size` is not zeros.
    const enc = await encryptAttachmentWith(pattern(600), key, iv);
    expect(await integrityCode(decryptAttachment(enc.blob, { ...enc, size: 100 }))).toBe(
      'bad_padding',
    );
  });

  it('rejects a size larger than the blob holds, and bad key or digest lengths', async () => {
    const enc = await encryptAttachment(pattern(600));
    expect(await integrityCode(decryptAttachment(enc.blob, { ...enc, size: 1_000_000 }))).toBe(
      'bad_size',
    );
    expect(await integrityCode(decryptAttachment(enc.blob, { ...enc, size: -1 }))).toBe('bad_size');
    expect(
      await integrityCode(decryptAttachment(enc.blob, { ...enc, key: enc.key.subarray(0, 32) })),
    ).toBe('bad_key');
    expect(
      await integrityCode(
        decryptAttachment(enc.blob, { ...enc, digest: enc.digest.subarray(0, 31) }),
      ),
    ).toBe('bad_key');
    // A blob too short to hold IV, one block and a MAC.
    const short = new Uint8Array(40);
    const digest = new Uint8Array(createHash('sha256').update(short).digest());
    expect(await integrityCode(decryptAttachment(short, { ...enc, digest }))).toBe('bad_size');
  });
});
