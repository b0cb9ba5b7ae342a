/**
 * `parley requests …`, `parley block` / `unblock` and `parley groups admin`: message requests,
 * blocking and group admins (issue 12). Registered on the program by main.ts, with its
 * helpers; every command prints one line for people or one JSON value with `--json`.
 * @module
 */
import type { Command } from 'commander';
import {
  GroupAdminError,
  type ConversationRecord,
  type GroupRecord,
  type ParleyClient,
} from '@parley/client';

export interface TrustCommandDeps {
  withClient<T>(fn: (c: ParleyClient) => Promise<T>): Promise<T>;
  resolveAccount(c: ParleyClient, who: string): Promise<string>;
  resolveGroup(c: ParleyClient, ref: string): Promise<string>;
  print(human: string, data: unknown): void;
  json(): boolean;
  out(line: string): void;
  fail(message: string): Error;
}

/** A request as listed: who it is from, and what it is. */
interface RequestInfo {
  conversationId: string;
  kind: 'direct' | 'group';
  /** The stranger (direct) or whoever added us (group). */
  from?: string;
  username?: string;
  title?: string;
  unread: number;
}

async function requestInfo(c: ParleyClient, conv: ConversationRecord): Promise<RequestInfo> {
  let group: GroupRecord | undefined;
  let from: string | undefined = conv.peer;
  if (conv.kind === 'group') {
    group = await c.group(conv.peer);
    from = group?.invitedBy;
  }
  const username = from ? (await c.contact(from))?.username : undefined;
  return {
    conversationId: conv.id,
    kind: conv.kind,
    ...(from ? { from } : {}),
    ...(username ? { username } : {}),
    ...(group ? { title: group.title } : {}),
    unread: conv.unread,
  };
}

const describeRequest = (r: RequestInfo) =>
  `${r.conversationId}\t${r.kind === 'group' ? `group "${r.title ?? '?'}" from ` : ''}${r.username ?? r.from ?? '?'}\t${r.unread} unread`;

/** What a non-admin is told when a group change is refused. */
export const ADMIN_ONLY =
  'only an admin of the group can do that (parley groups list --json shows its admins)';

export function registerTrustCommands(program: Command, deps: TrustCommandDeps): void {
  const { withClient, print, json, out, fail } = deps;

  async function requests(c: ParleyClient): Promise<RequestInfo[]> {
    const list = (await c.conversations()).filter((x) => x.request);
    return Promise.all(list.map((x) => requestInfo(c, x)));
  }

  /** A request by conversation id, username, account id or group title / id. */
  async function findRequest(c: ParleyClient, ref: string): Promise<RequestInfo> {
    const lower = ref.toLowerCase();
    const found = (await requests(c)).find(
      (r) =>
        r.conversationId === ref ||
        r.from === ref ||
        r.username?.toLowerCase() === lower ||
        r.title === ref ||
        (r.kind === 'group' && r.conversationId.startsWith(`group:${ref}`)),
    );
    if (!found) throw fail(`no message request "${ref}" (see parley requests list)`);
    return found;
  }

  /** An account to block: a known contact, or a username looked up without adding it. */
  async function blockTarget(c: ParleyClient, who: string): Promise<string> {
    if (/^[0-9a-f-]{36}$/.test(who)) return who;
    const known = (await c.contacts()).find((x) => x.username?.toLowerCase() === who.toLowerCase());
    return known?.accountId ?? (await c.http.lookupUsername(who)).accountId;
  }

  const req = program
    .command('requests')
    .description('message requests: first messages from strangers, groups they added you to');
  req
    .command('list')
    .description('list pending requests (run parley receive first to fetch new ones)')
    .action(async () => {
      await withClient(async (c) => {
        const list = await requests(c);
        if (json()) print('', list);
        else if (list.length === 0) out('no message requests');
        else for (const r of list) out(describeRequest(r));
      });
    });
  for (const [name, description, verb] of [
    ['accept', 'accept a request: read receipts and typing go back from now on', 'accepted'],
    ['delete', 'delete a request and its messages (a group request is left)', 'deleted'],
    ['block', 'block whoever sent the request (and leave a group request)', 'blocked'],
  ] as const) {
    req
      .command(name)
      .description(description)
      .argument('<request>', 'username, account id, group title or conversation id')
      .action(async (ref: string) => {
        await withClient(async (c) => {
          const r = await findRequest(c, ref);
          if (name === 'accept') await c.acceptRequest(r.conversationId);
          else if (name === 'delete') await c.deleteRequest(r.conversationId);
          else await c.blockRequest(r.conversationId);
          print(`${verb} ${r.conversationId}`, { ...r, [verb]: true });
        });
      });
  }

  for (const [name, blocked] of [
    ['block', true],
    ['unblock', false],
  ] as const) {
    program
      .command(name)
      .description(
        blocked
          ? 'block an account: drop everything it sends, on all your devices'
          : 'unblock an account',
      )
      .argument('<who>', 'username or account id')
      .action(async (who: string) => {
        await withClient(async (c) => {
          const accountId = await blockTarget(c, who);
          if (blocked) await c.block(accountId);
          else await c.unblock(accountId);
          print(`${blocked ? 'blocked' : 'unblocked'} ${who}`, { accountId, blocked });
        });
      });
  }

  const groups = program.commands.find((x) => x.name() === 'groups');
  if (!groups) return;
  groups
    .command('admin')
    .description('make members admins (only an admin may)')
    .argument('<group>')
    .argument('<members...>')
    .action(async (ref: string, members: string[]) => {
      await withClient(async (c) => {
        const id = await deps.resolveGroup(c, ref);
        const ids = [];
        for (const m of members) ids.push(await deps.resolveAccount(c, m));
        try {
          const g = await c.makeGroupAdmins(id, ids);
          print(`${g.title}: admins ${(g.admins ?? []).join(', ')}`, g);
        } catch (err) {
          if (err instanceof GroupAdminError) throw fail(ADMIN_ONLY);
          throw err;
        }
      });
    });
}
