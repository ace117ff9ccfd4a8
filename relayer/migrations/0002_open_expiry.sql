-- 0002_open_expiry: expire due intents without scanning the open ones.
--
-- The sweep asks "which pending or queued intents are past their expiry?" many times a
-- second. 0001 answered by joining every open intent with the intent log; with a large
-- backlog that scan held the writer for tens of milliseconds. The expiry now sits beside the
-- status, and a partial index holds only open intents, ordered by expiry.

ALTER TABLE intent_state ADD COLUMN expiry INTEGER NOT NULL DEFAULT 0;

UPDATE intent_state SET expiry = (SELECT i.expiry FROM intents i WHERE i.id = intent_state.id);

CREATE INDEX intent_state_open_expiry ON intent_state (expiry)
    WHERE status IN ('pending', 'queued');
