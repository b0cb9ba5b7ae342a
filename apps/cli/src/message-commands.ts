/**
 * `parley reply`, `react`, `edit` and `delete`: what people do to earlier messages (issue 16).
 * A conversation is named like elsewhere: a username or account id, or `--group <group>`; a
 * message by the id `parley messages --json` prints. One line for people, one JSON value with
 * `--json`.
 * @module
 */
import type { Command } from 'commander';
import type { MessageRecord, ParleyClient } from '@parley/client';
import { messageText } from './event-words.ts';
import type { TrustCommandDeps } from './trust-commands.ts';

interface Target {
  group?: string;
}

async function conversationOf(
  deps: TrustCommandDeps,
  c: ParleyClient,
  to: string | undefined,
  opts: Target,
): Promise<string> {
  if (opts.group) return `group:${await deps.resolveGroup(c, opts.group)}`;
  if (!to) throw deps.fail('name the conversation: a username, or --group <group>');
  return `direct:${await deps.resolveAccount(c, to)}`;
}

const summary = (m: MessageRecord) => ({
  id: m.id,
  conversationId: m.conversationId,
  ...(m.text !== undefined ? { text: m.text } : {}),
  ...(m.reactions ? { reactions: m.reactions } : {}),
  ...(m.editedAt !== undefined ? { editedAt: m.editedAt } : {}),
  ...(m.deleted ? { deleted: true } : {}),
  ...(m.quote ? { quote: m.quote } : {}),
  ...(m.status ? { status: m.status } : {}),
});

export function registerMessageCommands(program: Command, deps: TrustCommandDeps): void {
  const text = (words: string[]) => {
    const t = messageText(words);
    if (t === undefined) throw deps.fail('an empty message is not sent');
    return t;
  };

  program
    .command('reply')
    .description('reply to a message, quoting it')
    .argument('[to]', 'username or account id (or use --group)')
    .argument('<message-id>')
    .argument('<text...>')
    .option('-g, --group <group>', 'the group the message is in')
    .action(async (to: string | undefined, id: string, words: string[], opts: Target) => {
      await deps.withClient(async (c) => {
        const conv = await conversationOf(deps, c, to, opts);
        const body = text(words);
        const m = conv.startsWith('group:')
          ? await c.sendGroupText(conv.slice(6), body, { replyTo: id })
          : await c.sendText(conv.slice(7), body, { replyTo: id });
        deps.print(`${m.status === 'queued' ? 'queued' : 'sent'} ${m.id}`, summary(m));
      });
    });

  program
    .command('react')
    .description('react to a message with one emoji (--remove takes it back)')
    .argument('[to]', 'username or account id (or use --group)')
    .argument('<message-id>')
    .argument('[emoji]')
    .option('-g, --group <group>', 'the group the message is in')
    .option('--remove', 'remove your reaction')
    .action(
      async (
        to: string | undefined,
        id: string,
        emoji: string | undefined,
        opts: Target & { remove?: boolean },
      ) => {
        await deps.withClient(async (c) => {
          if (!opts.remove && !emoji) throw deps.fail('which emoji? (or --remove)');
          const conv = await conversationOf(deps, c, to, opts);
          const m = await c.react(conv, id, opts.remove ? null : emoji!);
          deps.print(
            opts.remove ? `removed reaction on ${id}` : `reacted ${emoji} to ${id}`,
            summary(m),
          );
        });
      },
    );

  program
    .command('edit')
    .description('change the text of your message (within 24 hours)')
    .argument('[to]', 'username or account id (or use --group)')
    .argument('<message-id>')
    .argument('<text...>')
    .option('-g, --group <group>', 'the group the message is in')
    .action(async (to: string | undefined, id: string, words: string[], opts: Target) => {
      await deps.withClient(async (c) => {
        const conv = await conversationOf(deps, c, to, opts);
        const m = await c.editMessage(conv, id, text(words));
        deps.print(`edited ${id}`, summary(m));
      });
    });

  program
    .command('delete')
    .description('delete a message for you, or with --everyone your own for everyone (24 hours)')
    .argument('[to]', 'username or account id (or use --group)')
    .argument('<message-id>')
    .option('-g, --group <group>', 'the group the message is in')
    .option('--everyone', 'delete your message for everyone')
    .action(async (to: string | undefined, id: string, opts: Target & { everyone?: boolean }) => {
      await deps.withClient(async (c) => {
        const conv = await conversationOf(deps, c, to, opts);
        if (opts.everyone) {
          const m = await c.deleteForEveryone(conv, id);
          deps.print(`deleted ${id} for everyone`, summary(m));
        } else {
          await c.deleteForMe(conv, [id]);
          deps.print(`deleted ${id} here and on your other devices`, { id, deleted: 'for-me' });
        }
      });
    });
}
