/**
 * Input checks that mirror the relay's rules, so the user hears about a problem before a round
 * trip. The relay checks again.
 * @module
 */

/** Same alphabet and length as `@parley/protocol`'s `Username`. */
const USERNAME = /^[A-Za-z0-9_.]{3,32}$/;

/** Returns a message for the user, or `undefined` when the username is fine. */
export function usernameProblem(raw: string): string | undefined {
  const name = raw.trim();
  if (name === '') return 'Choose a username.';
  if (name.length < 3) return 'At least 3 characters.';
  if (name.length > 32) return 'At most 32 characters.';
  if (!USERNAME.test(name)) return 'Only letters a–z, digits, "_" and ".".';
  return undefined;
}

/** Splits "alice, bob carol" into usernames. */
export function parseUsernames(raw: string): string[] {
  return [
    ...new Set(
      raw
        .split(/[\s,;]+/)
        .map((s) => s.trim().replace(/^@/, ''))
        .filter((s) => s !== ''),
    ),
  ];
}

/** Whether the text looks like a device-link code (a `parley://link?...` URI). */
export function looksLikeLinkUri(raw: string): boolean {
  return /^parley:\/\/link\?\S+$/.test(raw.trim());
}

export const MAX_MESSAGE_LENGTH = 4000;
