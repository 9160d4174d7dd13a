/* store.h — everything dmcp keeps in PostgreSQL: sessions, runs, events, migrations, and
 * LISTEN/NOTIFY wake-ups. The only module that includes libpq-fe.h; no PGresult leaves it.
 * Knows nothing of HTTP or MCP methods. One struct store per worker thread. */
#ifndef DMCP_STORE_H
#define DMCP_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "dmcp.h"
#include "migrations.h"
#include "rnd.h"
#include "rows.h"

struct store;

/* How every connection of the process talks to PostgreSQL (store_setup). */
struct store_cfg {
	int statement_timeout_ms; /* statement_timeout of worker connections (0: none) */
	int lock_timeout_ms;      /* lock_timeout (0: none) */
	int idle_tx_timeout_ms;   /* idle_in_transaction_session_timeout (0: none) */
	int lease_s;              /* seconds a 'running' run stays its worker's (renewed while
	                             the step works, see store_lease_renew) */
	int pooled;               /* a pooler in transaction mode (PgBouncer before 1.21) sits
	                             between: unnamed statements instead of prepared ones, no
	                             session settings (the timeouts belong on the role), no
	                             pipelines across transactions */
};

/* Set before the first connection (the defaults otherwise: 30 s, 5 s, 60 s, 60 s, direct).
 * Not thread-safe: call it at start-up. */
void store_setup(const struct store_cfg *cfg);

/* Connect now (conninfo is a libpq string; connect_timeout 5 s and TCP keepalives unless
 * conninfo says otherwise). Used by the commands and the listener: no statement timeouts
 * are set on this connection until store_ready. */
dmcp_rc store_open(const char *conninfo, struct store **out, char *err,
                   size_t errlen) DMCP_MUST_CHECK;
/* A store that connects at its first store_ready (a worker thread's): DMCP_E_NOMEM only. */
dmcp_rc store_open_lazy(const char *conninfo, struct store **out) DMCP_MUST_CHECK;
void store_close(struct store *st);
/* Before each request: connect (or reconnect a broken connection), roll back a transaction
 * left open, set the session's timeouts and prepare the statements. DMCP_E_DB when the
 * database cannot be reached; after a failed attempt the next ones within a short backoff
 * (up to STORE_RETRY_MAX_MS) fail at once without trying, so a request that finds the
 * database down is answered at once. */
dmcp_rc store_ready(struct store *st) DMCP_MUST_CHECK;
/* 1 after a connection attempt of this store succeeded at least once. */
int store_ever_connected(const struct store *st);

/* The migrations the database holds against those built into the program: DMCP_OK when
 * they are the same; DMCP_E_VERSION with err saying "behind" (run migrate) or "ahead"
 * (upgrade the program), naming the versions; DMCP_E_DB when it cannot be read. */
dmcp_rc store_schema_check(struct store *st, char *err, size_t errlen) DMCP_MUST_CHECK;

/* Postpone store_ready to the first statement of this request: a request that needs no SQL
 * (a cached session, a call finished in one step) costs no system call either. */
void store_lazy(struct store *st);

/* Apply the embedded migrations not applied yet, in order, each in its own transaction,
 * under an advisory lock. report(name, applied) is called for each one. */
dmcp_rc store_migrate(struct store *st, void (*report)(const char *name, int applied),
                      char *err, size_t errlen) DMCP_MUST_CHECK;

/* A transaction whose COMMIT waits until it is on disk (synchronous_commit on). */
dmcp_rc store_begin(struct store *st) DMCP_MUST_CHECK;
/* on: single statements that do not ask for durability (session creation, a call finished
 * in one step when DMCP_RECORD_CALLS=all, later progress checkpoints, log level,
 * subscriptions) commit without waiting for the disk (synchronous_commit off): a crash of the
 * database host may forget the last fraction of a second of them, which a client meets as
 * 404 (initialize again) or not at all (it already has its answer). Takes effect at the next
 * store_ready. */
void store_set_async(struct store *st, int on);
dmcp_rc store_commit(struct store *st) DMCP_MUST_CHECK;
void store_rollback(struct store *st);

/* Sessions. create: only while the principal holds fewer than max_sessions live sessions
 * (0: no limit), counted under a lock on the principal in the insert's transaction (one
 * round trip), so concurrent initializes cannot pass the limit; else DMCP_E_LIMIT and
 * nothing is written.
 * get: DMCP_E_NOT_FOUND when unknown, ended, or bound to another principal;
 * *stale is 1 when its last_seen is older than a minute (see store_session_touch). */
dmcp_rc store_session_create(struct store *st, const struct session_row *s,
                             const char *client_info, int max_sessions) DMCP_MUST_CHECK;
dmcp_rc store_session_get(struct store *st, const char *id, const char *principal,
                          struct session_row *out, int *stale) DMCP_MUST_CHECK;
/* last_seen = now() (what `sweep` measures idleness by). */
dmcp_rc store_session_touch(struct store *st, const char *id) DMCP_MUST_CHECK;
/* Sets the level and sends "s:<id>" (other processes drop the session from their caches). */
dmcp_rc store_session_set_level(struct store *st, const char *id, int level) DMCP_MUST_CHECK;
/* Ends the session and cancels its unfinished runs (their error: why), in one transaction
 * (one round trip): the session row is locked first, so a run inserted meanwhile is either
 * cancelled here or refused. The cancelled runs and "s:<id>" are notified. */
dmcp_rc store_session_end(struct store *st, const char *id, const char *principal,
                          const char *why) DMCP_MUST_CHECK;
/* on: subscribe (DMCP_E_LIMIT when the session holds max subscriptions already, counted
 * under the session row's lock); off: unsubscribe. */
dmcp_rc store_subscribe(struct store *st, const char *session_id, const char *uri, int on,
                        int max) DMCP_MUST_CHECK;
/* *yes: the session is subscribed to uri (resources/subscribe). */
dmcp_rc store_subscribed(struct store *st, const char *session_id, const char *uri,
                         int *yes) DMCP_MUST_CHECK;

/* Runs. */

/* What a compare-and-set save expects the stored row to hold still. Every save of a run
 * either appends events (last_lsn grows) or ends a step (steps grew when it began), so two
 * saves from different histories never expect the same triple. */
struct run_expect {
	enum run_status status;
	int64_t last_lsn;
	int steps;
};

/* Bytes of the events one save writes together (their JSON texts, escaped). */
#define STORE_MAX_EVENT_BYTES (64u << 20)

/* Write the run row with every field and append n events (bodies[i] of kinds[i]) as LSNs
 * first_lsn .. first_lsn+n-1, in one statement: one round trip and one commit, which waits
 * for the disk when durable (or when the connection is not async); then, when notify, a
 * NOTIFY for the run in its own small transaction, in the same round trip, and when the run
 * is due (r->due_ms), a NOTIFY "t:" for the schedulers.
 * Inside the transaction a tool's step opened (store_tool_call), the statement goes into it
 * and commits it (waiting for the disk) only when it saved the run; then the NOTIFY. When it
 * saved nothing (DMCP_E_CONFLICT, a refused insert) or failed, the transaction is rolled back,
 * with everything the tool wrote in it: the tool's writes commit together with the run's
 * result, exactly once, or not at all.
 * expect NULL: an insert. A run of a session (r->session_id not "") is inserted only while
 * the session is live, and, when the run is unfinished, only while the session holds fewer
 * than max_live unfinished runs (the count is kept in the same statement): else
 * DMCP_E_NOT_FOUND (the session ended) or DMCP_E_LIMIT. An unfinished run, of a session or
 * not, with max_principal > 0 goes in only while its principal holds fewer than max_principal
 * unfinished runs (counted exactly, in the same statement): else DMCP_E_LIMIT with
 * r->over_principal set. A finished or sessionless run with no principal limit always goes in.
 * expect set: an update that happens only while the stored row still has expect's status,
 * last_lsn and steps (else DMCP_E_CONFLICT, nothing changed). A run that ends here leaves its
 * session's count. Sets r->exists on success.
 * A save that makes r a task (r->task, not r->task_stored) counts the principal's unfinished
 * tasks under a per-principal lock in the same transaction: max_live is then the principal's
 * limit of tasks (DMCP_E_LIMIT when reached). Sets r->task_stored on success. */
dmcp_rc store_run_save(struct store *st, struct run_row *r, const struct run_expect *expect,
                       int max_live, int max_principal, int64_t first_lsn, int n,
                       const enum event_kind *kinds, const char *const *bodies, int durable,
                       int notify) DMCP_MUST_CHECK;
/* The run's row (clear it with row_run_clear). DMCP_E_NOT_FOUND unless it belongs to
 * session_id ("" for a sessionless run) and principal. */
dmcp_rc store_run_get(struct store *st, const char *run_id, const char *session_id,
                      const char *principal, struct run_row *out) DMCP_MUST_CHECK;
/* Take over an orphan: renew the lease of run_id and count one more step, if it is still
 * 'running' at last_lsn and steps and its lease has passed (the step count fences the worker
 * that lost the lease: its next compare-and-set fails). DMCP_E_CONFLICT when somebody else
 * took it (or it moved on). */
dmcp_rc store_run_claim(struct store *st, const char *run_id, int64_t last_lsn,
                        int steps) DMCP_MUST_CHECK;
/* A run a cancellation ended, for the log and the counters. */
struct run_end {
	rnd_hex_id id;
	char tool[2 * 128 + 1]; /* as the run records it ("prompt:" and a name, at most) */
	int steps;
	int64_t ms;             /* since the call began (the database's clock) */
};

/* Renew the leases of runs this process is stepping: each of the n runs ids[i] that is still
 * 'running' at steps[i] (a takeover counts a step, so a run somebody else claimed is left
 * alone). *renewed counts the rows renewed. */
dmcp_rc store_lease_renew(struct store *st, int n, const char *const *ids, const int *steps,
                          int *renewed) DMCP_MUST_CHECK;
/* notifications/cancelled: cancel the unfinished run of session_id and principal started by
 * the client request id (JSON text), with error why; notify it; *ended (when not NULL)
 * describes it. DMCP_E_NOT_FOUND when there is none. */
dmcp_rc store_run_cancel(struct store *st, const char *session_id, const char *principal,
                         const char *request_id, const char *why,
                         struct run_end *ended) DMCP_MUST_CHECK;

/* Up to max events after after_lsn, oldest first, plus the run's status and last_lsn, in
 * one snapshot. The run must belong to session_id ("" for sessionless) and principal, and not
 * be expired (else DMCP_E_NOT_FOUND). Free with row_events_clear. */
dmcp_rc store_events_after(struct store *st, const char *run_id, const char *session_id,
                           const char *principal, int64_t after_lsn, int max,
                           struct event_row *out, int *n, enum run_status *status,
                           int64_t *last_lsn, int *lease_expired) DMCP_MUST_CHECK;

/* Whether a run that store_run_get or store_events_after did not find is a tombstone: it
 * existed, belonged to session_id and principal, and expired (store_expire). */
int store_run_expired(struct store *st, const char *run_id, const char *session_id,
                      const char *principal);

/* ---- Tasks ------------------------------------------------------------------------------ */


/* The task run_id of principal, with its response once it has one. DMCP_E_NOT_FOUND unless it
 * is a task of principal (an expired one is found, with run.expired set). */
dmcp_rc store_task_get(struct store *st, const char *run_id, const char *principal,
                       struct task_row *out) DMCP_MUST_CHECK;
/* Up to max tasks of principal created after (after_us, after_id) — (0, "") from the start —
 * oldest first, without journals and responses, into out; count in *n. */
dmcp_rc store_task_list(struct store *st, const char *principal, int64_t after_us,
                        const char *after_id, int max, struct task_row *out,
                        int *n) DMCP_MUST_CHECK;
/* tasks/cancel: the unfinished task run_id of principal becomes cancelled (error why), its due
 * time cleared, and is notified. DMCP_E_CONFLICT when it is already finished (or expired),
 * DMCP_E_NOT_FOUND when principal has no such task. */
dmcp_rc store_task_cancel(struct store *st, const char *run_id, const char *principal,
                          const char *why) DMCP_MUST_CHECK;

/* ---- Due runs --------------------------------------------------------------------------- */

/* Claim up to max runs whose due time passed (or run_id alone, when not NULL, if it is due):
 * one statement, FOR UPDATE SKIP LOCKED, so that concurrent claimers (schedulers of several
 * processes, two sweeps) never take the same run. A claimed run is 'running' with a fresh
 * lease and no due time: its step is the claimer's (a worker that dies mid-step leaves an
 * orphan, see store_orphans). Rows into out[max] (clear each with row_run_clear), each with
 * the due_ms it had; count in *n. */
dmcp_rc store_due_claim(struct store *st, const char *run_id, int max, struct run_row *out,
                        int *n) DMCP_MUST_CHECK;
/* Milliseconds until the next due time (0 when one has passed), or -1 when no run is due. */
dmcp_rc store_due_next(struct store *st, int64_t *in_ms) DMCP_MUST_CHECK;

/* Expiry: finished runs whose retention (retention_s after they finished) passed, and tasks
 * whose TTL passed (unfinished ones are cancelled), lose their events and journal and become
 * tombstones. Count in *expired. */
dmcp_rc store_expire(struct store *st, int retention_s, long *expired) DMCP_MUST_CHECK;

/* A secret the program keeps in the database: the value stored under name, or proposed
 * (stored now) when there is none yet; copied into out[cap]. */
dmcp_rc store_secret(struct store *st, const char *name, const char *proposed, char *out,
                     size_t cap) DMCP_MUST_CHECK;

/* ---- Tools that are SQL functions (core/sqltool.c) ---------------------------------------
 * One step of such a tool is one transaction on the worker's connection: store_tool_call
 * opens it and calls the function in it, the run's save (store_run_save) commits it, or
 * store_step_commit when the call keeps no row; the NOTIFY follows the COMMIT. */

/* The functions of schema that may become tools, and what their definitions need, as JSON
 * text (the migrations' dmcp_tool_catalog(schema) describes it): *json is the caller's. */
dmcp_rc store_tool_catalog(struct store *st, const char *schema, char **json) DMCP_MUST_CHECK;

/* How an argument's JSON becomes the SQL value. */
enum store_arg_form {
	STORE_ARG_SCALAR, /* value is the text of a scalar, cast to the argument's type */
	STORE_ARG_ARRAY,  /* value is a JSON array of scalars: an array of the argument's type */
	STORE_ARG_JSONS   /* value is a JSON array of any JSON: a json[] or jsonb[] */
};

struct store_arg {
	const char *ident;        /* the parameter's name, quoted for SQL (from the catalog) */
	const char *type;         /* its declared type as SQL text (from the catalog) */
	enum store_arg_form form;
	const char *value;        /* JSON text of arrays; the text of a scalar */
};

/* What a call gives back, as text. */
enum store_ret {
	STORE_RET_VOID, /* nothing */
	STORE_RET_TEXT, /* the value's text (json and jsonb: their JSON text) */
	STORE_RET_JSON, /* the value as JSON (a composite: an object) */
	STORE_RET_ROWS  /* a set: a JSON array of row objects */
};

struct store_call {
	const char *function;          /* schema-qualified and quoted (from the catalog) */
	const struct store_arg *args;  /* the arguments given, by name; the others take their
	                                  defaults */
	int n_args;
	enum store_ret ret;
	int max_rows;                  /* STORE_RET_ROWS: more rows are too_big */
	size_t max_bytes;              /* bytes of the result's text: more are too_big */
	const char *role;              /* the role the function runs as; "" or NULL: the
	                                  connection's own */
	int timeout_ms;                /* its statement_timeout */
	const char *principal;         /* current_setting('dmcp.principal') for the function */
	const char *session_id;        /* current_setting('dmcp.session_id') ("" sessionless) */
	const char *run_id;            /* current_setting('dmcp.run_id') */
};

/* Bytes kept of each part of a function's error. */
#define STORE_ERR_TEXT 400

struct store_call_out {
	char *value;                   /* owned: the result's text; NULL for SQL NULL, void,
	                                  too_big and failed */
	int too_big;                   /* more rows or bytes than the call allows */
	int failed;                    /* the function raised an error: its writes are undone */
	char sqlstate[6];              /* of the error */
	char message[STORE_ERR_TEXT];  /* the error's primary message */
	char detail[STORE_ERR_TEXT];   /* its DETAIL, or "" */
	char hint[STORE_ERR_TEXT];     /* its HINT, or "" */
};

/* Open the step's transaction (a durable one) and call the function in it as c->role, with
 * dmcp.principal, dmcp.session_id and dmcp.run_id set (transaction-local) and under
 * c->timeout_ms, inside a savepoint: an error of the function (or its timeout) rolls back to
 * the savepoint and is reported in out (failed, message, detail), and the transaction goes on
 * without the function's writes. The transaction stays open for the run's save. DMCP_E_DB
 * (logged; the transaction rolled back) when dmcp's own statements fail. Clear out with
 * store_call_out_clear. */
dmcp_rc store_tool_call(struct store *st, const struct store_call *c,
                        struct store_call_out *out) DMCP_MUST_CHECK;
void store_call_out_clear(struct store_call_out *out);
/* Commit the transaction a tool's step opened, when the call keeps no row (a call that ends
 * in one step): DMCP_OK when it committed or none was open; DMCP_E_DB (rolled back) else. */
dmcp_rc store_step_commit(struct store *st) DMCP_MUST_CHECK;
/* Bearer tokens (`dmcp.fcgi token`). find: the token whose SHA-256 is hash (lowercase hex),
 * one indexed lookup; expired and revoked say whether it may still be used;
 * DMCP_E_NOT_FOUND when there is none. insert: t's id, hash, principal, scopes and expires
 * (seconds since the epoch, 0 = never). revoke: the token with id id or hash hash (either
 * may be NULL) unless it is revoked already (then, or when there is none,
 * DMCP_E_NOT_FOUND); its id into out_id. list: each(arg, row) for every token, oldest
 * first. */
dmcp_rc store_token_find(struct store *st, const char *hash,
                         struct token_row *out) DMCP_MUST_CHECK;
dmcp_rc store_token_insert(struct store *st, const struct token_row *t) DMCP_MUST_CHECK;
dmcp_rc store_token_revoke(struct store *st, const char *id, const char *hash,
                           char out_id[ROW_TOKEN_ID + 1]) DMCP_MUST_CHECK;
dmcp_rc store_token_list(struct store *st, void (*each)(void *arg, const struct token_row *t),
                         void *arg) DMCP_MUST_CHECK;

/* Wake-ups. Every NOTIFY goes to the one channel "dmcp"; each process has one listening
 * connection (see wake.h). Payloads: a run id (the run has news), "s:<session id>" (the
 * session changed: caches drop it), "l:<list>" (a list changed), "r:<uri>" (a resource
 * changed), "t:due" (a run got a due time: schedulers look again, STORE_DUE_PAYLOAD).
 * store_notify: outside any transaction, after the commit it announces; a hint only, so a
 * failure is logged and otherwise ignored (followers re-read the table on a timeout). */
void store_notify(struct store *st, const char *payload);
/* The payload that tells schedulers a due time was set. */
#define STORE_DUE_PAYLOAD "t:due"
/* LISTEN to the channel on this connection (the listener's). */
dmcp_rc store_listen_all(struct store *st) DMCP_MUST_CHECK;
/* The connection's socket, to poll for incoming notifications. */
int store_socket(struct store *st);
/* Read what arrived and call cb(arg, payload) for each notification whose payload is a run
 * id or a change ("l:<list>", "r:<uri>", "s:<session id>"; see wake.h). DMCP_E_DB when the
 * connection is broken. */
dmcp_rc store_take_notifies(struct store *st, void (*cb)(void *arg, const char *payload),
                            void *arg) DMCP_MUST_CHECK;
/* A trivial round trip: DMCP_E_DB when the connection is broken. */
dmcp_rc store_ping(struct store *st) DMCP_MUST_CHECK;

/* Expiry, in batches of at most batch rows per statement (FOR UPDATE SKIP LOCKED: two sweeps
 * at once share the work, and a locked row waits for the next sweep): end sessions idle
 * longer than ttl_s (cancelling their runs), delete sessions ended more than ttl_s ago with
 * everything they own, sessionless runs untouched for ttl_s (tasks only once they are
 * finished or expired: a task lives by its own TTL), and finished runs (completed, failed,
 * cancelled) of live sessions older than retention_s (0: kept while their session lives).
 * Counts in *ended, *deleted (sessions and sessionless runs) and *trimmed (finished runs of
 * live sessions). */
struct sweep_counts {
	long ended;   /* sessions ended for idleness */
	long deleted; /* ended sessions and sessionless runs deleted */
	long trimmed; /* finished runs of live sessions deleted */
};
dmcp_rc store_sweep(struct store *st, int ttl_s, int retention_s, int batch,
                    struct sweep_counts *out) DMCP_MUST_CHECK;

/* A 'running' run whose lease passed: its worker died mid-step. */
/* Bytes of a tool name (the registry allows 128). */
#define STORE_MAX_TOOL 128

struct orphan {
	rnd_hex_id run_id;
	char tool[STORE_MAX_TOOL + 1];
	rnd_hex_id session_id;                /* "" for a sessionless run */
	char principal[ROW_MAX_PRINCIPAL + 1];
};

/* Up to max orphaned runs of live sessions, oldest first, into out; count in *n. */
dmcp_rc store_orphans(struct store *st, int max, struct orphan *out, int *n) DMCP_MUST_CHECK;

/* ---- operators ------------------------------------------------------------------------- */

/* What the operator's commands (`dmcp.fcgi status`, `runs`, `sessions`, `check`) read. None
 * of these runs while serving. Each is one statement, by parameters ($n in the comments),
 * every one text or NULL; timestamps come back as UTC text "2026-01-31T18:00:00Z". */
enum store_report {
	STORE_R_VERSION,        /* server_version, the server's version text */
	STORE_R_HAS_MIGRATIONS, /* one row: whether dmcp_migrations exists */
	STORE_R_MIGRATIONS,     /* version, name, applied_at, in order */
	STORE_R_SESSION_COUNTS, /* live, ended */
	STORE_R_RUN_COUNTS,     /* status, runs: every status, in the order of rows.h */
	STORE_R_WAITING,        /* tool, waiting, oldest_since, oldest_age_s (dmcp_waiting_by_tool) */
	STORE_R_OLDEST,         /* the oldest waiting run (dmcp_oldest_waiting), or no row */
	STORE_R_EVENTS,         /* events, bytes (of their bodies), disk_bytes (every dmcp table) */
	STORE_R_RUNS,           /* runs, newest first: $1 status, $2 tool, $3 principal, $4 since
	                           (seconds since the epoch), $5 limit; NULL filters nothing */
	STORE_R_RUN,            /* every column of run $1 */
	STORE_R_RUN_EVENTS,     /* lsn, kind, created, body of run $1's events, in order */
	STORE_R_SESSIONS,       /* sessions, newest first: $1 principal, $2 "all" (ended ones
	                           too), $3 limit */
	STORE_R_SESSION,        /* id, principal, ended of session $1 */
	STORE_R_SESSION_RUNS,   /* id, session_id, principal of session $1's unfinished runs */
	STORE_R_COUNT
};

/* A report as text cells, copied out of libpq. Free with store_grid_free. */
struct store_grid {
	int rows, cols;
	char **names;     /* cols column names */
	char **cells;     /* rows * cols, row by row; NULL for SQL NULL */
	char *types;      /* cols: 'n' a number, 'b' a boolean ("t"/"f"), 's' anything else */
};

/* Run report q with its parameters (as many as it takes). DMCP_E_DB when it failed (the
 * reason is logged). Needs no store_ready (nothing prepared): `check` reads a database that
 * is not migrated yet. */
dmcp_rc store_report(struct store *st, enum store_report q, const char *const *params,
                     struct store_grid *out) DMCP_MUST_CHECK;
void store_grid_free(struct store_grid *g);
/* The cell at row, col: NULL for SQL NULL, or when out of range. */
const char *store_cell(const struct store_grid *g, int row, int col);

#endif
