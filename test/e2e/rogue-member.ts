/**
 * A modified group member for trust.spec.ts, as its own Node process (the client core runs
 * from its TypeScript sources: `node --conditions=@parley/source --import tsx`):
 *
 *   rogue-member.ts <relay url> <username>
 *
 * Registers `username` and prints `{"ready":<account id>}`; once added to a group, claims to
 * be one of its admins (in its own storage only) and removes the group's creator, then prints
 * `{"removed":<creator>}` and stays connected until its stdin closes.
 */
import { registeredClient, until } from '../support/clients.ts';

const [relayUrl, username] = process.argv.slice(2);
if (!relayUrl || !username) {
  process.stderr.write('usage: rogue-member.ts <relay url> <username>\n');
  process.exit(2);
}
const say = (line: unknown) => process.stdout.write(JSON.stringify(line) + '\n');

const rogue = await registeredClient(relayUrl, username);
say({ ready: rogue.accountId });
await until(rogue, 'group', async () => (await rogue.groups()).length > 0);
const group = (await rogue.groups())[0]!;
await rogue.storage.put('groups', group.groupId, {
  ...group,
  admins: [...(group.admins ?? [group.creator]), rogue.accountId],
});
await rogue.removeGroupMembers(group.groupId, [group.creator]);
say({ removed: group.creator });
process.stdin.resume();
process.stdin.on('end', () => {
  void rogue.stop().then(() => process.exit(0));
});
