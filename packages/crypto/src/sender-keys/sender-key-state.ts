/**
 * One sender chain as a receiver (or the sender itself) holds it — libsignal's
 * `SenderKeyState`: the chain id, the current chain key and iteration, the sender's signing
 * key (with its private half only in the sender's own state), and the message keys of
 * skipped iterations, kept for late messages.
 *
 * Receiving iteration n when the chain is at iteration c (`takeMessageKey`):
 *
 *   n < c : use and delete the stored key for n; none stored → `DuplicatedMessage`
 *   n − c > MAX_FORWARD_JUMPS (25,000) → `TooFarIntoFuture`
 *   else  : store the keys of c..n−1 (at most MAX_MESSAGE_KEYS = 2,000 are kept, oldest
 *           evicted), use the key of n and move the chain to n + 1
 *
 * Saved as libsignal's `SenderKeyStateStructure` (storage.proto, proto3, so zero values and
 * empty bytes are omitted), which makes records movable between the two implementations:
 *
 *   { 1: chain_id, 2: SenderChainKey { 1: iteration, 2: seed },
 *     3: SenderSigningKey { 1: public (33), 2: private (32, own states only) },
 *     4: repeated SenderMessageKey { 1: iteration, 2: seed }, 5: message_version }
 * @module
 */
import { ProtoFields, ProtoWriter } from '../_protobuf.ts';
import { PrivateKey, PublicKey } from '../curve.ts';
import { ProtocolError, isProtocolError } from '../errors.ts';
import { MAX_FORWARD_JUMPS, MAX_MESSAGE_KEYS, SENDERKEY_MESSAGE_VERSION } from './consts.ts';
import { SenderChainKey } from './sender-chain-key.ts';
import { SenderMessageKey } from './sender-message-key.ts';

const inspect = Symbol.for('nodejs.util.inspect.custom');

/** proto3 leaves zero scalars out of the encoding. */
const nonZero = (n: number): number | undefined => (n === 0 ? undefined : n);

export interface SenderKeyStateInit {
  messageVersion?: number;
  chainId: number;
  chainKey: SenderChainKey;
  signingKey: PublicKey;
  /** Present only in the sender's own state. */
  signingPrivateKey?: PrivateKey | undefined;
  messageKeys?: readonly SenderMessageKey[];
}

export class SenderKeyState {
  readonly messageVersion: number;
  readonly chainId: number;
  readonly signingKey: PublicKey;
  readonly #signingPrivateKey: PrivateKey | undefined;
  #chainKey: SenderChainKey;
  /** Skipped keys in the order they were stored (oldest first, as libsignal keeps them). */
  #messageKeys: SenderMessageKey[];

  constructor(init: SenderKeyStateInit) {
    this.messageVersion = init.messageVersion ?? SENDERKEY_MESSAGE_VERSION;
    this.chainId = init.chainId;
    this.signingKey = init.signingKey;
    this.#signingPrivateKey = init.signingPrivateKey;
    this.#chainKey = init.chainKey;
    this.#messageKeys = [...(init.messageKeys ?? [])];
  }

  /** The chain key for the next message to send or receive in order. */
  get chainKey(): SenderChainKey {
    return this.#chainKey;
  }

  set chainKey(next: SenderChainKey) {
    this.#chainKey = next;
  }

  /** The private signing key, only in our own sending state. */
  get signingPrivateKey(): PrivateKey | undefined {
    return this.#signingPrivateKey;
  }

  /** How many skipped message keys are stored. */
  get skippedKeyCount(): number {
    return this.#messageKeys.length;
  }

  /**
   * The message key for `iteration`, advancing the chain or consuming a stored key as the
   * module comment describes. Mutates this state: call it on a copy and save only on success.
   */
  takeMessageKey(iteration: number): SenderMessageKey {
    const chain = this.#chainKey;
    const current = chain.iteration;
    if (iteration < current) {
      const index = this.#messageKeys.findIndex((k) => k.iteration === iteration);
      if (index < 0) {
        throw new ProtocolError(
          'DuplicatedMessage',
          `iteration ${iteration} was already received (chain is at ${current})`,
        );
      }
      return this.#messageKeys.splice(index, 1)[0]!;
    }
    const jump = iteration - current;
    if (jump > MAX_FORWARD_JUMPS) {
      throw new ProtocolError(
        'TooFarIntoFuture',
        `iteration ${iteration} is ${jump} ahead of the chain (limit ${MAX_FORWARD_JUMPS})`,
      );
    }
    // Skipped keys older than the newest MAX_MESSAGE_KEYS would be evicted at once, so their
    // seeds are not computed; the result equals libsignal's store-then-evict.
    const firstKept = iteration - MAX_MESSAGE_KEYS;
    let step = chain;
    const added: SenderMessageKey[] = [];
    while (step.iteration < iteration) {
      if (step.iteration >= firstKept) added.push(step.messageKey());
      step = step.next();
    }
    const key = step.messageKey();
    const nextChain = step.next();
    this.#messageKeys.push(...added);
    if (this.#messageKeys.length > MAX_MESSAGE_KEYS) {
      this.#messageKeys.splice(0, this.#messageKeys.length - MAX_MESSAGE_KEYS);
    }
    this.#chainKey = nextChain;
    return key;
  }

  /** A copy that can be mutated without touching this one (keys are immutable, so shared). */
  clone(): SenderKeyState {
    return new SenderKeyState({
      messageVersion: this.messageVersion,
      chainId: this.chainId,
      chainKey: this.#chainKey,
      signingKey: this.signingKey,
      signingPrivateKey: this.#signingPrivateKey,
      messageKeys: this.#messageKeys,
    });
  }

  /** `SenderKeyStateStructure` bytes. */
  encode(): Uint8Array {
    const w = new ProtoWriter().uint(1, nonZero(this.chainId));
    w.bytes(
      2,
      new ProtoWriter()
        .uint(1, nonZero(this.#chainKey.iteration))
        .bytes(2, this.#chainKey.seed())
        .finish(),
    );
    w.bytes(
      3,
      new ProtoWriter()
        .bytes(1, this.signingKey.serialize())
        .bytes(2, this.#signingPrivateKey?.serialize())
        .finish(),
    );
    for (const k of this.#messageKeys) {
      w.bytes(4, new ProtoWriter().uint(1, nonZero(k.iteration)).bytes(2, k.seed()).finish());
    }
    return w.uint(5, nonZero(this.messageVersion)).finish();
  }

  /** Decodes `SenderKeyStateStructure`; anything malformed is `InvalidRecord`. */
  static decode(bytes: Uint8Array): SenderKeyState {
    const what = 'sender key state';
    const f = ProtoFields.decode(bytes, what, 'InvalidRecord');
    const chain = ProtoFields.decode(f.requireBytes(2, 'sender_chain_key'), what, 'InvalidRecord');
    const signing = ProtoFields.decode(
      f.requireBytes(3, 'sender_signing_key'),
      what,
      'InvalidRecord',
    );
    const keyBytes = f.repeatedBytes(4);
    if (keyBytes.length > MAX_MESSAGE_KEYS) {
      throw new ProtocolError('InvalidRecord', `${what} holds more than ${MAX_MESSAGE_KEYS} keys`);
    }
    try {
      const privateBytes = signing.bytes(2);
      return new SenderKeyState({
        // libsignal: a stored 0 means the first sender-key version, 3.
        messageVersion: f.uint32(5) || SENDERKEY_MESSAGE_VERSION,
        chainId: f.uint32(1) ?? 0,
        chainKey: new SenderChainKey(chain.uint32(1) ?? 0, chain.bytes(2) ?? new Uint8Array()),
        signingKey: PublicKey.deserialize(signing.bytes(1) ?? new Uint8Array()),
        signingPrivateKey:
          privateBytes && privateBytes.length > 0
            ? PrivateKey.deserialize(privateBytes)
            : undefined,
        messageKeys: keyBytes.map((b) => {
          const k = ProtoFields.decode(b, what, 'InvalidRecord');
          return new SenderMessageKey(k.uint32(1) ?? 0, k.bytes(2) ?? new Uint8Array());
        }),
      });
    } catch (cause) {
      if (isProtocolError(cause, 'InvalidRecord')) throw cause;
      throw new ProtocolError('InvalidRecord', `${what} holds a malformed key`, { cause });
    }
  }

  toString(): string {
    return (
      `SenderKeyState(v${this.messageVersion}, chain ${this.chainId}, iteration ` +
      `${this.#chainKey.iteration}, signing ${this.signingKey}` +
      `${this.#signingPrivateKey ? ' (own)' : ''}, ${this.#messageKeys.length} skipped keys, ` +
      `[redacted])`
    );
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
