import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  type Envelope,
  MAX_CLIENT_FRAME_BYTES,
  parseClientFrame,
  parseProvisioningServerFrame,
  parseServerFrame,
  WS_PROTOCOL_VERSION,
  WS_SUBPROTOCOL,
} from '../src/index.ts';

const id = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';

describe('client frames', () => {
  it('accepts ack and ping', () => {
    expect(parseClientFrame(JSON.stringify({ type: 'ack', id }))).toEqual({
      ok: true,
      frame: { type: 'ack', id },
    });
    const ids = Array.from({ length: 100 }, (_, i) => id.slice(0, -3) + String(i).padStart(3, '0'));
    expect(parseClientFrame(JSON.stringify({ type: 'ack', ids }))).toEqual({
      ok: true,
      frame: { type: 'ack', ids },
    });
    expect(parseClientFrame('{"type":"ping"}')).toEqual({ ok: true, frame: { type: 'ping' } });
    expect(parseClientFrame('{"type":"ping","id":7}')).toMatchObject({ ok: true });
  });

  it.each([
    ['not JSON', '{', 'not valid JSON'],
    ['null', 'null', 'JSON object'],
    ['an array', '[1]', 'JSON object'],
    ['no type', '{}', 'unknown frame type'],
    ['a server frame type', '{"type":"queue_empty"}', 'unknown frame type'],
    ['a prototype key as type', '{"type":"constructor"}', 'unknown frame type'],
    ['a bad ack id', '{"type":"ack","id":"x"}', 'invalid ack frame at /id'],
    ['an ack without ids', '{"type":"ack"}', 'invalid ack frame'],
    ['an empty ack batch', '{"type":"ack","ids":[]}', 'invalid ack frame at /ids'],
    [
      'a bad id in a batch',
      '{"type":"ack","ids":["' + id + '","x"]}',
      'invalid ack frame at /ids/1',
    ],
    ['an extra field', '{"type":"ack","id":"' + id + '","more":1}', 'invalid ack frame'],
    ['a negative ping id', '{"type":"ping","id":-1}', 'invalid ping frame at /id'],
  ])('rejects %s with a message naming the problem', (_why, data, message) => {
    const result = parseClientFrame(data);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error).toContain(message);
  });

  it('rejects oversized frames before parsing them', () => {
    const result = parseClientFrame(' '.repeat(MAX_CLIENT_FRAME_BYTES + 1));
    expect(result).toEqual({
      ok: false,
      error: `frame longer than ${MAX_CLIENT_FRAME_BYTES} characters`,
    });
  });

  it('never echoes frame content in errors', () => {
    const result = parseClientFrame('{"type":"ack","id":"<script>alert(1)</script>"}');
    expect(result.ok ? '' : result.error).not.toContain('<script>');
  });
});

describe('server frames', () => {
  const envelope: Envelope = {
    id,
    type: 'message',
    sourceAccountId: id,
    sourceDeviceId: 1,
    destinationDeviceId: 2,
    timestamp: 1,
    serverTimestamp: 2,
    content: 'AAAA',
  };
  it('round-trips every frame type through encodeFrame', () => {
    for (const frame of [
      { type: 'envelope', envelope },
      { type: 'queue_empty' },
      { type: 'pong', id: 3 },
      { type: 'error', error: 'invalid_frame', message: 'x' },
    ] as const) {
      expect(parseServerFrame(encodeFrame(frame))).toEqual({ ok: true, frame });
    }
  });
  it('rejects envelopes with a bad field', () => {
    const bad = { type: 'envelope', envelope: { ...envelope, type: 'plaintext' } };
    expect(parseServerFrame(JSON.stringify(bad)).ok).toBe(false);
  });
  it('validates provisioning frames', () => {
    const address = 'A'.repeat(43);
    expect(
      parseProvisioningServerFrame(
        JSON.stringify({ type: 'provisioning_address', address, expiresAt: 1 }),
      ).ok,
    ).toBe(true);
    expect(
      parseProvisioningServerFrame(JSON.stringify({ type: 'provisioning_message', body: 'AAAA' }))
        .ok,
    ).toBe(true);
    expect(
      parseProvisioningServerFrame(
        JSON.stringify({ type: 'provisioning_address', address: 'short', expiresAt: 1 }),
      ).ok,
    ).toBe(false);
  });
});

describe('version', () => {
  it('names the subprotocol after the version', () => {
    expect(WS_SUBPROTOCOL).toBe(`parley.v${WS_PROTOCOL_VERSION}`);
  });
});
