/**
 * The snapshot holder both models build on: `update` replaces the state with a new object and
 * notifies subscribers, so React re-renders exactly when something changed.
 * @module
 */
import { emptyState, type ConversationSummary, type Message, type ModelState } from './types.ts';

export class StateStore {
  #state: ModelState = emptyState();
  readonly #listeners = new Set<() => void>();

  readonly getState = (): ModelState => this.#state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  update(patch: Partial<ModelState> | ((s: ModelState) => Partial<ModelState>)): void {
    const change = typeof patch === 'function' ? patch(this.#state) : patch;
    this.#state = { ...this.#state, ...change };
    for (const l of [...this.#listeners]) l();
  }
}

/** Most recent conversation first; ties broken by id so the order is stable. */
export function sortConversations(list: ConversationSummary[]): ConversationSummary[] {
  return [...list].sort((a, b) => b.lastMessageAt - a.lastMessageAt || a.id.localeCompare(b.id));
}

/** Inserts or replaces a message (by id), keeping chronological order. */
export function upsertMessage(list: readonly Message[], message: Message): Message[] {
  const rest = list.filter((m) => m.id !== message.id);
  let i = rest.length;
  while (i > 0 && (rest[i - 1]?.timestamp ?? 0) > message.timestamp) i--;
  return [...rest.slice(0, i), message, ...rest.slice(i)];
}
