/**
 * Coalesces calls made in the same event-loop turn into one batch: `add` queues a request and
 * resolves with its own result once the batch ran. Used by the PostgreSQL store to turn many
 * sockets' page reads and ack deletes into one statement each (fewer round trips per message).
 * A failing batch fails every caller in it; a caller is never answered before its batch ran.
 * @module
 */
export class TurnBatcher<Q, A> {
  readonly #run: (requests: readonly Q[]) => Promise<A[]>;
  readonly #max: number;
  #pending: { request: Q; resolve: (a: A) => void; reject: (e: unknown) => void }[] = [];

  /** `run` answers the requests in order; at most `max` requests go into one batch. */
  constructor(run: (requests: readonly Q[]) => Promise<A[]>, max: number) {
    this.#run = run;
    this.#max = max;
  }

  add(request: Q): Promise<A> {
    return new Promise<A>((resolve, reject) => {
      this.#pending.push({ request, resolve, reject });
      // setImmediate: after the I/O callbacks of this turn, so every socket's frame that
      // arrived together joins the batch.
      if (this.#pending.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (let i = 0; i < pending.length; i += this.#max) {
      const batch = pending.slice(i, i + this.#max);
      this.#run(batch.map((p) => p.request)).then(
        (answers) => {
          batch.forEach((p, j) => p.resolve(answers[j] as A));
        },
        (err: unknown) => {
          for (const p of batch) p.reject(err);
        },
      );
    }
  }
}
