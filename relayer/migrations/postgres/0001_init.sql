-- 0001_init (PostgreSQL): intents, their lifecycle state, audit trail, batches and the leases
-- under which several relayer instances share them.
--
-- The same model as the SQLite schema (relayer/migrations/000*.sql, in its final shape):
-- u64 values (amount, fee, slot, last_valid_block_height) are stored as the BIGINT with the
-- same 64 bits (two's-complement bit cast), so every value round-trips exactly; values above
-- i64::MAX read as negative in SQL and must not be compared or summed there.

-- Append-only log of what was received (a trigger below refuses UPDATE and DELETE).
-- `seq` is the arrival order: the lower `seq` wins a nonce conflict.
CREATE TABLE intents (
    seq             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              BYTEA   NOT NULL UNIQUE CHECK (length(id) = 32),
    signed          BYTEA   NOT NULL,
    sender          BYTEA   NOT NULL CHECK (length(sender) = 32),
    nonce_account   BYTEA   NOT NULL CHECK (length(nonce_account) = 32),
    nonce_value     BYTEA   NOT NULL CHECK (length(nonce_value) = 32),
    expiry          BIGINT  NOT NULL,
    amount          BIGINT  NOT NULL,
    fee             BIGINT  NOT NULL,
    kind            SMALLINT NOT NULL CHECK (kind BETWEEN 0 AND 255),
    mint            BYTEA            CHECK (mint IS NULL OR length(mint) = 32),
    received_at_ms  BIGINT  NOT NULL,
    source          TEXT    NOT NULL
);

CREATE FUNCTION toss_intents_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the intent log is append-only (% refused)', TG_OP;
END $$;

CREATE TRIGGER intents_append_only BEFORE UPDATE OR DELETE ON intents
    FOR EACH ROW EXECUTE FUNCTION toss_intents_append_only();

-- Current lifecycle state, one row per intent, keyed by arrival order. `expiry` and
-- `nonce_account` are copies of the intent's, so the expiry sweep and the per-nonce claim
-- rule read one table through partial indexes that hold only open intents.
CREATE TABLE intent_state (
    seq            BIGINT  NOT NULL PRIMARY KEY REFERENCES intents (seq),
    id             BYTEA   NOT NULL CHECK (length(id) = 32),
    status         TEXT    NOT NULL CHECK (status IN
                       ('pending', 'queued', 'submitted',
                        'settled', 'rejected', 'expired', 'conflict')),
    reason         TEXT,
    signature      TEXT,
    slot           BIGINT,
    batch_id       BIGINT,
    attempts       BIGINT  NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 4294967295),
    updated_at_ms  BIGINT  NOT NULL,
    expiry         BIGINT  NOT NULL,
    nonce_account  BYTEA   NOT NULL CHECK (length(nonce_account) = 32)
);

CREATE INDEX intent_state_status ON intent_state (status, seq);
CREATE INDEX intent_state_open_expiry ON intent_state (expiry)
    WHERE status IN ('pending', 'queued');
CREATE INDEX intent_state_open_nonce ON intent_state (nonce_account, seq)
    WHERE status IN ('pending', 'queued', 'submitted');

-- One row per insertion and per applied transition.
CREATE TABLE audit_log (
    audit_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    intent_seq   BIGINT NOT NULL REFERENCES intents (seq),
    intent_id    BYTEA  NOT NULL CHECK (length(intent_id) = 32),
    from_status  TEXT,
    to_status    TEXT   NOT NULL,
    reason       TEXT,
    signature    TEXT,
    actor        TEXT   NOT NULL,
    at_ms        BIGINT NOT NULL
);

CREATE INDEX audit_log_intent ON audit_log (intent_seq, audit_id);

-- One logical transaction; it may be re-signed (see batch_signatures). `owner` is the
-- relayer instance driving it and `lease_until_ms` (database clock) how long that claim
-- holds without renewal; a lapsed lease may be taken over by another instance.
CREATE TABLE batches (
    batch_id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state                    TEXT   NOT NULL CHECK (state IN
                                 ('open', 'sent', 'landed', 'failed', 'dropped')),
    signature                TEXT,
    blockhash                TEXT,
    last_valid_block_height  BIGINT,
    created_at_ms            BIGINT NOT NULL,
    updated_at_ms            BIGINT NOT NULL,
    error                    TEXT,
    owner                    TEXT,
    lease_until_ms           BIGINT,
    takeovers                INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX batches_unfinished ON batches (lease_until_ms, batch_id)
    WHERE state IN ('open', 'sent');

CREATE TABLE batch_intents (
    batch_id   BIGINT  NOT NULL REFERENCES batches (batch_id),
    position   INTEGER NOT NULL,
    intent_id  BYTEA   NOT NULL REFERENCES intents (id),
    PRIMARY KEY (batch_id, position),
    UNIQUE (batch_id, intent_id)
);

CREATE INDEX batch_intents_intent ON batch_intents (intent_id);

-- Every signature ever sent for a batch, in sending order.
CREATE TABLE batch_signatures (
    sent_order               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    signature                TEXT   NOT NULL UNIQUE,
    batch_id                 BIGINT NOT NULL REFERENCES batches (batch_id),
    blockhash                TEXT,
    last_valid_block_height  BIGINT,
    sent_at_ms               BIGINT NOT NULL
);

CREATE INDEX batch_signatures_batch ON batch_signatures (batch_id, sent_order);
