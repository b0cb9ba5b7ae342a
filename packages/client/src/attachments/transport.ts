/**
 * Moving attachment ciphertext to and from the relay. Uploads use the tus resumable-upload
 * protocol (`tus-js-client`, in Node and browsers): a dropped connection is retried from the
 * offset the relay reports, within the same `upload` call. Downloads are ranged GETs of
 * `DOWNLOAD_CHUNK_BYTES` each, so a dropped connection costs at most one chunk.
 *
 * The bytes are opaque here: callers encrypt before `upload` and decrypt after `download`.
 * Nothing about an upload (no file name, no fingerprint) is stored or sent besides its length.
 * @module
 */
import { ATTACHMENTS_PATH, ErrorCode, basicAuthorization, isAttachmentId } from '@parley/protocol';
import { Upload, type DetailedError } from 'tus-js-client';
import { NotRegisteredError } from '../errors.ts';
import type { FetchLike, RelayHttp } from '../relay/index.ts';

export interface TransferOptions {
  /** Bytes done of the total, as the transfer goes. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting it cancels the transfer (`AttachmentTransferError` code `cancelled`). */
  signal?: AbortSignal;
}

export interface AttachmentTransport {
  /** Uploads ciphertext; resolves to the attachment id (the download capability). */
  upload(ciphertext: Uint8Array, options?: TransferOptions): Promise<string>;
  /** The whole blob, fetched in ranges and resumed after a dropped connection. */
  download(id: string, options?: TransferOptions): Promise<Uint8Array>;
}

export type AttachmentTransferErrorCode =
  'too_large' | 'quota' | 'rate_limited' | 'not_found' | 'network' | 'cancelled';

export class AttachmentTransferError extends Error {
  override readonly name = 'AttachmentTransferError';
  constructor(
    readonly code: AttachmentTransferErrorCode,
    message: string,
    /** Whether trying again later can succeed (after `retryAfterMs`, when given). */
    readonly retryable: boolean,
    /** From the relay's `Retry-After`. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** tus PATCH size: small enough for a slow uplink to finish one within the relay's timeout. */
export const UPLOAD_CHUNK_BYTES = 2 * 1024 * 1024;
/** Range size of a download request. */
export const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;
/** Waits before each retry after a dropped connection or a 5xx (then the transfer fails). */
export const RETRY_DELAYS_MS: readonly number[] = [0, 1000, 3000, 5000, 10_000];
/** One download request (a chunk) must finish within this. */
const DOWNLOAD_REQUEST_TIMEOUT_MS = 60_000;

/** What the transport needs of the client's `ClientContext` (which is one). */
export interface AttachmentTransportContext {
  /** The relay's base URL and this device's login. */
  readonly http: RelayHttp;
  readonly options: { readonly fetch?: FetchLike };
}

export function createAttachmentTransport(ctx: AttachmentTransportContext): AttachmentTransport {
  const fetchFn = ctx.options.fetch ?? globalThis.fetch.bind(globalThis);
  return {
    upload: (ciphertext, options = {}) => uploadBlob(ctx, ciphertext, options),
    download: (id, options = {}) => downloadBlob(ctx.http.baseUrl, fetchFn, id, options),
  };
}

// ---- upload ------------------------------------------------------------------------------------

/** Serves the ciphertext to tus-js-client as-is, the same in Node and browsers. */
const bytesReader = {
  openFile: async (input: Uint8Array) => ({
    size: input.length,
    slice: async (start: number, end: number) => {
      // tus-js-client's Node stack reads `size` for Content-Length.
      const value = Object.assign(input.subarray(start, end), {
        size: Math.min(end, input.length) - start,
      });
      return { value, done: end >= input.length };
    },
    close: () => undefined,
  }),
};

/** No upload URL is remembered anywhere (it is the download capability). */
const noUrlStorage = {
  findAllUploads: async () => [],
  findUploadsByFingerprint: async () => [],
  removeUpload: async () => undefined,
  addUpload: async () => '',
};

async function uploadBlob(
  ctx: AttachmentTransportContext,
  ciphertext: Uint8Array,
  { onProgress, signal }: TransferOptions,
): Promise<string> {
  const login = ctx.http.login;
  if (!login) throw new NotRegisteredError();
  if (signal?.aborted) throw cancelled();
  return new Promise<string>((resolve, reject) => {
    const upload = new Upload(ciphertext as unknown as Blob, {
      endpoint: ctx.http.baseUrl + ATTACHMENTS_PATH,
      headers: { authorization: basicAuthorization(login) },
      chunkSize: UPLOAD_CHUNK_BYTES,
      retryDelays: [...RETRY_DELAYS_MS],
      fileReader: bytesReader,
      urlStorage: noUrlStorage,
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: false,
      fingerprint: async () => '',
      ...(onProgress ? { onProgress } : {}),
      onSuccess: () => {
        signal?.removeEventListener('abort', onAbort);
        const id = new URL(upload.url ?? '', ctx.http.baseUrl).pathname.split('/').pop() ?? '';
        if (isAttachmentId(id)) resolve(id);
        else
          reject(
            new AttachmentTransferError('network', 'the relay returned no attachment id', true),
          );
      },
      onError: (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(uploadError(err));
      },
    });
    const onAbort = () => {
      // Terminate (DELETE) the upload, so its bytes stop counting against the quota at once.
      upload.abort(true).catch(() => undefined);
      reject(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    upload.start();
  });
}

function uploadError(err: Error | DetailedError): AttachmentTransferError {
  const response = 'originalResponse' in err ? err.originalResponse : null;
  if (!response) {
    return new AttachmentTransferError(
      'network',
      'the relay could not be reached',
      true,
      undefined,
      {
        cause: err,
      },
    );
  }
  return httpError(
    response.getStatus(),
    response.getBody(),
    response.getHeader('retry-after'),
    err,
  );
}

// ---- download ----------------------------------------------------------------------------------

async function downloadBlob(
  baseUrl: string,
  fetchFn: FetchLike,
  id: string,
  { onProgress, signal }: TransferOptions,
): Promise<Uint8Array> {
  if (!isAttachmentId(id))
    throw new AttachmentTransferError('not_found', 'not an attachment id', false);
  const url = `${baseUrl}${ATTACHMENTS_PATH}/${id}`;
  let blob: Uint8Array | undefined;
  let total = Infinity;
  let received = 0;
  let attempt = 0;
  while (received < total) {
    if (signal?.aborted) throw cancelled();
    const last = Math.min(received + DOWNLOAD_CHUNK_BYTES, total) - 1;
    let chunk: { bytes: Uint8Array; start: number; total: number };
    try {
      chunk = await fetchRange(fetchFn, url, received, last, signal);
    } catch (err) {
      if (signal?.aborted) throw cancelled();
      const transferError =
        err instanceof AttachmentTransferError
          ? err
          : new AttachmentTransferError(
              'network',
              'the relay could not be reached',
              true,
              undefined,
              {
                cause: err,
              },
            );
      const delay = RETRY_DELAYS_MS[attempt];
      if (!transferError.retryable || transferError.code !== 'network' || delay === undefined)
        throw transferError;
      attempt++;
      await sleep(delay, signal);
      continue;
    }
    attempt = 0;
    if (blob === undefined) {
      total = chunk.total;
      blob = new Uint8Array(total);
    }
    if (
      chunk.start !== received ||
      chunk.total !== total ||
      received + chunk.bytes.length > total
    ) {
      throw new AttachmentTransferError('network', 'the relay answered another range', true);
    }
    blob.set(chunk.bytes, received);
    received += chunk.bytes.length;
    onProgress?.(received, total);
  }
  return blob ?? new Uint8Array(0);
}

async function fetchRange(
  fetchFn: FetchLike,
  url: string,
  first: number,
  last: number,
  signal: AbortSignal | undefined,
): Promise<{ bytes: Uint8Array; start: number; total: number }> {
  const timeout = AbortSignal.timeout(DOWNLOAD_REQUEST_TIMEOUT_MS);
  const response = await fetchFn(url, {
    headers: { range: `bytes=${first}-${last}` },
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  if (response.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
    if (!range) throw new AttachmentTransferError('network', 'malformed Content-Range', true);
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { bytes, start: Number(range[1]), total: Number(range[3]) };
  }
  if (response.status === 200) {
    // A relay (or proxy) that ignores Range sends it all at once.
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { bytes: bytes.subarray(first), start: first, total: bytes.length };
  }
  throw httpError(response.status, await response.text(), response.headers.get('retry-after'));
}

// ---- errors ------------------------------------------------------------------------------------

function httpError(
  status: number,
  body: string,
  retryAfterHeader: string | null | undefined,
  cause?: unknown,
): AttachmentTransferError {
  let code: unknown;
  try {
    code = (JSON.parse(body) as { error?: unknown }).error;
  } catch {
    code = undefined;
  }
  const retryAfterMs = retryAfterSeconds(retryAfterHeader);
  const options = cause === undefined ? {} : { cause };
  if (status === 413) {
    return new AttachmentTransferError(
      'too_large',
      'the attachment is larger than the relay accepts',
      false,
      undefined,
      options,
    );
  }
  if (status === 429) {
    const quota = code === ErrorCode.AttachmentQuotaExceeded;
    return new AttachmentTransferError(
      quota ? 'quota' : 'rate_limited',
      quota ? "the account's attachment storage is full" : 'too many uploads; try again later',
      true,
      retryAfterMs,
      options,
    );
  }
  if (status === 404 || status === 410) {
    return new AttachmentTransferError(
      'not_found',
      'the attachment is gone or never existed',
      false,
      undefined,
      options,
    );
  }
  return new AttachmentTransferError(
    'network',
    `the relay answered ${status}`,
    status >= 500,
    undefined,
    options,
  );
}

function retryAfterSeconds(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined || !/^\d{1,9}$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

const cancelled = () =>
  new AttachmentTransferError('cancelled', 'the transfer was cancelled', false);

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelled());
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
