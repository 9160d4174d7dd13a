-- 007_sweep: indexes for the sweep, which works in batches (FOR UPDATE SKIP LOCKED) and must
-- find its rows without reading whole tables, and for deleting a session's runs.

-- Live sessions by idleness (ending idle sessions), ended ones by age (deleting them).
CREATE INDEX IF NOT EXISTS dmcp_sessions_idle ON dmcp_sessions (last_seen) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS dmcp_sessions_ended ON dmcp_sessions (ended_at) WHERE ended_at IS NOT NULL;

-- Every run of a session: deleting a session deletes its runs (ON DELETE CASCADE), which
-- needs them found by session; the older indexes cover unfinished runs only.
CREATE INDEX IF NOT EXISTS dmcp_runs_by_session ON dmcp_runs (session_id);

-- Finished runs by age (DMCP_RUN_RETENTION), and sessionless runs by age (DMCP_SESSION_TTL).
CREATE INDEX IF NOT EXISTS dmcp_runs_finished ON dmcp_runs (updated_at)
    WHERE status IN ('completed', 'failed', 'cancelled');
CREATE INDEX IF NOT EXISTS dmcp_runs_sessionless_age ON dmcp_runs (updated_at) WHERE session_id IS NULL;
