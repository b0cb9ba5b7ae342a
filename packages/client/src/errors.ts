/**
 * Every error the client core throws. Each has a stable `code` a UI maps to words; none carries
 * key material. Relay failures keep their own classes (relay/http.ts) with the relay's codes.
 * @module
 */

export type ClientErrorCode =
  | 'not_registered'
  | 'already_registered'
  | 'no_relay'
  | 'identity_changed'
  | 'unknown_identity'
  | 'safety_number_mismatch'
  | 'not_group_member'
  /** The account was deleted (the relay answered "gone"). */
  | 'account_gone'
  | 'unknown_group'
  /** Only a group admin may do that (groups/admins.ts). */
  | 'not_group_admin'
  /** The contact is blocked: unblock them first. */
  | 'blocked'
  | 'no_devices'
  | 'devices_unstable'
  | 'too_large'
  /** An attachment's upload failed (`AttachmentUploadError.failure` says why). */
  | 'upload_failed'
  | 'invalid_argument'
  | 'not_retryable'
  /** A reply, reaction, edit or deletion names a message that is not in the conversation. */
  | 'message_not_found'
  /** An edit or deletion for everyone outside its rules (not ours, too old, too many edits). */
  | 'not_allowed'
  /** The storage was closed, or a transaction used after it finished. */
  | 'storage_closed'
  /** The profile is locked with a passphrase, or the passphrase is wrong. */
  | 'locked'
  | 'wrong_passphrase'
  /** The platform lacks something the client needs (WebSocket, Web Locks). */
  | 'unsupported_platform'
  | 'provisioning_failed'
  /** Sealed sender is not set up (no pinned trust root yet): retried later. */
  | 'sealed_unavailable';

/** Base class: `code` says what went wrong, `message` says it in English for logs. */
export class ClientError extends Error {
  override readonly name: string = 'ClientError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export class IdentityChangedError extends ClientError {
  override readonly name = 'IdentityChangedError';
  /** Every account whose safety number changed (a group send names all of them). */
  readonly accountIds: string[];
  constructor(
    /** The (first) account whose safety number changed. */
    readonly accountId: string,
    accountIds: string[] = [accountId],
  ) {
    super(
      'identity_changed',
      `the safety number with ${accountIds.join(', ')} changed; acknowledge it before sending`,
    );
    this.accountIds = accountIds;
  }
}

export class NotRegisteredError extends ClientError {
  override readonly name = 'NotRegisteredError';
  constructor() {
    super('not_registered', 'this device has no account: register or link first');
  }
}

/** We are not (or no longer) a member of the group, or it does not exist here. */
export class GroupMembershipError extends ClientError {
  override readonly name = 'GroupMembershipError';
  constructor(
    readonly groupId: string,
    known: boolean,
  ) {
    super(
      known ? 'not_group_member' : 'unknown_group',
      known ? `not a member of group ${groupId}` : `no such group ${groupId}`,
    );
  }
}

/** The recipient's account was deleted: nothing is sent to it again. */
export class AccountGoneError extends ClientError {
  override readonly name = 'AccountGoneError';
  constructor(readonly accountIds: string[]) {
    super('account_gone', `account ${accountIds.join(', ')} was deleted`);
  }
}

/** Only an admin of the group may add, remove, rename or make admins. */
export class GroupAdminError extends ClientError {
  override readonly name = 'GroupAdminError';
  constructor(readonly groupId: string) {
    super('not_group_admin', `only an admin of group ${groupId} may do that`);
  }
}

/** The contact is blocked; unblock them before writing to them. */
export class BlockedContactError extends ClientError {
  override readonly name = 'BlockedContactError';
  constructor(readonly accountId: string) {
    super('blocked', `${accountId} is blocked; unblock them first`);
  }
}
