/**
 * The account in Settings: exporting this device's data as JSON, and deleting the account
 * (then back to onboarding on empty storage).
 * @module
 */
import { toBase64Url } from '../../lib/base64url.ts';
import type { ActiveClient } from './active-client.ts';
import type { ClientLifecycle } from './client-lifecycle.ts';
import { friendly } from './errors.ts';

export class SettingsActions {
  constructor(
    private readonly active: ActiveClient,
    private readonly lifecycle: ClientLifecycle,
  ) {}

  async exportData(): Promise<Blob> {
    const data = await this.active.require().exportData();
    const json = JSON.stringify(
      data,
      (_key, value: unknown) =>
        value instanceof Uint8Array ? { base64: toBase64Url(value) } : value,
      2,
    );
    return new Blob([json], { type: 'application/json' });
  }

  async deleteAccount(): Promise<void> {
    try {
      await this.active.require().deleteAccount();
    } catch (err) {
      throw new Error(friendly(err));
    }
    await this.lifecycle.reset();
  }
}
