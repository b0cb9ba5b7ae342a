/**
 * `parley requests …`, `block` / `unblock` and `groups admin` (issue 12), in-process through
 * `main()` against the real relay, with their `--json` shapes.
 */
import { describe, expect, it } from 'vitest';
import { useInProcessCli } from './support/in-process.ts';

const { cli } = useInProcessCli('trust');

type Json = Record<string, unknown>;
const one = (s: string) => JSON.parse(s.trim().split('\n')[0]!) as Json;
const idOf = async (user: string) =>
  String(one((await cli(user, '--json', 'whoami')).stdout).accountId);

describe('parley requests, block, groups admin', () => {
  it('lists, accepts and blocks message requests; blocks and unblocks by name', async () => {
    for (const u of ['tann', 'tbo', 'tcy']) expect((await cli(u, 'register', u)).code).toBe(0);
    const [bo, cy] = [await idOf('tbo'), await idOf('tcy')];
    expect((await cli('tbo', 'send', 'tann', 'hello', 'stranger')).code).toBe(0);
    expect((await cli('tcy', 'send', 'tann', 'buy', 'now')).code).toBe(0);
    await cli('tann', 'receive');

    const listed = one((await cli('tann', '--json', 'requests', 'list')).stdout) as unknown;
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ conversationId: `direct:${bo}`, kind: 'direct', from: bo }),
        expect.objectContaining({ conversationId: `direct:${cy}`, kind: 'direct', from: cy }),
      ]),
    );
    const accepted = one((await cli('tann', '--json', 'requests', 'accept', bo)).stdout);
    expect(accepted).toMatchObject({ conversationId: `direct:${bo}`, accepted: true });
    const blocked = await cli('tann', 'requests', 'block', `direct:${cy}`);
    expect(blocked).toMatchObject({ code: 0, stdout: `blocked direct:${cy}` });
    expect(one((await cli('tann', '--json', 'requests', 'list')).stdout)).toEqual([]);
    expect((await cli('tann', 'requests', 'list')).stdout).toBe('no message requests');
    const contacts = one((await cli('tann', '--json', 'contacts', 'list')).stdout);
    expect(contacts).toEqual(
      expect.arrayContaining([expect.objectContaining({ accountId: cy, blocked: true })]),
    );

    // Blocked: what they send is dropped.
    expect((await cli('tcy', 'send', 'tann', 'are', 'you', 'there')).code).toBe(0);
    expect((await cli('tann', 'receive')).stdout).not.toMatch(/are you there/);
    expect(one((await cli('tann', '--json', 'unblock', 'tcy')).stdout)).toEqual({
      accountId: cy,
      blocked: false,
    });
    expect((await cli('tcy', 'send', 'tann', 'and', 'now')).code).toBe(0);
    expect((await cli('tann', 'receive')).stdout).toMatch(/and now/);
    const missing = await cli('tann', 'requests', 'accept', 'nobody');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no message request "nobody"/);
  });

  it('groups admin: only admins remove; a member made admin can', async () => {
    for (const u of ['aal', 'abo', 'acy']) expect((await cli(u, 'register', u)).code).toBe(0);
    const [al, bo, cy] = [await idOf('aal'), await idOf('abo'), await idOf('acy')];
    const created = one(
      (await cli('aal', '--json', 'groups', 'create', 'crew', 'abo', 'acy')).stdout,
    );
    expect(created.admins).toEqual([al]);
    await cli('abo', 'receive');
    const refused = await cli('abo', 'groups', 'remove', 'crew', al);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/only an admin/);

    const promoted = one((await cli('aal', '--json', 'groups', 'admin', 'crew', 'abo')).stdout);
    expect(promoted.admins).toEqual([al, bo]);
    await cli('abo', 'receive');
    const removed = await cli('abo', '--json', 'groups', 'remove', 'crew', cy);
    expect(removed.code).toBe(0);
    expect(
      (one(removed.stdout).members as { accountId: string }[]).map((m) => m.accountId),
    ).toEqual([al, bo]);
  });
});
