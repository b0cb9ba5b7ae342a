/** Upgrade guard shared by both WebSocket routes: the client must speak our protocol version. */
import { ErrorCode, WS_SUBPROTOCOL } from '@parley/protocol';
import type { FastifyRequest } from 'fastify';
import { RelayError } from '../errors.ts';

export async function requireSubprotocol(request: FastifyRequest): Promise<void> {
  const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  if (!request.ws || !offered.includes(WS_SUBPROTOCOL)) {
    throw new RelayError(
      400,
      ErrorCode.UnsupportedProtocol,
      `open a WebSocket with subprotocol "${WS_SUBPROTOCOL}"`,
    );
  }
}

/** `handleProtocols` for the ws server: always select our version, never the auth entry. */
export function selectSubprotocol(protocols: Set<string>): string | false {
  return protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false;
}
