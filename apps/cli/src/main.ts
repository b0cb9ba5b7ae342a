/**
 * `parley`: the terminal client. Human output by default, `--json` for scripts (one JSON value
 * per line), errors on stderr with a non-zero exit code, progress on stderr for slow steps.
 *
 * State lives in a data directory (`--data-dir`, PARLEY_DATA_DIR, default ~/.parley); the relay
 * URL comes from `--relay` / PARLEY_RELAY_URL when registering or linking, and is remembered.
 * @module
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import WebSocket from 'ws';
import {
  GroupAdminError,
  IdentityChangedError,
  ParleyClient,
  RelayHttpError,
  describeTimer,
  type MessageRecord,
} from '@parley/client';
import { setCryptoBackend } from '@parley/crypto/backend.js';
import { CloseCode } from '@parley/protocol';
import { nodeCryptoBackend } from '@parley/crypto-node';
import { nodeFetch } from '@parley/client/relay/node-fetch.js';
import { eventWords, messageText } from './event-words.ts';
import { registerMessageCommands } from './message-commands.ts';
import { registerTimerCommand } from './timer-command.ts';
import {
  attachmentWords,
  publicMessage,
  registerAttachmentCommands,
  saveAttachments,
} from './attachment-commands.ts';
import {
  contactJson,
  contactState,
  deviceJson,
  lastActiveDay,
  lifecycleErrorText,
} from './lifecycle.ts';
import { openDataDir } from './store.ts';
import { ADMIN_ONLY, registerTrustCommands } from './trust-commands.ts';
import { cliVersion } from './version.ts';

// Node's synchronous node:crypto for the curve work: the fastest backend here (same bytes).
setCryptoBackend(nodeCryptoBackend);

interface GlobalOptions {
  dataDir: string;
  attachmentsDir?: string;
  relay?: string;
  json?: boolean;
}

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

interface Io {
  out(line: string): void;
  err(line: string): void;
}

const defaultIo: Io = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
};

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = new Command();
  let exitCode = 0;
  program
    .name('parley')
    .description('Parley: end-to-end encrypted chat in the terminal')
    .version(cliVersion(), '-V, --version', 'print the version')
    .option(
      '-d, --data-dir <dir>',
      'data directory',
      process.env.PARLEY_DATA_DIR ?? join(homedir(), '.parley'),
    )
    .option('-r, --relay <url>', 'relay URL (register/link)', process.env.PARLEY_RELAY_URL)
    .option(
      '--attachments-dir <dir>',
      'where received files are saved (default: <data dir>/attachments)',
      process.env.PARLEY_ATTACHMENTS_DIR,
    )
    .option('--json', 'machine-readable output (JSON lines)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
    });

  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const json = () => g().json === true;
  const progress = (msg: string) => {
    if (!json() && process.stderr.isTTY) io.err(`… ${msg}`);
  };
  const percent = (done: number, total: number) =>
    `${total > 0 ? Math.floor((100 * done) / total) : 100}%`;
  const print = (human: string, data: unknown) => io.out(json() ? JSON.stringify(data) : human);

  /** `sent <id>`, or `queued <id>` with what happens next when the relay was out of reach. */
  function sentLine(m: MessageRecord): string {
    if (m.status !== 'queued') return `sent ${m.id}`;
    return `queued ${m.id}: the relay is out of reach; it is sent by the next command that connects (e.g. parley receive)`;
  }

  async function withClient<T>(
    fn: (c: ParleyClient) => Promise<T>,
    needAccount = true,
  ): Promise<T> {
    const storage = await openDataDir(g().dataDir, process.env.PARLEY_PASSPHRASE);
    try {
      const client = await ParleyClient.open({
        storage,
        ...(g().relay ? { relayUrl: g().relay } : {}),
        WebSocket,
        // node:http instead of Node's fetch: a fraction of the CPU per request (relay/node-fetch.ts).
        fetch: nodeFetch,
        backoff: { initialMs: 200, maxMs: 5000 },
      });
      if (needAccount && !client.account) {
        throw new CliError(
          'no account in this data directory: run `parley register <username>` first',
        );
      }
      // Disappearing messages that fell due since the last command go before anything is shown.
      if (client.account) await client.sweepExpired();
      try {
        return await fn(client);
      } finally {
        await client.stop();
      }
    } finally {
      await storage.close();
    }
  }

  /** A contact by username or account id; looks the username up on the relay if needed. */
  async function resolveAccount(client: ParleyClient, who: string): Promise<string> {
    if (/^[0-9a-f-]{36}$/.test(who)) return who;
    const known = (await client.contacts()).find(
      (c) => c.username?.toLowerCase() === who.toLowerCase(),
    );
    if (known) return known.accountId;
    if (who.toLowerCase() === client.account!.username.toLowerCase()) return client.accountId;
    try {
      return (await client.addContact(who)).accountId;
    } catch (err) {
      // Nobody has the name now: a contact who had it and deleted their account is meant.
      const former = (await client.contacts()).find(
        (c) => c.goneAt !== undefined && c.formerUsername?.toLowerCase() === who.toLowerCase(),
      );
      if (former && err instanceof RelayHttpError && err.status === 404) return former.accountId;
      throw err;
    }
  }

  async function resolveGroup(client: ParleyClient, ref: string): Promise<string> {
    const groups = await client.groups();
    const g1 = groups.find(
      (g) => g.groupId === ref || g.groupId.startsWith(ref) || g.title === ref,
    );
    if (!g1) throw new CliError(`no group "${ref}"`);
    return g1.groupId;
  }

  function requireText(words: string[]): string {
    const text = messageText(words);
    if (text === undefined) throw new CliError('an empty message is not sent', 2);
    return text;
  }

  async function describe(client: ParleyClient, m: MessageRecord): Promise<string> {
    const name = async (id: string) => {
      if (id === client.accountId) return 'me';
      const c = await client.contact(id);
      return c?.username ?? c?.formerUsername ?? id.slice(0, 8);
    };
    const when = new Date(m.timestamp).toISOString().replace('T', ' ').slice(0, 19);
    const where = m.conversationId.startsWith('group:')
      ? `[${(await client.group(m.conversationId.slice(6)))?.title ?? 'group'}] `
      : '';
    if (m.kind === 'event') {
      const subjects = await Promise.all((m.subjects ?? []).map(name));
      return `${when} ${where}* ${eventWords(m, await name(m.senderAccountId), subjects)}`;
    }
    const who =
      m.direction === 'out'
        ? `me → ${m.conversationId.startsWith('direct:') ? await name(m.conversationId.slice(7)) : 'group'}`
        : await name(m.senderAccountId);
    if (m.deleted) return `${when} ${where}${who}: (deleted)`;
    const quote = m.quote
      ? `[reply to ${await name(m.quote.authorAccountId)}: ${m.quote.gone ? '(disappeared)' : m.quote.text}] `
      : '';
    const reactions = Object.entries(m.reactions ?? {});
    const reacted =
      reactions.length > 0
        ? ` [${(await Promise.all(reactions.map(async ([id, e]) => `${e} ${await name(id)}`))).join(', ')}]`
        : '';
    const edited = m.editedAt !== undefined ? ' (edited)' : '';
    const disappears = m.expiresIn
      ? ` (disappears ${describeTimer(m.expiresIn)} after reading)`
      : '';
    return `${when} ${where}${who}: ${quote}${m.text}${attachmentWords(m)}${edited}${reacted}${disappears}`;
  }

  program
    .command('register')
    .description('create an account with this device as its primary device')
    .argument('<username>')
    .option('--name <name>', 'a name for this device (only your devices can read it)')
    .action(async (username: string, opts: { name?: string }) => {
      await withClient(async (client) => {
        if (client.account) throw new CliError(`already registered as ${client.account.username}`);
        if (!g().relay) throw new CliError('relay URL needed: --relay <url> or PARLEY_RELAY_URL');
        progress('generating keys and registering');
        const a = await client.register(username, g().relay, opts.name);
        print(`registered ${a.username} (account ${a.accountId}, device ${a.deviceId})`, {
          accountId: a.accountId,
          deviceId: a.deviceId,
          username: a.username,
        });
      }, false);
    });

  program
    .command('whoami')
    .description('show this device’s account')
    .action(async () => {
      await withClient(async (client) => {
        const me = await client.whoami();
        print(`${me.username} (account ${me.accountId}, device ${me.deviceId})`, me);
      });
    });

  const contacts = program.command('contacts').description('manage contacts');
  contacts
    .command('add')
    .argument('<username>')
    .action(async (username: string) => {
      await withClient(async (client) => {
        const c = await client.addContact(username);
        print(`added ${c.username} (${c.accountId})`, c);
      });
    });
  contacts.command('list').action(async () => {
    await withClient(async (client) => {
      const list = await client.contacts();
      if (json())
        print(
          '',
          list.map((c) => ({ ...contactJson(c), ...(c.blocked ? { blocked: true } : {}) })),
        );
      else {
        const names = new Map(list.map((c) => [c.accountId, c.username ?? c.formerUsername]));
        const name = (id: string) => names.get(id) ?? id.slice(0, 8);
        for (const c of list) {
          const state = contactState(c, name);
          io.out(
            `${c.username ?? c.formerUsername ?? '?'}\t${c.accountId}\tsealed sender: ${c.sealedSender ? 'on' : 'off'}${c.identityChanged ? '\t(safety number changed)' : ''}${state ? `\t(${state})` : ''}${c.blocked ? '\t(blocked)' : ''}`,
          );
        }
      }
    });
  });
  contacts
    .command('show')
    .description("a contact's details: whether messages to them go sealed, verification")
    .argument('<who>', 'username or account id')
    .action(async (who: string) => {
      await withClient(async (client) => {
        const c = await client.contact(await resolveAccount(client, who));
        if (!c) throw new CliError(`no contact "${who}"`);
        const details = {
          accountId: c.accountId,
          username: c.username,
          sealedSender: !!c.sealedSender,
          verified: !!c.verified,
          identityChanged: !!c.identityChanged,
        };
        print(
          [
            `${c.username ?? '?'} (${c.accountId})`,
            `sealed sender: ${details.sealedSender ? 'on' : 'off'}`,
            `verified: ${details.verified ? 'yes' : 'no'}`,
            ...(details.identityChanged ? ['safety number changed'] : []),
          ].join('\n'),
          details,
        );
      });
    });

  program
    .command('send')
    .description('send a text message')
    .argument('<to>', 'username or account id')
    .argument('<text...>')
    .action(async (to: string, words: string[]) => {
      await withClient(async (client) => {
        const accountId = await resolveAccount(client, to);
        progress('encrypting and sending');
        try {
          const m = await client.sendText(accountId, requireText(words));
          print(sentLine(m), { id: m.id, status: m.status, timestamp: m.timestamp });
        } catch (err) {
          if (err instanceof IdentityChangedError) {
            throw new CliError(
              `${to}'s safety number changed. Compare it (parley safety-number ${to}) and accept it with: parley safety-number ${to} --accept`,
            );
          }
          const words = lifecycleErrorText(err, to);
          if (words) throw new CliError(words);
          throw err;
        }
      });
    });

  const positive = (what: string) => (v: string) => {
    const n = Number(v);
    if (!(n > 0)) throw new InvalidArgumentError(`not ${what}: "${v}"`);
    return n;
  };
  const receiveLike = (name: string, description: string, keepListening: boolean) =>
    program
      .command(name)
      .description(description)
      .option('-n, --count <n>', 'exit after this many messages', positive('a count'))
      .option('-t, --timeout <seconds>', 'exit after this long', positive('a number of seconds'))
      .action(async (opts: { count?: number; timeout?: number }) => {
        await withClient(async (client) => {
          let seen = 0;
          let done!: () => void;
          const finished = new Promise<void>((r) => (done = r));
          const show = async (m: MessageRecord) => {
            print(await describe(client, m), publicMessage(m));
            if (m.attachments) {
              const dir = g().attachmentsDir ?? join(g().dataDir, 'attachments');
              await saveAttachments(client, m, dir, print, (line) => io.err(line));
            }
            seen++;
            if (opts.count !== undefined && seen >= opts.count) done();
          };
          // Printing is async (names are looked up): finish it before the client is stopped.
          const printing = new Set<Promise<void>>();
          const track = (m: MessageRecord) => {
            const p = show(m).finally(() => printing.delete(p));
            printing.add(p);
          };
          // Unsubscribed before the client stops: what its last background work stores then
          // is kept, not printed after the storage closed.
          const listening = [client.on('message', track), client.on('event', track)];
          const stopListening = () => listening.forEach((off) => off());
          let terminated: CliError | undefined;
          client.on('terminated', (t) => {
            terminated = new CliError(
              t.code === CloseCode.Replaced
                ? `stopped: another connection for this device took over (${t.reason})`
                : `this device was removed (${t.reason})`,
            );
            done();
          });
          progress('connecting');
          // The delivery socket retries a refused login forever (a 401 looks like a network
          // failure to it), so a removed device or deleted account would wait here for good.
          try {
            await client.whoami();
          } catch (err) {
            if (err instanceof RelayHttpError && err.status === 401) {
              throw new CliError(
                'this device is no longer part of its account (unlinked, or the account was deleted)',
              );
            }
          }
          await Promise.race([client.start(), finished]);
          if (!keepListening && opts.count === undefined) {
            stopListening();
            await Promise.all(printing);
            if (terminated) throw terminated;
            return;
          }
          if (opts.timeout !== undefined) setTimeout(done, opts.timeout * 1000).unref();
          const onSignal = () => done();
          process.once('SIGINT', onSignal);
          process.once('SIGTERM', onSignal);
          await finished;
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          stopListening();
          await Promise.all(printing);
          if (terminated) throw terminated;
        });
      });
  receiveLike('listen', 'print incoming messages as they arrive (Ctrl-C to stop)', true);
  receiveLike('receive', 'fetch and print queued messages, then exit', false);

  program
    .command('messages')
    .description('show a conversation')
    .argument('<with>', 'username, account id or group')
    .action(async (who: string) => {
      await withClient(async (client) => {
        const groups = await client.groups();
        const grp = groups.find((x) => x.title === who || x.groupId === who);
        const conv = grp ? `group:${grp.groupId}` : `direct:${await resolveAccount(client, who)}`;
        for (const m of await client.messages(conv)) {
          print(await describe(client, m), publicMessage(m));
        }
      });
    });

  const groups = program.command('groups').description('group chats');
  groups
    .command('create')
    .argument('<title>')
    .argument('[members...]', 'usernames')
    .action(async (title: string, members: string[]) => {
      await withClient(async (client) => {
        const ids = [];
        for (const m of members) ids.push(await resolveAccount(client, m));
        progress('creating group');
        const grp = await client.createGroup(title, ids);
        print(`created group ${grp.title} (${grp.groupId})`, grp);
      });
    });
  groups.command('list').action(async () => {
    await withClient(async (client) => {
      const list = await client.groups();
      if (json()) print('', list);
      else
        for (const x of list)
          io.out(`${x.groupId}\t${x.title}\t${x.members.length} members${x.left ? ' (left)' : ''}`);
    });
  });
  for (const [cmd, verb] of [
    ['add', 'add members'],
    ['remove', 'remove members'],
  ] as const) {
    groups
      .command(cmd)
      .description(verb)
      .argument('<group>')
      .argument('<members...>')
      .action(async (ref: string, members: string[]) => {
        await withClient(async (client) => {
          const id = await resolveGroup(client, ref);
          const ids = [];
          for (const m of members) ids.push(await resolveAccount(client, m));
          const grp = await (
            cmd === 'add' ? client.addGroupMembers(id, ids) : client.removeGroupMembers(id, ids)
          ).catch((err: unknown) => {
            throw err instanceof GroupAdminError ? new CliError(ADMIN_ONLY) : err;
          });
          print(`${grp.title}: ${grp.members.length} members`, grp);
        });
      });
  }
  groups
    .command('send')
    .argument('<group>')
    .argument('<text...>')
    .action(async (ref: string, words: string[]) => {
      await withClient(async (client) => {
        const id = await resolveGroup(client, ref);
        progress('sending to group');
        const m = await client.sendGroupText(id, requireText(words));
        print(sentLine(m), { id: m.id, status: m.status });
      });
    });

  const commandDeps = {
    withClient: <T>(fn: (c: ParleyClient) => Promise<T>) => withClient(fn),
    resolveAccount,
    resolveGroup,
    print,
    json,
    out: (line: string) => io.out(line),
    fail: (message: string) => new CliError(message),
  };
  registerTrustCommands(program, commandDeps);
  registerMessageCommands(program, commandDeps);
  registerAttachmentCommands(program, commandDeps);
  registerTimerCommand(program, commandDeps);

  const devices = program.command('devices').description('this account’s devices');
  devices.command('list').action(async () => {
    await withClient(async (client) => {
      const list = await client.devices();
      if (json())
        print(
          '',
          list.map((d) => deviceJson(d, client.deviceId)),
        );
      else
        for (const d of list)
          io.out(
            `${d.deviceId}${d.deviceId === client.deviceId ? ' (this device)' : ''}\t${d.displayName ?? ''}\tcreated ${new Date(d.createdAt).toISOString()}\tlast active ${lastActiveDay(d.lastSeenAt)}`,
          );
    });
  });
  devices
    .command('link')
    .description('link this (new) device to an existing account: prints a URI to approve')
    .option('--name <name>', 'a name for this device (only your devices can read it)')
    .action(async (opts: { name?: string }) => {
      const storage = await openDataDir(g().dataDir, process.env.PARLEY_PASSPHRASE);
      try {
        if (!g().relay) throw new CliError('relay URL needed: --relay <url> or PARLEY_RELAY_URL');
        const client = await ParleyClient.link(
          {
            storage,
            relayUrl: g().relay!,
            WebSocket,
            fetch: nodeFetch,
            ...(opts.name ? { deviceName: opts.name } : {}),
          },
          (uri) => {
            print(`approve this link on your primary device:\n  parley devices approve '${uri}'`, {
              uri,
            });
          },
        );
        // History offered by the primary: imported now, before anything is received.
        const offProgress = client.on('historyTransferProgress', (p) =>
          progress(`history: ${p.phase} ${percent(p.done, p.total)}`),
        );
        const history = await client.importHistory();
        offProgress();
        if (history?.state === 'imported') progress(`history: ${history.messages} messages`);
        if (history?.state === 'failed') io.err(history.reason);
        progress('announcing to our other devices');
        await client.announceToOwnDevices();
        print(`linked as device ${client.deviceId} of ${client.account!.username}`, {
          accountId: client.accountId,
          deviceId: client.deviceId,
        });
      } finally {
        await storage.close();
      }
    });
  devices
    .command('approve')
    .argument('<uri>')
    .option('--no-history', 'do not transfer message history to the new device')
    .action(async (uri: string, opts: { history: boolean }) => {
      await withClient(async (client) => {
        const off = client.on('historyTransferProgress', (p) =>
          progress(`history: ${p.phase} ${percent(p.done, p.total)}`),
        );
        let failure: string | undefined;
        client.on('historyTransferFailed', (e) => (failure = e.reason));
        progress('sending the provisioning message');
        await client.approveLink(uri, { transferHistory: opts.history });
        off();
        if (failure) io.err(failure);
        print('approved', { approved: true, history: opts.history && !failure });
      });
    });
  devices
    .command('unlink')
    .argument('<deviceId>')
    .action(async (id: string) => {
      const deviceId = Number(id);
      if (!Number.isInteger(deviceId) || deviceId < 1) {
        throw new CliError(`not a device id: "${id}" (see parley devices list)`);
      }
      await withClient(async (client) => {
        await client.unlinkDevice(deviceId);
        print(`device ${deviceId} removed`, { removed: deviceId });
      });
    });

  program
    .command('safety-number')
    .description('show (and optionally accept) the safety number with a contact')
    .argument('<contact>')
    .option('--accept', 'accept a changed safety number')
    .action(async (who: string, opts: { accept?: boolean }) => {
      await withClient(async (client) => {
        const accountId = await resolveAccount(client, who);
        if (opts.accept) await client.acknowledgeIdentity(accountId);
        const sn = await client.safetyNumber(accountId);
        const contact = await client.contact(accountId);
        const groupsOf5 = sn.digits.match(/.{5}/g)!.join(' ');
        const reused =
          contact?.usernameReusedFrom && contact.username
            ? `\n(not the ${contact.username} you talked to before: this username was another account's)`
            : '';
        print(
          `${groupsOf5}${contact?.identityChanged ? '\n(changed — run with --accept after comparing)' : ''}${reused}`,
          {
            digits: sn.digits,
            scannable: Buffer.from(sn.scannable).toString('base64'),
            changed: !!contact?.identityChanged,
            ...(contact?.usernameReusedFrom
              ? { usernameReusedFrom: contact.usernameReusedFrom }
              : {}),
          },
        );
      });
    });

  program
    .command('delete-account')
    .description('delete the account on the relay and all local data')
    .option('--yes', 'confirm')
    .action(async (opts: { yes?: boolean }) => {
      if (!opts.yes) throw new CliError('this deletes the account everywhere; confirm with --yes');
      await withClient(async (client) => {
        await client.deleteAccount();
        print('account deleted', { deleted: true });
      });
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      exitCode = err.exitCode;
    } else if (err instanceof CliError) {
      io.err(`parley: ${err.message}`);
      exitCode = err.exitCode;
    } else if (lifecycleErrorText(err)) {
      io.err(`parley: ${lifecycleErrorText(err)}`);
      exitCode = 1;
    } else {
      const e = err as Error;
      io.err(`parley: ${e.message ?? String(err)}`);
      exitCode = 1;
    }
  }
  return exitCode;
}
