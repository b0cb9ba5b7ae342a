/**
 * The relay must be able to prove it never holds a message in clear. Clients encrypt before
 * sending (here AES-256-GCM stands in for the Signal session: the relay never sees its key), so
 * after a full run — sends, multi-recipient fan-out, WebSocket delivery and acks, linking with a
 * provisioning message, an attachment uploaded with tus — the database files, the attachment
 * blobs and the logs must contain no marker plaintext, no credential in any encoding, no linking
 * code, and the logs no envelope body and no attachment id (the download capability).
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ATTACHMENTS_PATH,
  basicAuthorization,
  parseProvisioningServerFrame,
  WS_SUBPROTOCOL,
} from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  asDevice,
  connect,
  deviceKeys,
  link,
  register,
  startRelay,
  type TestDevice,
  type TestRelay,
} from './helpers.ts';
import { defaultAttachmentsDir } from '../src/config.ts';

const sessionKey = randomBytes(32);
function encrypt(plaintext: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sessionKey, iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
}

const markers = Array.from(
  { length: 7 },
  (_, i) => `PARLEY-MARKER-${i}-${randomBytes(6).toString('hex')}`,
);

let relay: TestRelay;
const devices: TestDevice[] = [];
const ciphertexts: Buffer[] = [];
const secrets: string[] = [];
let attachment: Buffer;
let attachmentId: string;

beforeAll(async () => {
  relay = await startRelay({ overrides: { logLevel: 'trace' } });
  const address = await relay.app.listen({ host: '127.0.0.1', port: 0 });
  const wsBase = address.replace(/^http/, 'ws');
  const alice = await register(relay.app);
  const bob = await register(relay.app);
  const carol = await register(relay.app);

  // Link a device to bob through the provisioning socket, with an encrypted provisioning message.
  const ws = new WebSocket(`${wsBase}/v1/provisioning`, [WS_SUBPROTOCOL]);
  const frames: string[] = [];
  const provisioned = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  const addressFrame = await new Promise<string>((resolve) =>
    ws.on('message', (data) => {
      frames.push(data.toString());
      if (frames.length === 1) resolve(data.toString());
    }),
  );
  const parsed = parseProvisioningServerFrame(addressFrame);
  if (!parsed.ok || parsed.frame.type !== 'provisioning_address') throw new Error('no address');
  const { code } = (
    await relay.app.inject({
      method: 'POST',
      url: '/v1/devices/linking-code',
      headers: bob.headers,
    })
  ).json<{ code: string }>();
  const provisioning = encrypt(`${markers[0]} identity key pair + ${code}`);
  ciphertexts.push(provisioning);
  await relay.app.inject({
    method: 'PUT',
    url: `/v1/provisioning/${parsed.frame.address}`,
    headers: bob.headers,
    payload: { body: provisioning.toString('base64') },
  });
  await provisioned;
  const keys = deviceKeys();
  const login = (
    await relay.app.inject({
      method: 'POST',
      url: '/v1/devices/link',
      payload: { linkingCode: code, ...keys },
    })
  ).json();
  const bob2 = asDevice(login, keys.registrationId);
  const carol2 = await link(relay.app, carol);
  devices.push(alice, bob, bob2, carol, carol2);
  secrets.push(code, parsed.frame.address);

  // Single-recipient sends, one of them delivered and acked over the WebSocket.
  const sendTo = async (to: TestDevice[], marker: string) => {
    const ciphertext = encrypt(marker);
    ciphertexts.push(ciphertext);
    const response = await relay.app.inject({
      method: 'PUT',
      url: `/v1/messages/${to[0]?.accountId}`,
      headers: alice.headers,
      payload: {
        timestamp: 1,
        messages: to.map((d) => ({
          type: 'message',
          destinationDeviceId: d.deviceId,
          destinationRegistrationId: d.registrationId,
          content: ciphertext.toString('base64'),
        })),
      },
    });
    expect(response.statusCode).toBe(200);
  };
  await sendTo([bob, bob2], markers[1] as string);
  await sendTo([carol, carol2], markers[2] as string);
  const socket = await connect(wsBase, bob);
  await socket.waitFor((f) => f.type === 'queue_empty');
  for (const envelope of socket.envelopes()) socket.ack(envelope.id);
  await sendTo([bob, bob2], markers[3] as string);
  await socket.waitFor((f) => f.type === 'envelope', 2);
  await socket.close();

  // Multi-recipient fan-out.
  const group = encrypt(markers[4] as string);
  ciphertexts.push(group);
  const multi = await relay.app.inject({
    method: 'PUT',
    url: '/v1/messages/multi_recipient',
    headers: alice.headers,
    payload: {
      timestamp: 2,
      type: 'sender_key_message',
      content: group.toString('base64'),
      recipients: [bob, bob2, carol, carol2].map((d) => ({
        accountId: d.accountId,
        deviceId: d.deviceId,
        registrationId: d.registrationId,
      })),
    },
  });
  expect(multi.statusCode).toBe(200);

  // Plaintext a careless client might put in a username is not the relay's to protect; but
  // a marker in a *rejected* field must not reach the logs either.
  await relay.app.inject({
    method: 'PUT',
    url: `/v1/messages/${bob.accountId}`,
    headers: alice.headers,
    payload: { timestamp: 1, note: markers[5], messages: [] },
  });

  // An attachment: a file full of a marker, encrypted, uploaded in two tus PATCHes.
  attachment = encrypt(`${markers[6]}\n`.repeat(4096));
  const created = await relay.app.inject({
    method: 'POST',
    url: ATTACHMENTS_PATH,
    headers: {
      ...alice.headers,
      'tus-resumable': '1.0.0',
      'upload-length': `${attachment.length}`,
    },
  });
  const location = created.headers.location as string;
  const half = Math.floor(attachment.length / 2);
  for (const [offset, part] of [
    [0, attachment.subarray(0, half)],
    [half, attachment.subarray(half)],
  ] as const) {
    const patched = await relay.app.inject({
      method: 'PATCH',
      url: location,
      headers: {
        ...alice.headers,
        'tus-resumable': '1.0.0',
        'content-type': 'application/offset+octet-stream',
        'upload-offset': String(offset),
      },
      payload: part,
    });
    expect(patched.statusCode).toBe(204);
  }
  attachmentId = location.split('/').pop() as string;

  await relay.close(); // flush and close the database (WAL checkpoint on close)
});
afterAll(async () => relay.destroy());

/** The database files and every file of the attachment store. */
function databaseBytes(): Buffer {
  const files = readdirSync(relay.dir).filter((f) => f.startsWith('relay.db'));
  expect(files).toContain('relay.db');
  const blobs = defaultAttachmentsDir(relay.config.dbPath);
  return Buffer.concat([
    ...files.map((f) => readFileSync(join(relay.dir, f))),
    ...readdirSync(blobs).map((f) => readFileSync(join(blobs, f))),
  ]);
}

/** Every encoding a secret string could be stored or logged in. */
function encodings(secret: string): string[] {
  const raw = Buffer.from(secret, 'base64url');
  return [
    secret,
    raw.toString('base64'),
    raw.toString('hex'),
    Buffer.from(secret).toString('base64'),
  ];
}

describe('plaintext scan', () => {
  it('the scan can see stored ciphertext (so a miss below means something)', () => {
    const db = databaseBytes();
    // Carol's copies were never acked, so their ciphertext bytes are on disk.
    expect(db.includes(ciphertexts[2] as Buffer)).toBe(true);
    // And the attachment's ciphertext, in the blob store.
    expect(db.includes(attachment)).toBe(true);
    expect(relay.logs.text().length).toBeGreaterThan(1000);
  });

  it('the database files contain no marker plaintext', () => {
    const db = databaseBytes();
    for (const marker of markers) {
      expect(db.includes(Buffer.from(marker, 'utf8')), marker).toBe(false);
      expect(db.includes(Buffer.from(marker, 'utf16le')), marker).toBe(false);
    }
  });

  it('the logs contain no marker plaintext and no envelope or provisioning body', () => {
    const logs = relay.logs.text();
    for (const marker of markers) expect(logs).not.toContain(marker);
    // The attachment id is its download capability (the database keeps it, the logs never).
    expect(logs).not.toContain(attachmentId);
    for (const ciphertext of ciphertexts) {
      expect(logs).not.toContain(ciphertext.toString('base64'));
      expect(logs).not.toContain(ciphertext.toString('base64').slice(0, 24));
      expect(logs).not.toContain(ciphertext.toString('hex').slice(0, 32));
    }
  });

  it('no credential, Authorization header, linking code or provisioning address appears in clear', () => {
    const db = databaseBytes();
    const logs = relay.logs.text();
    expect(devices).toHaveLength(5);
    for (const device of devices) {
      const header = basicAuthorization(device).slice('Basic '.length);
      for (const form of [...encodings(device.credential), header]) {
        expect(db.includes(Buffer.from(form)), `db: ${form}`).toBe(false);
        expect(logs).not.toContain(form);
      }
      expect(db.includes(Buffer.from(device.credential, 'base64url')), 'raw credential bytes').toBe(
        false,
      );
    }
    for (const secret of secrets) {
      for (const form of encodings(secret)) {
        expect(db.includes(Buffer.from(form)), `db: ${form}`).toBe(false);
        expect(logs).not.toContain(form);
      }
    }
  });

  it('logs routes, not URLs (no target account ids or addresses in request logs)', () => {
    const requestLogs = relay.logs.records().filter((r) => r.req !== undefined);
    expect(requestLogs.length).toBeGreaterThan(10);
    for (const record of requestLogs) {
      const req = record.req as Record<string, unknown>;
      expect(Object.keys(req).sort()).toEqual(['id', 'method', 'route']);
    }
  });
});
