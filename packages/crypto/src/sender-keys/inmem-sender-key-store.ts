/**
 * The reference `SenderKeyStore`: records kept in memory as their serialised bytes, exactly
 * what a persistent store would write. Keeping bytes (not live objects) means a caller can
 * never mutate stored state by accident, and `snapshot()` lets tests assert that a failed
 * operation left the store byte-for-byte unchanged.
 * @module
 */
import type { ProtocolAddress } from '../address.ts';
import type { SenderKeyStore } from '../stores.ts';
import { canonicalDistributionId } from './distribution-id.ts';
import { SenderKeyRecord } from './sender-key-record.ts';

export class InMemorySenderKeyStore implements SenderKeyStore {
  readonly #records = new Map<string, Uint8Array>();

  static #key(sender: ProtocolAddress, distributionId: string): string {
    return `${sender.toString()}::${canonicalDistributionId(distributionId)}`;
  }

  async storeSenderKey(
    sender: ProtocolAddress,
    distributionId: string,
    record: SenderKeyRecord,
  ): Promise<void> {
    this.#records.set(InMemorySenderKeyStore.#key(sender, distributionId), record.serialize());
  }

  async loadSenderKey(
    sender: ProtocolAddress,
    distributionId: string,
  ): Promise<SenderKeyRecord | undefined> {
    const bytes = this.#records.get(InMemorySenderKeyStore.#key(sender, distributionId));
    return bytes && SenderKeyRecord.deserialize(bytes);
  }

  /** Copies of every stored record's bytes, keyed by `name.device::distributionId`. */
  snapshot(): Map<string, Uint8Array> {
    return new Map([...this.#records].map(([k, v]) => [k, v.slice()]));
  }

  toString(): string {
    return `InMemorySenderKeyStore(${this.#records.size} records)`;
  }

  toJSON(): string {
    return this.toString();
  }
}
