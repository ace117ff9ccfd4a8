-- 0003_seq_keys: key the state table and the audit trail by the intent's arrival order.
--
-- An intent id is a SHA-256 digest, so an index keyed by it takes each new intent at a
-- random page. Until now three did (`intents.id`, `intent_state.id` and `audit_log`'s
-- `(intent_id, audit_id)`), and a group commit of N new intents dirtied about N pages in
-- each of them, all of which the commit writes to the WAL. `seq` grows with arrival, so
-- keyed by it the state and audit rows of one group sit on a few adjacent pages. Only
-- `intents.id`, the idempotency lookup, stays keyed by id; every lookup by id goes through
-- it (`intents.id` → `seq`). The `id` and `intent_id` columns stay, unindexed, for people
-- reading the database by hand.

CREATE TABLE intent_state_v3 (
    seq            INTEGER NOT NULL PRIMARY KEY REFERENCES intents (seq),
    id             BLOB    NOT NULL CHECK (length(id) = 32),
    status         TEXT    NOT NULL CHECK (status IN
                       ('pending', 'queued', 'submitted',
                        'settled', 'rejected', 'expired', 'conflict')),
    reason         TEXT,
    signature      TEXT,
    slot           INTEGER,
    batch_id       INTEGER,
    attempts       INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    updated_at_ms  INTEGER NOT NULL,
    expiry         INTEGER NOT NULL DEFAULT 0
);

INSERT INTO intent_state_v3
    (seq, id, status, reason, signature, slot, batch_id, attempts, updated_at_ms, expiry)
SELECT i.seq, s.id, s.status, s.reason, s.signature, s.slot, s.batch_id, s.attempts,
       s.updated_at_ms, s.expiry
FROM intent_state s JOIN intents i ON i.id = s.id;

DROP TABLE intent_state;
ALTER TABLE intent_state_v3 RENAME TO intent_state;

CREATE INDEX intent_state_status ON intent_state (status);
CREATE INDEX intent_state_open_expiry ON intent_state (expiry)
    WHERE status IN ('pending', 'queued');

CREATE TABLE audit_log_v3 (
    audit_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    intent_seq   INTEGER NOT NULL REFERENCES intents (seq),
    intent_id    BLOB    NOT NULL CHECK (length(intent_id) = 32),
    from_status  TEXT,
    to_status    TEXT    NOT NULL,
    reason       TEXT,
    signature    TEXT,
    actor        TEXT    NOT NULL,
    at_ms        INTEGER NOT NULL
);

INSERT INTO audit_log_v3
    (audit_id, intent_seq, intent_id, from_status, to_status, reason, signature, actor, at_ms)
SELECT a.audit_id, i.seq, a.intent_id, a.from_status, a.to_status, a.reason, a.signature,
       a.actor, a.at_ms
FROM audit_log a JOIN intents i ON i.id = a.intent_id
ORDER BY a.audit_id;

DROP TABLE audit_log;
ALTER TABLE audit_log_v3 RENAME TO audit_log;

CREATE INDEX audit_log_intent ON audit_log (intent_seq, audit_id);

-- Nothing reads intents by expiry since 0002 (the sweep uses intent_state_open_expiry), and
-- every insert paid for this index.
DROP INDEX IF EXISTS intents_expiry;
