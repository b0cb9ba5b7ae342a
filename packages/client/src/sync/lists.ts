/**
 * What our devices tell each other: the contact list and the group list, as content.
 * @module
 */
import { ContactListSchema, GroupListSchema, create } from '../content/index.ts';
import type { IdentityRecord } from '../model.ts';
import { listContacts } from '../records/contacts.ts';
import { groupState, listGroups } from '../records/groups.ts';
import type { StorageTx } from '../storage/index.ts';

type Reader = Pick<StorageTx, 'get' | 'list'>;

export async function contactList(tx: Reader) {
  const contacts = [];
  for (const c of await listContacts(tx)) {
    const identity = await tx.get<IdentityRecord>('identities', c.accountId);
    contacts.push({
      accountId: c.accountId,
      username: c.username ?? '',
      identityKey: identity?.publicKey ?? new Uint8Array(0),
      verified: c.verified === true, // listContacts says true only for the key trusted now
      blocked: c.blocked === true,
      accepted: c.accepted === true,
    });
  }
  return create(ContactListSchema, { contacts });
}

export async function groupList(tx: Pick<StorageTx, 'list'>) {
  const groups = (await listGroups(tx)).filter((g) => !g.left);
  return create(GroupListSchema, {
    groups: groups.map(groupState),
    requests: groups
      .filter((g) => g.request)
      .map((g) => ({ groupId: g.groupId, invitedBy: g.invitedBy ?? '' })),
  });
}
