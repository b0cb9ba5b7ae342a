/**
 * Everything known about the sessions with one remote device (libsignal `SessionRecord`): the
 * current session state, used to send, and up to ARCHIVED_STATES_MAX_LENGTH previous states,
 * newest first, still tried on decrypt (simultaneous initiation, re-established sessions).
 *
 *   promote(new):      current → front of the archive (its unacknowledged PreKey data cleared),
 *                      the oldest beyond 40 dropped, new becomes current.
 *   promoteArchived(i): archived state i becomes current, the current one is archived.
 *
 * Serialised as libsignal's storage.proto `RecordStructure { 1: SessionStructure current,
 * repeated bytes previous = 2 }`, so a record loads in libsignal and back. The format versions
 * itself the protobuf way — each state carries its `session_version`, new fields get new
 * numbers and unknown ones are skipped — and a committed golden fixture pins the bytes.
 * @module
 */
import { forgetPrivateKeys } from '../_backend.ts';
import { abytes } from '../_bytes.ts';
import { ProtoFields, ProtoWriter } from '../_protobuf.ts';
import { ARCHIVED_STATES_MAX_LENGTH, MAX_UNACKNOWLEDGED_SESSION_AGE_MS } from '../consts.ts';
import { ProtocolError } from '../errors.ts';
import { SessionState } from './session-state.ts';

const inspect = Symbol.for('nodejs.util.inspect.custom');

export class SessionRecord {
  #current: SessionState | undefined;
  #previous: SessionState[];

  constructor(current?: SessionState, previous: readonly SessionState[] = []) {
    this.#current = current;
    this.#previous = [...previous];
  }

  get currentState(): SessionState | undefined {
    return this.#current;
  }

  /** Archived states, newest first. */
  get previousStates(): readonly SessionState[] {
    return this.#previous;
  }

  /** True when the current state can send (has a sender chain and is not stale). */
  hasUsableSenderChain(now: number): boolean {
    const s = this.#current;
    if (!s?.senderChain) return false;
    if (s.pendingPreKey) {
      return s.pendingPreKey.timestamp * 1000 + MAX_UNACKNOWLEDGED_SESSION_AGE_MS >= now;
    }
    return true;
  }

  /** Makes `state` current, archiving the old current state. */
  promoteState(state: SessionState): void {
    this.archiveCurrentState();
    this.#current = state;
  }

  /** Replaces archived state `index` by `updated` and makes it current. */
  promoteArchivedState(index: number, updated: SessionState): void {
    this.#previous.splice(index, 1);
    this.promoteState(updated);
  }

  /** Replaces the current state (after it decrypted or encrypted). */
  setCurrentState(state: SessionState): void {
    this.#current = state;
  }

  /**
   * If a state with this version and initiator base key exists, makes it current and returns
   * true: a repeated PreKey message belongs to a session we already have.
   */
  promoteMatchingSession(version: number, aliceBaseKey: Uint8Array): boolean {
    const matches = (s: SessionState) =>
      s.sessionVersion === version &&
      s.aliceBaseKey.length === aliceBaseKey.length &&
      s.aliceBaseKey.every((b, i) => b === aliceBaseKey[i]);
    if (this.#current && matches(this.#current)) return true;
    const i = this.#previous.findIndex(matches);
    if (i < 0) return false;
    this.promoteArchivedState(i, this.#previous[i]!);
    return true;
  }

  /** Archives the current state, leaving none (e.g. to force a new session). */
  archiveCurrentState(): void {
    let archived = this.#current;
    if (!archived) return;
    // An archived session is never resumed as an initiator: it sends plain messages. Cleared
    // on a copy, never in place: the state may be shared with another record (`shareStates`).
    if (archived.pendingPreKey || archived.pendingKyberPreKey) {
      archived = archived.clone();
      archived.clearUnacknowledgedPreKeyMessage();
    }
    this.#previous.unshift(archived);
    for (const evicted of this.#previous.splice(ARCHIVED_STATES_MAX_LENGTH)) {
      const k = evicted.senderChain?.ratchetKey.privateKey;
      if (k) forgetPrivateKeys(k.serialize());
    }
    this.#current = undefined;
  }

  /**
   * A deep copy to work on, so a failed operation leaves the original untouched (each state
   * is copied with `SessionState.clone`, without a protobuf round trip).
   */
  clone(): SessionRecord {
    return new SessionRecord(
      this.#current?.clone(),
      this.#previous.map((s) => s.clone()),
    );
  }

  /**
   * A copy with its own list of states that shares the states themselves: for operations that
   * only replace or reorder states and never change one in place (decrypting a whisper
   * message, which works on a copy of each state it tries; encrypting, once the current state
   * is replaced by its own copy). Cheaper than `clone` by every state it does not copy. The
   * ciphers never change a state of a record they loaded in place, so sharing is safe for
   * records they store. Internal: applications use `clone`.
   * @internal
   */
  shareStates(): SessionRecord {
    return new SessionRecord(this.#current, this.#previous);
  }

  /** `RecordStructure` bytes. Secret: they hold every session key. */
  serialize(): Uint8Array {
    const w = new ProtoWriter();
    if (this.#current) w.bytes(1, this.#current.encode());
    for (const s of this.#previous) w.bytes(2, s.encode());
    return w.finish();
  }

  /** Loads `RecordStructure` bytes (ours or libsignal's); anything malformed is `InvalidRecord`. */
  static deserialize(bytes: Uint8Array): SessionRecord {
    abytes(bytes, 'session record', undefined, 'InvalidRecord');
    const f = ProtoFields.decode(bytes, 'session record', 'InvalidRecord');
    const current = f.bytes(1);
    const previous = f.repeatedBytes(2);
    if (previous.length > ARCHIVED_STATES_MAX_LENGTH) {
      throw new ProtocolError('InvalidRecord', 'session record holds too many archived states');
    }
    return new SessionRecord(
      current ? SessionState.decode(current) : undefined,
      previous.map((s) => SessionState.decode(s)),
    );
  }

  toString(): string {
    return (
      `SessionRecord(current ${this.#current ? this.#current.toString() : 'none'}, ` +
      `${this.#previous.length} archived)`
    );
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
