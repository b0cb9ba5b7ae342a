/**
 * A reinstall as it looks from the outside: while the relay is stopped, an account in the
 * relay's database gets the identity key and device keys of a fresh installation (our relay
 * has no "re-register the same account" flow). Shared by the identity tests.
 * @module
 */
import Database from 'better-sqlite3';
import { ParleyClient, type AccountRecord } from '@parley/client';
import { clientOptions, registeredClient } from './clients.ts';
import type { RelayProcess } from './relay.ts';

/** Moves `fresh`'s identity and device into `target`'s account, as a reinstall would. */
function reinstallInRelayDb(dbPath: string, target: string, fresh: string): void {
  const db = new Database(dbPath);
  try {
    db.pragma('foreign_keys = ON');
    db.transaction(() => {
      db.prepare(
        'UPDATE accounts SET identity_key = (SELECT identity_key FROM accounts WHERE account_id = ?) WHERE account_id = ?',
      ).run(fresh, target);
      db.prepare('DELETE FROM devices WHERE account_id = ?').run(target);
    })();
    db.pragma('foreign_keys = OFF');
    db.transaction(() => {
      for (const table of ['devices', 'signed_prekeys', 'one_time_prekeys']) {
        db.prepare(`UPDATE ${table} SET account_id = ? WHERE account_id = ?`).run(target, fresh);
      }
      db.prepare('DELETE FROM accounts WHERE account_id = ?').run(fresh);
    })();
  } finally {
    db.close();
  }
}

/**
 * `victim` reinstalls: a fresh installation with a new identity takes over the account.
 * Returns the new, started client; `track` receives every client made on the way.
 */
export async function reinstall(
  relay: RelayProcess,
  victim: ParleyClient,
  username: string,
  track: (c: ParleyClient) => void,
): Promise<ParleyClient> {
  await victim.stop();
  const fresh = await registeredClient(relay.url, `${username}_fresh_install`);
  track(fresh);
  await fresh.stop();
  await relay.stop();
  reinstallInRelayDb(relay.dbPath, victim.accountId, fresh.accountId);
  await relay.restart();
  await fresh.storage.transaction(async (tx) => {
    const a = (await tx.get<AccountRecord>('meta', 'account'))!;
    await tx.put('meta', 'account', { ...a, accountId: victim.accountId, username });
  });
  const reinstalled = await ParleyClient.open(clientOptions(relay.url, fresh.storage));
  track(reinstalled);
  await reinstalled.start();
  return reinstalled;
}
