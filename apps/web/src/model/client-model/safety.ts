/**
 * Safety numbers: showing one (digits and the QR code's content), marking it verified, and
 * accepting a contact's changed identity key.
 * @module
 */
import { toBase64Url } from '../../lib/base64url.ts';
import type { SafetyNumber } from '../types.ts';
import type { ActiveClient } from './active-client.ts';
import type { Snapshot } from './snapshot.ts';

export class SafetyActions {
  constructor(
    private readonly active: ActiveClient,
    private readonly snapshot: Snapshot,
  ) {}

  async safetyNumber(accountId: string): Promise<SafetyNumber> {
    const client = this.active.require();
    const [{ digits, scannable }, contact] = await Promise.all([
      client.safetyNumber(accountId),
      client.contact(accountId),
    ]);
    return {
      accountId,
      username: contact?.username ?? accountId,
      digits,
      scannable: toBase64Url(scannable),
      verified: contact?.verified ?? false,
    };
  }

  async setVerified(accountId: string, verified: boolean): Promise<void> {
    // Bound to the current identity key; refused while a changed key awaits acceptance.
    await this.active.require().setVerified(accountId, verified);
    await this.snapshot.refresh();
  }

  async acceptIdentityChange(accountId: string): Promise<void> {
    await this.active.require().acknowledgeIdentity(accountId);
    await this.snapshot.refresh();
  }
}
