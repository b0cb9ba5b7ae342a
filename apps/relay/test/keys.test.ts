import { MAX_DEVICE_ID } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decimalUpTo } from '../src/routes/schemas.ts';
import {
  DAY,
  kyberPreKeys,
  link,
  preKeys,
  register,
  signedPreKey,
  startRelay,
  type TestDevice,
  type TestRelay,
} from './helpers.ts';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => relay.destroy());

const status = async (device: TestDevice) => {
  const response = await relay.app.inject({
    method: 'GET',
    url: '/v1/keys/status',
    headers: device.headers,
  });
  expect(response.statusCode).toBe(200);
  return response.json();
};
const bundle = (requester: TestDevice, target: string, device: string | number = '*') =>
  relay.app.inject({
    method: 'GET',
    url: `/v1/keys/${target}/${device}`,
    headers: requester.headers,
  });
const upload = (device: TestDevice, payload: object) =>
  relay.app.inject({ method: 'PUT', url: '/v1/keys', headers: device.headers, payload });

describe('prekey upload and status', () => {
  it('reports the counts uploaded at registration', async () => {
    const device = await register(relay.app, { preKeys: 7, pqPreKeys: 3 });
    expect(await status(device)).toEqual({
      preKeyCount: 7,
      pqPreKeyCount: 3,
      signedPreKeyId: 1,
      pqLastResortPreKeyId: 1000,
      retiredSignedPreKeys: [],
    });
  });

  it('replaces the one-time batch on upload and enforces the batch limit', async () => {
    const device = await register(relay.app, { preKeys: 7 });
    expect((await upload(device, { preKeys: preKeys(100, 500) })).statusCode).toBe(204);
    expect((await status(device)).preKeyCount).toBe(100);
    expect((await upload(device, { preKeys: preKeys(101, 500) })).statusCode).toBe(400);
    expect((await upload(device, { pqPreKeys: kyberPreKeys(101) })).statusCode).toBe(400);
    expect((await upload(device, {})).statusCode).toBe(400);
    expect((await status(device)).preKeyCount).toBe(100);
  });

  it('an upload racing the removal of its device is a 404, not a 500', async () => {
    const primary = await register(relay.app);
    const linked = await link(relay.app, primary);
    const store = relay.app.relay.store;
    const original = store.storeKeys.bind(store);
    // The device passes authentication, then is removed before its upload is stored.
    store.storeKeys = async (accountId, deviceId, upload, now) => {
      await store.removeDevice(accountId, deviceId);
      return original(accountId, deviceId, upload, now);
    };
    try {
      const response = await upload(linked, { preKeys: preKeys(3), signedPreKey: signedPreKey(4) });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ error: 'not_found' });
    } finally {
      store.storeKeys = original;
    }
    expect(await store.keyStatus(linked.accountId, linked.deviceId, 0)).toBeUndefined();
  });

  it('rotating the signed prekey keeps the old one, reported as retired until retention ends', async () => {
    const device = await register(relay.app);
    const rotatedAt = relay.clock.now();
    expect((await upload(device, { signedPreKey: signedPreKey(2) })).statusCode).toBe(204);
    const after = await status(device);
    expect(after.signedPreKeyId).toBe(2);
    expect(after.retiredSignedPreKeys).toEqual([
      {
        kind: 'ec',
        keyId: 1,
        retiredAt: rotatedAt,
        keepUntil: rotatedAt + relay.config.retentionMs,
      },
    ]);
    // Bundles hand out the new key only.
    const other = await register(relay.app);
    const fetched = (await bundle(other, device.accountId, 1)).json();
    expect(fetched.devices[0].signedPreKey.keyId).toBe(2);
    // After retention nothing can still refer to the old key: the sweep forgets it.
    relay.clock.advance(relay.config.retentionMs + DAY);
    await relay.app.relay.sweep();
    expect((await status(device)).retiredSignedPreKeys).toEqual([]);
  });
});

describe('GET /v1/keys/:accountId/:deviceId', () => {
  it('hands out each one-time prekey once, then falls back to no EC prekey and the Kyber last resort', async () => {
    const target = await register(relay.app, { preKeys: 2, pqPreKeys: 1 });
    const requester = await register(relay.app);
    const first = (await bundle(requester, target.accountId, 1)).json();
    const second = (await bundle(requester, target.accountId, 1)).json();
    const third = (await bundle(requester, target.accountId, 1)).json();
    expect(first.devices[0].preKey.keyId).toBe(1);
    expect(first.devices[0].pqPreKey.keyId).toBe(1);
    expect(first.devices[0].pqPreKeyIsLastResort).toBe(false);
    expect(second.devices[0].preKey.keyId).toBe(2);
    expect(second.devices[0].pqPreKey.keyId).toBe(1000);
    expect(second.devices[0].pqPreKeyIsLastResort).toBe(true);
    expect(third.devices[0].preKey).toBeUndefined();
    expect(third.devices[0].pqPreKeyIsLastResort).toBe(true);
    expect(third.identityKey).toBe(first.identityKey);
    expect(await status(target)).toMatchObject({ preKeyCount: 0, pqPreKeyCount: 0 });
  });

  it('never hands out the same one-time prekey twice under concurrent fetches', async () => {
    const target = await register(relay.app, { preKeys: 40, pqPreKeys: 40 });
    const requesters = await Promise.all(Array.from({ length: 5 }, () => register(relay.app)));
    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        bundle(requesters[i % 5] as TestDevice, target.accountId, 1),
      ),
    );
    const devices = responses.map((r) => {
      expect(r.statusCode).toBe(200);
      return r.json().devices[0];
    });
    const ecIds = devices.flatMap((d) => (d.preKey ? [d.preKey.keyId] : []));
    const pqIds = devices.filter((d) => !d.pqPreKeyIsLastResort).map((d) => d.pqPreKey.keyId);
    expect(ecIds).toHaveLength(40);
    expect(new Set(ecIds).size).toBe(40);
    expect(pqIds).toHaveLength(40);
    expect(new Set(pqIds).size).toBe(40);
  });

  it('returns bundles for every device with *, or one device', async () => {
    const primary = await register(relay.app);
    const linked = await link(relay.app, primary);
    const requester = await register(relay.app);
    const all = (await bundle(requester, primary.accountId, '*')).json();
    expect(all.devices.map((d: { deviceId: number }) => d.deviceId)).toEqual([1, linked.deviceId]);
    expect(all.devices[1].registrationId).toBe(linked.registrationId);
    const one = (await bundle(requester, primary.accountId, linked.deviceId)).json();
    expect(one.devices).toHaveLength(1);
  });

  it('answers 404 for an unknown account or device and 400 for malformed ids', async () => {
    const requester = await register(relay.app);
    expect((await bundle(requester, '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await bundle(requester, requester.accountId, 9)).statusCode).toBe(404);
    expect((await bundle(requester, 'not-a-uuid')).statusCode).toBe(400);
    expect((await bundle(requester, requester.accountId, '0')).statusCode).toBe(400);
  });

  it('accepts device ids up to MAX_DEVICE_ID only (a larger one never reaches the store)', async () => {
    const requester = await register(relay.app);
    const id = requester.accountId;
    expect((await bundle(requester, id, MAX_DEVICE_ID)).statusCode).toBe(404);
    expect((await bundle(requester, id, '1999999999')).statusCode).toBe(404);
    for (const tooLarge of ['2147483648', '2200000000', '9999999999', '99999999999', '01']) {
      const response = await bundle(requester, id, tooLarge);
      expect(response.statusCode, tooLarge).toBe(400);
      expect(response.json()).toMatchObject({ error: 'bad_request' });
    }
  });
});

describe('decimalUpTo', () => {
  // The pattern is built from a constant, as in the route schema.
  // eslint-disable-next-line security/detect-non-literal-regexp
  const matcher = (max: number) => new RegExp(`^(${decimalUpTo(max)})$`);

  it('matches exactly the integers 1..max without leading zeros', () => {
    for (const max of [1, 9, 10, 20, 99, 100, 305, MAX_DEVICE_ID]) {
      const re = matcher(max);
      for (let n = 0; n <= 1000; n++)
        expect(re.test(String(n)), `${n} ≤ ${max}`).toBe(n >= 1 && n <= max);
      expect(re.test(String(max)), `${max}`).toBe(true);
      expect(re.test(String(max + 1)), `${max + 1}`).toBe(false);
      expect(re.test(`0${max}`)).toBe(false);
    }
    const re = matcher(MAX_DEVICE_ID);
    for (const n of [2147483646, 2147483640, 2147483599, 2147482999, 2099999999, 1000000000])
      expect(re.test(String(n)), String(n)).toBe(true);
    for (const n of [2147483648, 2147483650, 2147483700, 2147490000, 2148000000, 3000000000])
      expect(re.test(String(n)), String(n)).toBe(false);
  });
});
