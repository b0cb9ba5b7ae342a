/**
 * Vitest setup for the `crypto-node` project: the whole @parley/crypto suite (libsignal
 * interop included) runs with this package's backend.
 */
import { setCryptoBackend } from '@parley/crypto/backend.js';
import { nodeCryptoBackend } from '../src/index.ts';

setCryptoBackend(nodeCryptoBackend);
