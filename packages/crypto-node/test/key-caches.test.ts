/**
 * The node backend's caches drop a private key (its import and its Ed25519 signing seed)
 * when the protocol erases it, and `clearCryptoCaches()` empties them (account wipe).
 */
import { describe, expect, test } from 'vitest';
import { clearCryptoCaches, forgetPrivateKeys, setCryptoBackend } from '@parley/crypto/backend.js';
import { __TESTS, nodeCryptoBackend as node } from '../src/index.ts';

describe('node backend key caches', () => {
  test('forgotten keys leave the caches; clearCryptoCaches empties them', async () => {
    setCryptoBackend(node);
    const pair = await node.generate();
    const signer = await node.generateSigning();
    expect(__TESTS.hasPrivateKey(pair.k)).toBe(true);
    expect(__TESTS.hasSigningKey(signer.k)).toBe(true);
    forgetPrivateKeys(pair.k, signer.k);
    expect(__TESTS.hasPrivateKey(pair.k)).toBe(false);
    expect(__TESTS.hasSigningKey(signer.k)).toBe(false);

    const again = await node.generateSigning();
    await node.agree(again.k, pair.u, again.u);
    expect(__TESTS.hasPrivateKey(again.k)).toBe(true);
    clearCryptoCaches();
    expect(__TESTS.hasPrivateKey(again.k)).toBe(false);
    expect(__TESTS.hasSigningKey(again.k)).toBe(false);
  });
});
