/**
 * Queue limits under concurrent sends, on SQLite and on PostgreSQL: however many sends to one
 * device are in flight at once, the device never holds more than its cap nor one sender more
 * than its share, and every send refused is refused with the limit's own error (507 queue_full,
 * 429 over the share), never a 500. PostgreSQL runs sends in parallel transactions, so this is
 * where a count read before the device's lock was taken would overshoot.
 */
import { randomBytes } from 'node:crypto';
import type { Envelope } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, sendBody, startRelay, type TestDevice, type TestRelay } from './helpers.ts';
import { startPostgres, type PostgresServer } from './services.ts';

const CAP = 12;
const SHARE_PERCENT = 50;
const SHARE = (CAP * SHARE_PERCENT) / 100;

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

const backends: [string, () => Promise<{ databaseUrl?: string }>][] = [
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ databaseUrl: await postgres.createDatabase() })],
];

describe.each(backends)('concurrent sends to one device (%s)', (_name, database) => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startRelay({
      overrides: {
        ...(await database()),
        queueCapPerDevice: CAP,
        queueCapBytesPerDevice: 1024 * 1024,
        queueSenderSharePercent: SHARE_PERCENT,
      },
    });
  });
  afterAll(async () => {
    await relay?.destroy();
  });

  const put = (from: TestDevice, to: TestDevice) =>
    relay.app.inject({
      method: 'PUT',
      url: `/v1/messages/${to.accountId}`,
      headers: from.headers,
      payload: sendBody([to], randomBytes(16).toString('base64')),
    });
  const queue = async (device: TestDevice) =>
    (await relay.app.inject({ method: 'GET', url: '/v1/messages', headers: device.headers })).json<{
      envelopes: Envelope[];
    }>().envelopes;
  const statuses = (responses: readonly { statusCode: number }[]) =>
    responses.map((r) => r.statusCode).sort();

  it('fill a nearly full queue exactly to its cap; the rest get 507 queue_full', async () => {
    const victim = await register(relay.app);
    const friends = [await register(relay.app), await register(relay.app)];
    for (const friend of friends) {
      for (let i = 0; i < 4; i++) expect((await put(friend, victim)).statusCode).toBe(200);
    }
    // Eight fresh senders, three sends each, all at once: none is near its share of 6, and
    // only 4 slots are left.
    const senders = await Promise.all(Array.from({ length: 8 }, () => register(relay.app)));
    const responses = await Promise.all(
      senders.flatMap((s) => [put(s, victim), put(s, victim), put(s, victim)]),
    );
    expect(statuses(responses)).toEqual([...Array(4).fill(200), ...Array(20).fill(507)]);
    for (const r of responses.filter((r) => r.statusCode === 507)) {
      expect(r.json()).toMatchObject({ error: 'queue_full', deviceIds: [victim.deviceId] });
    }
    expect(await queue(victim)).toHaveLength(CAP);
  });

  it('one sender flooding a device gets exactly its share; others still get through', async () => {
    const [abuser, friend, victim] = [
      await register(relay.app),
      await register(relay.app),
      await register(relay.app),
    ];
    const flood = await Promise.all(Array.from({ length: 30 }, () => put(abuser, victim)));
    expect(statuses(flood)).toEqual([...Array(SHARE).fill(200), ...Array(30 - SHARE).fill(429)]);
    for (const r of flood.filter((r) => r.statusCode === 429)) {
      expect(r.json()).toMatchObject({ error: 'rate_limited' });
    }
    const fromFriend = await Promise.all(Array.from({ length: 3 }, () => put(friend, victim)));
    expect(statuses(fromFriend)).toEqual([200, 200, 200]);
    expect(await queue(victim)).toHaveLength(SHARE + 3);
  });
});
