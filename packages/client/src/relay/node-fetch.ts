/**
 * `nodeFetch`: the relay HTTP client's transport for Node, on `node:http` / `node:https` with
 * keep-alive agents, in place of the global `fetch` (`ParleyClientOptions.fetch`).
 *
 * Why: Node's `fetch` (undici behind WHATWG streams, `Request`/`Response` objects) costs about
 * 1.2–1.8 ms of CPU per small request on the 2-core bench machine, `node:http` about 0.3–0.4 ms,
 * and a steady chat sends two requests per message (the text and its delivery receipt). It
 * covers what `RelayHttp` uses: method, string headers, a string body, an `AbortSignal`, and a
 * response read whole (`ok`, `status`, `statusText`, `headers.get`, `text`, `json`,
 * `arrayBuffer`). Redirects are not followed (the relay sends none). Node only: import it from
 * `@parley/client/relay/node-fetch.js`.
 * @module
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FetchLike } from './http.ts';

const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

/** What `RelayHttp` reads of a response; the rest of `Response` is not provided. */
class NodeResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null };
  readonly #body: Buffer;

  constructor(res: IncomingMessage, body: Buffer) {
    this.status = res.statusCode ?? 0;
    this.ok = this.status >= 200 && this.status < 300;
    this.statusText = res.statusMessage ?? '';
    const raw = res.headers;
    this.headers = {
      get(name: string): string | null {
        const value = raw[name.toLowerCase()];
        if (value === undefined) return null;
        return Array.isArray(value) ? value.join(', ') : value;
      },
    };
    this.#body = body;
  }

  async text(): Promise<string> {
    return this.#body.toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.#body.toString('utf8'));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const { buffer, byteOffset, byteLength } = this.#body;
    return buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer;
  }
}

function headersOf(init: RequestInit | undefined): Record<string, string> {
  const given = init?.headers;
  if (given === undefined) return {};
  if (given instanceof Headers) {
    const out: Record<string, string> = {};
    given.forEach((value, name) => (out[name] = value));
    return out;
  }
  if (Array.isArray(given)) return Object.fromEntries(given);
  return { ...(given as Record<string, string>) };
}

function bodyOf(body: RequestInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError('nodeFetch: only string and byte bodies are supported');
}

/** A `fetch` for the relay client on `node:http(s)`: same calls, a fraction of the CPU. */
export const nodeFetch: FetchLike = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') {
    return Promise.reject(new TypeError(`nodeFetch: unsupported protocol ${url.protocol}`));
  }
  const signal = init?.signal ?? undefined;
  const headers = headersOf(init);
  const body = bodyOf(init?.body);
  if (body !== undefined) headers['content-length'] = String(body.byteLength);
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      { method: init?.method ?? 'GET', headers, agent: secure ? httpsAgent : httpAgent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(new NodeResponse(res, Buffer.concat(chunks)) as unknown as Response);
        });
        res.on('error', fail);
      },
    );
    function fail(err: unknown) {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    }
    function onAbort() {
      req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', fail);
    req.end(body);
  });
};
