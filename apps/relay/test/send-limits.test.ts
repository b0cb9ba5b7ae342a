/**
 * Send limits under abuse (issue 15): sends are limited per (sender, recipient account) and per
 * sender, both keyed on the sending account, so an abuser flooding a recipient is refused (429,
 * JSON error, Retry-After, security headers) while another sender to the same recipient, the
 * recipient itself and the abuser's other conversations still get through. A group send counts
 * once per sender and once per recipient account, never per device.
 */
import type { Envelope } from '@parley/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { RateLimit } from '../src/config.ts';
import {
  link,
  register,
  sendBody,
  startRelay,
  type TestDevice,
  type TestRelay,
} from './helpers.ts';

const MINUTE = 60_000;

const relays: TestRelay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.destroy();
});

async function start(limits: { sendPerPair: RateLimit; sendPerSender: RateLimit }) {
  const relay = await startRelay({ overrides: { rateLimits: limits } });
  relays.push(relay);
  const put = (from: TestDevice, to: readonly TestDevice[]) =>
    relay.app.inject({
      method: 'PUT',
      url: `/v1/messages/${to[0]?.accountId}`,
      headers: from.headers,
      payload: sendBody(to),
    });
  const multi = (from: TestDevice, to: readonly TestDevice[]) =>
    relay.app.inject({
      method: 'PUT',
      url: '/v1/messages/multi_recipient',
      headers: from.headers,
      payload: {
        timestamp: 1,
        type: 'sender_key_message',
        content: Buffer.from('group message').toString('base64'),
        recipients: to.map((d) => ({
          accountId: d.accountId,
          deviceId: d.deviceId,
          registrationId: d.registrationId,
        })),
      },
    });
  const queued = async (device: TestDevice) =>
    (await relay.app.inject({ method: 'GET', url: '/v1/messages', headers: device.headers })).json<{
      envelopes: Envelope[];
    }>().envelopes.length;
  const accounts = async (count: number) => {
    const out: TestDevice[] = [];
    for (let i = 0; i < count; i++) out.push(await register(relay.app));
    return out;
  };
  return { relay, put, multi, queued, accounts };
}

describe('send limits', () => {
  it('stops one sender flooding a recipient; everyone else still reaches the recipient', async () => {
    const { relay, put, queued, accounts } = await start({
      sendPerPair: { max: 3, windowMs: MINUTE },
      sendPerSender: { max: 100, windowMs: MINUTE },
    });
    const [abuser, victim, friend, otherContact] = (await accounts(4)) as [
      TestDevice,
      TestDevice,
      TestDevice,
      TestDevice,
    ];
    for (let i = 0; i < 3; i++) expect((await put(abuser, [victim])).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) {
      const refused = await put(abuser, [victim]);
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toEqual({ error: 'rate_limited', message: expect.any(String) });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.headers['content-security-policy']).toContain("default-src 'none'");
      expect(refused.headers['x-content-type-options']).toBe('nosniff');
    }
    // Another sender to the same recipient, the recipient's replies, and the abuser's other
    // conversations are all untouched.
    expect((await put(friend, [victim])).statusCode).toBe(200);
    expect((await put(victim, [abuser])).statusCode).toBe(200);
    expect((await put(victim, [otherContact])).statusCode).toBe(200);
    expect((await put(abuser, [otherContact])).statusCode).toBe(200);
    // Refused sends stored nothing.
    expect(await queued(victim)).toBe(4);
    const audit = relay.logs.records().filter((r) => r.audit === 'rate_limit.exceeded');
    expect(audit.map((r) => r.limit)).toContain('send-pair');
  });

  it("stops one sender spraying many recipients; the recipients' other contacts get through", async () => {
    const { put, queued, accounts } = await start({
      sendPerPair: { max: 100, windowMs: MINUTE },
      sendPerSender: { max: 4, windowMs: MINUTE },
    });
    const [abuser] = (await accounts(1)) as [TestDevice];
    const victims = await accounts(6);
    const friends = await accounts(6);
    for (const victim of victims.slice(0, 4)) {
      expect((await put(abuser, [victim])).statusCode).toBe(200);
    }
    for (const victim of victims) {
      const refused = await put(abuser, [victim]);
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ error: 'rate_limited' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Each victim's other contacts reach it, and it reaches them.
    for (const [i, victim] of victims.entries()) {
      const friend = friends[i] as TestDevice;
      expect((await put(friend, [victim])).statusCode).toBe(200);
      expect((await put(victim, [friend])).statusCode).toBe(200);
    }
    for (const [i, victim] of victims.entries()) expect(await queued(victim)).toBe(i < 4 ? 2 : 1);
  });

  it('counts a group send once per sender and once per recipient account, not per device', async () => {
    const { relay, put, multi, queued, accounts } = await start({
      sendPerPair: { max: 3, windowMs: MINUTE },
      sendPerSender: { max: 4, windowMs: MINUTE },
    });
    const [sender, outsider] = (await accounts(2)) as [TestDevice, TestDevice];
    const members = await accounts(3);
    // Every member has two devices: six devices, three accounts.
    const devices: TestDevice[] = [];
    for (const member of members) devices.push(member, await link(relay.app, member));
    for (let i = 0; i < 3; i++) expect((await multi(sender, devices)).statusCode).toBe(200);
    // The fourth would pass the per-sender limit (4) but not the per-pair one (3 per member).
    const refused = await multi(sender, devices);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    // A pair refusal did not count against the sender: one more send elsewhere is allowed.
    expect((await put(sender, [outsider])).statusCode).toBe(200);
    expect((await put(sender, [outsider])).statusCode).toBe(429);
    for (const device of devices) expect(await queued(device)).toBe(3);
    // Other members still reach each other, in the group and 1:1.
    expect((await multi(members[0] as TestDevice, devices.slice(2))).statusCode).toBe(200);
    expect((await put(outsider, devices.slice(2, 4))).statusCode).toBe(200);
  });

  it("exempts sends to the sender's own devices from the per-pair limit", async () => {
    const { relay, put, queued, accounts } = await start({
      sendPerPair: { max: 1, windowMs: MINUTE },
      sendPerSender: { max: 5, windowMs: MINUTE },
    });
    const [user] = (await accounts(1)) as [TestDevice];
    const linked = await link(relay.app, user);
    for (let i = 0; i < 5; i++) expect((await put(user, [linked])).statusCode).toBe(200);
    // Still counted per sender.
    expect((await put(user, [linked])).statusCode).toBe(429);
    expect(await queued(linked)).toBe(5);
  });
});
