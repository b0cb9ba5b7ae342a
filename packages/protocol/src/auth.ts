/**
 * How a device proves who it is.
 *
 * HTTP: `Authorization: Basic base64("<accountId>.<deviceId>:<credential>")` — Signal's scheme.
 * WebSocket: the same header, or (for browsers, which cannot set headers on a WebSocket) the
 * subprotocol `parley.auth.<base64url("<accountId>.<deviceId>:<credential>")>` offered next
 * to `WS_SUBPROTOCOL`.
 * @module
 */
import { WS_AUTH_SUBPROTOCOL_PREFIX } from './version.ts';

export interface DeviceLogin {
  accountId: string;
  deviceId: number;
  credential: string;
}

const LOGIN =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([1-9][0-9]{0,9}):([A-Za-z0-9_-]{43})$/;

function toBase64Url(b64: string): string {
  return b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(b64url: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(b64url)) return undefined;
  const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
  try {
    return atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  } catch {
    return undefined;
  }
}

function loginString(login: DeviceLogin): string {
  return `${login.accountId}.${login.deviceId}:${login.credential}`;
}

/** Parses `accountId.deviceId:credential`; `undefined` for anything malformed. */
export function parseDeviceLogin(decoded: string): DeviceLogin | undefined {
  const match = LOGIN.exec(decoded);
  if (!match) return undefined;
  const deviceId = Number(match[2]);
  if (!Number.isSafeInteger(deviceId) || deviceId > 0x7fffffff) return undefined;
  return { accountId: match[1] as string, deviceId, credential: match[3] as string };
}

/** The `Authorization` header value for a device. */
export function basicAuthorization(login: DeviceLogin): string {
  return `Basic ${btoa(loginString(login))}`;
}

/** Parses an `Authorization` header; `undefined` if it is not a well-formed Basic login. */
export function parseBasicAuthorization(header: string | undefined): DeviceLogin | undefined {
  if (header === undefined || header.length > 512) return undefined;
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/.exec(header);
  if (!match) return undefined;
  let decoded: string;
  try {
    decoded = atob(match[1] as string);
  } catch {
    return undefined;
  }
  return parseDeviceLogin(decoded);
}

/** The WebSocket subprotocol that carries a device login (for browsers). */
export function authSubprotocol(login: DeviceLogin): string {
  return WS_AUTH_SUBPROTOCOL_PREFIX + toBase64Url(btoa(loginString(login)));
}

/** Finds and parses the auth subprotocol in a `Sec-WebSocket-Protocol` header value. */
export function parseAuthSubprotocol(header: string | undefined): DeviceLogin | undefined {
  if (header === undefined || header.length > 1024) return undefined;
  for (const raw of header.split(',')) {
    const protocol = raw.trim();
    if (protocol.startsWith(WS_AUTH_SUBPROTOCOL_PREFIX)) {
      const decoded = fromBase64Url(protocol.slice(WS_AUTH_SUBPROTOCOL_PREFIX.length));
      return decoded === undefined ? undefined : parseDeviceLogin(decoded);
    }
  }
  return undefined;
}
