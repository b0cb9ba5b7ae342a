/**
 * The ceiling for `load.bench.ts`: a bare WebSocket forwarder with no storage, no validation and
 * no acks, speaking just enough of the relay's API for the same load generator (register, the
 * delivery socket, send). `PORT` from the environment; loopback only.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const sockets = new Map<string, WebSocket>();
const accountOf = (authorization: string | undefined) => {
  const decoded = Buffer.from((authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
  return decoded.split('.')[0] ?? '';
};

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (c: Buffer) => chunks.push(c));
  request.on('end', () => {
    const url = request.url ?? '';
    if (request.method === 'POST' && url === '/v1/accounts') {
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ accountId: randomUUID(), deviceId: 1, credential: 'x' }));
      return;
    }
    if (request.method === 'GET' && url === '/ready') {
      response.writeHead(200).end('{"status":"ready"}');
      return;
    }
    const match = /^\/v1\/messages\/([^/]+)$/.exec(url);
    if (request.method === 'PUT' && match) {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        timestamp: number;
        messages: { type: string; content: string }[];
      };
      const sourceAccountId = accountOf(request.headers.authorization);
      const socket = sockets.get(match[1] as string);
      for (const m of body.messages) {
        socket?.send(
          JSON.stringify({
            type: 'envelope',
            envelope: {
              id: randomUUID(),
              type: m.type,
              sourceAccountId,
              sourceDeviceId: 1,
              destinationDeviceId: 1,
              timestamp: body.timestamp,
              serverTimestamp: Date.now(),
              content: m.content,
            },
          }),
        );
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ serverTimestamp: Date.now(), stored: body.messages.length }));
      return;
    }
    response.writeHead(404).end();
  });
});

const wss = new WebSocketServer({
  server,
  path: '/v1/websocket',
  handleProtocols: () => 'parley.v1',
});
wss.on('connection', (socket, request) => {
  const accountId = accountOf(request.headers.authorization);
  sockets.set(accountId, socket);
  socket.send(JSON.stringify({ type: 'queue_empty' }));
  socket.on('close', () => {
    if (sockets.get(accountId) === socket) sockets.delete(accountId);
  });
});

server.listen(Number(process.env.PORT), '127.0.0.1');
