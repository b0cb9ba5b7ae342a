/**
 * Which implementation runs the curve arithmetic (X25519 agreement, XEdDSA verification,
 * key-pair generation) inside SessionCipher, GroupCipher and the session builders:
 *
 * - `'noble'`: @noble/curves, pure TypeScript, everywhere;
 * - `'webcrypto'`: `crypto.subtle` X25519 / Ed25519 (Node ≥ 20, current Chromium); throws
 *   `InvalidState` on first use where those are missing;
 * - `'auto'` (the default): WebCrypto when a known-answer self-test passes, noble otherwise.
 *
 * Results are identical bit for bit: the choice only changes speed. Signing and ML-KEM run
 * on noble in both. The setting is process-wide (per JS realm).
 *
 *   import { setCryptoBackend } from '@parley/crypto/backend.js';
 *   setCryptoBackend('noble');
 * @module
 */
import {
  curveBackend,
  getCryptoBackendChoice,
  setCryptoBackend,
  type CryptoBackendChoice,
  type CryptoBackendName,
} from './_backend.ts';

export { setCryptoBackend, getCryptoBackendChoice };
export type { CryptoBackendChoice, CryptoBackendName };

/** The backend that runs now (resolves `'auto'`, self-testing WebCrypto on first call). */
export async function activeCryptoBackend(): Promise<CryptoBackendName> {
  return (await curveBackend()).name;
}

export { clearWebcryptoCaches } from './_webcrypto.ts';
