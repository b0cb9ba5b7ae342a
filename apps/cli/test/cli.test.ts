/**
 * The `parley` binary driven as a subprocess against the real relay: a full conversation
 * between two people, a group, safety numbers, errors and exit codes. The later cases (group
 * membership, unlinking, account deletion, safety-number acceptance, `listen` until a signal,
 * `--json` shapes) run most steps in-process through `main()` — the same code without the ~2 s
 * process start — and keep a subprocess where the exit code or a signal is the point.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { useRelay } from '@parley/e2e/use-relay.js';
import { main } from '../src/main.ts';
import { openDataDir } from '../src/store.ts';

const run = promisify(execFile);
const bin = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'parley.js');
const home = mkdtempSync(join(tmpdir(), 'parley-cli-'));
const { relay } = useRelay();

afterAll(() => {
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

/** `parley` in this process: same arguments and data directory, output captured. */
async function cli(user: string, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    ['node', 'parley', '--data-dir', join(home, user), '--relay', relay.url, ...args],
    { out: (l) => out.push(l), err: (l) => err.push(l) },
  );
  return { code, stdout: out.map((l) => l + '\n').join(''), stderr: err.join('\n') };
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
    // Bob's message carried his access secret: from now on Alice writes to him sealed.
    expect((await parley('alice', 'contacts', 'show', 'bob')).stdout).toMatch(/sealed sender: on/);
    const shown = json((await parley('alice', 'contacts', 'show', 'bob', '--json')).stdout)[0];
    expect(shown).toMatchObject({ username: 'bob', sealedSender: true });
    expect((await parley('carol', 'contacts', 'add', 'bob')).code).toBe(0);
    expect((await parley('carol', 'contacts', 'list')).stdout).toMatch(/sealed sender: off/);
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
  }, 600_000); // ~20 process starts of ~2 s each (far longer on a busy machine)

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
  }, 300_000);

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

type Json = Record<string, unknown>;
const one = (s: string) => json(s)[0]!;
const idOf = async (user: string) =>
  String(one((await cli(user, '--json', 'whoami')).stdout).accountId);
const texts = (s: string) =>
  json(s)
    .map((m) => m.text)
    .filter(Boolean);

/** `parley devices link` in-process for `newUser`, approved by `primary`: the new device id. */
async function link(primary: string, newUser: string): Promise<number> {
  let gotUri!: (uri: string) => void;
  const uri = new Promise<string>((r) => (gotUri = r));
  const lines: Json[] = [];
  const linking = main(
    [
      'node',
      'parley',
      '--data-dir',
      join(home, newUser),
      '--relay',
      relay.url,
      '--json',
      'devices',
      'link',
    ],
    {
      out: (l) => {
        const v = JSON.parse(l) as Json;
        lines.push(v);
        if (typeof v.uri === 'string') gotUri(v.uri);
      },
      err: () => {},
    },
  );
  const approved = await cli(primary, 'devices', 'approve', await uri);
  expect(approved.code).toBe(0);
  expect(await linking).toBe(0);
  return Number(lines.at(-1)!.deviceId);
}

/**
 * The relay has no "re-register the same account" flow, so a reinstall is made the way it looks
 * from outside (as in test/identity.test.ts): a fresh registration's identity and device take
 * over `victim`'s account in the relay's database, and the fresh data directory is relabelled.
 */
async function reinstall(victim: string, username: string, freshUser: string) {
  const victimId = await idOf(victim);
  expect((await cli(freshUser, 'register', `${username}_fresh`)).code).toBe(0);
  const freshId = await idOf(freshUser);
  await relay.stop();
  // better-sqlite3 is a dependency of the e2e test package, not of the CLI.
  const Database = createRequire(
    resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/package.json'),
  )('better-sqlite3') as new (path: string) => {
    pragma(p: string): unknown;
    prepare(sql: string): { run(...a: unknown[]): unknown };
    transaction(fn: () => void): () => void;
    close(): void;
  };
  const db = new Database(relay.dbPath);
  try {
    db.pragma('foreign_keys = ON');
    db.transaction(() => {
      db.prepare(
        'UPDATE accounts SET identity_key = (SELECT identity_key FROM accounts WHERE account_id = ?) WHERE account_id = ?',
      ).run(freshId, victimId);
      db.prepare('DELETE FROM devices WHERE account_id = ?').run(victimId);
    })();
    db.pragma('foreign_keys = OFF');
    db.transaction(() => {
      for (const table of ['devices', 'signed_prekeys', 'one_time_prekeys']) {
        db.prepare(`UPDATE ${table} SET account_id = ? WHERE account_id = ?`).run(
          victimId,
          freshId,
        );
      }
      db.prepare('DELETE FROM accounts WHERE account_id = ?').run(freshId);
    })();
  } finally {
    db.close();
  }
  await relay.restart();
  const storage = await openDataDir(join(home, freshUser));
  try {
    await storage.transaction(async (tx) => {
      const a = (await tx.get<Json>('meta', 'account'))!;
      await tx.put('meta', 'account', { ...a, accountId: victimId, username });
    });
  } finally {
    await storage.close();
  }
}

describe('parley CLI: membership, devices, accounts, safety numbers', () => {
  it('groups add / remove: a removed member gets nothing sent afterwards; an added one does', async () => {
    for (const u of ['gal', 'gbo', 'gcy', 'gdi'])
      expect((await cli(u, 'register', u)).code).toBe(0);
    const [bo, cy, di] = [await idOf('gbo'), await idOf('gcy'), await idOf('gdi')];
    const created = await cli('gal', '--json', 'groups', 'create', 'club', 'gbo', 'gcy');
    expect(created.code).toBe(0);
    const groupId = String(one(created.stdout).groupId);
    await cli('gbo', 'receive');
    await cli('gcy', 'receive');
    expect((await cli('gal', 'groups', 'send', 'club', 'before', 'the', 'change')).code).toBe(0);
    expect(texts((await cli('gcy', '--json', 'receive')).stdout)).toEqual(['before the change']);

    const members = (r: { stdout: string }) =>
      (one(r.stdout).members as { accountId: string }[]).map((m) => m.accountId);
    const added = await cli('gal', '--json', 'groups', 'add', 'club', 'gdi');
    expect(added.code).toBe(0);
    expect(members(added)).toEqual(expect.arrayContaining([bo, cy, di]));
    expect(members(added)).toHaveLength(4);
    await cli('gdi', 'receive');
    // By id prefix, human output.
    const removed = await cli('gal', 'groups', 'remove', groupId.slice(0, 8), 'gcy');
    expect(removed).toMatchObject({ code: 0, stdout: 'club: 3 members\n' });
    const listed = one((await cli('gal', '--json', 'groups', 'list')).stdout) as unknown as Json[];
    expect(listed).toHaveLength(1);
    expect((listed[0]!.members as { accountId: string }[]).map((m) => m.accountId)).not.toContain(
      cy,
    );

    expect((await cli('gal', 'groups', 'send', 'club', 'after', 'the', 'change')).code).toBe(0);
    expect(texts((await cli('gbo', '--json', 'receive')).stdout)).toEqual([
      'before the change',
      'after the change',
    ]);
    expect((await cli('gdi', 'receive')).stdout).toMatch(/\[club\] gal: after the change/);
    // Carol learns she was removed (so her queue was read) but not what was said after.
    const carol = await cli('gcy', 'receive');
    expect(carol.stdout).toMatch(/\[club\] \* gal removed you\./);
    expect(carol.stdout).not.toMatch(/after the change/);
    expect((await cli('gcy', 'messages', 'club')).stdout).not.toMatch(/after the change/);
    expect((await cli('gcy', 'groups', 'list')).stdout).toMatch(/\tclub\t.*\(left\)/);
    const carolSends = await cli('gcy', 'groups', 'send', 'club', 'still', 'here?');
    expect(carolSends.code).not.toBe(0);
    expect(carolSends.stderr).toMatch(/not a member/);
  });

  it('devices unlink: the unlinked device no longer receives', async () => {
    expect((await cli('uno', 'register', 'uno')).code).toBe(0);
    expect((await cli('upal', 'register', 'upal')).code).toBe(0);
    const second = await link('uno', 'uno2');
    expect(second).toBe(2);
    expect((await cli('upal', 'send', 'uno', 'to', 'both')).code).toBe(0);
    expect(texts((await cli('uno2', '--json', 'receive')).stdout)).toEqual(['to both']);
    await cli('uno', 'receive');

    const unlinked = await cli('uno', '--json', 'devices', 'unlink', String(second));
    expect(unlinked.code).toBe(0);
    expect(one(unlinked.stdout)).toEqual({ removed: second });
    const list = one((await cli('uno', '--json', 'devices', 'list')).stdout) as unknown as Json[];
    expect(list.map((d) => d.deviceId)).toEqual([1]);

    expect((await cli('upal', 'send', 'uno', 'only', 'the', 'primary')).code).toBe(0);
    expect(texts((await cli('uno', '--json', 'receive')).stdout)).toEqual(['only the primary']);
    // The unlinked device is told so (non-zero) instead of waiting for a login that is refused.
    const gone = await parley('uno2', 'receive');
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/^parley: this device is no longer part of its account/m);
    expect(gone.stdout).not.toMatch(/only the primary/);

    // A device unlinked while it listens is told, and `listen` stops with a non-zero code.
    const third = await link('uno', 'uno3');
    const out: string[] = [];
    const err: string[] = [];
    const listening = main(
      ['node', 'parley', '--data-dir', join(home, 'uno3'), '--json', 'listen'],
      { out: (l) => out.push(l), err: (l) => err.push(l) },
    );
    expect((await cli('upal', 'send', 'uno', 'are', 'you', 'there')).code).toBe(0);
    // Waits for the message (the limit only bounds a hang).
    const deadline = Date.now() + 120_000;
    while (!texts(out.join('\n')).length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(texts(out.join('\n'))).toEqual(['are you there']);
    expect((await cli('uno', 'devices', 'unlink', String(third))).code).toBe(0);
    expect(await listening).not.toBe(0);
    expect(err.join('\n')).toMatch(/^parley: this device was removed/m);
  });

  it('delete-account --yes: the account is gone and its username is free again', async () => {
    expect((await cli('dora', 'register', 'dora')).code).toBe(0);
    expect((await cli('dan', 'register', 'dan')).code).toBe(0);
    expect((await cli('dan', 'send', 'dora', 'hi')).code).toBe(0);
    const deleted = await cli('dora', '--json', 'delete-account', '--yes');
    expect(deleted.code).toBe(0);
    expect(one(deleted.stdout)).toEqual({ deleted: true });
    // Local data is gone too.
    const who = await cli('dora', 'whoami');
    expect(who.code).not.toBe(0);
    expect(who.stderr).toMatch(/no account in this data directory/);
    // A contact who knew the account can no longer send to it.
    const toGone = await parley('dan', 'send', 'dora', 'anyone', 'there?');
    expect(toGone.code).not.toBe(0);
    expect(toGone.stderr).toMatch(/^parley: dora deleted their account/m);
    expect((await cli('gal', 'contacts', 'add', 'dora')).stderr).toMatch(
      /no account has this username/,
    );
    // The username can be registered again, as a different account.
    const again = await cli('dora2', '--json', 'register', 'dora');
    expect(again.code).toBe(0);
    expect(one(again.stdout)).toMatchObject({ username: 'dora', deviceId: 1 });
  });

  it('safety-number: both sides print the same digits; --accept after an identity change', async () => {
    expect((await cli('sal', 'register', 'sal')).code).toBe(0);
    expect((await cli('sbo', 'register', 'sbo')).code).toBe(0);
    expect((await cli('sal', 'send', 'sbo', 'before')).code).toBe(0);
    expect(texts((await cli('sbo', '--json', 'receive')).stdout)).toEqual(['before']);
    const human = (await cli('sal', 'safety-number', 'sbo')).stdout;
    expect(human.trimEnd().split(' ')).toEqual(Array(12).fill(expect.stringMatching(/^\d{5}$/)));
    expect((await cli('sbo', 'safety-number', 'sal')).stdout).toBe(human);
    const before = one((await cli('sal', '--json', 'safety-number', 'sbo')).stdout);
    expect(before).toMatchObject({ digits: human.replace(/\D/g, ''), changed: false });
    expect(before.scannable).toMatch(/^[A-Za-z0-9+/]+=*$/);

    await reinstall('sbo', 'sbo', 'sbo-new');
    const blocked = await cli('sal', 'send', 'sbo', 'after', 'reinstall');
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toMatch(/safety number changed.*parley safety-number sbo --accept/);
    const changed = await cli('sal', 'safety-number', 'sbo');
    expect(changed.stdout).toMatch(/\(changed — run with --accept/);
    expect(one((await cli('sal', '--json', 'contacts', 'list')).stdout)).toEqual([
      expect.objectContaining({ username: 'sbo', identityChanged: true }),
    ]);
    // Still blocked until accepted.
    expect((await cli('sal', 'send', 'sbo', 'again')).code).not.toBe(0);

    const accepted = one((await cli('sal', '--json', 'safety-number', 'sbo', '--accept')).stdout);
    expect(accepted.changed).toBe(false);
    expect(accepted.digits).toMatch(/^\d{60}$/);
    expect(accepted.digits).not.toBe(before.digits);
    // The new installation computes the same new number, and receives again.
    expect(one((await cli('sbo-new', '--json', 'safety-number', 'sal')).stdout).digits).toBe(
      accepted.digits,
    );
    expect((await cli('sal', 'send', 'sbo', 'after', 'accepting')).code).toBe(0);
    expect(texts((await cli('sbo-new', '--json', 'receive')).stdout)).toContain('after accepting');
  });

  it('listen without --count runs until SIGTERM, printing what arrived', async () => {
    expect((await cli('lia', 'register', 'lia')).code).toBe(0);
    expect((await cli('lbo', 'register', 'lbo')).code).toBe(0);
    const listen = spawn(process.execPath, [bin, '--json', 'listen'], {
      env: { ...process.env, PARLEY_DATA_DIR: join(home, 'lia'), PARLEY_RELAY_URL: relay.url },
    });
    let out = '';
    let err = '';
    listen.stdout.on('data', (c: Buffer) => (out += c.toString()));
    listen.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((res) =>
      listen.once('exit', (code, signal) => res({ code, signal })),
    );
    const until = async (p: () => boolean) => {
      const deadline = Date.now() + 120_000;
      while (!p() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(p(), `stdout: ${out}\nstderr: ${err}`).toBe(true);
    };
    expect((await cli('lbo', 'send', 'lia', 'one')).code).toBe(0);
    await until(() => texts(out).length === 1);
    // Still listening: a later message arrives on the same run.
    expect((await cli('lbo', 'send', 'lia', 'two')).code).toBe(0);
    await until(() => texts(out).length === 2);
    expect(listen.exitCode).toBeNull();
    listen.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(texts(out)).toEqual(['one', 'two']);
    expect(json(out).map((m) => m.direction)).toEqual(['in', 'in']);
  });

  it('--json output shapes', async () => {
    expect((await cli('jay', 'register', 'jay')).code).toBe(0);
    const who = one((await cli('jay', '--json', 'whoami')).stdout);
    expect(who).toEqual({
      accountId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      deviceId: 1,
      username: 'jay',
      identityKey: expect.stringMatching(/^[A-Za-z0-9+/]{40,}=*$/),
    });
    const added = one((await cli('jay', '--json', 'contacts', 'add', 'gbo')).stdout);
    expect(added).toMatchObject({ accountId: await idOf('gbo'), username: 'gbo' });
    expect(one((await cli('jay', '--json', 'contacts', 'list')).stdout)).toEqual([
      {
        accountId: added.accountId,
        username: 'gbo',
        identityChanged: false,
        deleted: false,
        sealedSender: false,
      },
    ]);
    const sent = one((await cli('jay', '--json', 'send', 'gbo', 'shape')).stdout);
    expect(sent).toEqual({ id: expect.any(String), status: 'sent', timestamp: expect.any(Number) });
    const got = json((await cli('gbo', '--json', 'receive')).stdout).find(
      (m) => m.text === 'shape',
    );
    expect(got).toMatchObject({
      id: sent.id,
      kind: 'text',
      direction: 'in',
      senderAccountId: who.accountId,
      conversationId: `direct:${String(who.accountId)}`,
    });
    const history = json((await cli('jay', '--json', 'messages', 'gbo')).stdout);
    expect(history).toEqual([
      expect.objectContaining({ id: sent.id, direction: 'out', text: 'shape' }),
    ]);
    const devices = one(
      (await cli('jay', '--json', 'devices', 'list')).stdout,
    ) as unknown as Json[];
    expect(devices).toEqual([
      expect.objectContaining({ deviceId: 1, createdAt: expect.any(Number) }),
    ]);
    expect(one((await cli('jay', '--json', 'groups', 'list')).stdout)).toEqual([]);
  });

  it('bad input: clear errors and non-zero exit codes', async () => {
    const unknownContact = await parley('gal', 'send', 'nosuchuser', 'hi');
    expect(unknownContact.code).not.toBe(0);
    expect(unknownContact.stderr).toMatch(/^parley: .*no account has this username/m);
    expect(unknownContact.stdout).toBe('');
    const cases: [string[], RegExp][] = [
      [['send'], /missing required argument 'to'/],
      [['send', 'gbo'], /missing required argument 'text'/],
      [['groups', 'add', 'club'], /missing required argument 'members'/],
      [['contacts', 'add'], /missing required argument 'username'/],
      [['groups', 'send', 'nosuchgroup', 'hi'], /no group "nosuchgroup"/],
      [['groups', 'remove', 'nosuchgroup', 'gbo'], /no group "nosuchgroup"/],
      [['safety-number', 'nosuchuser'], /no account has this username/],
      [['register', 'someone-else'], /already registered as gal/],
      [['devices', 'unlink', '7'], /no such device/],
      [['devices', 'unlink', 'two'], /not a device id: "two"/],
      [['listen', '--count', 'lots'], /not a count: "lots"/],
      [['receive', '--timeout', 'soon'], /not a number of seconds: "soon"/],
    ];
    for (const [args, message] of cases) {
      const r = await cli('gal', ...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    // Nothing above changed the account.
    expect((await cli('gal', 'devices', 'list')).stdout).toMatch(/^1 \(this device\)/);
  });
});
