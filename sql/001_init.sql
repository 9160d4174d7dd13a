-- 001_init: sessions, tool runs and their events.
-- Every row a client can name is keyed by session and bound to the principal that made it;
-- every lookup checks both. JSON is kept as text: jsonb refuses \u0000 escapes and would
-- reorder keys, and dmcp replays these bytes exactly as it wrote them.

CREATE TABLE dmcp_sessions (
    id          text PRIMARY KEY,                 -- 128 random bits, 32 lowercase hex
    principal   text NOT NULL,                    -- REMOTE_USER, or 'anonymous'
    protocol    text NOT NULL,                    -- negotiated MCP protocol version
    client_info text NOT NULL,                    -- initialize params.clientInfo (JSON)
    client_caps text NOT NULL,                    -- initialize params.capabilities (JSON)
    log_level   smallint NOT NULL DEFAULT 1,      -- logging/setLevel: 0 debug .. 7 emergency
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz                       -- DELETE or expiry; then every request is 404
);

CREATE TABLE dmcp_subscriptions (
    session_id  text NOT NULL REFERENCES dmcp_sessions(id) ON DELETE CASCADE,
    uri         text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, uri)
);

-- One row per tools/call. The tool's C function replays against journal at every step.
CREATE TABLE dmcp_runs (
    id             text PRIMARY KEY,              -- 128 random bits, 32 lowercase hex
    session_id     text NOT NULL REFERENCES dmcp_sessions(id) ON DELETE CASCADE,
    principal      text NOT NULL,
    request_id     text NOT NULL,                 -- the client's JSON-RPC id, as JSON text
    progress_token text,                          -- params._meta.progressToken as JSON, or NULL
    tool           text NOT NULL,
    tool_version   integer NOT NULL,
    arguments      text NOT NULL,                 -- JSON object
    status         text NOT NULL CHECK (status IN
                     ('running', 'waiting', 'completed', 'failed', 'cancelled')),
    journal        text NOT NULL DEFAULT '[]',    -- JSON array: one entry per effect
    notes          integer NOT NULL DEFAULT 0,    -- progress/log notifications emitted so far
    last_progress  double precision,              -- last progress value sent (strictly rising)
    last_lsn       bigint NOT NULL DEFAULT 0,     -- LSN of the newest event; events are 1..last_lsn
    pending_id     text,                          -- id of our request the run waits for, or NULL
    pending_method text,                          -- its method (elicitation/create, ...)
    steps          integer NOT NULL DEFAULT 0,    -- steps taken (for operators)
    lease_until    timestamptz,                   -- a 'running' run whose lease passed is orphaned
    error          text,                          -- why a run failed (for operators, not clients)
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dmcp_runs_by_request ON dmcp_runs (session_id, request_id);
CREATE INDEX dmcp_runs_unfinished ON dmcp_runs (session_id) WHERE status IN ('running', 'waiting');

-- The event log of each run: every message that goes to the client on the run's stream, in
-- order. LSNs are gap-free per run: a step locks the run row and appends last_lsn+1, +2, ...
CREATE TABLE dmcp_events (
    run_id     text NOT NULL REFERENCES dmcp_runs(id) ON DELETE CASCADE,
    lsn        bigint NOT NULL CHECK (lsn > 0),
    kind       text NOT NULL CHECK (kind IN ('notification', 'request', 'response', 'poll')),
    body       text NOT NULL,                     -- the JSON-RPC message ('' for poll)
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, lsn)
);

-- Operators' views.
CREATE VIEW dmcp_live_sessions AS
    SELECT id, principal, protocol, created_at, last_seen,
           (SELECT count(*) FROM dmcp_runs r WHERE r.session_id = s.id
              AND r.status IN ('running', 'waiting')) AS unfinished_runs
      FROM dmcp_sessions s
     WHERE ended_at IS NULL;

CREATE VIEW dmcp_waiting_runs AS
    SELECT id, session_id, principal, tool, pending_method, pending_id, steps, created_at,
           updated_at, now() - updated_at AS waiting_for
      FROM dmcp_runs
     WHERE status = 'waiting';

CREATE VIEW dmcp_recent_errors AS
    SELECT id, session_id, principal, tool, error, updated_at
      FROM dmcp_runs
     WHERE status = 'failed' AND updated_at > now() - interval '1 day'
     ORDER BY updated_at DESC;
