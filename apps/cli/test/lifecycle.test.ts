/**
 * The CLI and the account lifecycle (issue 12): a deleted contact shows "account deleted" and
 * a send to it fails clearly for good; device names are decrypted (never the relay's
 * ciphertext) with the day each device was last active; `--json` shapes for both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useRelay } from '@parley/e2e/use-relay.js';
import { main } from '../src/main.ts';

const home = mkdtempSync(join(tmpdir(), 'parley-cli-lc-'));
const { relay } = useRelay();
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function cli(user: string, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    ['node', 'parley', '--data-dir', join(home, user), '--relay', relay.url, ...args],
    { out: (l) => out.push(l), err: (l) => err.push(l) },
  );
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
const one = (s: string) => JSON.parse(s.trim().split('\n')[0]!) as unknown;

describe('parley and the account lifecycle', () => {
  it('shows a deleted contact and refuses to send to it, clearly', async () => {
    expect((await cli('a', 'register', 'lcli_alice')).code).toBe(0);
    expect((await cli('c', 'register', 'lcli_carol')).code).toBe(0);
    expect((await cli('a', 'send', 'lcli_carol', 'hello')).code).toBe(0);
    expect((await cli('c', 'delete-account', '--yes')).code).toBe(0);

    for (let i = 0; i < 2; i++) {
      const sent = await cli('a', 'send', 'lcli_carol', 'still there?');
      expect(sent.code).toBe(1);
      expect(sent.stderr).toMatch(/lcli_carol deleted their account/);
    }
    const list = one((await cli('a', '--json', 'contacts', 'list')).stdout) as Record<
      string,
      unknown
    >[];
    expect(list).toEqual([
      expect.objectContaining({ deleted: true, formerUsername: 'lcli_carol' }),
    ]);
    expect((await cli('a', 'contacts', 'list')).stdout).toMatch(
      /^lcli_carol\t[0-9a-f-]{36}\tsealed sender: (on|off)\t\(account deleted\)$/,
    );
    const history = (await cli('a', 'messages', 'lcli_carol')).stdout;
    expect(history).toMatch(/\* lcli_carol deleted their account\./);
    expect(history).toMatch(/still there\?/);
  });

  it('a newcomer with a deleted contact’s username is flagged, next to the safety number', async () => {
    expect((await cli('h', 'register', 'lcli_hana')).code).toBe(0);
    expect((await cli('e', 'register', 'lcli_erin')).code).toBe(0);
    expect((await cli('e', 'send', 'lcli_hana', 'hi hana')).code).toBe(0);
    expect((await cli('h', 'receive')).stdout).toMatch(/hi hana/);
    expect((await cli('e', 'delete-account', '--yes')).code).toBe(0);
    expect((await cli('m', 'register', 'lcli_erin')).code).toBe(0);
    expect((await cli('m', 'send', 'lcli_hana', 'it is erin, new phone')).code).toBe(0);
    expect((await cli('h', 'receive')).stdout).toMatch(/it is erin, new phone/);

    const contacts = (await cli('h', 'contacts', 'list')).stdout.split('\n');
    expect(contacts).toContainEqual(expect.stringMatching(/^lcli_erin\t.*\t\(account deleted\)$/));
    expect(contacts).toContainEqual(
      expect.stringMatching(/^lcli_erin\t.*\t\(not the lcli_erin you talked to before/),
    );
    const safety = await cli('h', 'safety-number', 'lcli_erin');
    expect(safety.stdout).toMatch(/not the lcli_erin you talked to before/);
    const shape = one((await cli('h', '--json', 'safety-number', 'lcli_erin')).stdout);
    expect(shape).toMatchObject({ usernameReusedFrom: expect.any(String) });
  });

  it('lists devices with decrypted names and the day they were last active', async () => {
    expect((await cli('d', 'register', 'lcli_dave', '--name', 'work laptop')).code).toBe(0);
    const devices = one((await cli('d', '--json', 'devices', 'list')).stdout);
    expect(devices).toEqual([
      {
        deviceId: 1,
        name: 'work laptop',
        current: true,
        createdAt: expect.any(Number),
        lastActiveDay: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      },
    ]);
    expect((await cli('d', 'devices', 'list')).stdout).toMatch(
      /^1 \(this device\)\twork laptop\tcreated .*\tlast active \d{4}-\d{2}-\d{2}$/,
    );
  });
});
