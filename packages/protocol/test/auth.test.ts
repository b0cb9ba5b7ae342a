import { describe, expect, it } from 'vitest';
import {
  authSubprotocol,
  basicAuthorization,
  parseAuthSubprotocol,
  parseBasicAuthorization,
  WS_SUBPROTOCOL,
} from '../src/index.ts';

const login = {
  accountId: '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
  deviceId: 3,
  credential: 'q'.repeat(40) + '-_A',
};

describe('device login', () => {
  it('round-trips through the Authorization header', () => {
    const header = basicAuthorization(login);
    expect(header).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
    expect(parseBasicAuthorization(header)).toEqual(login);
  });

  it('round-trips through the WebSocket subprotocol list', () => {
    const protocol = authSubprotocol(login);
    expect(protocol).toMatch(/^parley\.auth\.[A-Za-z0-9_-]+$/);
    expect(parseAuthSubprotocol(`${WS_SUBPROTOCOL}, ${protocol}`)).toEqual(login);
  });

  it.each([
    undefined,
    '',
    'Bearer abc',
    'Basic !!!',
    `Basic ${btoa('user:pass')}`,
    `Basic ${btoa(`${login.accountId}.0:${login.credential}`)}`,
    `Basic ${btoa(`${login.accountId}.1:short`)}`,
    `Basic ${btoa(`${login.accountId.toUpperCase()}.1:${login.credential}`)}`,
    `Basic ${'A'.repeat(600)}`,
  ])('rejects malformed header %j', (header) => {
    expect(parseBasicAuthorization(header)).toBeUndefined();
  });

  it('rejects malformed subprotocols', () => {
    expect(parseAuthSubprotocol(WS_SUBPROTOCOL)).toBeUndefined();
    expect(parseAuthSubprotocol('parley.auth.@@@')).toBeUndefined();
    expect(parseAuthSubprotocol(undefined)).toBeUndefined();
  });
});
