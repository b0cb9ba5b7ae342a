/**
 * `parley timer <with> <off|30s|5m|1h|1d|1w>`: sets a conversation's disappearing-message timer
 * (issue 16) for everyone in it and our other devices. `<with>` is named like `parley messages`
 * names it: a group's title or id, or a username or account id.
 * @module
 */
import type { Command } from 'commander';
import { describeTimer, type ParleyClient } from '@parley/client';
import type { TrustCommandDeps } from './trust-commands.ts';

/** The words the command takes, and the seconds they mean (the client's EXPIRE_TIMERS). */
export const TIMER_WORDS: Readonly<Record<string, number>> = {
  off: 0,
  '30s': 30,
  '5m': 300,
  '1h': 3600,
  '1d': 86_400,
  '1w': 604_800,
};

async function conversationOf(deps: TrustCommandDeps, c: ParleyClient, who: string) {
  const group = (await c.groups()).find((g) => g.title === who || g.groupId === who);
  return group ? `group:${group.groupId}` : `direct:${await deps.resolveAccount(c, who)}`;
}

export function registerTimerCommand(program: Command, deps: TrustCommandDeps): void {
  program
    .command('timer')
    .description('set disappearing messages for a conversation (off, 30s, 5m, 1h, 1d or 1w)')
    .argument('<with>', 'username, account id or group')
    .argument('<duration>', Object.keys(TIMER_WORDS).join('|'))
    .action(async (who: string, duration: string) => {
      const seconds = TIMER_WORDS[duration.toLowerCase()];
      if (seconds === undefined) {
        throw deps.fail(`a timer is one of ${Object.keys(TIMER_WORDS).join(', ')}`);
      }
      await deps.withClient(async (c) => {
        const conversationId = await conversationOf(deps, c, who);
        await c.setExpireTimer(conversationId, seconds);
        deps.print(
          seconds === 0
            ? 'disappearing messages off'
            : `messages disappear ${describeTimer(seconds)} after they are read`,
          { conversationId, expireTimer: seconds },
        );
      });
    });
}
