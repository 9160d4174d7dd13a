-- 008_tasks: time as data. Tasks (MCP tasks are runs bound to their principal), due times
-- (durable timers, answer deadlines, a task's background steps) and expiry (a finished run's
-- events are kept for a retention period, then `sweep` leaves a tombstone).

-- A task is a run that its client polls by id (the run id) instead of following a stream. It
-- belongs to its principal, not to a session: session_id is NULL, so that DELETE of the
-- session that created it, or a re-initialize, leaves it alone.
ALTER TABLE dmcp_runs ADD COLUMN task boolean NOT NULL DEFAULT false;
-- Started on the 2026-07-28 wire (its input requests are listed by tasks/get, not pushed).
ALTER TABLE dmcp_runs ADD COLUMN modern boolean NOT NULL DEFAULT false;
-- What a step that no request carries needs of the client (JSON: caps, protocol, level);
-- NULL: the session's (a run of a session).
ALTER TABLE dmcp_runs ADD COLUMN client text;
-- A task's retention in milliseconds from created_at (DMCP_TASK_TTL at most).
ALTER TABLE dmcp_runs ADD COLUMN ttl_ms bigint CHECK (ttl_ms > 0);
-- When the run is due for its next step without the client: a timer (dmcp_sleep), an answer's
-- deadline (dmcp_deadline), a task that goes on in the background. Whichever process is up
-- claims it (UPDATE ... FOR UPDATE SKIP LOCKED): a FastCGI process's scheduler, or `sweep`.
ALTER TABLE dmcp_runs ADD COLUMN due_at timestamptz;
-- Set by `sweep` once the retention passed (DMCP_RETENTION after the run finished, or a task's
-- TTL after it was created): the events are deleted and the journal emptied, the row stays as
-- a tombstone so that a client naming the run learns that it expired.
ALTER TABLE dmcp_runs ADD COLUMN expired_at timestamptz;

-- The due runs, soonest first (the scheduler's and sweep's claims, and the next wake-up).
CREATE INDEX dmcp_runs_due ON dmcp_runs (due_at) WHERE due_at IS NOT NULL;
-- tasks/list: a principal's tasks in creation order.
CREATE INDEX dmcp_runs_tasks ON dmcp_runs (principal, created_at, id) WHERE task;
-- Expiry: finished runs not yet expired, oldest first.
CREATE INDEX dmcp_runs_expiring ON dmcp_runs (updated_at)
    WHERE expired_at IS NULL AND status IN ('completed', 'failed', 'cancelled');

-- Operators' views.
CREATE VIEW dmcp_tasks AS
    SELECT id AS task_id, principal, tool, status, pending_method, error, created_at,
           updated_at, created_at + ttl_ms * interval '1 millisecond' AS expires_at, due_at,
           expired_at IS NOT NULL AS expired
      FROM dmcp_runs
     WHERE task;

CREATE VIEW dmcp_timers AS
    SELECT id, session_id, principal, tool, task, pending_method, due_at,
           due_at - now() AS due_in
      FROM dmcp_runs
     WHERE due_at IS NOT NULL AND status = 'waiting';
