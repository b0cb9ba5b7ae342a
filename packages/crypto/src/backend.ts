/**
 * Which implementation runs the curve arithmetic (X25519 agreement, XEdDSA verification,
 * key-pair generation) inside SessionCipher, GroupCipher and the session builders:
 *
 * - `'noble'`: @noble/curves, pure TypeScript, everywhere;
 * - `'webcrypto'`: `crypto.subtle` X25519 / Ed25519 (Node ≥ 20, current Chromium); throws
 *   `InvalidState` on first use where those are missing;
 * - `'auto'` (the default): WebCrypto when a known-answer self-test passes, noble otherwise;
 * - a `CurveBackend` object of the application's: `@parley/crypto-node` is one (Node's
 *   synchronous `node:crypto`, the fastest choice in Node).
 *
 * Results are identical bit for bit: the choice only changes speed. ML-KEM runs on noble in
 * all; signing does too, except sender-key signing keys that an accelerated backend generated
 * itself in this process (Ed25519-backed, see `_ed25519-bridge.ts`). The setting is
 * process-wide (per JS realm).
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
  type CurveBackend,
} from './_backend.ts';

export { setCryptoBackend, getCryptoBackendChoice };
export type { CryptoBackendChoice, CryptoBackendName, CurveBackend };

/** The name of the backend that runs now (resolves `'auto'`, self-testing WebCrypto once). */
export async function activeCryptoBackend(): Promise<string> {
  return (await curveBackend()).name;
}

/**
 * For writers of custom backends (hazmat): the portable reference backend to hand uncovered
 * cases to, and the rules for checking XEdDSA with an Ed25519 verifier.
 */
export { nobleBackend, clampScalar } from './_backend.ts';
export { nobleSymmetric, type SymmetricPrimitives } from './_primitives.ts';
export {
  ed25519Signature,
  edwardsPublicKey,
  x25519FromEd25519,
  xeddsaRoute,
  xeddsaSignBit,
} from './_ed25519-bridge.ts';

export { clearWebcryptoCaches } from './_webcrypto.ts';
/** `clearCryptoCaches()`: drop every cached key of every backend, e.g. when an account is wiped. */
export { clearCryptoCaches, forgetPrivateKeys } from './_backend.ts';
