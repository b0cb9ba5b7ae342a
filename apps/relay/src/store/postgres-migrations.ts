/**
 * Versioned PostgreSQL schema. `parley_schema_migrations` records each version applied; all
 * pending migrations run in one transaction under an advisory lock, so several relay nodes
 * starting at once migrate exactly once and a failed migration leaves the previous version.
 * Never edit a shipped migration: append a new one.
 * @module
 */
export const PG_MIGRATIONS: readonly string[] = [
  // 1: accounts, devices, keys, queues, linking codes (the same model as the SQLite schema)
  `
  CREATE TABLE accounts (
    account_id      TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    identity_key    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    -- device ids are never reused, so an old session can never reach a new device
    next_device_id  INTEGER NOT NULL
  );

  CREATE TABLE devices (
    account_id      TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    device_id       INTEGER NOT NULL,
    registration_id INTEGER NOT NULL,
    name            TEXT,
    credential_hash BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, device_id)
  );

  CREATE TABLE signed_prekeys (
    account_id  TEXT NOT NULL,
    device_id   INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('ec', 'kyber')),
    key_id      INTEGER NOT NULL,
    public_key  TEXT NOT NULL,
    signature   TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    retired_at  BIGINT,
    PRIMARY KEY (account_id, device_id, kind, key_id),
    FOREIGN KEY (account_id, device_id) REFERENCES devices (account_id, device_id) ON DELETE CASCADE
  );
  CREATE UNIQUE INDEX signed_prekeys_current
    ON signed_prekeys (account_id, device_id, kind) WHERE retired_at IS NULL;
  CREATE INDEX signed_prekeys_retired ON signed_prekeys (retired_at) WHERE retired_at IS NOT NULL;

  CREATE TABLE one_time_prekeys (
    account_id TEXT NOT NULL,
    device_id  INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('ec', 'kyber')),
    key_id     INTEGER NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT,
    PRIMARY KEY (account_id, device_id, kind, key_id),
    FOREIGN KEY (account_id, device_id) REFERENCES devices (account_id, device_id) ON DELETE CASCADE
  );

  CREATE TABLE envelopes (
    seq               BIGSERIAL PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    account_id        TEXT NOT NULL,
    device_id         INTEGER NOT NULL,
    type              TEXT NOT NULL,
    source_account_id TEXT NOT NULL,
    source_device_id  INTEGER NOT NULL,
    timestamp         BIGINT NOT NULL,
    server_timestamp  BIGINT NOT NULL,
    content           BYTEA NOT NULL,
    FOREIGN KEY (account_id, device_id) REFERENCES devices (account_id, device_id) ON DELETE CASCADE
  );
  CREATE INDEX envelopes_queue ON envelopes (account_id, device_id, seq);
  CREATE INDEX envelopes_expiry ON envelopes (server_timestamp);

  CREATE TABLE linking_codes (
    code_hash  BYTEA PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX linking_codes_account ON linking_codes (account_id);
  CREATE INDEX linking_codes_expiry ON linking_codes (expires_at);
  `,
  // 2: one record per idempotent send (sender device + client send id), kept for the retention
  // window like the envelopes it stored. No foreign key to the sender's device: its KEY SHARE
  // lock would conflict with enqueues locking that device FOR UPDATE (deadlock between two
  // accounts sending to each other); removeDevice and deleteAccount delete the records instead.
  `
  CREATE TABLE sends (
    source_account_id TEXT NOT NULL,
    source_device_id  INTEGER NOT NULL,
    send_id           TEXT NOT NULL,
    server_timestamp  BIGINT NOT NULL,
    stored            INTEGER NOT NULL,
    PRIMARY KEY (source_account_id, source_device_id, send_id)
  );
  CREATE INDEX sends_expiry ON sends (server_timestamp);
  `,
  // 3: tombstones of deleted accounts and held usernames (see the SQLite migration 3).
  `
  CREATE TABLE deleted_accounts (
    account_id TEXT PRIMARY KEY
  );

  CREATE TABLE username_holds (
    username   TEXT PRIMARY KEY,
    held_for   TEXT,
    hold_until BIGINT NOT NULL
  );
  CREATE INDEX username_holds_expiry ON username_holds (hold_until);
  `,
  // 4: sealed sender (as in the SQLite schema): envelopes sent sealed have no sender; the
  // relay's signing keys in one row; accounts' unidentified-access keys as SHA-256 hashes only.
  `
  ALTER TABLE envelopes ALTER COLUMN source_account_id DROP NOT NULL,
                        ALTER COLUMN source_device_id DROP NOT NULL,
    ADD CONSTRAINT envelopes_source_both
      CHECK ((source_account_id IS NULL) = (source_device_id IS NULL));

  CREATE TABLE sealed_sender_keys (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    trust_root_private  BYTEA NOT NULL,
    server_key_id       BIGINT NOT NULL,
    server_private      BYTEA NOT NULL,
    server_certificate  BYTEA NOT NULL,
    created_at          BIGINT NOT NULL
  );

  CREATE TABLE unidentified_access (
    account_id TEXT PRIMARY KEY REFERENCES accounts (account_id) ON DELETE CASCADE,
    key_hash   BYTEA NOT NULL
  );
  `,
  // 5: attachment records (as in the SQLite migration 5).
  `
  CREATE TABLE attachments (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    completed_at BIGINT
  );
  CREATE INDEX attachments_account ON attachments (account_id);
  CREATE INDEX attachments_created ON attachments (created_at);
  `,
  // 6: every enqueue bumps its devices' stamp, so a one-statement enqueue can tell that another
  // one committed to a device after its snapshot (it then counted that queue stale). PostgreSQL
  // 11+ adds a column with a constant default without rewriting the table.
  `
  ALTER TABLE devices ADD COLUMN enqueue_stamp BIGINT NOT NULL DEFAULT 0;
  `,
];
