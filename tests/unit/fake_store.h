/* fake_store.h — test hooks into tests/unit/fake_store.c, the in-memory implementation of
 * core/store.h that the unit tests of runtime.c, mcp.c and server.c link instead of
 * core/store.c (no PostgreSQL). One process-wide "database" is shared by every struct store
 * handle; a transaction keeps a snapshot of it and restores it on rollback. Single-threaded:
 * SELECT ... FOR UPDATE is a plain read.
 *
 * The fake also notices what PostgreSQL would allow but dmcp should never do (a run updated
 * without its lock, LSN gaps, BEGIN inside a transaction, COMMIT of an aborted transaction,
 * two transactions open at once, ...): each is an "anomaly" the tests can check for. */
#ifndef DMCP_FAKE_STORE_H
#define DMCP_FAKE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "store.h"

/* Forget every row, counter, injected failure, anomaly and hook. Open handles stay open
 * (their transactions are dropped). Call it at the end of a test program so that valgrind
 * sees no leak. */
void fake_store_reset(void);
/* Zero the call counters only. */
void fake_store_reset_counters(void);

/* Calls that would reach the database (store_* calls other than the *_clear functions,
 * row_status_name, store_close, a store_rollback with no transaction open and a
 * store_unlisten with nothing listened to), in all and for one function ("store_ready"). */
long fake_store_calls(void);
long fake_store_calls_of(const char *fn);

/* Rows: "sessions", "runs", "events", "subscriptions"; -1 for another name. */
int fake_store_count(const char *table);
/* 1 and a deep copy of the run's row into *out (free with row_run_clear), else 0. */
int fake_store_run(const char *run_id, struct run_row *out);
/* The id of the unfinished run of session_id started by request id (JSON text) into
 * run_id_out[33]: 1 when there is one. */
int fake_store_find_unfinished(const char *session_id, const char *request_id,
                               char *run_id_out);
/* Copies of up to max events of the run, oldest first (free with row_events_clear);
 * returns how many. */
int fake_store_events(const char *run_id, struct event_row *out, int max);
/* The body of event lsn of the run (borrowed, valid until the next store call), or NULL. */
const char *fake_store_event_body(const char *run_id, int64_t lsn);
/* 1 when event lsn of the run is committed: present, and not only inside an open
 * transaction. */
int fake_store_event_committed(const char *run_id, int64_t lsn);
/* 1 when the session has a subscription to uri. */
int fake_store_subscribed(const char *session_id, const char *uri);

/* Failure injection: the next n counted calls (any function) fail with DMCP_E_DB. */
void fake_store_fail_next(int n);
/* The calls to function fn ("store_run_save") fail with DMCP_E_DB: after skip more calls
 * to it succeed, the n following ones fail. A failure inside a transaction aborts it, as in
 * PostgreSQL: every later statement fails until the rollback. */
void fake_store_fail(const char *fn, int skip, int n);

/* Another worker's doings, outside any transaction of ours. */
/* Cancel the run (status cancelled, pending cleared, error why), and NOTIFY it. */
dmcp_rc fake_store_cancel_run(const char *run_id, const char *why);
/* Append one event after the run's last LSN (another worker's commit). */
dmcp_rc fake_store_append_event(const char *run_id, enum event_kind kind, const char *body);
/* Make the lease of the run pass (0: renew it). */
dmcp_rc fake_store_expire_lease(const char *run_id, int expired);
/* End the session (as DELETE would), cancelling its unfinished runs. */
dmcp_rc fake_store_end_session(const char *session_id);

/* The clock due times are compared with (store_due_claim, store_due_next), in milliseconds
 * since the epoch; 0 until set. */
void fake_store_set_now(int64_t ms);
/* Make the run a tombstone now, as store_expire would once its retention passed. */
dmcp_rc fake_store_expire_run(const char *run_id);

/* NOTIFYs delivered (so: committed) for run_id, or for all runs when run_id is NULL. */
int fake_store_notifies(const char *run_id);
/* Handles that have a transaction open now. */
int fake_store_open_tx(void);
/* Anomalies seen since the last reset; the last one's text into last[cap] (may be NULL). */
int fake_store_anomalies(char *last, size_t cap);

/* Called for every NOTIFY delivered (committed); tests route it to wake_deliver(). */
void fake_store_on_notify(void (*fn)(void *arg, const char *run_id), void *arg);
/* SQL tools: store_tool_catalog gives catalog (borrowed; NULL: "[]"), and store_tool_call
 * opens the step's transaction, calls hook (NULL: a call that returns nothing) to fill the
 * call's outcome, and counts one write of the function (unless out->failed), inside the
 * transaction: the run's save commits it, a rollback undoes it. */
void fake_store_tools(const char *catalog,
                      dmcp_rc (*hook)(void *arg, const struct store_call *c,
                                      struct store_call_out *out),
                      void *arg);
/* The functions' writes that are in the database (committed, or in the open transaction). */
long fake_store_tool_writes(void);

/* The most recently opened handle (any handle sees the same database). */
struct store *fake_store_handle(void);

#endif
