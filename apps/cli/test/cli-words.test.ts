/**
 * `parley` says what happened in words: group events read like the web app's ("alice created
 * the group."), and an empty message is refused instead of sent. In-process through `main()`
 * against the real relay.
 */
import { describe, expect, it } from 'vitest';
import { useInProcessCli } from './support/in-process.ts';

const { cli } = useInProcessCli('words');

describe('parley in words', () => {
  it('refuses an empty message and shows group events as sentences', async () => {
    const run = Date.now().toString(36);
    const alice = `walice_${run}`;
    const bob = `wbob_${run}`;
    expect((await cli('alice', 'register', alice)).code).toBe(0);
    expect((await cli('bob', 'register', bob)).code).toBe(0);

    const empty = await cli('alice', 'send', bob, ' ', '  ');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe('parley: an empty message is not sent');
    expect((await cli('alice', 'messages', bob)).stdout).toBe('');

    expect((await cli('alice', 'groups', 'create', 'pair', bob)).code).toBe(0);
    expect((await cli('alice', 'groups', 'send', 'pair', '')).code).toBe(2);
    const received = await cli('bob', 'receive');
    expect(received.code).toBe(0);
    // The creator by name, or by short account id while the name it claims is being confirmed.
    expect(received.stdout).toMatch(/\[pair\] \* \S+ created the group\.$/m);
    expect(received.stdout).not.toMatch(/group_created/);
  }, 300_000);
});
