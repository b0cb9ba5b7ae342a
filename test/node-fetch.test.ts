/**
 * `nodeFetch` (the relay HTTP client's node:http transport) against the real relay process: two
 * clients on it message each other with receipts, relay errors come back typed with their
 * status, code and Retry-After, an unreachable relay is `RelayUnavailableError`, and a request
 * that outlives its timeout is aborted.
 */
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '@parley/client';
import { RelayHttp, RelayHttpError, RelayUnavailableError } from '@parley/client/relay.js';
import { nodeFetch } from '@parley/client/relay/node-fetch.js';
import { inbox, registeredClient } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, clients } = useRelay<ParleyClient>();

async function client(name: string) {
  const c = await registeredClient(relay.url, name, { sqlite: true, fetch: nodeFetch });
  clients.push(c);
  return c;
}

describe('nodeFetch', () => {
  it('carries a conversation with receipts against the real relay', async () => {
    const alice = await client('nf_alice');
    const bob = await client('nf_bob');
    const bobInbox = inbox(bob);
    const aliceInbox = inbox(alice);
    const delivered = alice.waitFor('status', (s) => s.status === 'delivered');
    const sent = await alice.sendText(bob.accountId, 'over node:http');
    const [got] = await bobInbox.waitFor(1);
    expect(got).toMatchObject({ text: 'over node:http', senderAccountId: alice.accountId });
    expect((await delivered).id).toBe(sent.id);
    await bob.sendText(alice.accountId, 'and back');
    expect((await aliceInbox.waitFor(1))[0]!.text).toBe('and back');
  });

  it('types relay errors with status, code and body', async () => {
    const carol = await client('nf_carol');
    const dave = await client('nf_dave');
    const account = carol.account!;
    const http = new RelayHttp(
      relay.url,
      { accountId: account.accountId, deviceId: account.deviceId, credential: account.credential },
      { fetch: nodeFetch },
    );
    const missing = await http.lookupUsername('nf_nobody').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RelayHttpError);
    expect((missing as RelayHttpError).status).toBe(404);
    // A 409 carries the device lists in its JSON body.
    const mismatched = await http
      .sendMessages(dave.accountId, {
        timestamp: 1,
        messages: [
          {
            type: 'message',
            destinationDeviceId: 7,
            destinationRegistrationId: 1,
            content: 'AAAA',
          },
        ],
      })
      .catch((e: unknown) => e);
    expect((mismatched as RelayHttpError).mismatched).toMatchObject({
      missingDevices: [1],
      extraDevices: [7],
    });
    const wrong = new RelayHttp(
      relay.url,
      { accountId: account.accountId, deviceId: account.deviceId, credential: 'not-it' },
      { fetch: nodeFetch },
    );
    const denied = await wrong.whoami().catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('reports an unreachable relay and aborts a request past its timeout', async () => {
    // A port nothing listens on: bound, read, closed.
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    const gone = new RelayHttp(`http://127.0.0.1:${port}`, undefined, { fetch: nodeFetch });
    await expect(gone.trustRoot()).rejects.toBeInstanceOf(RelayUnavailableError);

    // A server that accepts the request and never answers: the timeout aborts it.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const { port: silentPort } = silent.address() as AddressInfo;
      const slow = new RelayHttp(`http://127.0.0.1:${silentPort}`, undefined, {
        fetch: nodeFetch,
        timeoutMs: 200,
      });
      await expect(slow.trustRoot()).rejects.toBeInstanceOf(RelayUnavailableError);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });
});
