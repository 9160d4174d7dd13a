-- 006_auth: bearer tokens made by `dmcp.fcgi token create`, an index for counting the live
-- sessions of a principal (DMCP_MAX_SESSIONS_PER_PRINCIPAL), and the scopes a run's caller was
-- granted.

-- A token is kept only as its SHA-256: whoever reads this table cannot sign in with it. A
-- request looks its token up by hash (the unique index), once per request, so a revoked
-- or expired token stops working at the next request of any worker.
CREATE TABLE dmcp_tokens (
    id          text PRIMARY KEY,                 -- 64 random bits, 16 lowercase hex: names it
    hash        text NOT NULL UNIQUE,             -- SHA-256 of the token, 64 lowercase hex
    principal   text NOT NULL,                    -- who it signs in as
    scopes      text NOT NULL DEFAULT '',         -- what it grants, space-separated
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,                      -- NULL: never
    revoked_at  timestamptz                       -- `token revoke`; then it is refused
);

-- Live sessions by principal: DMCP_MAX_SESSIONS_PER_PRINCIPAL counts them when a session is
-- made (under a lock on the principal, in the insert's transaction).
CREATE INDEX dmcp_sessions_live_by_principal ON dmcp_sessions (principal) WHERE ended_at IS NULL;

-- The scopes the caller of a run was granted when it began (a JWT's scope claim, a token's
-- --scope; '' with REMOTE_USER): fixed for the run, so every step of it sees the same.
ALTER TABLE dmcp_runs ADD COLUMN scopes text NOT NULL DEFAULT '';
