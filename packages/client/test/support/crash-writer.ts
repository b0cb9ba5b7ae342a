/**
 * Child process for the crash test: writes "session state + message" transactions to an
 * encrypted SQLite store as fast as it can, printing each committed count, until killed.
 */
import { Storage, importAtRestKey } from '../../src/storage/index.ts';
import { SqliteBackend } from '../../src/storage/sqlite.ts';

const [path] = process.argv.slice(2);
const storage = new Storage(new SqliteBackend(path!), {
  key: await importAtRestKey(new Uint8Array(32).fill(9)),
});
const start = ((await storage.get<{ counter: number }>('sessions', 'peer.1'))?.counter ?? 0) + 1;
for (let n = start; ; n++) {
  await storage.transaction(async (tx) => {
    await tx.put('sessions', 'peer.1', { counter: n, padding: new Uint8Array(2048) });
    await tx.put('messages', `conv/${String(n).padStart(8, '0')}`, { text: `message ${n}` });
  });
  process.stdout.write(`${n}\n`);
}
