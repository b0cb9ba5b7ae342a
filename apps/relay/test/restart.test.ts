import { rmSync } from 'node:fs';
import type { Envelope } from '@parley/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connect,
  listen,
  register,
  send,
  sendBody,
  startRelay,
  type TestRelay,
} from './helpers.ts';

const cleanup: TestRelay[] = [];
afterEach(async () => {
  for (const relay of cleanup.splice(0)) await relay.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const dirs: string[] = [];

async function start(dir?: string) {
  const relay = await startRelay(dir ? { dir } : {});
  cleanup.push(relay);
  if (!dir) dirs.push(relay.dir);
  return relay;
}

describe('restart', () => {
  it('delivers every envelope accepted before a restart, and credentials keep working', async () => {
    const before = await start();
    const alice = await register(before.app);
    const bob = await register(before.app);
    const contents = Array.from({ length: 20 }, (_, i) =>
      Buffer.from(`envelope ${i}`).toString('base64'),
    );
    for (const content of contents) await send(before.app, alice, [bob], content);
    await before.close();

    const after = await start(before.dir);
    const { ws } = await listen(after.app);
    const socket = await connect(ws, bob);
    await socket.waitFor((f) => f.type === 'queue_empty');
    expect(socket.envelopes().map((e) => e.content)).toEqual(contents);
    for (const envelope of socket.envelopes()) socket.ack(envelope.id);
    await expect
      .poll(async () => {
        const response = await after.app.inject({
          method: 'GET',
          url: '/v1/messages',
          headers: bob.headers,
        });
        return response.json<{ envelopes: Envelope[] }>().envelopes.length;
      })
      .toBe(0);
    await socket.close();
  });

  it('graceful shutdown loses no accepted send: every 200 is delivered after restart', async () => {
    const before = await start();
    const alice = await register(before.app);
    const bob = await register(before.app);
    const { http } = await listen(before.app);
    const attempt = async (i: number) => {
      try {
        const response = await fetch(`${http}/v1/messages/${bob.accountId}`, {
          method: 'PUT',
          headers: { ...alice.headers, 'content-type': 'application/json' },
          body: JSON.stringify(sendBody([bob], Buffer.from(`in flight ${i}`).toString('base64'))),
        });
        return response.status;
      } catch {
        return 'refused';
      }
    };
    const first = attempt(0);
    const rest = Array.from({ length: 30 }, (_, i) => attempt(i + 1));
    const closing = (async () => {
      await first;
      await before.close();
    })();
    const statuses = await Promise.all([first, ...rest]);
    await closing;
    const accepted = statuses.filter((s) => s === 200).length;
    expect(accepted).toBeGreaterThanOrEqual(1);
    // Anything not accepted was refused cleanly: 503 while closing, or no connection.
    for (const status of statuses) expect([200, 503, 'refused']).toContain(status);

    const after = await start(before.dir);
    const response = await after.app.inject({
      method: 'GET',
      url: '/v1/messages?limit=100',
      headers: bob.headers,
    });
    expect(response.json<{ envelopes: Envelope[] }>().envelopes).toHaveLength(accepted);
  });

  it('re-opening a migrated database is a no-op and refuses a newer schema', async () => {
    const first = await start();
    await register(first.app);
    await first.close();
    const second = await start(first.dir);
    await second.close();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(second.config.dbPath);
    db.pragma('user_version = 999');
    db.close();
    await expect(startRelay({ dir: first.dir })).rejects.toThrow(
      /newer than this relay understands/,
    );
  });
});
