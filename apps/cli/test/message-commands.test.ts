/**
 * `parley reply`, `react`, `edit` and `delete` in-process through `main()` against the real
 * relay: each reaches the other person, and `messages` shows the result.
 */
import { describe, expect, it } from 'vitest';
import { useInProcessCli } from './support/in-process.ts';

const { cli } = useInProcessCli('actions');

const json = (s: string) => JSON.parse(s.trim().split('\n').at(-1)!) as Record<string, unknown>;

describe('parley message commands', () => {
  it('replies, reacts, edits and deletes, and the other side sees each', async () => {
    const run = Date.now().toString(36);
    const alice = `calice_${run}`;
    const bob = `cbob_${run}`;
    expect((await cli('a', 'register', alice)).code).toBe(0);
    expect((await cli('b', 'register', bob)).code).toBe(0);
    expect((await cli('a', 'contacts', 'add', bob)).code).toBe(0);
    const sent = json((await cli('a', 'send', bob, 'lunch at noon?', '--json')).stdout);
    const id = String(sent.id);
    expect((await cli('b', 'receive')).code).toBe(0);
    expect((await cli('b', 'requests', 'accept', alice)).code).toBe(0);

    const reply = await cli('b', 'reply', alice, id, 'yes!', '--json');
    expect(reply.code).toBe(0);
    expect(json(reply.stdout).quote).toMatchObject({ id, text: 'lunch at noon?' });
    const reacted = await cli('b', 'react', alice, id, '👍', '--json');
    expect(Object.values(json(reacted.stdout).reactions as object)).toEqual(['👍']);

    expect((await cli('a', 'receive')).code).toBe(0);
    const seen = (await cli('a', 'messages', bob)).stdout;
    expect(seen).toMatch(/\[reply to me: lunch at noon\?\] yes!/);
    expect(seen).toMatch(/lunch at noon\? \[👍 /);

    expect(json((await cli('a', 'edit', bob, id, 'lunch at one?', '--json')).stdout)).toMatchObject(
      { text: 'lunch at one?' },
    );
    const notMine = await cli('b', 'edit', alice, id, 'hijacked');
    expect(notMine.code).not.toBe(0);
    expect(notMine.stderr).toMatch(/only your own messages/);
    expect((await cli('b', 'receive')).code).toBe(0);
    expect((await cli('b', 'messages', alice)).stdout).toMatch(/lunch at one\? \(edited\)/);

    expect((await cli('a', 'delete', bob, id, '--everyone')).code).toBe(0);
    expect((await cli('b', 'receive')).code).toBe(0);
    const after = (await cli('b', 'messages', alice)).stdout;
    expect(after).toMatch(/: \(deleted\)/);
    expect(after).not.toMatch(/lunch at one/);

    const replyId = String(json(reply.stdout).id);
    expect((await cli('b', 'delete', alice, replyId)).code).toBe(0);
    expect((await cli('b', 'messages', alice)).stdout).not.toMatch(/yes!/);
  }, 300_000);
});
