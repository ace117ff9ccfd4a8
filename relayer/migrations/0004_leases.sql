-- 0004_leases: who drives each batch and until when.
--
-- `owner` is the relayer instance driving the batch and `lease_until_ms` how long that claim
-- holds without renewal; a lapsed lease may be taken over (after a crash, by the restarted
-- instance or another one sharing the store). `takeovers` counts takeovers by another owner.
-- Batches left by an older relayer have no owner: the first sweep takes them over.

ALTER TABLE batches ADD COLUMN owner TEXT;
ALTER TABLE batches ADD COLUMN lease_until_ms INTEGER;
ALTER TABLE batches ADD COLUMN takeovers INTEGER NOT NULL DEFAULT 0;
