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

/* Sessions. get: DMCP_E_NOT_FOUND when unknown, ended, or bound to another principal;
 * *stale is 1 when its last_seen is older than a minute (see store_session_touch). */
dmcp_rc store_session_create(struct store *st, const struct session_row *s,
                             const char *client_info) DMCP_MUST_CHECK;
dmcp_rc store_session_get(struct store *st, const char *id, const char *principal,
                          struct session_row *out, int *stale) DMCP_MUST_CHECK;
/* last_seen = now() (what `sweep` measures idleness by). */
dmcp_rc store_session_touch(struct store *st, const char *id) DMCP_MUST_CHECK;
/* Sets the level and sends "s:<id>" (other processes drop the session from their caches). */
dmcp_rc store_session_set_level(struct store *st, const char *id, int level) DMCP_MUST_CHECK;
/* Ends the session and cancels its unfinished runs, in one transaction (one round trip): the
 * session row is locked first, so a run inserted meanwhile is either cancelled here or
 * refused. The cancelled runs and "s:<id>" are notified. */
dmcp_rc store_session_end(struct store *st, const char *id, const char *principal) DMCP_MUST_CHECK;
/* on: subscribe (DMCP_E_LIMIT when the session holds max subscriptions already, counted
 * under the session row's lock); off: unsubscribe. */
dmcp_rc store_subscribe(struct store *st, const char *session_id, const char *uri, int on,
                        int max) DMCP_MUST_CHECK;

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
 * NOTIFY for the run in its own small transaction, in the same round trip.
 * expect NULL: an insert. A run of a session (r->session_id not "") is inserted only while
 * the session is live, and, when the run is unfinished, only while the session holds fewer
 * than max_live unfinished runs (the count is kept in the same statement): else
 * DMCP_E_NOT_FOUND (the session ended) or DMCP_E_LIMIT. A sessionless run always goes in.
 * expect set: an update that happens only while the stored row still has expect's status,
 * last_lsn and steps (else DMCP_E_CONFLICT, nothing changed). A run that ends here leaves its
 * session's count. Sets r->exists on success. */
dmcp_rc store_run_save(struct store *st, struct run_row *r, const struct run_expect *expect,
                       int max_live, int64_t first_lsn, int n, const enum event_kind *kinds,
                       const char *const *bodies, int durable, int notify) DMCP_MUST_CHECK;
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
/* Renew the leases of runs this process is stepping: each of the n runs ids[i] that is still
 * 'running' at steps[i] (a takeover counts a step, so a run somebody else claimed is left
 * alone). *renewed counts the rows renewed. */
dmcp_rc store_lease_renew(struct store *st, int n, const char *const *ids, const int *steps,
                          int *renewed) DMCP_MUST_CHECK;
/* notifications/cancelled: cancel the unfinished run of session_id and principal started by
 * the client request id (JSON text), with error why; notify it. DMCP_E_NOT_FOUND when there
 * is none. */
dmcp_rc store_run_cancel(struct store *st, const char *session_id, const char *principal,
                         const char *request_id, const char *why) DMCP_MUST_CHECK;

/* Up to max events after after_lsn, oldest first, plus the run's status and last_lsn, in
 * one snapshot. The run must belong to session_id ("" for sessionless) and principal (else
 * DMCP_E_NOT_FOUND). Free with row_events_clear. */
dmcp_rc store_events_after(struct store *st, const char *run_id, const char *session_id,
                           const char *principal, int64_t after_lsn, int max,
                           struct event_row *out, int *n, enum run_status *status,
                           int64_t *last_lsn, int *lease_expired) DMCP_MUST_CHECK;

/* A secret the program keeps in the database: the value stored under name, or proposed
 * (stored now) when there is none yet; copied into out[cap]. */
dmcp_rc store_secret(struct store *st, const char *name, const char *proposed, char *out,
                     size_t cap) DMCP_MUST_CHECK;

/* Wake-ups. Every NOTIFY goes to the one channel "dmcp"; each process has one listening
 * connection (see wake.h). Payloads: a run id (the run has news), "s:<session id>" (the
 * session changed: caches drop it), "l:<list>" (a list changed), "r:<uri>" (a resource
 * changed).
 * store_notify: outside any transaction, after the commit it announces; a hint only, so a
 * failure is logged and otherwise ignored (followers re-read the table on a timeout). */
void store_notify(struct store *st, const char *payload);
/* LISTEN to the channel on this connection (the listener's). */
dmcp_rc store_listen_all(struct store *st) DMCP_MUST_CHECK;
/* The connection's socket, to poll for incoming notifications. */
int store_socket(struct store *st);
/* Read what arrived and call cb(arg, run id) for each notification. DMCP_E_DB when the
 * connection is broken. */
dmcp_rc store_take_notifies(struct store *st, void (*cb)(void *arg, const char *payload),
                            void *arg) DMCP_MUST_CHECK;
/* A trivial round trip: DMCP_E_DB when the connection is broken. */
dmcp_rc store_ping(struct store *st) DMCP_MUST_CHECK;

/* Expiry, in batches of at most batch rows per statement (FOR UPDATE SKIP LOCKED: two sweeps
 * at once share the work, and a locked row waits for the next sweep): end sessions idle
 * longer than ttl_s (cancelling their runs), delete sessions ended more than ttl_s ago with
 * everything they own, sessionless runs untouched for ttl_s, and finished runs (completed,
 * failed, cancelled) of live sessions older than retention_s (0: kept while their session
 * lives). Counts in *ended, *deleted (sessions and sessionless runs) and *trimmed
 * (finished runs of live sessions). */
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


#endif
