/**
 * An in-memory stand-in for the relay's HTTP API, as an injected `fetch`: just enough for the
 * client's module tests (register, look up, bundles, sends with sendId replay, fetching
 * envelopes, provisioning messages). The relay itself is tested in apps/relay, and the client
 * against the real relay process in the top-level test/.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseBasicAuthorization, type DeviceBundle, type Envelope } from '@parley/protocol';
import { MemoryBackend, ParleyClient, Storage, type ParleyClientOptions } from '@parley/client';

interface Device {
  deviceId: number;
  registrationId: number;
  credential: string;
  signedPreKey: DeviceBundle['signedPreKey'];
  pqPreKey: DeviceBundle['pqPreKey'];
  preKeys: NonNullable<DeviceBundle['preKey']>[];
  queue: Envelope[];
}

interface Account {
  accountId: string;
  username: string;
  identityKey: string;
  devices: Map<number, Device>;
}

type Json = Record<string, unknown>;

export class FakeRelay {
  readonly url = 'http://relay.test';
  readonly accounts = new Map<string, Account>();
  /** Every request refused as a network failure (the relay is down). */
  down = false;
  /** The next send is stored, then its answer is lost (a network failure after storing). */
  loseNextAnswer = false;
  /** Sends the relay stored (not replays): what the recipients will get. */
  stored = 0;
  readonly #sends = new Map<string, Json>();
  readonly provisioning = new Map<string, string>();

  readonly fetch: typeof fetch = async (input, init) => {
    if (this.down) throw new TypeError('fetch failed');
    const url = new URL(
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
    );
    const method = init?.method ?? 'GET';
    const body = init?.body ? (JSON.parse(String(init.body)) as Json) : {};
    const login = parseBasicAuthorization(
      new Headers(init?.headers).get('authorization') ?? undefined,
    );
    const [status, json] = this.#route(method, url.pathname, body, login);
    const res = new Response(json === undefined ? null : JSON.stringify(json), { status });
    if (this.loseNextAnswer && method === 'PUT' && url.pathname.startsWith('/v1/messages/')) {
      this.loseNextAnswer = false;
      throw new TypeError('fetch failed');
    }
    return res;
  };

  /** Options for a client on this relay with fresh memory storage. */
  options(extra: Partial<ParleyClientOptions> = {}): ParleyClientOptions {
    return {
      storage: new Storage(new MemoryBackend()),
      relayUrl: this.url,
      fetch: this.fetch,
      ...extra,
    };
  }

  async client(username: string, extra: Partial<ParleyClientOptions> = {}): Promise<ParleyClient> {
    const c = await ParleyClient.open(this.options(extra));
    await c.register(username);
    return c;
  }

  /** Hands `client` every envelope queued for it, as its socket would; returns how many. */
  async deliver(client: ParleyClient): Promise<number> {
    const device = this.accounts.get(client.accountId)!.devices.get(client.deviceId)!;
    let n = 0;
    while (device.queue.length > 0) {
      await client.handleEnvelope(device.queue.shift()!);
      n++;
    }
    return n;
  }

  queued(accountId: string, deviceId = 1): Envelope[] {
    return this.accounts.get(accountId)!.devices.get(deviceId)!.queue;
  }

  #route(
    method: string,
    path: string,
    body: Json,
    login: { accountId: string; deviceId: number } | undefined,
  ): [number, unknown] {
    const me = login && this.accounts.get(login.accountId);
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/accounts') {
      const accountId = randomUUID();
      const credential = randomBytes(32).toString('base64url');
      this.accounts.set(accountId, {
        accountId,
        username: String(body.username),
        identityKey: String(body.identityKey),
        devices: new Map([[1, this.#device(1, credential, body)]]),
      });
      return [200, { accountId, deviceId: 1, credential, username: body.username }];
    }
    if (!me) return [401, { error: 'unauthorized', message: 'no login' }];
    if (method === 'GET' && path === '/v1/accounts/me') {
      return [
        200,
        {
          accountId: me.accountId,
          deviceId: login.deviceId,
          username: me.username,
          identityKey: me.identityKey,
        },
      ];
    }
    if ((m = /^\/v1\/accounts\/username\/(.+)$/.exec(path))) {
      const name = decodeURIComponent(m[1]!).toLowerCase();
      const a = [...this.accounts.values()].find((x) => x.username.toLowerCase() === name);
      return a
        ? [200, { accountId: a.accountId, username: a.username }]
        : [404, { error: 'not_found', message: 'no such username' }];
    }
    if (method === 'GET' && path === '/v1/devices') {
      return [
        200,
        {
          devices: [...me.devices.keys()].map((deviceId) => ({
            deviceId,
            createdAt: 0,
            lastSeenAt: 0,
          })),
        },
      ];
    }
    if (method === 'GET' && path === '/v1/keys/status') {
      const d = me.devices.get(login.deviceId)!;
      return [
        200,
        {
          preKeyCount: d.preKeys.length,
          pqPreKeyCount: 100,
          signedPreKeyId: 1,
          pqLastResortPreKeyId: 1,
          retiredSignedPreKeys: [],
        },
      ];
    }
    if (method === 'PUT' && path === '/v1/keys') return [204, undefined];
    if ((m = /^\/v1\/keys\/([^/]+)\/(.+)$/.exec(path))) {
      const a = this.accounts.get(decodeURIComponent(m[1]!));
      if (!a) return [404, { error: 'not_found', message: 'no such account' }];
      const ids = m[2] === '*' ? [...a.devices.keys()] : [Number(m[2])];
      const devices = ids.flatMap((id) => {
        const d = a.devices.get(id);
        if (!d) return [];
        const preKey = d.preKeys.shift();
        return [
          {
            deviceId: id,
            registrationId: d.registrationId,
            signedPreKey: d.signedPreKey,
            pqPreKey: d.pqPreKey,
            pqPreKeyIsLastResort: true,
            ...(preKey ? { preKey } : {}),
          },
        ];
      });
      return [200, { identityKey: a.identityKey, devices }];
    }
    if (method === 'PUT' && path === '/v1/messages/multi_recipient') {
      return this.#send(login, body, () => {
        for (const r of body.recipients as Array<{ accountId: string; deviceId: number }>) {
          this.#enqueue(
            login,
            r.accountId,
            r.deviceId,
            String(body.type),
            String(body.content),
            Number(body.timestamp),
          );
        }
      });
    }
    if ((m = /^\/v1\/messages\/(.+)$/.exec(path)) && method === 'PUT') {
      const to = this.accounts.get(decodeURIComponent(m[1]!));
      if (!to) return [404, { error: 'not_found', message: 'no such account' }];
      const messages = body.messages as Array<{
        destinationDeviceId: number;
        type: string;
        content: string;
      }>;
      const expected = [...to.devices.keys()].filter((id) => !(to === me && id === login.deviceId));
      const listed = messages.map((x) => x.destinationDeviceId);
      const missingDevices = expected.filter((id) => !listed.includes(id));
      const extraDevices = listed.filter((id) => !expected.includes(id));
      if (missingDevices.length || extraDevices.length) {
        return [
          409,
          {
            error: 'mismatched_devices',
            message: 'device list does not match',
            missingDevices,
            extraDevices,
          },
        ];
      }
      return this.#send(login, body, () => {
        for (const x of messages)
          this.#enqueue(
            login,
            to.accountId,
            x.destinationDeviceId,
            x.type,
            x.content,
            Number(body.timestamp),
          );
      });
    }
    if ((m = /^\/v1\/provisioning\/(.+)$/.exec(path)) && method === 'PUT') {
      this.provisioning.set(decodeURIComponent(m[1]!), String(body.body));
      return [204, undefined];
    }
    if (method === 'POST' && path === '/v1/devices/linking-code')
      return [200, { code: 'x'.repeat(22), expiresAt: 0 }];
    return [404, { error: 'not_found', message: `no route ${method} ${path}` }];
  }

  #send(
    login: { accountId: string; deviceId: number },
    body: Json,
    store: () => void,
  ): [number, unknown] {
    const key =
      body.sendId === undefined
        ? undefined
        : `${login.accountId}.${login.deviceId}/${String(body.sendId)}`;
    const first = key && this.#sends.get(key);
    if (first) return [200, first];
    store();
    this.stored++;
    const answer = { serverTimestamp: Date.now(), stored: 1 };
    if (key) this.#sends.set(key, answer);
    return [200, answer];
  }

  #enqueue(
    from: { accountId: string; deviceId: number },
    to: string,
    deviceId: number,
    type: string,
    content: string,
    timestamp: number,
  ) {
    this.accounts
      .get(to)!
      .devices.get(deviceId)!
      .queue.push({
        id: randomUUID(),
        type: type as Envelope['type'],
        sourceAccountId: from.accountId,
        sourceDeviceId: from.deviceId,
        destinationDeviceId: deviceId,
        timestamp,
        serverTimestamp: Date.now(),
        content,
      });
  }

  #device(deviceId: number, credential: string, body: Json): Device {
    return {
      deviceId,
      credential,
      registrationId: Number(body.registrationId),
      signedPreKey: body.signedPreKey as Device['signedPreKey'],
      pqPreKey: body.pqLastResortPreKey as Device['pqPreKey'],
      preKeys: [...((body.preKeys as Device['preKeys']) ?? [])],
      queue: [],
    };
  }
}
