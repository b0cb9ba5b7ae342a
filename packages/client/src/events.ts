/**
 * A small typed event emitter for UIs: `client.on('message', (e) => ...)` returns an
 * unsubscribe function. Listener errors are reported to `console.error`, never thrown into
 * the client's message processing.
 * @module
 */

export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  once<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    const off = this.on(event, (p) => {
      off();
      listener(p);
    });
    return off;
  }

  /** Resolves with the first event for which `predicate` holds. */
  waitFor<K extends keyof Events>(
    event: K,
    predicate: (payload: Events[K]) => boolean = () => true,
  ): Promise<Events[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, (p) => {
        if (predicate(p)) {
          off();
          resolve(p);
        }
      });
    });
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const l of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (l as (p: Events[K]) => void)(payload);
      } catch (err) {
        console.error(`parley: a '${String(event)}' listener threw`, err);
      }
    }
  }
}
