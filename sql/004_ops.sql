-- 004_ops: views an exporter (or an operator with psql) reads: tool calls, failures and
-- durations per tool over a window, waiting runs per tool, the oldest waiting run.
-- They read dmcp_runs, which holds a call only once it outlived its first step (or every call
-- with DMCP_RECORD_CALLS=all): calls answered in one step are missing here, and the program's
-- metrics page (DMCP_METRICS_PATH, dmcp_tool_calls_total) counts them instead.

-- Per tool, the calls that ended within the window: how many, how many failed or were
-- cancelled, and the 95th percentile of their durations (from the call to its end, time
-- spent waiting for the client included), in milliseconds. Reads every finished run of the
-- window (no index serves updated_at: a save must stay one cheap statement).
CREATE FUNCTION dmcp_tool_stats_over(win interval)
RETURNS TABLE (tool text, calls bigint, failures bigint, cancelled bigint, p95_ms double precision)
LANGUAGE sql STABLE AS $$
    SELECT tool, count(*), count(*) FILTER (WHERE status = 'failed'),
           count(*) FILTER (WHERE status = 'cancelled'),
           percentile_cont(0.95) WITHIN GROUP
               (ORDER BY extract(epoch FROM updated_at - created_at) * 1000)
      FROM dmcp_runs
     WHERE status IN ('completed', 'failed', 'cancelled') AND updated_at > now() - win
     GROUP BY tool
$$;

-- The same over the last hour.
CREATE VIEW dmcp_tool_stats AS
    SELECT * FROM dmcp_tool_stats_over(interval '1 hour');

-- Runs waiting for their client, per tool, with the oldest's wait (since its last step).
CREATE VIEW dmcp_waiting_by_tool AS
    SELECT tool, count(*) AS waiting, min(updated_at) AS oldest_since,
           extract(epoch FROM now() - min(updated_at))::bigint AS oldest_age_s
      FROM dmcp_runs
     WHERE status = 'waiting'
     GROUP BY tool;

-- The run that has waited longest (no row when none waits).
CREATE VIEW dmcp_oldest_waiting AS
    SELECT id, tool, session_id, principal, pending_method, updated_at AS waiting_since,
           extract(epoch FROM now() - updated_at)::bigint AS age_s
      FROM dmcp_runs
     WHERE status = 'waiting'
     ORDER BY updated_at, id
     LIMIT 1;
