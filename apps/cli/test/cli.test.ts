/**
 * The `parley` binary driven as a subprocess against the real relay: a full conversation
 * between two people, a group, safety numbers, errors and exit codes.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '@parley/e2e/relay.js';

const run = promisify(execFile);
const bin = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'parley.js');
const home = mkdtempSync(join(tmpdir(), 'parley-cli-'));
let relay: RelayProcess;

beforeAll(async () => {
  relay = await startRelay();
});

afterAll(async () => {
  await relay?.dispose();
  rmSync(home, { recursive: true, force: true });
});

async function parley(user: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: {
        ...process.env,
        PARLEY_DATA_DIR: join(home, user),
        PARLEY_RELAY_URL: relay.url,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const json = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('parley CLI', () => {
  it('runs a full conversation', async () => {
    const reg = await parley('alice', 'register', 'alice', '--json');
    expect(reg.code).toBe(0);
    const alice = json(reg.stdout)[0]!;
    expect(alice).toMatchObject({ username: 'alice', deviceId: 1 });
    expect((await parley('bob', 'register', 'bob')).stdout).toMatch(/^registered bob/);
    expect((await parley('carol', 'register', 'carol')).code).toBe(0);

    const who = await parley('alice', 'whoami');
    expect(who.stdout).toContain(`alice (account ${String(alice.accountId)}, device 1)`);

    expect((await parley('alice', 'contacts', 'add', 'bob')).stdout).toMatch(/^added bob/);
    expect((await parley('alice', 'contacts', 'list')).stdout).toMatch(/^bob\t/);

    const sent = await parley('alice', 'send', 'bob', 'hello', 'from', 'the', 'terminal');
    expect(sent.code).toBe(0);
    const received = await parley('bob', 'receive', '--json');
    expect(received.code).toBe(0);
    expect(json(received.stdout).map((m) => m.text)).toEqual(['hello from the terminal']);

    expect((await parley('bob', 'send', 'alice', 'hi', 'alice')).code).toBe(0);
    const aliceGot = await parley('alice', 'receive');
    expect(aliceGot.stdout).toMatch(/bob: hi alice/);
    const history = await parley('alice', 'messages', 'bob');
    expect(history.stdout).toMatch(/me → bob: hello from the terminal[\s\S]*bob: hi alice/);

    // Safety numbers agree.
    const snA = json((await parley('alice', 'safety-number', 'bob', '--json')).stdout)[0]!;
    const snB = json((await parley('bob', 'safety-number', 'alice', '--json')).stdout)[0]!;
    expect(snA.digits).toMatch(/^[0-9]{60}$/);
    expect(snA.digits).toBe(snB.digits);

    // A group of three; `listen --count` prints as messages arrive and exits.
    const created = await parley('alice', 'groups', 'create', 'trio', 'bob', 'carol', '--json');
    expect(created.code).toBe(0);
    const groupId = String(json(created.stdout)[0]!.groupId);
    await parley('bob', 'receive');
    await parley('carol', 'receive');
    expect((await parley('alice', 'groups', 'send', 'trio', 'hello', 'trio')).code).toBe(0);
    const carolListen = await parley('carol', 'listen', '--count', '1', '--timeout', '60');
    expect(carolListen.stdout).toMatch(/\[trio\] alice: hello trio/);
    const bobGroups = await parley('bob', 'groups', 'list');
    expect(bobGroups.stdout).toContain(`${groupId}\ttrio\t3 members`);

    const devices = await parley('alice', 'devices', 'list');
    expect(devices.stdout).toMatch(/^1 \(this device\)/);
  }, 240_000); // ~20 process starts of ~2 s each

  it('links a second device with devices link / approve', async () => {
    expect((await parley('erin', 'register', 'erin')).code).toBe(0);
    expect((await parley('frank', 'register', 'frank')).code).toBe(0);
    // The new device prints a URI and waits for the approval.
    const link = spawn(
      process.execPath,
      [bin, 'devices', 'link', '--name', 'erins-laptop', '--json'],
      {
        env: { ...process.env, PARLEY_DATA_DIR: join(home, 'erin2'), PARLEY_RELAY_URL: relay.url },
      },
    );
    let out = '';
    const uri = await new Promise<string>((res, rej) => {
      link.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const first = out.split('\n')[0];
        if (out.includes('\n')) res(String((JSON.parse(first!) as { uri: string }).uri));
      });
      link.once('exit', () => rej(new Error(`link exited early: ${out}`)));
    });
    expect(uri).toMatch(/^parley:\/\/link\?/);
    const exited = new Promise<number>((res) => link.once('exit', (code) => res(code ?? -1)));
    expect((await parley('erin', 'devices', 'approve', uri)).code).toBe(0);
    expect(await exited).toBe(0);
    expect(out).toMatch(/"deviceId":2/);

    // Frank writes to Erin; both of Erin's devices receive it.
    expect((await parley('frank', 'send', 'erin', 'hi both of you')).code).toBe(0);
    expect((await parley('erin', 'receive')).stdout).toMatch(/hi both of you/);
    expect((await parley('erin2', 'receive')).stdout).toMatch(/hi both of you/);
    expect((await parley('erin2', 'devices', 'list')).stdout).toMatch(
      /2 \(this device\)\terins-laptop/,
    );
  }, 120_000);

  it('fails clearly with a non-zero exit code', async () => {
    const noAccount = await parley('nobody', 'whoami');
    expect(noAccount.code).not.toBe(0);
    expect(noAccount.stderr).toMatch(/no account in this data directory/);
    const unknown = await parley('nobody', 'frobnicate');
    expect(unknown.code).not.toBe(0);
    const noConfirm = await parley('nobody', 'delete-account');
    expect(noConfirm.stderr).toMatch(/--yes/);
  });
});
