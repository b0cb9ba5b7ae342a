/**
 * Service ids as libsignal encodes them (`rust/core/src/address.rs`): the account UUID of an
 * ACI, or of a PNI, which sealed sender v2 names its recipients by.
 *
 *   string form:              "<uuid>" (ACI) | "PNI:<uuid>"   (uuid: lowercase, hyphenated)
 *   fixed-width binary (17):  kind (0x00 ACI, 0x01 PNI) ‖ 16 UUID bytes
 *
 * Parsing accepts either case in the UUID (as libsignal does) and returns the canonical form.
 * Internal to the sealed sender modules.
 * @module
 */
import { fromHex, toHex } from '../_bytes.ts';
import { ProtocolError, type ProtocolErrorCode } from '../errors.ts';

export const SERVICE_ID_FIXED_WIDTH_LENGTH = 17;
export const UUID_LENGTH = 16;

const KIND_ACI = 0x00;
const KIND_PNI = 0x01;
const PNI_PREFIX = 'PNI:';
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** 16 bytes → lowercase hyphenated UUID string. */
export function uuidFromBytes(bytes: Uint8Array): string {
  const h = toHex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A service id string → its 17-byte fixed-width binary form; `code` error when malformed. */
export function serviceIdToFixedWidth(
  serviceId: string,
  code: ProtocolErrorCode = 'InvalidArgument',
): Uint8Array {
  const pni = serviceId.startsWith(PNI_PREFIX);
  const uuid = pni ? serviceId.slice(PNI_PREFIX.length) : serviceId;
  if (!UUID_RE.test(uuid)) {
    throw new ProtocolError(code, 'a service id must be "<uuid>" or "PNI:<uuid>"');
  }
  const out = new Uint8Array(SERVICE_ID_FIXED_WIDTH_LENGTH);
  out[0] = pni ? KIND_PNI : KIND_ACI;
  out.set(fromHex(uuid.replaceAll('-', '')), 1);
  return out;
}

/** 17 bytes → canonical service id string, or undefined for an unknown kind byte. */
export function serviceIdFromFixedWidth(bytes: Uint8Array): string | undefined {
  const uuid = uuidFromBytes(bytes.subarray(1, SERVICE_ID_FIXED_WIDTH_LENGTH));
  if (bytes[0] === KIND_ACI) return uuid;
  if (bytes[0] === KIND_PNI) return PNI_PREFIX + uuid;
  return undefined;
}

/** The canonical string form (lowercase UUID) of a service id string; `code` error if malformed. */
export function canonicalServiceId(
  serviceId: unknown,
  code: ProtocolErrorCode = 'InvalidArgument',
): string {
  if (typeof serviceId !== 'string') {
    throw new ProtocolError(code, 'a service id must be a string');
  }
  return serviceIdFromFixedWidth(serviceIdToFixedWidth(serviceId, code))!;
}
