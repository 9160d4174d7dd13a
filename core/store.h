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

/* Connect (conninfo is a libpq string). The store prepares its statements on connect. */
dmcp_rc store_open(const char *conninfo, struct store **out, char *err,
                   size_t errlen) DMCP_MUST_CHECK;
void store_close(struct store *st);
/* Before each request: reset a broken connection, roll back a transaction left open,
 * drop stale notifications. DMCP_E_DB when the database cannot be reached. */
dmcp_rc store_ready(struct store *st) DMCP_MUST_CHECK;

/* Apply the embedded migrations not applied yet, in order, each in its own transaction,
 * under an advisory lock. report(name, applied) is called for each one. */
dmcp_rc store_migrate(struct store *st, void (*report)(const char *name, int applied),
                      char *err, size_t errlen) DMCP_MUST_CHECK;

/* A transaction whose COMMIT waits until it is on disk (synchronous_commit on). */
dmcp_rc store_begin(struct store *st) DMCP_MUST_CHECK;
/* on: statements outside store_begin (session creation, a call finished in one step, log
 * level, subscriptions) commit without waiting for the disk (synchronous_commit off): a
 * crash of the database host may forget the last fraction of a second of them, which a
 * client meets as 404 (initialize again) or not at all (it already has its answer). Takes
 * effect at the next store_ready. */
void store_set_async(struct store *st, int on);
dmcp_rc store_commit(struct store *st) DMCP_MUST_CHECK;
void store_rollback(struct store *st);

/* Sessions. get: DMCP_E_NOT_FOUND when unknown, ended, or bound to another principal.
 * with_runs also counts its unfinished runs. */
dmcp_rc store_session_create(struct store *st, const struct session_row *s,
                             const char *client_info) DMCP_MUST_CHECK;
dmcp_rc store_session_get(struct store *st, const char *id, const char *principal,
                          int with_runs, struct session_row *out) DMCP_MUST_CHECK;
dmcp_rc store_session_set_level(struct store *st, const char *id, int level) DMCP_MUST_CHECK;
/* Ends the session and cancels its unfinished runs, in one transaction; the ids of the
 * cancelled runs are notified. */
dmcp_rc store_session_end(struct store *st, const char *id, const char *principal) DMCP_MUST_CHECK;
dmcp_rc store_subscribe(struct store *st, const char *session_id, const char *uri,
                        int on) DMCP_MUST_CHECK;

/* Runs. lock: SELECT ... FOR UPDATE inside the caller's transaction; DMCP_E_NOT_FOUND
 * unless the run belongs to session_id and principal. */
dmcp_rc store_run_lock(struct store *st, const char *run_id, const char *session_id,
                       const char *principal, struct run_row *out) DMCP_MUST_CHECK;
/* BEGIN and store_run_lock in one round trip; the COMMIT waits for the disk when durable
 * (or when the connection is not async). On DMCP_E_NOT_FOUND the transaction is open (roll
 * it back); on DMCP_E_DB it may be. */
dmcp_rc store_begin_lock(struct store *st, const char *run_id, const char *session_id,
                         const char *principal, int durable, struct run_row *out) DMCP_MUST_CHECK;
/* COMMIT, then (when run_id is not NULL) a NOTIFY for run_id in its own transaction, in
 * one round trip. DMCP_E_DB only when the COMMIT failed; a failed NOTIFY is logged. */
dmcp_rc store_commit_notify(struct store *st, const char *run_id) DMCP_MUST_CHECK;
/* Bytes of the events one save writes together (their JSON texts, escaped). */
#define STORE_MAX_EVENT_BYTES (64u << 20)

/* Insert (exists == 0) or update the run row with every field, and append n events
 * (bodies[i] of kinds[i]) as LSNs first_lsn .. first_lsn+n-1, in one statement (so one
 * round trip, and outside a transaction one commit, which waits for the disk when durable
 * or when the connection is not async). Sets exists. */
dmcp_rc store_run_save(struct store *st, struct run_row *r, int64_t first_lsn, int n,
                       const enum event_kind *kinds, const char *const *bodies,
                       int durable) DMCP_MUST_CHECK;
/* The unfinished run of session_id started by the client request id (JSON text). */
dmcp_rc store_run_find_unfinished(struct store *st, const char *session_id,
                                  const char *principal, const char *request_id,
                                  rnd_hex_id run_id_out) DMCP_MUST_CHECK;

/* Up to max events after after_lsn, oldest first, plus the run's status and last_lsn, in
 * one snapshot. The run must belong to session_id and principal (else DMCP_E_NOT_FOUND).
 * Free with row_events_clear. */
dmcp_rc store_events_after(struct store *st, const char *run_id, const char *session_id,
                           const char *principal, int64_t after_lsn, int max,
                           struct event_row *out, int *n, enum run_status *status,
                           int64_t *last_lsn, int *lease_expired) DMCP_MUST_CHECK;

/* Wake-ups. Every NOTIFY goes to the one channel "dmcp" with the run id as payload; each
 * process has one listening connection (see wake.h).
 * store_notify: outside any transaction, after the commit it announces; a hint only, so a
 * failure is logged and otherwise ignored (followers re-read the table on a timeout). */
void store_notify(struct store *st, const char *run_id);
/* NOTIFY inside the caller's transaction (DMCP_NOTIFY=in-tx, kept only to measure it). */
void store_notify_in_tx(struct store *st, const char *run_id);
/* LISTEN to the channel on this connection (the listener's). */
dmcp_rc store_listen_all(struct store *st) DMCP_MUST_CHECK;
/* The connection's socket, to poll for incoming notifications. */
int store_socket(struct store *st);
/* Read what arrived and call cb(arg, run id) for each notification. DMCP_E_DB when the
 * connection is broken. */
dmcp_rc store_take_notifies(struct store *st, void (*cb)(void *arg, const char *run_id),
                            void *arg) DMCP_MUST_CHECK;
/* A trivial round trip: DMCP_E_DB when the connection is broken. */
dmcp_rc store_ping(struct store *st) DMCP_MUST_CHECK;

/* Expiry: end sessions idle longer than ttl_s (cancelling their runs) and delete sessions
 * ended more than ttl_s ago with everything they own. Counts in *ended, *deleted. */
dmcp_rc store_sweep(struct store *st, int ttl_s, long *ended, long *deleted) DMCP_MUST_CHECK;

/* A 'running' run whose lease passed: its worker died mid-step. */
struct orphan {
	rnd_hex_id run_id;
	rnd_hex_id session_id;
	char principal[ROW_MAX_PRINCIPAL + 1];
};

/* Up to max orphaned runs of live sessions, oldest first, into out; count in *n. */
dmcp_rc store_orphans(struct store *st, int max, struct orphan *out, int *n) DMCP_MUST_CHECK;


#endif
