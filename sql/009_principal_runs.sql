-- 009_principal_runs: DMCP_MAX_RUNS_PER_PRINCIPAL, the unfinished (running or waiting) runs
-- one principal may hold, counted when a run is first saved.

-- Unfinished runs by principal: the count reads only these.
CREATE INDEX IF NOT EXISTS dmcp_runs_unfinished_by_principal ON dmcp_runs (principal)
    WHERE status IN ('running', 'waiting');

-- Whether the principal holds fewer than max unfinished runs, asked by the insert of a run
-- (one statement). First a transaction-level advisory lock on the principal (class 7368303,
-- the hash of its name), then the count. The function is VOLATILE and PL/pgSQL, so its
-- SELECT takes a snapshot of its own after the lock was granted, not the calling statement's:
-- an insert of the same principal that held the lock before has committed (the lock goes
-- with its transaction) and is counted. So the limit is exact under concurrency at READ
-- COMMITTED, which is what dmcp uses.
CREATE OR REPLACE FUNCTION dmcp_principal_runs_below(p text, max integer) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7368303, hashtext(p));
    SELECT count(*) INTO n FROM dmcp_runs WHERE principal = p AND status IN ('running', 'waiting');
    RETURN n < max;
END
$$;
