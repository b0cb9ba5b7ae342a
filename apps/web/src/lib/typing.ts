/**
 * When to tell the others that we are typing: "started" at most once per `repeatMs` while keys
 * keep coming, "stopped" after `idleMs` without a key or right away on send / clear.
 * @module
 */
export class TypingSignal {
  #active = false;
  #lastStart = -Infinity;
  #idle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly send: (typing: boolean) => void,
    private readonly opts = { repeatMs: 3000, idleMs: 5000 },
    private readonly now: () => number = Date.now,
  ) {}

  /** The text in the composer changed. */
  input(text: string): void {
    if (text.trim() === '') return this.stop();
    const t = this.now();
    if (!this.#active || t - this.#lastStart >= this.opts.repeatMs) {
      this.#active = true;
      this.#lastStart = t;
      this.send(true);
    }
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.stop(), this.opts.idleMs);
  }

  stop(): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
    if (this.#active) {
      this.#active = false;
      this.send(false);
    }
  }
}
