/**
 * Versioned SQLite schema. `PRAGMA user_version` records how many migrations ran; each runs in
 * its own transaction, so a crash mid-migration leaves the previous version intact. Never edit a
 * shipped migration: append a new one.
 * @module
 */
export const MIGRATIONS: readonly string[] = [
  // 1: accounts, devices, keys, queues, linking codes
  `
  CREATE TABLE accounts (
    account_id      TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    identity_key    TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    -- device ids are never reused, so an old session can never reach a new device
    next_device_id  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE devices (
    account_id      TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    device_id       INTEGER NOT NULL,
    registration_id INTEGER NOT NULL,
    name            TEXT,
    credential_hash BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    PRIMARY KEY (account_id, device_id)
  ) STRICT;

  -- Signed EC prekeys and Kyber last-resort keys: one current (retired_at NULL) per kind,
  -- plus retired ones kept until no queued envelope can still refer to them.
  CREATE TABLE signed_prekeys (
    account_id  TEXT NOT NULL,
    device_id   INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('ec', 'kyber')),
    key_id      INTEGER NOT NULL,
    public_key  TEXT NOT NULL,
    signature   TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL,
    retired_at  INTEGER,
    PRIMARY KEY (account_id, device_id, kind, key_id),
    FOREIGN KEY (account_id, device_id) REFERENCES devices (account_id, device_id) ON DELETE CASCADE
  ) STRICT;
  CREATE UNIQUE INDEX signed_prekeys_current
    ON signed_prekeys (account_id, device_id, kind) WHERE retired_at IS NULL;
  CREATE INDEX signed_prekeys_retired ON signed_prekeys (retired_at) WHERE retired_at IS NOT NULL;

  -- One-time prekeys; a row is deleted when handed out.
  CREATE TABLE one_time_prekeys (
    account_id TEXT NOT NULL,
    device_id  INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('ec', 'kyber')),
    key_id     INTEGER NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT,
    PRIMARY KEY (account_id, device_id, kind, key_id),
    FOREIGN KEY (account_id, device_id) REFERENCES devices (account_id, device_id) ON DELETE CASCADE
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE envelopes (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    account_id        TEXT NOT NULL,
    device_id         INTEGER NOT NULL,
    type              TEXT NOT NULL,
    source_account_id TEXT NOT NULL,
    source_device_id  INTEGER NOT NULL,
    timestamp         INTEGER NOT NULL,
    server_timestamp  INTEGER NOT NULL,
    content           BLOB NOT NULL,
    FOREIGN KEY (account_id, device_id) REFERENCES devices (account_id, device_id) ON DELETE CASCADE
  ) STRICT;
  CREATE INDEX envelopes_queue ON envelopes (account_id, device_id, seq);
  CREATE INDEX envelopes_expiry ON envelopes (server_timestamp);

  CREATE TABLE linking_codes (
    code_hash  BLOB PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX linking_codes_expiry ON linking_codes (expires_at);
  `,
  // 2: one record per idempotent send (sender device + client send id), kept for the retention
  // window like the envelopes it stored. No foreign key to the sender's device (a device removed
  // while its send is in flight must not fail the send); removeDevice and deleteAccount delete
  // the records instead.
  `
  CREATE TABLE sends (
    source_account_id TEXT NOT NULL,
    source_device_id  INTEGER NOT NULL,
    send_id           TEXT NOT NULL,
    server_timestamp  INTEGER NOT NULL,
    stored            INTEGER NOT NULL,
    PRIMARY KEY (source_account_id, source_device_id, send_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX sends_expiry ON sends (server_timestamp);
  `,
  // 3: tombstones of deleted accounts (the id alone: sends to it are answered "gone", never
  // "no such account") and usernames held after they were freed (held_for: the account that
  // renamed away from it may take it back; NULL after a deletion).
  `
  CREATE TABLE deleted_accounts (
    account_id TEXT PRIMARY KEY
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE username_holds (
    username   TEXT PRIMARY KEY,
    held_for   TEXT,
    hold_until INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX username_holds_expiry ON username_holds (hold_until);
  `,
  // 4: sealed sender. Envelopes sent sealed have no sender (NULL source columns; SQLite cannot
  // drop NOT NULL in place, so the table is rebuilt with the same rows, seq values and
  // AUTOINCREMENT high-water mark). The relay's signing keys (trust root and server key) live in
  // sealed_sender_keys (one row); accounts' unidentified-access keys only as SHA-256 hashes.
  `
  CREATE TABLE envelopes_v4 (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    account_id        TEXT NOT NULL,
    device_id         INTEGER NOT NULL,
    type              TEXT NOT NULL,
    source_account_id TEXT,
    source_device_id  INTEGER,
    timestamp         INTEGER NOT NULL,
    server_timestamp  INTEGER NOT NULL,
    content           BLOB NOT NULL,
    FOREIGN KEY (account_id, device_id) REFERENCES devices (account_id, device_id) ON DELETE CASCADE,
    CHECK ((source_account_id IS NULL) = (source_device_id IS NULL))
  ) STRICT;
  INSERT INTO envelopes_v4 SELECT * FROM envelopes;
  DELETE FROM sqlite_sequence WHERE name = 'envelopes_v4';
  INSERT INTO sqlite_sequence (name, seq)
    SELECT 'envelopes_v4', seq FROM sqlite_sequence WHERE name = 'envelopes';
  DROP TABLE envelopes;
  ALTER TABLE envelopes_v4 RENAME TO envelopes;
  CREATE INDEX envelopes_queue ON envelopes (account_id, device_id, seq);
  CREATE INDEX envelopes_expiry ON envelopes (server_timestamp);

  CREATE TABLE sealed_sender_keys (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    trust_root_private  BLOB NOT NULL,
    server_key_id       INTEGER NOT NULL,
    server_private      BLOB NOT NULL,
    server_certificate  BLOB NOT NULL,
    created_at          INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE unidentified_access (
    account_id TEXT PRIMARY KEY REFERENCES accounts (account_id) ON DELETE CASCADE,
    key_hash   BLOB NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
  // 5: attachment records (the blobs live in the blob store, never here). No foreign key to the
  // account: a deleted account's records stay until its blobs are deleted (the sweep finds them).
  `
  CREATE TABLE attachments (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL,
    size         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    completed_at INTEGER
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX attachments_account ON attachments (account_id);
  CREATE INDEX attachments_created ON attachments (created_at);
  `,
];
