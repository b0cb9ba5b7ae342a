import type { ModelState } from '../model/types.ts';

/** A person's display name: their username, or a short form of the id while unknown. */
export function displayName(state: Pick<ModelState, 'contacts' | 'me'>, accountId: string): string {
  if (state.me?.accountId === accountId) return 'You';
  return state.contacts[accountId]?.username ?? `${accountId.slice(0, 8)}…`;
}

/** One or two letters for an avatar. */
export function initials(name: string): string {
  const parts = name
    .replace(/[^A-Za-z0-9 ._]/g, '')
    .split(/[ ._]+/)
    .filter(Boolean);
  const first = parts[0]?.[0] ?? '?';
  const second = parts.length > 1 ? (parts[1]?.[0] ?? '') : '';
  return (first + second).toUpperCase();
}

/** A stable avatar color index (0–7) from a string. */
export function colorIndex(seed: string): number {
  let h = 0;
  for (let i = 0; i < seed.length; i++) h = (h * 31 + seed.charCodeAt(i)) | 0;
  return Math.abs(h) % 8;
}
