-- 0001_init: intents, their lifecycle state, audit trail and batches.
--
-- u64 values (amount, fee, slot, last_valid_block_height) are stored as the
-- INTEGER with the same 64 bits (two's-complement bit cast): every value
-- round-trips exactly, and values up to i64::MAX (all real lamport amounts)
-- read naturally in SQL. Values above i64::MAX show as negative in SQL and
-- must not be compared or summed there.

-- Append-only log of what was received. Never updated.
CREATE TABLE intents (
    id              BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 32),
    seq             INTEGER NOT NULL UNIQUE,
    signed          BLOB    NOT NULL,
    sender          BLOB    NOT NULL CHECK (length(sender) = 32),
    nonce_account   BLOB    NOT NULL CHECK (length(nonce_account) = 32),
    nonce_value     BLOB    NOT NULL CHECK (length(nonce_value) = 32),
    expiry          INTEGER NOT NULL,
    amount          INTEGER NOT NULL,
    fee             INTEGER NOT NULL,
    kind            INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 255),
    mint            BLOB             CHECK (mint IS NULL OR length(mint) = 32),
    received_at_ms  INTEGER NOT NULL,
    source          TEXT    NOT NULL
);

CREATE INDEX intents_nonce_account ON intents (nonce_account, seq);
CREATE INDEX intents_expiry ON intents (expiry);

-- Current lifecycle state, one row per intent.
CREATE TABLE intent_state (
    id             BLOB    NOT NULL PRIMARY KEY REFERENCES intents (id),
    status         TEXT    NOT NULL CHECK (status IN
                       ('pending', 'queued', 'submitted',
                        'settled', 'rejected', 'expired', 'conflict')),
    reason         TEXT,
    signature      TEXT,
    slot           INTEGER,
    batch_id       INTEGER,
    attempts       INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    updated_at_ms  INTEGER NOT NULL
);

CREATE INDEX intent_state_status ON intent_state (status);

-- One row per insertion and per applied transition.
CREATE TABLE audit_log (
    audit_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    intent_id    BLOB    NOT NULL REFERENCES intents (id),
    from_status  TEXT,
    to_status    TEXT    NOT NULL,
    reason       TEXT,
    signature    TEXT,
    actor        TEXT    NOT NULL,
    at_ms        INTEGER NOT NULL
);

CREATE INDEX audit_log_intent ON audit_log (intent_id, audit_id);

-- One logical transaction; it may be re-signed (see batch_signatures).
CREATE TABLE batches (
    batch_id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    state                    TEXT    NOT NULL CHECK (state IN
                                 ('open', 'sent', 'landed', 'failed', 'dropped')),
    signature                TEXT,
    blockhash                TEXT,
    last_valid_block_height  INTEGER,
    created_at_ms            INTEGER NOT NULL,
    updated_at_ms            INTEGER NOT NULL,
    error                    TEXT
);

CREATE INDEX batches_state ON batches (state);

CREATE TABLE batch_intents (
    batch_id   INTEGER NOT NULL REFERENCES batches (batch_id),
    position   INTEGER NOT NULL,
    intent_id  BLOB    NOT NULL REFERENCES intents (id),
    PRIMARY KEY (batch_id, position)
);

CREATE INDEX batch_intents_intent ON batch_intents (intent_id);

-- Every signature ever sent for a batch, in sending order (rowid).
CREATE TABLE batch_signatures (
    signature                TEXT    NOT NULL PRIMARY KEY,
    batch_id                 INTEGER NOT NULL REFERENCES batches (batch_id),
    blockhash                TEXT,
    last_valid_block_height  INTEGER,
    sent_at_ms               INTEGER NOT NULL
);

CREATE INDEX batch_signatures_batch ON batch_signatures (batch_id);
