-- 003_live_runs_sessionless: runs without a session (the 2026-07-28 wire), an exact per-session
-- count of unfinished runs kept by the statements that change them, and server secrets.

-- A run of the sessionless wire has no session: it is bound to its principal alone, and a
-- client names it through a signed requestState.
ALTER TABLE dmcp_runs ALTER COLUMN session_id DROP NOT NULL;

-- Unfinished (running or waiting) runs of the session. The statement that inserts a run
-- increments it only while it is below DMCP_MAX_RUNS_PER_SESSION and the session is live (one
-- row lock, so concurrent calls cannot pass the limit); the statement that ends a run
-- decrements it; ending the session sets it to 0.
ALTER TABLE dmcp_sessions ADD COLUMN live_runs integer NOT NULL DEFAULT 0 CHECK (live_runs >= 0);
UPDATE dmcp_sessions s SET live_runs = (SELECT count(*) FROM dmcp_runs r
    WHERE r.session_id = s.id AND r.status IN ('running', 'waiting'))
 WHERE s.ended_at IS NULL;

-- Secrets the program keeps in the database when the environment gives none (the key that
-- signs requestState). Created by the first process that needs one; never sent to clients.
CREATE TABLE dmcp_secrets (
    name       text PRIMARY KEY,
    value      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Unfinished sessionless runs, by principal (limits, operators).
CREATE INDEX dmcp_runs_sessionless ON dmcp_runs (principal)
    WHERE session_id IS NULL AND status IN ('running', 'waiting');

CREATE OR REPLACE VIEW dmcp_live_sessions AS
    SELECT id, principal, protocol, created_at, last_seen, live_runs::bigint AS unfinished_runs
      FROM dmcp_sessions
     WHERE ended_at IS NULL;
