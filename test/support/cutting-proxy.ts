/**
 * A TCP proxy on loopback that drops one connection once it has carried `bytes` in one
 * direction: the client sees its connection reset mid-transfer, as on a flaky network. Counts
 * the attachment requests it forwards (method of each request line) so tests can tell a resume
 * (HEAD, then PATCH from the offset) from a restart.
 * @module
 */
import { connect, createServer, type Socket } from 'node:net';

export interface CuttingProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Connections dropped so far (at most one). */
  readonly cuts: number;
  /** Request methods seen on `/v1/attachments…`, in order. */
  readonly methods: string[];
  close(): Promise<void>;
}

const REQUEST_LINE = /(?:^|\r\n)(POST|HEAD|PATCH|GET|DELETE) \/v1\/attachments/g;

export async function startCuttingProxy(
  targetPort: number,
  cut: { direction: 'up' | 'down'; afterBytes: number },
): Promise<CuttingProxy> {
  let cuts = 0;
  const methods: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let carried = 0;
    const count = (chunk: Buffer, direction: 'up' | 'down') => {
      if (direction === 'up') {
        for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE)) methods.push(m[1]!);
      }
      if (direction !== cut.direction || cuts > 0) return false;
      carried += chunk.length;
      if (carried < cut.afterBytes) return false;
      cuts++;
      // The relay gets what was sent before the cut (then the end); the client a reset.
      client.resetAndDestroy();
      upstream.end();
      return true;
    };
    client.on('data', (chunk: Buffer) => {
      if (!count(chunk, 'up')) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!count(chunk, 'down')) client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    for (const s of [client, upstream]) {
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get cuts() {
      return cuts;
    },
    methods,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
