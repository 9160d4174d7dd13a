/* wake.h — wake-ups for the threads that follow runs' streams: one LISTEN connection per
 * process (a listener thread) instead of one per waiting thread, and an in-process table
 * from run id to the threads waiting on it. Knows nothing of HTTP; reaches PostgreSQL only
 * through store.h. PostgreSQL LISTEN/NOTIFY: before PostgreSQL 19 every NOTIFY signals every
 * listening backend of the database, so a listener per waiting thread costs O(threads) per
 * notification; one per process costs O(processes).
 *
 * A notification is only a hint: a waiter re-reads the events table when woken, and at
 * least every DMCP_POLL_MS anyway; when the listener's connection breaks, every waiter is
 * woken once it is back, so a lost notification delays but never loses an event.
 *
 * The same channel carries change payloads that are not run ids: "l:tools", "l:prompts",
 * "l:resources" (a list changed), "r:<uri>" (a resource was updated), "s:<session id>" (a
 * session changed). A thread that holds a change stream (subscriptions/listen, or a
 * 2025-11-25 session's standalone GET stream) registers for them and takes them from its
 * waiter's queue. Nothing stores them: one missed while the listener reconnects, or while
 * the queue is full, sets the waiter's missed flag, and the stream then announces every
 * change it watches (a spurious list_changed costs a re-list; a lost one, a stale list). */
#ifndef DMCP_WAKE_H
#define DMCP_WAKE_H

#include "dmcp.h"
#include "rows.h"
#include "rnd.h"

struct wake;
struct store;

/* Bytes of what a waiter waits on: a run id, or another payload the listener hears
 * ("s:<session id>"). */
#define WAKE_MAX_KEY 40

/* Events one waiter's mailbox holds, and their bytes: a step's notifications and its
 * response fit easily; more than that, and the follower reads the table instead. */
#define WAKE_MAIL_MAX 16
#define WAKE_MAIL_BYTES (256u << 10)

/* Change payloads one waiter holds until its thread takes them: a stream writes them out
 * between two waits, so more than a few means the client is not reading (then missed). */
#define WAKE_MAX_PENDING 64
/* Bytes of one change payload queued for a change waiter (NOTIFY payloads dmcp sends are
 * shorter: see store.c). */
#define WAKE_MAX_PAYLOAD 7999

/* One waiting thread's doorbell (an eventfd). Reused across streams by its thread. */
struct waiter {
	char run_id[WAKE_MAX_KEY]; /* the run (or payload) waited on, "" when not registered or
	                              waiting for changes */
	struct event_row mail[WAKE_MAIL_MAX]; /* events a step of this process committed for
	                                         the run, handed over (guarded by the mutex) */
	int n_mail;
	size_t mail_bytes;
	int mail_lost;             /* events were posted that did not fit: read the table */
	int fd;               /* eventfd, readable once rung */
	struct waiter *next;  /* in the wake table (guarded by its mutex) */
	int registered;       /* 1 while in the table */
	int changes;          /* waits for change payloads instead of a run */
	char *pending[WAKE_MAX_PENDING]; /* change payloads not taken yet, oldest first (owned;
	                                    guarded by the table's mutex) */
	int n_pending;        /* entries in pending */
	int missed;           /* change payloads were dropped since the last take */
};

/* The table; no listener thread yet (wake_listen starts one; tests ring by hand). */
struct wake *wake_new(void);
/* Start the listener thread on its own connection; it connects (and reconnects when the
 * connection breaks) by itself, with backoff. Once per wake; later calls do nothing.
 * DMCP_E_NOMEM when the thread cannot start. */
dmcp_rc wake_listen(struct wake *w, const char *conninfo) DMCP_MUST_CHECK;
/* 1 once wake_listen started a listener thread. */
int wake_listening(struct wake *w);
/* 1 while the listener's connection is up (LISTEN done). */
int wake_connected(struct wake *w);
/* Wait up to timeout_ms for the listener to be connected; 1 when it is. */
int wake_wait_connected(struct wake *w, int timeout_ms);
/* Hooks the listener thread calls: payload for every notification that is not a run id
 * ("s:<id>" and the like; waiters registered for it are rung as well), link with up = 1
 * each time the connection comes up and 0 each time it is lost. Set before wake_listen. */
void wake_on_event(struct wake *w, void (*payload)(void *arg, const char *payload),
                   void (*link)(void *arg, int up), void *arg);
/* Work the listener thread does on its own connection every interval_ms while it is
 * connected (renewing the leases of the runs this process steps). Set before wake_listen. */
void wake_on_tick(struct wake *w, void (*fn)(void *arg, struct store *st), void *arg,
                  int interval_ms);
/* Stop the listener thread (if any) and free the table. Waiters must be unregistered. */
void wake_free(struct wake *w);

dmcp_rc waiter_init(struct waiter *wt) DMCP_MUST_CHECK;
void waiter_close(struct waiter *wt);
/* From now on a notification for run_id rings wt. Register before reading the table. */
void wake_register(struct wake *w, struct waiter *wt, const char *run_id);
/* From now on every change payload is queued on wt and rings it. */
void wake_register_changes(struct wake *w, struct waiter *wt);
/* Unregister (either kind); drops the change payloads not taken. */
void wake_unregister(struct wake *w, struct waiter *wt);
/* Move the change payloads queued on wt into out (ownership passes to the caller: free
 * each), oldest first; the count is returned. *missed: some were dropped since the last
 * take (the flag is cleared). */
int wake_take_changes(struct wake *w, struct waiter *wt, char *out[WAKE_MAX_PENDING],
                      int *missed);
/* Wait up to timeout_ms for the doorbell, or for client_fd (if >= 0) to hang up.
 * *woke: 1 rung, 2 client hang-up, 0 timeout. */
dmcp_rc waiter_wait(struct wake *w, struct waiter *wt, int timeout_ms, int client_fd,
                    int *woke) DMCP_MUST_CHECK;
/* A test seam: fn runs at the start of every waiter_wait on w (it may act as another
 * worker, and set *woke to end the wait at once). NULL: none. */
void wake_on_wait(struct wake *w, void (*fn)(void *arg, int *woke), void *arg);

/* A step of this process committed events first..first+n-1 of run_id: ring its waiters
 * here at once (not after NOTIFY's trip through PostgreSQL) and hand them copies. */
void wake_post(struct wake *w, const char *run_id, int64_t first, int n,
               const enum event_kind *kinds, const char *const *bodies);
/* Move the mail of wt into out[WAKE_MAIL_MAX] (clear with row_events_clear): the count, or
 * -1 when some was lost (the caller reads the table). */
int waiter_take_mail(struct wake *w, struct waiter *wt, struct event_row *out);

/* Ring the waiters of run_id (a run id or another payload; NULL: every waiter, and change
 * waiters count it as missed: the listener reconnected). Unit tests call it directly. */
void wake_deliver(struct wake *w, const char *run_id);
/* Queue a change payload on every change waiter and ring them. */
void wake_deliver_change(struct wake *w, const char *payload);
/* One notification's payload, as the listener thread hands it over: wake_deliver (the
 * waiters registered for it), and for a payload that is not a run id wake_deliver_change
 * too. */
void wake_notify(struct wake *w, const char *payload);

#endif
