/**
 * Disappearing messages (issue 16): a timer per conversation (`timer.ts`: values, applying and
 * showing changes), countdowns and their removal (`countdown.ts`), and the sweeper that runs
 * them on time (`sweeper.ts`). Setting a timer sends a message, so it lives a layer up
 * (`expire-timer.ts`).
 * @module
 */
export { EXPIRE_TIMERS, describeTimer, isExpireTimer, type ExpireTimer } from './timer.ts';
export { Sweeper } from './sweeper.ts';
