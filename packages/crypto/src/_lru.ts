/**
 * A small LRU map for caches of derived key material (imported CryptoKeys, public points).
 * Internal: not exported from the package.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** A bounded map that forgets the least recently used entry. */
export class Lru<V> {
  readonly #map = new Map<string, V>();
  constructor(readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value!);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
  clear(): void {
    this.#map.clear();
  }
}

/** Cache key for a private scalar: its SHA-256 as a binary string (never the scalar). */
export const secretId = (k: Uint8Array): string => String.fromCharCode(...sha256(k));
