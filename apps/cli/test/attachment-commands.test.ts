/**
 * `parley send-file` and saving received files, in-process through `main()` against the real
 * relay (its tus attachment routes); plus the file-name rules for saving.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { safeFileName, saveNew } from '../src/attachment-commands.ts';
import { useInProcessCli } from './support/in-process.ts';

const { cli } = useInProcessCli('files');

const lines = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('saving received files', () => {
  it('keeps only a safe last path segment', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('..\\..\\boot.ini')).toBe('boot.ini');
    expect(safeFileName('..')).toBe('file');
    expect(safeFileName('.')).toBe('file');
    expect(safeFileName('.bashrc')).toBe('bashrc');
    expect(safeFileName('a\u0000b\nc.txt')).toBe('abc.txt');
    expect(safeFileName('')).toBe('file');
  });

  it('never overwrites an existing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-save-'));
    writeFileSync(join(dir, 'note.txt'), 'mine');
    const first = await saveNew(dir, 'note.txt', new TextEncoder().encode('one'));
    const second = await saveNew(dir, '../note.txt', new TextEncoder().encode('two'));
    expect(first).toBe(join(dir, 'note (1).txt'));
    expect(second).toBe(join(dir, 'note (2).txt'));
    expect(readFileSync(join(dir, 'note.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(second, 'utf8')).toBe('two');
  });
});

describe('parley send-file', () => {
  it('sends a file; the recipient’s receive saves identical bytes to --attachments-dir', async () => {
    const run = Date.now().toString(36);
    const alice = `falice_${run}`;
    const bob = `fbob_${run}`;
    expect((await cli('a', 'register', alice)).code).toBe(0);
    expect((await cli('b', 'register', bob)).code).toBe(0);
    const work = mkdtempSync(join(tmpdir(), 'parley-files-'));
    const bytes = new Uint8Array(300_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 1) & 0xff;
    const path = join(work, 'report.bin');
    writeFileSync(path, bytes);

    const sent = await cli('a', 'send-file', bob, path, '--caption', 'the numbers', '--json');
    expect(sent.code).toBe(0);
    const [out] = lines(sent.stdout);
    expect(out).toMatchObject({ status: 'sent' });
    expect(out!.attachments).toEqual([
      expect.objectContaining({ fileName: 'report.bin', size: 300_000, upload: 'uploaded' }),
    ]);
    // No key material is printed.
    expect(sent.stdout).not.toMatch(/"key"|"digest"/);

    const into = join(work, 'inbox');
    const got = await cli('b', '--attachments-dir', into, 'receive', '--json');
    expect(got.code).toBe(0);
    expect(got.stdout).not.toMatch(/"key"|"digest"/);
    const saved = lines(got.stdout).find((l) => typeof l.saved === 'string');
    expect(saved?.saved).toBe(join(into, 'report.bin'));
    expect(Buffer.from(readFileSync(join(into, 'report.bin'))).equals(Buffer.from(bytes))).toBe(
      true,
    );
    const shown = await cli('b', 'messages', alice);
    expect(shown.stdout).toMatch(/the numbers \[file report\.bin, 293\.0 KB\]/);

    // A second copy of the same name is saved beside it, not over it.
    expect((await cli('a', 'send-file', bob, path)).code).toBe(0);
    expect((await cli('b', '--attachments-dir', into, 'receive')).code).toBe(0);
    expect(readdirSync(into).sort()).toEqual(['report (1).bin', 'report.bin']);
  }, 300_000);

  it('refuses a file it cannot read', async () => {
    const run = Date.now().toString(36);
    expect((await cli('c', 'register', `fcarol_${run}`)).code).toBe(0);
    const r = await cli('c', 'send-file', `fcarol_${run}`, '/nonexistent/file');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot read/);
  });
});
