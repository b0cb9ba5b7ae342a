/**
 * The relay's HTTP API, typed with @parley/protocol. Every non-2xx response becomes a
 * `RelayHttpError` carrying the status, the stable `error` code and, for 409/410 on a send,
 * the device lists the caller needs to fix its send.
 * @module
 */
import {
  ErrorCode,
  UNIDENTIFIED_ACCESS_KEY_HEADER,
  basicAuthorization,
  type AccountExportResponse,
  type DeviceListResponse,
  type DeviceLogin,
  type FetchMessagesResponse,
  type GoneAccountsResponse,
  type LinkDeviceRequest,
  type LinkDeviceResponse,
  type LinkingCodeResponse,
  type MismatchedDevicesResponse,
  type MultiMismatchedDevicesResponse,
  type MultiRecipientSendRequest,
  type MultiStaleDevicesResponse,
  type PreKeyBundleResponse,
  type PreKeyStatusResponse,
  type PreKeyUploadRequest,
  type RegisterRequest,
  type RegisterResponse,
  type SealedMultiRecipientRequest,
  type SealedSendRequest,
  type SenderCertificateResponse,
  type TrustRootResponse,
  type SendMessagesRequest,
  type SendMessagesResponse,
  type StaleDevicesResponse,
  type UsernameResponse,
  type WhoAmIResponse,
} from '@parley/protocol';
import { NotRegisteredError } from '../errors.ts';

export type FetchLike = typeof globalThis.fetch;

/** The relay's stable error codes, or `http_error` for a response without one (a proxy's). */
export type RelayErrorCode = ErrorCode | 'http_error';

const RELAY_CODES = new Set<string>(Object.values(ErrorCode));

function relayErrorCode(code: unknown): RelayErrorCode {
  return typeof code === 'string' && RELAY_CODES.has(code) ? (code as ErrorCode) : 'http_error';
}

export class RelayHttpError extends Error {
  override readonly name = 'RelayHttpError';
  constructor(
    readonly status: number,
    readonly code: RelayErrorCode,
    message: string,
    readonly body: unknown,
    /** From `Retry-After` (429, 503): how long the relay asks us to wait, in seconds. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`relay ${status} ${code}: ${message}`);
  }

  get mismatched(): MismatchedDevicesResponse | undefined {
    return this.status === 409 && hasArray(this.body, 'missingDevices')
      ? (this.body as MismatchedDevicesResponse)
      : undefined;
  }

  get stale(): StaleDevicesResponse | undefined {
    return this.status === 410 && hasArray(this.body, 'staleDevices')
      ? (this.body as StaleDevicesResponse)
      : undefined;
  }

  get multiMismatched(): MultiMismatchedDevicesResponse | undefined {
    return this.status === 409 && hasArray(this.body, 'accounts')
      ? (this.body as MultiMismatchedDevicesResponse)
      : undefined;
  }

  get multiStale(): MultiStaleDevicesResponse | undefined {
    return this.status === 410 &&
      this.code === ErrorCode.StaleDevices &&
      hasArray(this.body, 'accounts')
      ? (this.body as MultiStaleDevicesResponse)
      : undefined;
  }
}

/**
 * The deleted accounts a 410 `account_gone` names (`accounts` on a multi-recipient send), or
 * `[]` when it names none (a single-recipient send or bundle fetch: the addressed account);
 * undefined for any other error.
 */
export function goneAccountsOf(err: unknown): string[] | undefined {
  if (!(err instanceof RelayHttpError) || err.code !== ErrorCode.AccountGone) return undefined;
  const accounts = (err.body as { accounts?: unknown } | undefined)?.accounts;
  return Array.isArray(accounts) ? accounts.filter((a): a is string => typeof a === 'string') : [];
}

/** The relay could not be reached at all (connection refused, DNS, reset). */
export class RelayUnavailableError extends Error {
  override readonly name = 'RelayUnavailableError';
}

/** `Retry-After` as seconds (RFC 9110 §10.2.3: delay-seconds, or an HTTP date). */
function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  if (/^\d{1,9}$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function hasArray(body: unknown, key: string): boolean {
  return typeof body === 'object' && body !== null && Array.isArray((body as never)[key]);
}

export interface RelayHttpOptions {
  fetch?: FetchLike;
  /** Per-request timeout, ms (default 30 s). */
  timeoutMs?: number;
}

export class RelayHttp {
  readonly baseUrl: string;
  #login: DeviceLogin | undefined;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;

  constructor(baseUrl: string, login?: DeviceLogin, options: RelayHttpOptions = {}) {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError('relay URL must be http(s)');
    }
    this.baseUrl = url.origin + url.pathname.replace(/\/$/, '');
    this.#login = login;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  get login(): DeviceLogin | undefined {
    return this.#login;
  }

  setLogin(login: DeviceLogin | undefined): void {
    this.#login = login;
  }

  async #request<T>(
    method: string,
    path: string,
    body?: unknown,
    auth = true,
    extraHeaders: Record<string, string> = {},
  ): Promise<T> {
    const headers: Record<string, string> = { ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth) {
      if (!this.#login) throw new NotRegisteredError();
      headers.authorization = basicAuthorization(this.#login);
    }
    let res: Response;
    try {
      res = await this.#fetch(this.baseUrl + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      throw new RelayUnavailableError(`relay unreachable: ${method} ${path}`, { cause });
    }
    const text = await res.text();
    let json: unknown = undefined;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (!res.ok) {
      const obj = (json ?? {}) as { error?: unknown; message?: unknown };
      throw new RelayHttpError(
        res.status,
        relayErrorCode(obj.error),
        typeof obj.message === 'string' ? obj.message : res.statusText,
        json,
        retryAfter(res.headers.get('retry-after')),
      );
    }
    return json as T;
  }

  register(req: RegisterRequest): Promise<RegisterResponse> {
    return this.#request('POST', '/v1/accounts', req, false);
  }

  whoami(): Promise<WhoAmIResponse> {
    return this.#request('GET', '/v1/accounts/me');
  }

  deleteAccount(): Promise<void> {
    return this.#request('DELETE', '/v1/accounts/me');
  }

  exportAccount(): Promise<AccountExportResponse> {
    return this.#request('GET', '/v1/accounts/me/export');
  }

  setUsername(username: string): Promise<UsernameResponse> {
    return this.#request('PUT', '/v1/accounts/me/username', { username });
  }

  /** Which of `accountIds` (1–100) were deleted. */
  goneAccounts(accountIds: string[]): Promise<GoneAccountsResponse> {
    return this.#request('POST', '/v1/accounts/gone', { accountIds });
  }

  lookupUsername(username: string): Promise<UsernameResponse> {
    return this.#request('GET', `/v1/accounts/username/${encodeURIComponent(username)}`);
  }

  listDevices(): Promise<DeviceListResponse> {
    return this.#request('GET', '/v1/devices');
  }

  removeDevice(deviceId: number): Promise<void> {
    return this.#request('DELETE', `/v1/devices/${deviceId}`);
  }

  linkingCode(): Promise<LinkingCodeResponse> {
    return this.#request('POST', '/v1/devices/linking-code', {});
  }

  linkDevice(req: LinkDeviceRequest): Promise<LinkDeviceResponse> {
    return this.#request('POST', '/v1/devices/link', req, false);
  }

  uploadKeys(req: PreKeyUploadRequest): Promise<void> {
    return this.#request('PUT', '/v1/keys', req);
  }

  keyStatus(): Promise<PreKeyStatusResponse> {
    return this.#request('GET', '/v1/keys/status');
  }

  /** Bundles for one device, or every device with `'*'`. */
  getBundles(accountId: string, deviceId: number | '*' = '*'): Promise<PreKeyBundleResponse> {
    return this.#request('GET', `/v1/keys/${encodeURIComponent(accountId)}/${deviceId}`);
  }

  sendMessages(accountId: string, req: SendMessagesRequest): Promise<SendMessagesResponse> {
    return this.#request('PUT', `/v1/messages/${encodeURIComponent(accountId)}`, req);
  }

  sendMultiRecipient(req: MultiRecipientSendRequest): Promise<SendMessagesResponse> {
    return this.#request('PUT', '/v1/messages/multi_recipient', req);
  }

  /** The relay's sealed sender trust root and server certificate (no login). */
  trustRoot(): Promise<TrustRootResponse> {
    return this.#request('GET', '/v1/certificate/trust-root', undefined, false);
  }

  /** A short-lived sender certificate for this device. */
  senderCertificate(): Promise<SenderCertificateResponse> {
    return this.#request('GET', '/v1/certificate/delivery');
  }

  /** Sets (or with null clears) this account's unidentified-access key. */
  setUnidentifiedAccess(unidentifiedAccessKey: string | null): Promise<void> {
    return this.#request('PUT', '/v1/accounts/me/unidentified-access', { unidentifiedAccessKey });
  }

  /** A sealed send: no login, authorised by the recipient's access key. */
  sendSealed(
    accountId: string,
    accessKey: string,
    req: SealedSendRequest,
  ): Promise<SendMessagesResponse> {
    return this.#request(
      'PUT',
      `/v1/messages/sealed/${encodeURIComponent(accountId)}`,
      req,
      false,
      {
        [UNIDENTIFIED_ACCESS_KEY_HEADER]: accessKey,
      },
    );
  }

  /** A sealed multi-recipient (v2) send: no login, one access key per recipient account. */
  sendSealedMultiRecipient(req: SealedMultiRecipientRequest): Promise<SendMessagesResponse> {
    return this.#request('PUT', '/v1/messages/sealed_multi_recipient', req, false);
  }

  fetchMessages(limit = 100): Promise<FetchMessagesResponse> {
    return this.#request('GET', `/v1/messages?limit=${limit}`);
  }

  sendProvisioningMessage(address: string, body: string): Promise<void> {
    return this.#request('PUT', `/v1/provisioning/${encodeURIComponent(address)}`, { body });
  }
}
