/**
 * Base64url without padding, as QR codes and exported JSON carry bytes.
 * @module
 */

/** Bytes as unpadded base64url (RFC 4648 §5), for QR codes and exported JSON. */
export function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
