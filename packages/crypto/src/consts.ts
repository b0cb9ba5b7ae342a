/**
 * The limits and versions of 1:1 sessions, with libsignal's values (`rust/protocol/src/consts.rs`
 * and `protocol.rs`, unchanged from v0.72 to today). Each limit bounds memory or work that a
 * peer — or someone who can only inject bytes — could otherwise make us spend.
 * @module
 */

/** Message version of X3DH sessions (no Kyber). libsignal ≥ 0.75 no longer starts them. */
export const PRE_KYBER_MESSAGE_VERSION = 3;

/** Message version of PQXDH sessions (X25519 + Kyber1024). */
export const KYBER_AWARE_MESSAGE_VERSION = 4;

/** The low nibble libsignal ORs into every 1:1 version byte (0x34, 0x44). */
export const CIPHERTEXT_MESSAGE_CURRENT_VERSION = 4;

/**
 * How far ahead of a receiving chain a counter may be (`TooFarIntoFuture` beyond). Each step is
 * an HMAC and a stored key, so this bounds the work one message can cost.
 */
export const MAX_FORWARD_JUMPS = 25_000;

/**
 * Skipped message keys kept per receiving chain for late messages; the oldest are evicted, so
 * a message delayed by more than this many later ones on its chain can no longer be read.
 */
export const MAX_MESSAGE_KEYS = 2_000;

/**
 * Receiving chains kept per session (one per peer ratchet key). Old chains only serve late
 * messages from before the peer's last ratchet steps; keeping them all would grow forever.
 */
export const MAX_RECEIVER_CHAINS = 5;

/**
 * Previous session states kept per record and tried on decrypt. They exist for simultaneous
 * initiation and re-established sessions, where the peer may still send on an older session.
 */
export const ARCHIVED_STATES_MAX_LENGTH = 40;

/**
 * How long an initiator keeps sending PreKey messages on a session the peer never answered
 * (30 days, in milliseconds). After that the session is unusable for sending: the bundle's
 * one-time keys are probably gone and the peer may have rotated its signed prekey, so the
 * application should fetch a fresh bundle instead of sending into a session nobody holds.
 */
export const MAX_UNACKNOWLEDGED_SESSION_AGE_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Server certificate key ids that sender certificates must never be accepted from
 * (`RevokedCertificate`), as libsignal's `REVOKED_SERVER_CERTIFICATE_KEY_IDS` in
 * `sealed_sender.rs`. 0xDEADC357 is libsignal's test id for the revocation path; no production
 * id has been revoked. Applications add their own through the `revokedServerKeyIds` option.
 */
export const REVOKED_SERVER_CERTIFICATE_KEY_IDS: readonly number[] = Object.freeze([0xdeadc357]);

/**
 * Recipients (service ids, counting excluded ones) one sealed sender v2 multi-recipient message
 * may carry, on sending and when the relay splits one. Each costs the sender two X25519
 * agreements and the parser a map entry; libsignal caps its preallocation at the same number
 * and leaves the real limit to callers. A Signal group has at most 1,000 members.
 */
export const MAX_SEALED_SENDER_V2_RECIPIENTS = 6_000;
