/**
 * Vitest setup for the `crypto-noble` project: runs the whole crypto suite with the curve
 * backend named by PARLEY_CRYPTO_BACKEND (`noble`, `webcrypto` or `auto`).
 */
import { setCryptoBackend, type CryptoBackendChoice } from '../../src/backend.ts';

const wanted = process.env.PARLEY_CRYPTO_BACKEND;
if (wanted) setCryptoBackend(wanted as CryptoBackendChoice);
