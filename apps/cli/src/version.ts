/**
 * The CLI's version, from its package.json: one level up from both src/ (the workspace) and
 * dist/ (the installed package), so one read works in both.
 * @module
 */
import { readFileSync } from 'node:fs';

export function cliVersion(): string {
  const manifest = JSON.parse(
    readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  return manifest.version;
}
