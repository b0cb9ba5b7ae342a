/** Groups: creation reaches members, one ciphertext fans out, membership is enforced. */
import { describe, expect, it } from 'vitest';
import { GroupMembershipError } from '@parley/client';
import { FakeRelay } from './support/fake-relay.ts';

describe('groups', () => {
  it('creates a group and delivers a group text to every member', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    const bob = await relay.client('bob');
    const carol = await relay.client('carol');
    const group = await alice.createGroup('trio', [bob.accountId, carol.accountId]);
    const sent = await alice.sendGroupText(group.groupId, 'hello trio');
    expect(sent.status).toBe('sent');
    for (const member of [bob, carol]) {
      await relay.deliver(member);
      expect((await member.group(group.groupId))?.title).toBe('trio');
      const texts = (await member.messages(`group:${group.groupId}`)).map((m) => m.text);
      expect(texts).toContain('hello trio');
    }
  });

  it('refuses to send to a group we are not in', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    await expect(alice.sendGroupText('00'.repeat(16), 'x')).rejects.toBeInstanceOf(
      GroupMembershipError,
    );
    expect(await alice.storage.list('outbox')).toEqual([]);
  });
});
