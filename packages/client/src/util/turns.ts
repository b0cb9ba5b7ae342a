/**
 * Giving the event loop a turn during long work, so a page stays responsive (no task much over
 * `YIELD_EVERY_MS`) while a catch-up, a large listing or key generation runs.
 * @module
 */

/** Longest stretch of work without a macrotask boundary. */
export const YIELD_EVERY_MS = 30;

/** A macrotask boundary: rendering and input get a turn. */
export const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A function to call between steps: it yields once `YIELD_EVERY_MS` passed since the last. */
export function turnTaker(): () => Promise<void> {
  let turn = performance.now();
  return async () => {
    if (performance.now() - turn < YIELD_EVERY_MS) return;
    await nextTurn();
    turn = performance.now();
  };
}
