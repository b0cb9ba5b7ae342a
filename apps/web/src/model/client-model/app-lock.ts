/**
 * The passphrase lock: unlocking with the passphrase, setting, changing or removing it, and
 * locking, which every tab of the profile follows (tab-events.ts).
 * @module
 */
import type { StateStore } from '../store.ts';
import { WrongPassphraseError } from '../keyring.ts';
import type { ClientLifecycle } from './client-lifecycle.ts';
import { friendly } from './errors.ts';
import type { Profile } from './profile.ts';
import type { TabChannel } from './tab-channel.ts';

export class AppLock {
  constructor(
    private readonly store: StateStore,
    private readonly profile: Profile,
    private readonly tabs: TabChannel,
    private readonly lifecycle: ClientLifecycle,
  ) {}

  async unlock(passphrase: string): Promise<void> {
    try {
      await this.lifecycle.openClient(passphrase);
    } catch (err) {
      if (err instanceof WrongPassphraseError) throw err;
      throw new Error(friendly(err));
    }
  }

  async setPassphrase(passphrase: string | null): Promise<void> {
    await this.profile.keyring!.setPassphrase(passphrase);
    this.store.update({ hasPassphrase: passphrase !== null });
    this.tabs.post({ type: 'passphrase' });
  }

  /** Locks this tab and every other tab of the profile. */
  async lock(): Promise<void> {
    if (!this.store.getState().hasPassphrase) throw new Error('Set a passphrase first.');
    await this.lifecycle.lockHere();
    this.tabs.post({ type: 'locked' });
  }
}
