/**
 * Finding people by username: the relay's directory, through the client core, which keeps
 * whoever it finds as a contact. "No one is called …" when the name is free.
 * @module
 */
import { RelayHttpError } from '@parley/client';
import type { ActiveClient } from './active-client.ts';
import { friendly } from './errors.ts';

/** The contact with `username`, looked up on the relay. */
export async function lookUp(active: ActiveClient, username: string) {
  try {
    return await active.require().addContact(username);
  } catch (err) {
    if (err instanceof RelayHttpError && err.status === 404) {
      throw new Error(`No one is called “${username}”.`);
    }
    throw new Error(friendly(err));
  }
}

/** The account ids of `usernames`, in order (rejects at the first unknown one). */
export async function accountIdsOf(active: ActiveClient, usernames: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const u of usernames) ids.push((await lookUp(active, u)).accountId);
  return ids;
}
