/**
 * The version byte shared by both sender-key wire messages: `(3 << 4) | 3 = 0x33`. Receivers
 * read the high nibble only (as libsignal does): below 3 is a legacy format, above 3 unknown.
 * Internal.
 * @module
 */
import { ProtocolError } from '../errors.ts';
import { SENDERKEY_MESSAGE_VERSION } from './consts.ts';

export const SENDERKEY_VERSION_BYTE = (SENDERKEY_MESSAGE_VERSION << 4) | SENDERKEY_MESSAGE_VERSION;

/** Checks the version byte of a received message; returns the message version. */
export function checkVersionByte(byte: number, what: string): number {
  const version = byte >> 4;
  if (version < SENDERKEY_MESSAGE_VERSION) {
    throw new ProtocolError('LegacyCiphertextVersion', `${what} has legacy version ${version}`);
  }
  if (version > SENDERKEY_MESSAGE_VERSION) {
    throw new ProtocolError('UnrecognizedMessageVersion', `${what} has unknown version ${version}`);
  }
  return version;
}
