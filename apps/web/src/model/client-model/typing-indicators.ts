/**
 * Who is typing in which conversation (`state.typing`), from the client core's typing events
 * and from other tabs'. A signal whose end we never see is forgotten after a while.
 * @module
 */
import type { StateStore } from '../store.ts';

/** Forget a "typing" signal we never saw the end of. */
const TYPING_TTL_MS = 15_000;

export class TypingIndicators {
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly store: StateStore) {}

  /** A typing event from `accountId`, in our direct conversation or in `groupId`. */
  signal(accountId: string, groupId: string | undefined, started: boolean): void {
    const id = groupId ? `group:${groupId}` : `direct:${accountId}`;
    if (started) this.set(id, accountId);
    else this.clear(id, accountId);
  }

  set(conversationId: string, accountId: string): void {
    const key = `${conversationId}|${accountId}`;
    clearTimeout(this.#timers.get(key));
    this.#timers.set(
      key,
      setTimeout(() => this.clear(conversationId, accountId), TYPING_TTL_MS),
    );
    this.store.update((s) => {
      const now = s.typing[conversationId] ?? [];
      return now.includes(accountId)
        ? {}
        : { typing: { ...s.typing, [conversationId]: [...now, accountId] } };
    });
  }

  clear(conversationId: string, accountId: string): void {
    const key = `${conversationId}|${accountId}`;
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    this.store.update((s) => {
      const now = s.typing[conversationId] ?? [];
      return now.includes(accountId)
        ? { typing: { ...s.typing, [conversationId]: now.filter((a) => a !== accountId) } }
        : {};
    });
  }

  /** Stops every timer (the model is closing). */
  close(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
  }
}
