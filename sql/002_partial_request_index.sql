-- 002_partial_request_index: the index that finds a run by its client request id serves
-- notifications/cancelled, which only concerns unfinished runs; a call finished in one step
-- (most calls) no longer pays for an entry in it.
DROP INDEX IF EXISTS dmcp_runs_by_request;
CREATE INDEX dmcp_runs_by_request ON dmcp_runs (session_id, request_id)
    WHERE status IN ('running', 'waiting');
