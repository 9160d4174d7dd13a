/* cfg.h — process configuration, read once from the environment before serving.
 * Knows nothing of requests. Every field has a default; README lists them all. */
#ifndef DMCP_CFG_H
#define DMCP_CFG_H

#include <stddef.h>
#include "dmcp.h"
#include "scope.h"

/* Entries in an allowlist (hosts or origins): more would be a configuration mistake. */
#define CFG_MAX_ALLOW 32
/* Bytes of one allowlist entry ("https://" + a DNS name + ":port"). */
#define CFG_ALLOW_LEN 300

/* Authentication methods in DMCP_AUTH: each may appear once. */
#define CFG_MAX_AUTH 3
/* Authorization servers listed in the protected-resource metadata. */
#define CFG_MAX_AS 8
/* Bytes of a URL setting (DMCP_RESOURCE) and of a path (DMCP_JWKS_FILE). */
#define CFG_URL_LEN 2048

/* How a request is authenticated (DMCP_AUTH lists them, tried in order). */
enum cfg_auth {
	CFG_AUTH_REMOTE_USER, /* the web server's REMOTE_USER */
	CFG_AUTH_TOKEN,       /* an opaque bearer token made by `dmcp.fcgi token create` */
	CFG_AUTH_JWT          /* a JWT access token from an OAuth authorization server */
};
/* Bytes of a path setting (DMCP_METRICS_PATH). */
#define CFG_PATH_LEN 256

/* When a committed step rings the run's doorbell (NOTIFY). */
enum cfg_notify {
	CFG_NOTIFY_AUTO,   /* after the commit, unless the run is new (nobody can follow it) */
	CFG_NOTIFY_ALWAYS  /* after every commit with events or a new status */
};

struct cfg {
	char *database_url;   /* DMCP_DATABASE_URL: libpq conninfo ("" = libpq defaults); owned */
	char *listen_url;     /* DMCP_LISTEN_URL: the listener's conninfo, a direct connection
	                         when the workers go through a pooler (default: the same as
	                         database_url); owned */
	int pooled;           /* DMCP_POOLER=transaction: workers reach PostgreSQL through a
	                         pooler in transaction mode (see store_cfg.pooled) */
	int start_timeout_s;  /* DMCP_START_TIMEOUT: seconds a FastCGI server waits for its
	                         database (and the right migrations) at start, then exits 1 */
	int statement_timeout_ms; /* DMCP_STATEMENT_TIMEOUT_MS: statement_timeout of workers */
	int lock_timeout_ms;  /* DMCP_LOCK_TIMEOUT_MS: lock_timeout of workers */
	int lease_s;          /* DMCP_LEASE_S: seconds a stepping run stays its worker's without
	                         a renewal (the listener renews every third of it) */
	int step_max_ms;      /* DMCP_STEP_MAX_MS: wall time of one step (0: none); past it the
	                         tool's effects fail with DMCP_E_TIMEOUT and the call fails */
	int write_timeout_ms; /* DMCP_WRITE_TIMEOUT_MS: a write to the web server that blocks
	                         this long ends the request (a client that does not read) */
	int max_subs;         /* DMCP_MAX_SUBSCRIPTIONS: resource subscriptions per session */
	int retention_s;      /* DMCP_RUN_RETENTION: seconds `sweep` keeps finished runs of live
	                         sessions (0: while the session lives) */
	int threads;          /* DMCP_THREADS: worker threads, each with one PG connection */
	size_t max_body;      /* DMCP_MAX_BODY: request body bytes; larger is refused with 413 */
	int hold_ms;          /* DMCP_STREAM_HOLD_MS: how long one connection may follow a run
	                         before it ends with retry: and the client resumes */
	int heartbeat_ms;     /* DMCP_HEARTBEAT_MS: SSE comment interval on a quiet stream */
	int poll_ms;          /* DMCP_POLL_MS: re-read the events table at least this often,
	                         NOTIFY or not */
	int retry_ms;         /* DMCP_RETRY_MS: the SSE retry: value sent before a close */
	int session_ttl_s;    /* DMCP_SESSION_TTL: idle seconds before `sweep` ends a session */
	int max_runs;         /* DMCP_MAX_RUNS_PER_SESSION: unfinished runs one session may hold */
	int max_events;       /* DMCP_MAX_EVENTS_PER_RUN: events one run may append */
	int sampling_mock;    /* DMCP_SAMPLING_FALLBACK=mock: answer sampling for clients that
	                         cannot; "none" (default) gives the tool an error instead */
	enum cfg_notify notify_mode; /* DMCP_NOTIFY: auto (default), always */
	char *state_key;      /* DMCP_STATE_KEY: 64 hex digits that sign requestState (every
	                         process of a deployment needs the same); NULL: the key kept in
	                         the database (dmcp_secrets), made by the first process; owned */
	int state_ttl_s;      /* DMCP_STATE_TTL: seconds a requestState stays valid */
	int task_ttl_s;       /* DMCP_TASK_TTL: the longest a task is kept after its creation
	                         (a client asking for more, or for none, receives this) */
	int max_tasks;        /* DMCP_MAX_TASKS: unfinished tasks one principal may hold */
	int task_poll_ms;     /* DMCP_TASK_POLL_MS: the pollInterval tasks suggest */
	int expire_s;         /* DMCP_RETENTION: seconds a finished run's events are kept
	                         before `sweep` expires it (tasks: their TTL instead) */
	int record_all;       /* DMCP_RECORD_CALLS=all: store calls that finish in their first
	                         step too (an audit trail, one statement each); "durable"
	                         (default): only calls that outlive their first step are rows */
	int async_commit;     /* DMCP_ASYNC_COMMIT=one-step (default): sessions and calls that
	                         finish in one step commit without waiting for the disk; "off":
	                         every commit waits (see store_set_async) */
	char *metrics_path;   /* DMCP_METRICS_PATH: where the Prometheus page is served (a
	                         request path, such as /metrics); NULL (default): nowhere; owned */
	char *sql_schema;     /* DMCP_SQL_TOOLS_SCHEMA: the schema whose functions are tools
	                         (default dmcp_tools; "" turns SQL tools off); owned */
	char *sql_role;       /* DMCP_SQL_TOOLS_ROLE: the role they run as (default dmcp_tools;
	                         "": the connection's own); owned */
	int sql_timeout_ms;   /* DMCP_SQL_TOOLS_TIMEOUT_MS: statement_timeout of one call */
	int sql_max_rows;     /* DMCP_SQL_TOOLS_MAX_ROWS: rows a function returning a set may
	                         give one call; more is an error result */
	char *exec_dir;       /* DMCP_EXEC_TOOLS_DIR: every executable in it is a tool; NULL:
	                         none; owned */
	int exec_timeout_ms;  /* DMCP_EXEC_TIMEOUT_MS: how long one run of a program may take
	                         before it is killed (--mcp-describe: 5 s at most) */
	size_t exec_max_output; /* DMCP_EXEC_MAX_OUTPUT: bytes a program may write to stdout in
	                           one run before it is killed */
	int allow_any_host;   /* DMCP_ALLOWED_HOSTS contains "*" */
	int allow_any_origin; /* DMCP_ALLOWED_ORIGINS contains "*" */
	int origins_set;      /* DMCP_ALLOWED_ORIGINS was given; else they follow the hosts */
	int n_hosts;          /* entries in hosts */
	int n_origins;        /* entries in origins */
	char hosts[CFG_MAX_ALLOW][CFG_ALLOW_LEN];   /* allowed Host values (name or name:port);
	                                              a bare name allows any port */
	char origins[CFG_MAX_ALLOW][CFG_ALLOW_LEN]; /* allowed Origins (scheme://name[:port]);
	                                              without a port: any port */
	int n_auth;                      /* entries in auth */
	enum cfg_auth auth[CFG_MAX_AUTH]; /* DMCP_AUTH: the methods, in the order tried
	                                     (default: remote-user alone) */
	char *resource;       /* DMCP_RESOURCE: this server's resource URI (RFC 8707), the
	                         audience its tokens carry; required by token and jwt; owned */
	int n_as;             /* entries in auth_servers */
	char auth_servers[CFG_MAX_AS][CFG_ALLOW_LEN]; /* DMCP_AUTHORIZATION_SERVERS: issuers
	                                                 named in the metadata (default: the
	                                                 JWT issuer) */
	char *jwt_issuer;     /* DMCP_JWT_ISSUER: the "iss" tokens must carry; owned */
	char *jwt_audience;   /* DMCP_JWT_AUDIENCE: the "aud" tokens must carry, when the
	                         authorization server puts an API identifier there instead of
	                         DMCP_RESOURCE (NULL: DMCP_RESOURCE); owned */
	char *jwks_file;      /* DMCP_JWKS_FILE: the authorization server's keys (JWKS); owned */
	char *principal_claim; /* DMCP_JWT_PRINCIPAL_CLAIM: the claim naming the principal
	                          (default "sub"); owned */
	char required_scopes[SCOPE_MAX_LIST + 1];  /* DMCP_REQUIRED_SCOPES: every bearer token
	                                              must carry these (normalized; "" none) */
	char scopes_supported[SCOPE_MAX_LIST + 1]; /* DMCP_SCOPES_SUPPORTED: for the metadata
	                                              (default: the required scopes) */
	int max_sessions;     /* DMCP_MAX_SESSIONS_PER_PRINCIPAL: live sessions one principal
	                         may hold; 0 = no limit */
	int max_principal_runs; /* DMCP_MAX_RUNS_PER_PRINCIPAL: unfinished (running or waiting)
	                           runs one principal may hold; 0 = no limit */
};

/* 1 when DMCP_AUTH lists method m. */
int cfg_has_auth(const struct cfg *c, enum cfg_auth m);

/* Fill c from the environment. DMCP_E_PARAMS with a message naming the variable when a
 * value is out of range or malformed, or when the authentication settings do not go
 * together (token and jwt need DMCP_RESOURCE; jwt needs DMCP_JWT_ISSUER and DMCP_JWKS_FILE);
 * then nothing is left to free (cfg_free is harmless). */
dmcp_rc cfg_load(struct cfg *c, char *err, size_t errlen) DMCP_MUST_CHECK;
/* Defaults only (used by unit tests). */
void cfg_defaults(struct cfg *c);
void cfg_free(struct cfg *c);

#endif
