/**
 * A process killed (SIGKILL) in the middle of writing never leaves a session state without
 * its message or the other way round: the SQLite backend's batches are atomic and durable.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Storage, importAtRestKey } from '../src/storage/index.ts';
import { SqliteBackend } from '../src/storage/sqlite.ts';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'parley-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeUntilKilled(path: string, afterCommits: number): Promise<number> {
  return new Promise((res, rej) => {
    // One process (node --import tsx), so SIGKILL really kills the writer.
    const child = spawn(
      process.execPath,
      [
        '--conditions=@parley/source',
        '--import',
        'tsx',
        join(here, 'support', 'crash-writer.ts'),
        path,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: resolve(here, '..') },
    );
    let last = 0;
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      if (lines.length > 0) last = Number(lines.at(-1));
      if (last >= afterCommits) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? res(last) : rej(new Error(`writer exited without being killed`)),
    );
  });
}

describe('crash safety', () => {
  it('keeps session state and messages consistent across SIGKILL, repeatedly', async () => {
    const path = join(dir, 'crash.sqlite');
    for (const round of [1, 2, 3]) {
      const acknowledged = await writeUntilKilled(path, 60 * round);
      const storage = new Storage(new SqliteBackend(path), {
        key: await importAtRestKey(new Uint8Array(32).fill(9)),
      });
      const session = await storage.get<{ counter: number }>('sessions', 'peer.1');
      const messages = await storage.list('messages', 'conv/');
      await storage.close();
      // Every commit the writer reported is there, and state and messages agree exactly.
      expect(session!.counter).toBeGreaterThanOrEqual(acknowledged);
      expect(messages).toHaveLength(session!.counter);
    }
  });
});
