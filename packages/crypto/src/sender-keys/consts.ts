/**
 * The limits of Sender Keys, as libsignal's `rust/protocol/src/consts.rs` sets them. Each
 * limit has its own error when exceeded; none may be raised without breaking interop
 * assumptions (a libsignal peer never needs more).
 * @module
 */

/** The only sender-key message version there is: SKMs and SKDMs start with `0x33`. */
export const SENDERKEY_MESSAGE_VERSION = 3;

/**
 * How far ahead of the chain a message may be (`TooFarIntoFuture` beyond). Bounds the HMAC
 * work one forged-but-signed message can cost a receiver.
 */
export const MAX_FORWARD_JUMPS = 25_000;

/** Skipped message keys kept per state for late messages; the oldest are evicted first. */
export const MAX_MESSAGE_KEYS = 2_000;

/** Sender-key states kept per (sender, distribution id), newest first; the oldest is dropped. */
export const MAX_SENDER_KEY_STATES = 5;

/** Iterations are u32 on the wire; the chain ends at the last one. */
export const MAX_ITERATION = 0xffff_ffff;
