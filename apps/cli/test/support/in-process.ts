/**
 * `parley` run in-process through `main()` (the same code without a process start) against the
 * suite's real relay: one data directory per user under a temporary home, removed after the file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { useRelay } from '@parley/e2e/use-relay.js';
import { main } from '../../src/main.ts';

export function useInProcessCli(name: string) {
  const home = mkdtempSync(join(tmpdir(), `parley-cli-${name}-`));
  const { relay } = useRelay();
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });
  /** `parley --data-dir <home>/<user> --relay <relay> …args`, output captured. */
  async function cli(user: string, ...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(
      ['node', 'parley', '--data-dir', join(home, user), '--relay', relay.url, ...args],
      { out: (l) => out.push(l), err: (l) => err.push(l) },
    );
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  }
  return { cli, relay };
}
