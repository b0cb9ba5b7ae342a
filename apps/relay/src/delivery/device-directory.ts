/**
 * A short-lived, per-node cache of each account's device list (`listDevices`), so that
 * authenticating a request and planning a send do not read PostgreSQL every time.
 *
 * Invalidation: a route that adds or removes a device or deletes an account calls `changed`
 * after its commit; that drops the entry here and, with Redis, on every other node (one pub/sub
 * channel, see `cluster.ts`). A read that started before an invalidation never fills the cache
 * (an epoch guards it), and an entry lives at most `ttlMs` even if an invalidation is lost (Redis
 * down). Sends never depend on it for correctness: the store verifies the device list it was
 * planned on atomically with the insert (`EnqueueOptions.hint`).
 * @module
 */
import type { DeviceRecord, RelayStore } from '../store/types.ts';

/** What the directory needs from the cluster (Redis): a broadcast of changed accounts. */
export interface DeviceChangeBus {
  publishDeviceChange(accountId: string): void;
  onDeviceChange(handler: (accountId: string) => void): void;
}

interface Entry {
  devices: readonly DeviceRecord[];
  expiresAt: number;
}

/** Accounts remembered per node; the oldest entries go first beyond it. */
const MAX_ENTRIES = 50_000;

export class DeviceDirectory {
  readonly #store: RelayStore;
  readonly #ttlMs: number;
  readonly #bus: DeviceChangeBus | undefined;
  readonly #entries = new Map<string, Entry>();
  /** Bumped by every invalidation: a read that saw another epoch does not fill the cache. */
  #epoch = 0;

  constructor(store: RelayStore, ttlMs: number, bus?: DeviceChangeBus) {
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#bus = bus;
    bus?.onDeviceChange((accountId) => this.#drop(accountId));
  }

  /** The account's devices (empty if it has none or does not exist). */
  async devices(accountId: string): Promise<readonly DeviceRecord[]> {
    const cached = this.peek(accountId);
    if (cached) return cached;
    const epoch = this.#epoch;
    const devices = await this.#store.listDevices(accountId);
    // Accounts without devices are not remembered (a new account must be seen at once).
    if (this.#ttlMs > 0 && devices.length > 0 && epoch === this.#epoch) {
      this.#entries.delete(accountId);
      this.#entries.set(accountId, { devices, expiresAt: performance.now() + this.#ttlMs });
      if (this.#entries.size > MAX_ENTRIES) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
    }
    return devices;
  }

  /**
   * One device. A device missing from a cached list is looked up again in the store: it may
   * have been linked on another node a moment ago (device ids are never reused, so a cached
   * device that exists is never a different one).
   */
  async device(accountId: string, deviceId: number): Promise<DeviceRecord | undefined> {
    const cached = this.peek(accountId)?.find((d) => d.deviceId === deviceId);
    if (cached) return cached;
    this.#drop(accountId);
    return (await this.devices(accountId)).find((d) => d.deviceId === deviceId);
  }

  /** The cached list, if fresh; never reads the store. */
  peek(accountId: string): readonly DeviceRecord[] | undefined {
    const entry = this.#entries.get(accountId);
    if (!entry) return undefined;
    if (entry.expiresAt <= performance.now()) {
      this.#entries.delete(accountId);
      return undefined;
    }
    return entry.devices;
  }

  /** The account's devices changed (committed): forget them here and on every node. */
  changed(accountId: string): void {
    this.#drop(accountId);
    this.#bus?.publishDeviceChange(accountId);
  }

  /** The device's last-seen day was advanced in the store. */
  touched(accountId: string, deviceId: number, day: number): void {
    const entry = this.#entries.get(accountId);
    if (!entry) return;
    entry.devices = entry.devices.map((d) =>
      d.deviceId === deviceId && d.lastSeenAt < day ? { ...d, lastSeenAt: day } : d,
    );
  }

  #drop(accountId: string): void {
    this.#epoch++;
    this.#entries.delete(accountId);
  }
}
