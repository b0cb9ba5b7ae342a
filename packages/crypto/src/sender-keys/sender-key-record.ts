/**
 * Everything known about one (sender, distribution id): up to MAX_SENDER_KEY_STATES (5)
 * sender-key states, newest first — libsignal's `SenderKeyRecord`. A sender that rotates its
 * key (a new SKDM with a new chain id) gets a new state in front; messages on an older chain
 * still decrypt until that state falls off the end.
 *
 * Adding a state (libsignal `add_sender_key_state`):
 *   - a state with the same chain id AND signing key already exists → it is kept as it is
 *     (its chain position and skipped keys survive, so re-processing an old SKDM cannot
 *     rewind the chain and re-open replays) and moved to the front;
 *   - otherwise states with that chain id are dropped, the oldest states are dropped down to
 *     4, and the new state goes in front.
 *
 * Serialised as libsignal's `SenderKeyRecordStructure { repeated SenderKeyStateStructure
 * sender_key_states = 1; }` (storage.proto), byte for byte: a record saved by either
 * implementation loads in the other. The schema evolves the protobuf way (new field numbers;
 * unknown fields are skipped), and each state carries its `message_version`.
 * @module
 */
import { abytes } from '../_bytes.ts';
import { ProtoFields, ProtoWriter } from '../_protobuf.ts';
import type { PrivateKey, PublicKey } from '../curve.ts';
import { ProtocolError } from '../errors.ts';
import { forgetPrivateKeys } from '../_backend.ts';
import { MAX_SENDER_KEY_STATES } from './consts.ts';
import { SenderChainKey } from './sender-chain-key.ts';
import { SenderKeyState } from './sender-key-state.ts';

const inspect = Symbol.for('nodejs.util.inspect.custom');

export class SenderKeyRecord {
  #states: SenderKeyState[];

  constructor(states: readonly SenderKeyState[] = []) {
    this.#states = [...states];
  }

  /** The states, newest first. */
  get states(): readonly SenderKeyState[] {
    return this.#states;
  }

  /** The newest state: the one a sender encrypts with. */
  currentState(): SenderKeyState | undefined {
    return this.#states[0];
  }

  stateForChainId(chainId: number): SenderKeyState | undefined {
    return this.#states.find((s) => s.chainId === chainId);
  }

  /** Adds a state as described in the module comment. */
  addState(init: {
    messageVersion: number;
    chainId: number;
    iteration: number;
    chainKey: Uint8Array;
    signingKey: PublicKey;
    signingPrivateKey?: PrivateKey | undefined;
  }): void {
    const existing = this.#states.find(
      (s) => s.chainId === init.chainId && s.signingKey.equals(init.signingKey),
    );
    const dropped = this.#states.filter((s) => s.chainId === init.chainId && s !== existing);
    this.#states = this.#states.filter((s) => s.chainId !== init.chainId);
    const state =
      existing ??
      new SenderKeyState({
        messageVersion: init.messageVersion,
        chainId: init.chainId,
        chainKey: new SenderChainKey(init.iteration, init.chainKey),
        signingKey: init.signingKey,
        signingPrivateKey: init.signingPrivateKey,
      });
    dropped.push(...this.#states.splice(MAX_SENDER_KEY_STATES - 1));
    this.#states.unshift(state);
    for (const s of dropped) {
      if (s.signingPrivateKey) forgetPrivateKeys(s.signingPrivateKey.serialize());
    }
  }

  /** A deep copy to work on, so a failed operation leaves the original untouched. */
  clone(): SenderKeyRecord {
    return new SenderKeyRecord(this.#states.map((s) => s.clone()));
  }

  /** `SenderKeyRecordStructure` bytes. Secret: they hold chain keys (and our signing key). */
  serialize(): Uint8Array {
    const w = new ProtoWriter();
    for (const s of this.#states) w.bytes(1, s.encode());
    return w.finish();
  }

  /** Loads `SenderKeyRecordStructure` bytes; anything malformed is `InvalidRecord`. */
  static deserialize(bytes: Uint8Array): SenderKeyRecord {
    abytes(bytes, 'sender key record', undefined, 'InvalidRecord');
    const f = ProtoFields.decode(bytes, 'sender key record', 'InvalidRecord');
    const states = f.repeatedBytes(1);
    if (states.length > MAX_SENDER_KEY_STATES) {
      throw new ProtocolError(
        'InvalidRecord',
        `sender key record holds more than ${MAX_SENDER_KEY_STATES} states`,
      );
    }
    return new SenderKeyRecord(states.map((s) => SenderKeyState.decode(s)));
  }

  toString(): string {
    return `SenderKeyRecord([${this.#states.map((s) => s.toString()).join(', ')}])`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
