/**
 * The sealed sender routes, run against each store backend (`sealed-sqlite.test.ts`,
 * `sealed-postgres.test.ts`): certificates, access keys, single and multi-recipient sealed
 * sends, and their 4xx answers. A multi-recipient message is built by hand in libsignal's
 * SentMessage layout (the relay only splits it; `@parley/crypto` tests the cryptography).
 */
import { randomBytes } from 'node:crypto';
import { PublicKey, SenderCertificate, ServerCertificate } from '@parley/crypto';
import type { DeliveredEnvelope } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { link, register, send, type TestDevice, type TestRelay } from './helpers.ts';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
export const accessKey = () => b64(randomBytes(16));

/** A SentMessage (version 0x22) for these accounts' devices, with random key material. */
export function sentMessage(accounts: readonly (readonly TestDevice[])[], body = randomBytes(64)) {
  const parts: Buffer[] = [Buffer.from([0x22, accounts.length])];
  for (const devices of accounts) {
    parts.push(Buffer.from((devices[0]?.accountId ?? '').replaceAll('-', ''), 'hex'));
    devices.forEach((d, i) => {
      const more = i < devices.length - 1 ? 0x8000 : 0;
      const word = (d.registrationId & 0x3fff) | more;
      parts.push(Buffer.from([d.deviceId, word >> 8, word & 0xff]));
    });
    parts.push(randomBytes(48));
  }
  parts.push(randomBytes(32), body);
  return b64(Buffer.concat(parts));
}

export function registerSealedRouteTests(start: () => Promise<TestRelay>, label: string): void {
  describe(`sealed sender routes (${label})`, () => {
    let relay: TestRelay;
    beforeAll(async () => {
      relay = await start();
    });
    afterAll(async () => relay?.destroy());

    const setKey = async (device: TestDevice, key: string | null) =>
      relay.app.inject({
        method: 'PUT',
        url: '/v1/accounts/me/unidentified-access',
        headers: device.headers,
        payload: { unidentifiedAccessKey: key },
      });
    const sealed = (accountId: string, key: string | undefined, devices: readonly TestDevice[]) =>
      relay.app.inject({
        method: 'PUT',
        url: `/v1/messages/sealed/${accountId}`,
        headers: key === undefined ? {} : { 'unidentified-access-key': key },
        payload: {
          timestamp: 1_700_000_000_000,
          messages: devices.map((d) => ({
            destinationDeviceId: d.deviceId,
            destinationRegistrationId: d.registrationId,
            content: b64(randomBytes(80)),
          })),
        },
      });
    const multi = (
      content: string,
      accessKeys: { accountId: string; unidentifiedAccessKey: string }[],
    ) =>
      relay.app.inject({
        method: 'PUT',
        url: '/v1/messages/sealed_multi_recipient',
        payload: { timestamp: 1_700_000_000_001, content, accessKeys },
      });
    const queue = async (device: TestDevice): Promise<DeliveredEnvelope[]> => {
      const response = await relay.app.inject({
        method: 'GET',
        url: '/v1/messages',
        headers: device.headers,
      });
      expect(response.statusCode).toBe(200);
      return response.json<{ envelopes: DeliveredEnvelope[] }>().envelopes;
    };

    it('issues sender certificates that chain to the published trust root', async () => {
      const alice = await register(relay.app);
      const root = await relay.app.inject({ method: 'GET', url: '/v1/certificate/trust-root' });
      expect(root.statusCode).toBe(200);
      const { publicKey, serverCertificate } = root.json<{
        publicKey: string;
        serverCertificate: string;
      }>();
      const trustRoot = PublicKey.deserialize(Buffer.from(publicKey, 'base64'));
      const server = ServerCertificate.deserialize(Buffer.from(serverCertificate, 'base64'));
      await expect(server.validate(trustRoot)).resolves.toBeUndefined();

      const response = await relay.app.inject({
        method: 'GET',
        url: '/v1/certificate/delivery',
        headers: alice.headers,
      });
      expect(response.statusCode).toBe(200);
      const { certificate, expiresAt } = response.json<{
        certificate: string;
        expiresAt: number;
      }>();
      expect(expiresAt).toBe(relay.clock.now() + relay.config.senderCertificateTtlMs);
      const cert = SenderCertificate.deserialize(Buffer.from(certificate, 'base64'));
      expect(cert.senderUuid).toBe(alice.accountId);
      expect(cert.senderDeviceId).toBe(1);
      expect(cert.expiration).toBe(expiresAt);
      await expect(cert.validate(trustRoot, expiresAt)).resolves.toBeUndefined();
      await expect(cert.validate(trustRoot, expiresAt + 1)).rejects.toMatchObject({
        code: 'ExpiredCertificate',
      });
      const other = PublicKey.deserialize(Buffer.concat([Buffer.from([5]), randomBytes(32)]));
      await expect(cert.validate(other, expiresAt)).rejects.toMatchObject({
        code: 'InvalidCertificate',
      });

      const anonymous = await relay.app.inject({ method: 'GET', url: '/v1/certificate/delivery' });
      expect(anonymous.statusCode).toBe(401);
    });

    it('stores a sealed send with no sender, authorised only by the access key', async () => {
      const bob = await register(relay.app);
      const bob2 = await link(relay.app, bob);
      const key = accessKey();
      expect((await setKey(bob, key)).statusCode).toBe(204);

      const response = await sealed(bob.accountId, key, [bob, bob2]);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ serverTimestamp: relay.clock.now(), stored: 2 });
      for (const device of [bob, bob2]) {
        const [envelope, ...rest] = await queue(device);
        expect(rest).toEqual([]);
        expect(envelope).toMatchObject({
          type: 'unidentified_sender',
          destinationDeviceId: device.deviceId,
        });
        expect(envelope).not.toHaveProperty('sourceAccountId');
        expect(envelope).not.toHaveProperty('sourceDeviceId');
      }
    });

    it('refuses wrong, cleared, missing and unset access keys, storing nothing', async () => {
      const bob = await register(relay.app);
      const carol = await register(relay.app);
      const key = accessKey();
      await setKey(bob, key);
      const wrong = await sealed(bob.accountId, accessKey(), [bob]);
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toMatchObject({ error: 'unauthorized' });
      expect((await sealed(carol.accountId, key, [carol])).statusCode).toBe(401);
      expect((await sealed('00000000-0000-4000-8000-000000000000', key, [bob])).statusCode).toBe(
        401,
      );
      const missing = await sealed(bob.accountId, undefined, [bob]);
      expect(missing.statusCode).toBe(400);
      expect((await sealed(bob.accountId, 'not base64!', [bob])).statusCode).toBe(400);
      expect((await setKey(bob, null)).statusCode).toBe(204);
      expect((await sealed(bob.accountId, key, [bob])).statusCode).toBe(401);
      expect(await queue(bob)).toEqual([]);
      expect((await setKey(bob, 'AAAA')).statusCode).toBe(400);
    });

    it('a deleted account refuses sealed sends like a wrong key (no tombstone is revealed)', async () => {
      const bob = await register(relay.app);
      const key = accessKey();
      await setKey(bob, key);
      const deleted = await relay.app.inject({
        method: 'DELETE',
        url: '/v1/accounts/me',
        headers: bob.headers,
      });
      expect(deleted.statusCode).toBeLessThan(300);
      const response = await sealed(bob.accountId, key, [bob]);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: 'unauthorized' });
    });

    it('answers 409 and 410 like an authenticated send when devices do not match', async () => {
      const bob = await register(relay.app);
      const bob2 = await link(relay.app, bob);
      const key = accessKey();
      await setKey(bob, key);
      const missing = await sealed(bob.accountId, key, [bob]);
      expect(missing.statusCode).toBe(409);
      expect(missing.json()).toMatchObject({ missingDevices: [bob2.deviceId], extraDevices: [] });
      const stale = await sealed(bob.accountId, key, [
        bob,
        { ...bob2, registrationId: (bob2.registrationId % 16000) + 1 },
      ]);
      expect(stale.statusCode).toBe(410);
      expect(stale.json()).toMatchObject({ staleDevices: [bob2.deviceId] });
      expect(await queue(bob)).toEqual([]);
    });

    it('splits a multi-recipient message into one envelope per device, each with no sender', async () => {
      const bob = await register(relay.app);
      const bob2 = await link(relay.app, bob);
      const carol = await register(relay.app);
      const [kb, kc] = [accessKey(), accessKey()];
      await setKey(bob, kb);
      await setKey(carol, kc);
      const content = sentMessage([[bob, bob2], [carol]]);
      const keys = [
        { accountId: bob.accountId, unidentifiedAccessKey: kb },
        { accountId: carol.accountId, unidentifiedAccessKey: kc },
      ];
      const response = await multi(content, keys);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ stored: 3 });
      const [b1] = await queue(bob);
      const [b2] = await queue(bob2);
      const [c1] = await queue(carol);
      for (const e of [b1, b2, c1]) {
        expect(e).toMatchObject({ type: 'unidentified_sender', timestamp: 1_700_000_000_001 });
        expect(e).not.toHaveProperty('sourceAccountId');
      }
      // Bob's devices share one ReceivedMessage; Carol's differs (her own key material).
      expect(b1?.content).toBe(b2?.content);
      expect(c1?.content).not.toBe(b1?.content);
      expect(Buffer.from(b1?.content ?? '', 'base64')[0]).toBe(0x22);
    });

    it('refuses a multi-recipient send with any wrong key, a key set not matching, or garbage', async () => {
      const bob = await register(relay.app);
      const carol = await register(relay.app);
      const [kb, kc] = [accessKey(), accessKey()];
      await setKey(bob, kb);
      await setKey(carol, kc);
      const content = sentMessage([[bob], [carol]]);
      const good = { accountId: bob.accountId, unidentifiedAccessKey: kb };
      const wrong = await multi(content, [
        good,
        { accountId: carol.accountId, unidentifiedAccessKey: kb },
      ]);
      expect(wrong.statusCode).toBe(401);
      expect((await multi(content, [good])).statusCode).toBe(400);
      expect((await multi(content, [good, good])).statusCode).toBe(400);
      expect((await multi(b64(randomBytes(40)), [good])).statusCode).toBe(400);
      expect((await multi(b64(Buffer.from([0x22, 1])), [good])).statusCode).toBe(400);
      const mismatched = await multi(sentMessage([[bob], [{ ...carol, deviceId: 2 }]]), [
        good,
        { accountId: carol.accountId, unidentifiedAccessKey: kc },
      ]);
      expect(mismatched.statusCode).toBe(409);
      expect(mismatched.json()).toMatchObject({
        accounts: [{ accountId: carol.accountId, missingDevices: [1], extraDevices: [2] }],
      });
      expect(await queue(bob)).toEqual([]);
      expect(await queue(carol)).toEqual([]);
    });

    it('a sealed send with a send id is stored once however often it is retried', async () => {
      const bob = await register(relay.app);
      const key = accessKey();
      await setKey(bob, key);
      const payload = {
        timestamp: 5,
        sendId: 'c2VhbGVkLXNlbmQtaWQtMD',
        messages: [
          {
            destinationDeviceId: 1,
            destinationRegistrationId: bob.registrationId,
            content: b64(randomBytes(20)),
          },
        ],
      };
      const put = () =>
        relay.app.inject({
          method: 'PUT',
          url: `/v1/messages/sealed/${bob.accountId}`,
          headers: { 'unidentified-access-key': key },
          payload,
        });
      const first = await put();
      expect(first.statusCode).toBe(200);
      expect((await put()).json()).toEqual(first.json());
      expect(await queue(bob)).toHaveLength(1);
    });

    it('authenticated sends still carry their sender next to sealed ones', async () => {
      const alice = await register(relay.app);
      const bob = await register(relay.app);
      const key = accessKey();
      await setKey(bob, key);
      await sealed(bob.accountId, key, [bob]);
      await send(relay.app, alice, [bob]);
      const [first, second] = await queue(bob);
      expect(first?.type).toBe('unidentified_sender');
      expect(second).toMatchObject({
        type: 'message',
        sourceAccountId: alice.accountId,
        sourceDeviceId: 1,
      });
    });
  });
}
