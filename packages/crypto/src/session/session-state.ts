/**
 * One Double Ratchet session with one remote device (libsignal `SessionState`):
 *
 *   - version (3 = X3DH, 4 = PQXDH), both identity keys, the root key RK;
 *   - the sending chain: our current ratchet key pair and its chain key;
 *   - up to MAX_RECEIVER_CHAINS receiving chains, one per peer ratchet key, oldest first, each
 *     with up to MAX_MESSAGE_KEYS skipped message-key seeds, newest first;
 *   - while unacknowledged (initiator only): the PreKey message inputs (prekey ids, base key,
 *     Kyber ciphertext, creation time) that every outgoing message is wrapped with;
 *   - the registration ids and Alice's base key, which identifies the session across both sides.
 *
 * Serialised as libsignal's storage.proto `SessionStructure` (proto3: zero values omitted), so
 * a session can be moved to or from libsignal.
 * @module
 */
import { toHex } from '../_bytes.ts';
import { ProtoFields, ProtoWriter } from '../_protobuf.ts';
import { MAX_MESSAGE_KEYS, MAX_RECEIVER_CHAINS } from '../consts.ts';
import { KeyPair, PrivateKey, PublicKey } from '../curve.ts';
import { ProtocolError } from '../errors.ts';
import { ChainKey } from '../ratchet/chain-key.ts';
import { RootKey } from '../ratchet/root-key.ts';
import { cloneState, readState, writeState, type PqRatchetState } from '../spqr/state-proto.ts';

const inspect = Symbol.for('nodejs.util.inspect.custom');
const nz = (n: number): number | undefined => (n === 0 ? undefined : n);
const EMPTY = /* @__PURE__ */ new Uint8Array(0);

/** A skipped message key, kept as its chain-step seed. */
export interface SkippedKey {
  index: number;
  seed: Uint8Array;
}

export interface ReceiverChain {
  ratchetKey: PublicKey;
  chainKey: ChainKey;
  /** Newest first; at most MAX_MESSAGE_KEYS. */
  messageKeys: SkippedKey[];
}

export interface SenderChain {
  ratchetKey: KeyPair;
  chainKey: ChainKey;
}

/** What an unacknowledged initiator repeats in every PreKey message. */
export interface PendingPreKey {
  preKeyId: number | undefined;
  signedPreKeyId: number;
  baseKey: PublicKey;
  /** Seconds since the epoch (libsignal's unit for this field). */
  timestamp: number;
}

export interface PendingKyberPreKey {
  preKeyId: number;
  ciphertext: Uint8Array;
}

export interface SessionStateInit {
  sessionVersion: number;
  localIdentity: PublicKey;
  remoteIdentity: PublicKey;
  rootKey: RootKey;
  aliceBaseKey: Uint8Array;
}

export class SessionState {
  sessionVersion: number;
  localIdentity: PublicKey;
  remoteIdentity: PublicKey;
  rootKey: RootKey;
  previousCounter = 0;
  senderChain: SenderChain | undefined;
  receiverChains: ReceiverChain[] = [];
  pendingPreKey: PendingPreKey | undefined;
  pendingKyberPreKey: PendingKyberPreKey | undefined;
  remoteRegistrationId = 0;
  localRegistrationId = 0;
  /** Serialised base key of the session's initiator: the session's identity on both sides. */
  aliceBaseKey: Uint8Array;
  /**
   * SPQR's state, kept as stored bytes (field 15), decoded, or both: loading a record leaves
   * it as bytes until SPQR first runs, and after that it stays decoded until the bytes are
   * asked for (`encode`, i.e. when the record is serialized), so a record that handles many
   * messages between two saves decodes and encodes it once, not per message.
   */
  #pqBytes: Uint8Array | undefined = EMPTY;
  #pqDecoded: PqRatchetState | undefined;

  constructor(init: SessionStateInit) {
    this.sessionVersion = init.sessionVersion;
    this.localIdentity = init.localIdentity;
    this.remoteIdentity = init.remoteIdentity;
    this.rootKey = init.rootKey;
    this.aliceBaseKey = init.aliceBaseKey.slice();
  }

  /** SPQR's `PqRatchetState` bytes (field 15); empty for a session without SPQR. */
  get pqRatchetState(): Uint8Array {
    if (this.#pqBytes === undefined) this.#pqBytes = writeState(this.#pqDecoded!);
    return this.#pqBytes;
  }

  set pqRatchetState(bytes: Uint8Array) {
    this.#pqBytes = bytes;
    this.#pqDecoded = undefined;
  }

  /**
   * The decoded SPQR state, to run SPQR on. The operations mutate it: call this on a copy of
   * the session state (`clone`) and hand the result to `setPqState`. Malformed stored bytes
   * throw `InvalidRecord` here, where the protocol first needs them.
   */
  pqState(): PqRatchetState {
    if (this.#pqDecoded === undefined) this.#pqDecoded = readState(this.#pqBytes!);
    // Whoever takes the decoded state may change it: the cached bytes no longer hold.
    this.#pqBytes = undefined;
    return this.#pqDecoded;
  }

  /** Replaces the SPQR state by a decoded one (the result of an SPQR operation). */
  setPqState(state: PqRatchetState): void {
    this.#pqDecoded = state;
    this.#pqBytes = undefined;
  }

  /** A session with our own identity (notes to self): exempt from the forward-jump limit. */
  get isSelfSession(): boolean {
    return this.localIdentity.equals(this.remoteIdentity);
  }

  receiverChain(ratchetKey: PublicKey): ReceiverChain | undefined {
    return this.receiverChains.find((c) => c.ratchetKey.equals(ratchetKey));
  }

  /** Appends a receiving chain, dropping the oldest beyond MAX_RECEIVER_CHAINS. */
  addReceiverChain(ratchetKey: PublicKey, chainKey: ChainKey): void {
    this.receiverChains.push({ ratchetKey, chainKey, messageKeys: [] });
    if (this.receiverChains.length > MAX_RECEIVER_CHAINS) this.receiverChains.shift();
  }

  /** Stores a skipped key, newest first, evicting the oldest beyond MAX_MESSAGE_KEYS. */
  static addSkippedKey(chain: ReceiverChain, key: SkippedKey): void {
    chain.messageKeys.unshift(key);
    if (chain.messageKeys.length > MAX_MESSAGE_KEYS) chain.messageKeys.pop();
  }

  /** Stores skipped keys given oldest first, as many `addSkippedKey` calls would. */
  static addSkippedKeys(chain: ReceiverChain, keys: readonly SkippedKey[]): void {
    if (keys.length === 0) return;
    const newest = keys.slice(-MAX_MESSAGE_KEYS).reverse();
    chain.messageKeys = newest.concat(chain.messageKeys).slice(0, MAX_MESSAGE_KEYS);
  }

  /** Removes and returns the skipped key for `index`, if there is one. */
  static takeSkippedKey(chain: ReceiverChain, index: number): SkippedKey | undefined {
    const i = chain.messageKeys.findIndex((k) => k.index === index);
    return i < 0 ? undefined : chain.messageKeys.splice(i, 1)[0];
  }

  clearUnacknowledgedPreKeyMessage(): void {
    this.pendingPreKey = undefined;
    this.pendingKyberPreKey = undefined;
  }

  /**
   * A deep copy: nothing mutable is shared (keys, chain keys and public keys are immutable
   * objects and are shared; arrays, chains and the SPQR state are copied), so the copy can be
   * worked on and dropped on failure. Equal to `SessionState.decode(this.encode())` without
   * the protobuf round trip (tested).
   */
  clone(): SessionState {
    const copy = new SessionState(this);
    copy.previousCounter = this.previousCounter;
    const sender = this.senderChain;
    if (sender) copy.senderChain = { ratchetKey: sender.ratchetKey, chainKey: sender.chainKey };
    copy.receiverChains = this.receiverChains.map((c) => ({
      ratchetKey: c.ratchetKey,
      chainKey: c.chainKey,
      // Skipped keys are replaced, never changed in place: the array is copied, not the keys.
      messageKeys: c.messageKeys.slice(),
    }));
    if (this.pendingPreKey) copy.pendingPreKey = { ...this.pendingPreKey };
    if (this.pendingKyberPreKey) {
      copy.pendingKyberPreKey = {
        preKeyId: this.pendingKyberPreKey.preKeyId,
        ciphertext: this.pendingKyberPreKey.ciphertext.slice(),
      };
    }
    copy.remoteRegistrationId = this.remoteRegistrationId;
    copy.localRegistrationId = this.localRegistrationId;
    // Stored bytes are never changed in place (a new array replaces them), so they are shared.
    copy.#pqBytes = this.#pqBytes;
    copy.#pqDecoded = this.#pqDecoded && cloneState(this.#pqDecoded);
    return copy;
  }

  /** `SessionStructure` bytes. Secret: they hold the root, chain and ratchet keys. */
  encode(): Uint8Array {
    const w = new ProtoWriter()
      .uint(1, nz(this.sessionVersion))
      .bytes(2, this.localIdentity.serialize())
      .bytes(3, this.remoteIdentity.serialize())
      .bytes(4, this.rootKey.key)
      .uint(5, nz(this.previousCounter));
    if (this.senderChain) {
      w.bytes(
        6,
        encodeChain(
          this.senderChain.ratchetKey.publicKey,
          this.senderChain.ratchetKey.privateKey,
          this.senderChain.chainKey,
          [],
        ),
      );
    }
    for (const c of this.receiverChains) {
      w.bytes(7, encodeChain(c.ratchetKey, undefined, c.chainKey, c.messageKeys));
    }
    if (this.pendingPreKey) {
      const p = this.pendingPreKey;
      // pre_key_id is proto3 `optional`: present even when 0.
      w.bytes(
        9,
        new ProtoWriter()
          .uint(1, p.preKeyId)
          .bytes(2, p.baseKey.serialize())
          .uint(3, nz(p.signedPreKeyId))
          .uint(4, nz(p.timestamp))
          .finish(),
      );
    }
    w.uint(10, nz(this.remoteRegistrationId))
      .uint(11, nz(this.localRegistrationId))
      .bytes(13, this.aliceBaseKey.length ? this.aliceBaseKey : undefined);
    if (this.pendingKyberPreKey) {
      w.bytes(
        14,
        new ProtoWriter()
          .uint(1, nz(this.pendingKyberPreKey.preKeyId))
          .bytes(2, this.pendingKyberPreKey.ciphertext)
          .finish(),
      );
    }
    w.bytes(15, this.pqRatchetState.length ? this.pqRatchetState : undefined);
    return w.finish();
  }

  /** Loads `SessionStructure` bytes; anything malformed is `InvalidRecord`. */
  static decode(bytes: Uint8Array): SessionState {
    try {
      return decodeState(bytes);
    } catch (cause) {
      if (cause instanceof ProtocolError && cause.code === 'InvalidRecord') throw cause;
      throw new ProtocolError('InvalidRecord', 'session state is malformed', { cause });
    }
  }

  toString(): string {
    return (
      `SessionState(v${this.sessionVersion}, remote ${this.remoteIdentity.toString()}, ` +
      `base key ${toHex(this.aliceBaseKey)}, ${this.receiverChains.length} receiving chains, ` +
      `${this.pendingPreKey ? 'unacknowledged' : 'acknowledged'}, [redacted])`
    );
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}

function encodeChain(
  ratchetKey: PublicKey,
  privateKey: PrivateKey | undefined,
  chainKey: ChainKey,
  messageKeys: readonly SkippedKey[],
): Uint8Array {
  const w = new ProtoWriter()
    .bytes(1, ratchetKey.serialize())
    .bytes(2, privateKey?.serialize())
    .bytes(3, new ProtoWriter().uint(1, nz(chainKey.index)).bytes(2, chainKey.key).finish());
  for (const k of messageKeys) {
    w.bytes(4, new ProtoWriter().uint(1, nz(k.index)).bytes(5, k.seed).finish());
  }
  return w.finish();
}

const fail = (why: string): never => {
  throw new ProtocolError('InvalidRecord', `session state is malformed: ${why}`);
};

function decodeChainKey(f: ProtoFields): ChainKey {
  const ck = ProtoFields.decode(f.requireBytes(3, 'chain_key'), 'chain key', 'InvalidRecord');
  return new ChainKey(ck.requireBytes(2, 'key'), ck.uint32(1) ?? 0);
}

function decodeState(bytes: Uint8Array): SessionState {
  const f = ProtoFields.decode(bytes, 'session state', 'InvalidRecord');
  const sessionVersion = f.uint32(1) ?? 0;
  if (sessionVersion !== 3 && sessionVersion !== 4) fail(`unknown version ${sessionVersion}`);
  const state = new SessionState({
    sessionVersion,
    localIdentity: PublicKey.deserialize(f.requireBytes(2, 'local_identity_public')),
    remoteIdentity: PublicKey.deserialize(f.requireBytes(3, 'remote_identity_public')),
    rootKey: new RootKey(f.requireBytes(4, 'root_key')),
    aliceBaseKey: f.bytes(13) ?? new Uint8Array(0),
  });
  state.previousCounter = f.uint32(5) ?? 0;
  const sender = f.bytes(6);
  if (sender) {
    const c = ProtoFields.decode(sender, 'sender chain', 'InvalidRecord');
    const publicKey = PublicKey.deserialize(c.requireBytes(1, 'sender_ratchet_key'));
    // No public/private consistency check here: it costs a scalar multiplication on every
    // record load (the hot path of every message), and a mismatched pair in our own store can
    // only make the peer's MAC check fail, never weaken a session.
    const privateKey = PrivateKey.deserialize(c.requireBytes(2, 'sender_ratchet_key_private'));
    state.senderChain = {
      ratchetKey: new KeyPair(publicKey, privateKey),
      chainKey: decodeChainKey(c),
    };
  }
  const receivers = f.repeatedBytes(7);
  if (receivers.length > MAX_RECEIVER_CHAINS) fail('too many receiver chains');
  for (const bytes of receivers) {
    const c = ProtoFields.decode(bytes, 'receiver chain', 'InvalidRecord');
    const keys = c.repeatedBytes(4);
    if (keys.length > MAX_MESSAGE_KEYS) fail('too many skipped message keys');
    state.receiverChains.push({
      ratchetKey: PublicKey.deserialize(c.requireBytes(1, 'sender_ratchet_key')),
      chainKey: decodeChainKey(c),
      messageKeys: keys.map((k) => {
        const m = ProtoFields.decode(k, 'message key', 'InvalidRecord');
        const seed = m.bytes(5);
        // Old libsignal records store expanded keys instead of the seed; we only write seeds
        // and never met such a record, so treat it as unsupported rather than guess.
        if (!seed || seed.length !== 32) fail('message key without a 32-byte seed');
        return { index: m.uint32(1) ?? 0, seed: seed!.slice() };
      }),
    });
  }
  const pending = f.bytes(9);
  if (pending) {
    const p = ProtoFields.decode(pending, 'pending prekey', 'InvalidRecord');
    state.pendingPreKey = {
      preKeyId: p.uint32(1),
      baseKey: PublicKey.deserialize(p.requireBytes(2, 'base_key')),
      signedPreKeyId: p.uint32(3) ?? 0,
      timestamp: p.uint64(4) ?? 0,
    };
  }
  state.remoteRegistrationId = f.uint32(10) ?? 0;
  state.localRegistrationId = f.uint32(11) ?? 0;
  const kyber = f.bytes(14);
  if (kyber) {
    const k = ProtoFields.decode(kyber, 'pending Kyber prekey', 'InvalidRecord');
    state.pendingKyberPreKey = {
      preKeyId: k.uint32(1) ?? 0,
      ciphertext: (k.bytes(2) ?? new Uint8Array(0)).slice(),
    };
  }
  state.pqRatchetState = (f.bytes(15) ?? new Uint8Array(0)).slice();
  return state;
}
