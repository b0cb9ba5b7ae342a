/**
 * Group messaging with Sender Keys, byte-compatible with libsignal's `group_cipher.rs`.
 *
 * Each member sending to a group owns a sender chain per distribution id: a chain id, a
 * chain key CK_i and a Curve25519 signing key pair. It hands (chain id, i, CK_i, signing
 * public key) to every member once, in a SenderKeyDistributionMessage sent over the 1:1
 * sessions; after that each group message is encrypted once for everyone:
 *
 *   seed_i = HMAC-SHA256(CK_i, 0x01),  CK_{i+1} = HMAC-SHA256(CK_i, 0x02)
 *   iv ‖ cipherKey = HKDF-SHA256(none, seed_i, "WhisperGroup", 48)     (16 ‖ 32 bytes)
 *   SKM = 0x33 ‖ {distribution id, chain id, i, AES-256-CBC(cipherKey, iv, plaintext)} ‖ XEdDSA sig
 *
 * Receivers verify the signature with the distributed public key, then step their copy of
 * the chain (keeping skipped keys for late messages). What it gives: confidentiality from
 * non-members, authenticity among members (only the holder of the signing key can send on a
 * chain), replay rejection. What it does not: forward secrecy within a chain beyond the hash
 * ratchet, or post-compromise security — rotate the sender key (new distribution id or a
 * fresh state) when membership changes.
 *
 * Every operation runs under a per-(sender, distribution id) lock on a copy of the record and
 * saves it only after every check passed; a failure leaves the store exactly as it was.
 * @module
 */
import type { ProtocolAddress } from './address.ts';
import { abytes, wipe } from './_bytes.ts';
import { aes256CbcDecrypt, aes256CbcEncrypt } from './_primitives.ts';
import { KeyPair } from './curve.ts';
import { ProtocolError } from './errors.ts';
import { InProcessKeyedLock, type KeyedLock } from './lock.ts';
import { randomUint, systemRandom, type RandomSource } from './random.ts';
import { SENDERKEY_MESSAGE_VERSION } from './sender-keys/consts.ts';
import { canonicalDistributionId } from './sender-keys/distribution-id.ts';
import { SenderKeyDistributionMessage } from './sender-keys/sender-key-distribution-message.ts';
import { SenderKeyMessage } from './sender-keys/sender-key-message.ts';
import { SenderKeyRecord } from './sender-keys/sender-key-record.ts';
import type { SenderKeyStore } from './stores.ts';

export {
  MAX_FORWARD_JUMPS,
  MAX_MESSAGE_KEYS,
  MAX_SENDER_KEY_STATES,
  SENDERKEY_MESSAGE_VERSION,
} from './sender-keys/consts.ts';
export { InMemorySenderKeyStore } from './sender-keys/inmem-sender-key-store.ts';
export { SenderKeyDistributionMessage } from './sender-keys/sender-key-distribution-message.ts';
export { SenderKeyMessage } from './sender-keys/sender-key-message.ts';
export { SenderKeyRecord } from './sender-keys/sender-key-record.ts';
export type { SenderKeyStore } from './stores.ts';

export interface GroupCipherOptions {
  /** Randomness for new chains, signing keys and signatures (default: the platform CSPRNG). */
  rng?: RandomSource;
  /**
   * Serialises work per (sender, distribution id). Share one lock among every GroupCipher
   * that uses the same store (default: a lock private to this instance).
   */
  lock?: KeyedLock;
}

const inspect = Symbol.for('nodejs.util.inspect.custom');

function aaddress(sender: unknown): ProtocolAddress {
  if (
    typeof sender !== 'object' ||
    sender === null ||
    typeof (sender as ProtocolAddress).name !== 'string' ||
    typeof (sender as ProtocolAddress).deviceId !== 'number'
  ) {
    throw new ProtocolError('InvalidArgument', 'sender must be a ProtocolAddress');
  }
  return sender as ProtocolAddress;
}

export class GroupCipher {
  readonly #store: SenderKeyStore;
  readonly #rng: RandomSource;
  readonly #lock: KeyedLock;

  constructor(store: SenderKeyStore, options: GroupCipherOptions = {}) {
    if (typeof store?.loadSenderKey !== 'function' || typeof store.storeSenderKey !== 'function') {
      throw new ProtocolError('InvalidArgument', 'store must implement SenderKeyStore');
    }
    this.#store = store;
    this.#rng = options.rng ?? systemRandom;
    this.#lock = options.lock ?? new InProcessKeyedLock();
  }

  #run<T>(sender: ProtocolAddress, distributionId: string, fn: () => Promise<T>): Promise<T> {
    return this.#lock.run(`sender-key:${sender.toString()}:${distributionId}`, fn);
  }

  /**
   * The SKDM that lets others read what `sender` (our own address) sends to `distributionId`.
   * Creates our sending state on first use: chain id = random 31 bits (as libsignal, for
   * Java's signed ints), a random 32-byte chain key at iteration 0, a new signing key pair.
   */
  async createDistributionMessage(
    sender: ProtocolAddress,
    distributionId: string,
  ): Promise<SenderKeyDistributionMessage> {
    aaddress(sender);
    const id = canonicalDistributionId(distributionId);
    return this.#run(sender, id, async () => {
      let record = await this.#store.loadSenderKey(sender, id);
      if (!record) {
        const signing = await KeyPair.generateSigningAsync(this.#rng);
        const chainKey = this.#rng(32);
        record = new SenderKeyRecord();
        record.addState({
          messageVersion: SENDERKEY_MESSAGE_VERSION,
          chainId: randomUint(this.#rng, 31),
          iteration: 0,
          chainKey,
          signingKey: signing.publicKey,
          signingPrivateKey: signing.privateKey,
        });
        wipe(chainKey);
        await this.#store.storeSenderKey(sender, id, record);
      }
      const state = record.currentState();
      if (!state) throw new ProtocolError('InvalidState', `sender key record for ${id} is empty`);
      const chainKey = state.chainKey.seed();
      try {
        return SenderKeyDistributionMessage.create({
          distributionId: id,
          chainId: state.chainId,
          iteration: state.chainKey.iteration,
          chainKey,
          signingKey: state.signingKey,
        });
      } finally {
        wipe(chainKey);
      }
    });
  }

  /** Stores the chain `sender` distributed, so its group messages can be decrypted. */
  async processDistributionMessage(
    sender: ProtocolAddress,
    message: SenderKeyDistributionMessage,
  ): Promise<void> {
    aaddress(sender);
    if (!(message instanceof SenderKeyDistributionMessage)) {
      throw new ProtocolError('InvalidArgument', 'message must be a SenderKeyDistributionMessage');
    }
    const id = message.distributionId;
    return this.#run(sender, id, async () => {
      const loaded = await this.#store.loadSenderKey(sender, id);
      const record = loaded ? loaded.clone() : new SenderKeyRecord();
      const chainKey = message.chainKey();
      record.addState({
        messageVersion: message.messageVersion,
        chainId: message.chainId,
        iteration: message.iteration,
        chainKey,
        signingKey: message.signingKey,
      });
      wipe(chainKey);
      await this.#store.storeSenderKey(sender, id, record);
    });
  }

  /**
   * Encrypts `plaintext` for the group on our newest chain; returns the serialised
   * SenderKeyMessage. Needs a state from `createDistributionMessage` (`NoSenderKeyState`).
   */
  async encrypt(
    sender: ProtocolAddress,
    distributionId: string,
    plaintext: Uint8Array,
  ): Promise<Uint8Array> {
    aaddress(sender);
    const id = canonicalDistributionId(distributionId);
    abytes(plaintext, 'plaintext');
    return this.#run(sender, id, async () => {
      const loaded = await this.#store.loadSenderKey(sender, id);
      const record = loaded?.clone();
      const state = record?.currentState();
      if (!record || !state) {
        throw new ProtocolError('NoSenderKeyState', `no sender key state for distribution ${id}`);
      }
      const signingKey = state.signingPrivateKey;
      if (!signingKey) {
        throw new ProtocolError('InvalidState', `sender key state for ${id} is not our own`);
      }
      const chain = state.chainKey;
      const next = chain.next(); // fails before anything is produced at the end of the chain
      const { iv, cipherKey } = chain.messageKey().derive();
      try {
        const ciphertext = aes256CbcEncrypt(cipherKey, iv, plaintext);
        const message = await SenderKeyMessage.createAsync(
          { distributionId: id, chainId: state.chainId, iteration: chain.iteration, ciphertext },
          signingKey,
          this.#rng,
        );
        state.chainKey = next;
        await this.#store.storeSenderKey(sender, id, record);
        return message.serialize();
      } finally {
        wipe(iv, cipherKey);
      }
    });
  }

  /**
   * Decrypts a serialised SenderKeyMessage from `sender`. Errors: `InvalidMessage`,
   * `LegacyCiphertextVersion`/`UnrecognizedMessageVersion`, `NoSenderKeyState` (no SKDM for
   * that distribution id or chain), `InvalidSignature`, `DuplicatedMessage`,
   * `TooFarIntoFuture`. On any error the store is unchanged.
   */
  async decrypt(sender: ProtocolAddress, bytes: Uint8Array): Promise<Uint8Array> {
    aaddress(sender);
    const message = SenderKeyMessage.deserialize(bytes);
    const id = message.distributionId;
    return this.#run(sender, id, async () => {
      const loaded = await this.#store.loadSenderKey(sender, id);
      if (!loaded) {
        throw new ProtocolError('NoSenderKeyState', `no sender key state for distribution ${id}`);
      }
      const record = loaded.clone();
      const state = record.stateForChainId(message.chainId);
      if (!state) {
        throw new ProtocolError(
          'NoSenderKeyState',
          `no sender key state for distribution ${id}, chain ${message.chainId}`,
        );
      }
      if (message.messageVersion !== state.messageVersion) {
        throw new ProtocolError(
          'UnrecognizedMessageVersion',
          `message version ${message.messageVersion} does not match the state's`,
        );
      }
      if (!(await message.verifySignatureAsync(state.signingKey))) {
        throw new ProtocolError('InvalidSignature', 'sender key message signature is invalid');
      }
      const { iv, cipherKey } = state.takeMessageKey(message.iteration).derive();
      try {
        const plaintext = aes256CbcDecrypt(cipherKey, iv, message.ciphertext());
        await this.#store.storeSenderKey(sender, id, record);
        return plaintext;
      } finally {
        wipe(iv, cipherKey);
      }
    });
  }

  toString(): string {
    return 'GroupCipher';
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
