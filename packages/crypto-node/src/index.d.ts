import { type CurveBackend } from '@parley/crypto/backend.js';
/** Forgets every cached key (tests; or after wiping keys from storage). */
export declare function clearNodeCryptoCaches(): void;
export declare const nodeCryptoBackend: CurveBackend;
/** Internals for the tests only. */
export declare const __TESTS: Readonly<{
  hasSigningKey: (k: Uint8Array) => boolean;
}>;
