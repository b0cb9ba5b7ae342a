/**
 * `parley timer` in-process through `main()` against the real relay: the timer reaches the other
 * side, which shows the change in words; a text sent afterwards carries it; bad durations are
 * refused before anything is sent.
 */
import { describe, expect, it } from 'vitest';
import { useInProcessCli } from './support/in-process.ts';

const { cli } = useInProcessCli('timer');

const json = (s: string) => JSON.parse(s.trim().split('\n').at(-1)!) as Record<string, unknown>;

describe('parley timer', () => {
  it('sets the timer for both sides, with --json, and messages shows it in words', async () => {
    const run = Date.now().toString(36);
    const alice = `talice_${run}`;
    const bob = `tbob_${run}`;
    expect((await cli('a', 'register', alice)).code).toBe(0);
    expect((await cli('b', 'register', bob)).code).toBe(0);
    expect((await cli('a', 'contacts', 'add', bob)).code).toBe(0);

    const bad = await cli('a', 'timer', bob, '2m');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/off, 30s, 5m, 1h, 1d, 1w/);

    const set = await cli('a', 'timer', bob, '5m', '--json');
    expect(set.code).toBe(0);
    expect(json(set.stdout)).toMatchObject({ expireTimer: 300 });
    expect((await cli('a', 'timer', bob, '1h')).stdout).toMatch(
      /messages disappear 1 hour after they are read/,
    );
    expect((await cli('a', 'send', bob, 'fleeting')).code).toBe(0);

    expect((await cli('b', 'receive')).code).toBe(0);
    const seen = (await cli('b', 'messages', alice)).stdout;
    expect(seen).toContain(`* ${alice} set the disappearing message timer to 5 minutes.`);
    expect(seen).toContain(`* ${alice} set the disappearing message timer to 1 hour.`);
    expect(seen).toMatch(/fleeting \(disappears 1 hour after reading\)/);
    const events = (await cli('b', 'messages', alice, '--json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event?: string; timer?: number });
    expect(events.filter((e) => e.event === 'timer_changed').map((e) => e.timer)).toEqual([
      300, 3600,
    ]);

    expect((await cli('b', 'requests', 'accept', alice)).code).toBe(0);
    expect((await cli('b', 'timer', alice, 'off')).stdout).toMatch(/disappearing messages off/);
    expect((await cli('a', 'receive')).code).toBe(0);
    expect((await cli('a', 'messages', bob)).stdout).toContain(
      `* ${bob} turned off disappearing messages.`,
    );
  }, 300_000);
});
