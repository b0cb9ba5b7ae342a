/**
 * SPQR's authenticator (SparsePostQuantumRatchet src/authenticator.rs): a root key and a MAC
 * key, re-keyed with every epoch's secret, that MAC the encapsulation-key header and the
 * ciphertext so a party without the session's PQXDH-derived auth key cannot inject either.
 * @module
 */
import { hkdfSha256, hmacSha256 } from '../_primitives.ts';
import { concat, constantTimeEqual } from '../_bytes.ts';
import { ProtocolError } from '../errors.ts';

export const MAC_SIZE = 32;
const ZERO32 = new Uint8Array(32);
const enc = (s: string) => new TextEncoder().encode(s);
const UPDATE_INFO = enc('Signal_PQCKA_V1_MLKEM768:Authenticator Update');
const CT_LABEL = enc('Signal_PQCKA_V1_MLKEM768:ciphertext');
const HDR_LABEL = enc('Signal_PQCKA_V1_MLKEM768:ekheader');
const SCKA_KEY_INFO = enc('Signal_PQCKA_V1_MLKEM768:SCKA Key');

/** Big-endian u64 (epochs stay far below 2^53). */
export function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export interface Authenticator {
  rootKey: Uint8Array;
  macKey: Uint8Array;
}

export function updateAuthenticator(
  auth: Authenticator,
  epoch: number,
  key: Uint8Array,
): Authenticator {
  const out = hkdfSha256(concat(auth.rootKey, key), ZERO32, concat(UPDATE_INFO, u64be(epoch)), 64);
  return { rootKey: out.slice(0, 32), macKey: out.slice(32) };
}

export function newAuthenticator(authKey: Uint8Array, epoch: number): Authenticator {
  return updateAuthenticator({ rootKey: ZERO32, macKey: ZERO32 }, epoch, authKey);
}

export function macCt(auth: Authenticator, epoch: number, ct: Uint8Array): Uint8Array {
  return hmacSha256(auth.macKey, concat(CT_LABEL, u64be(epoch), ct));
}

export function macHdr(auth: Authenticator, epoch: number, hdr: Uint8Array): Uint8Array {
  return hmacSha256(auth.macKey, concat(HDR_LABEL, u64be(epoch), hdr));
}

export function verifyCt(
  auth: Authenticator,
  epoch: number,
  ct: Uint8Array,
  mac: Uint8Array,
): void {
  if (!constantTimeEqual(mac, macCt(auth, epoch, ct))) {
    throw new ProtocolError('InvalidMac', 'SPQR ciphertext MAC is invalid');
  }
}

export function verifyHdr(
  auth: Authenticator,
  epoch: number,
  hdr: Uint8Array,
  mac: Uint8Array,
): void {
  if (!constantTimeEqual(mac, macHdr(auth, epoch, hdr))) {
    throw new ProtocolError('InvalidMac', 'SPQR header MAC is invalid');
  }
}

/** The epoch secret from a KEM shared secret. */
export function sckaKey(sharedSecret: Uint8Array, epoch: number): Uint8Array {
  return hkdfSha256(sharedSecret, ZERO32, concat(SCKA_KEY_INFO, u64be(epoch)), 32);
}
