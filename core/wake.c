/* wake.c — one LISTEN connection per process and a table of waiting threads (see wake.h).
 * Knows nothing of HTTP; reaches PostgreSQL only through store.h. The table is the only
 * shared mutable state between worker threads, guarded by one mutex held for list edits. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdio.h>
#include <time.h>
#include "log.h"
#include "metrics.h"
#include "rnd.h"
#include "store.h"
#include "wake.h"

/* How long the listener sleeps between checks that its connection is alive: a broken
 * connection is noticed within this time even when nothing is notified. */
#define WAKE_PING_MS 10000
/* Backoff between reconnection attempts: from the first value, doubling, up to the last. */
#define WAKE_RETRY_MIN_MS 100
#define WAKE_RETRY_MAX_MS 5000

struct wake {
	pthread_mutex_t mu;   /* guards head and the waiters' links */
	struct waiter *head;  /* registered waiters */
	pthread_t thread;     /* the listener thread */
	int started;          /* the listener thread runs */
	int stop_fd;          /* eventfd: rung to stop the listener */
	struct store *st;     /* the listener's connection (owned by the thread once started) */
	char *conninfo;       /* owned: for reconnecting */
	void (*on_wait)(void *arg, int *woke); /* test seam, or NULL */
	void *on_wait_arg;
	void (*on_payload)(void *arg, const char *payload); /* wake_on_event, or NULL */
	void (*on_link)(void *arg, int up);
	void *on_arg;
	void (*on_tick)(void *arg, struct store *st); /* wake_on_tick, or NULL */
	void *tick_arg;
	int tick_ms;          /* how often on_tick runs */
	int connected;        /* the connection is up (atomic) */
	pthread_cond_t up;    /* signalled (under mu) when it comes up */
};

static void ring(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

struct wake *wake_new(void)
{
	struct wake *w = calloc(1, sizeof *w);

	if (w == NULL)
		return NULL;
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		return NULL;
	}
	if (pthread_cond_init(&w->up, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		free(w);
		return NULL;
	}
	w->stop_fd = -1;
	return w;
}

void wake_deliver(struct wake *w, const char *run_id)
{
	struct waiter *wt;

	pthread_mutex_lock(&w->mu);
	for (wt = w->head; wt != NULL; wt = wt->next) {
		if (run_id == NULL && wt->changes)
			wt->missed = 1; /* what was notified while the listener was away is gone */
		if (run_id == NULL || strcmp(wt->run_id, run_id) == 0) {
			ring(wt->fd);
			metrics_wakeup(METRICS_WAKE_NOTIFY);
		}
	}
	pthread_mutex_unlock(&w->mu);
}

void wake_deliver_change(struct wake *w, const char *payload)
{
	struct waiter *wt;
	char *copy;

	pthread_mutex_lock(&w->mu);
	for (wt = w->head; wt != NULL; wt = wt->next) {
		if (!wt->changes)
			continue;
		copy = wt->n_pending < WAKE_MAX_PENDING ? strdup(payload) : NULL;
		if (copy != NULL)
			wt->pending[wt->n_pending++] = copy;
		else
			wt->missed = 1;
		ring(wt->fd);
	}
	pthread_mutex_unlock(&w->mu);
}

void wake_notify(struct wake *w, const char *payload)
{
	wake_deliver(w, payload);
	if (!rnd_id_ok(payload) && strnlen(payload, WAKE_MAX_PAYLOAD + 1) <= WAKE_MAX_PAYLOAD)
		wake_deliver_change(w, payload);
}

/* Drop a waiter's mail. Called with the mutex held (or by the waiter's own thread). */
static void mail_clear(struct waiter *wt)
{
	row_events_clear(wt->mail, wt->n_mail);
	wt->n_mail = 0;
	wt->mail_bytes = 0;
	wt->mail_lost = 0;
}

/* Copy the events into wt's mailbox, or mark them lost. Called with the mutex held. */
static void mail_add(struct waiter *wt, int64_t first, int n, const enum event_kind *kinds,
                     const char *const *bodies)
{
	int i;

	for (i = 0; i < n && !wt->mail_lost; i++) {
		size_t len = strlen(bodies[i]);
		char *copy;
		if (wt->n_mail == WAKE_MAIL_MAX || wt->mail_bytes + len > WAKE_MAIL_BYTES ||
		    (copy = strdup(bodies[i])) == NULL) {
			wt->mail_lost = 1;
			break;
		}
		wt->mail[wt->n_mail].lsn = first + i;
		wt->mail[wt->n_mail].kind = kinds[i];
		wt->mail[wt->n_mail].body = copy;
		wt->n_mail++;
		wt->mail_bytes += len;
	}
}

void wake_post(struct wake *w, const char *run_id, int64_t first, int n,
               const enum event_kind *kinds, const char *const *bodies)
{
	struct waiter *wt;

	pthread_mutex_lock(&w->mu);
	for (wt = w->head; wt != NULL; wt = wt->next) {
		if (strcmp(wt->run_id, run_id) != 0)
			continue;
		mail_add(wt, first, n, kinds, bodies);
		ring(wt->fd);
		metrics_wakeup(METRICS_WAKE_LOCAL);
	}
	pthread_mutex_unlock(&w->mu);
}

int waiter_take_mail(struct wake *w, struct waiter *wt, struct event_row *out)
{
	int n;

	pthread_mutex_lock(&w->mu);
	n = wt->mail_lost ? -1 : wt->n_mail;
	if (n > 0)
		memcpy(out, wt->mail, (size_t)n * sizeof *out);
	else
		row_events_clear(wt->mail, wt->n_mail);
	wt->n_mail = 0;
	wt->mail_bytes = 0;
	wt->mail_lost = 0;
	pthread_mutex_unlock(&w->mu);
	return n;
}

static void deliver_cb(void *arg, const char *payload)
{
	struct wake *w = arg;

	wake_notify(w, payload);
	if (!rnd_id_ok(payload) && w->on_payload != NULL)
		w->on_payload(w->on_arg, payload);
}

/* The connection came up (up = 1) or went down (0): tell the hook, then the waiters. */
static void link_changed(struct wake *w, int up)
{
	if (w->on_link != NULL)
		w->on_link(w->on_arg, up);
	pthread_mutex_lock(&w->mu);
	__atomic_store_n(&w->connected, up, __ATOMIC_RELEASE);
	if (up)
		pthread_cond_broadcast(&w->up);
	pthread_mutex_unlock(&w->mu);
}

/* Sleep ms, or less when asked to stop; 1 when asked to stop. */
static int pause_or_stop(struct wake *w, int ms)
{
	struct pollfd p = {w->stop_fd, POLLIN, 0};

	return poll(&p, 1, ms) > 0;
}

static long long wake_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static dmcp_rc connect_listen(struct wake *w, struct store **out, char *err, size_t errlen)
{
	struct store *st = NULL;
	dmcp_rc rc = store_open(w->conninfo, &st, err, errlen);

	if (rc == DMCP_OK)
		rc = store_listen_all(st);
	/* The statements the tick runs, and the connection's timeouts. */
	if (rc == DMCP_OK && w->on_tick != NULL)
		rc = store_ready(st);
	if (rc != DMCP_OK && err[0] == '\0')
		snprintf(err, errlen, "LISTEN failed");
	if (rc != DMCP_OK) {
		store_close(st);
		st = NULL;
	}
	*out = st;
	return rc;
}

/* Wait for notifications and hand them out; on a broken connection, reconnect and wake
 * every waiter (they re-read the table, so nothing sent meanwhile is lost). */
static void *listener(void *arg)
{
	struct wake *w = arg;
	int backoff = WAKE_RETRY_MIN_MS;
	long long tick = 0, ping = 0;
	char err[300];

	for (;;) {
		struct pollfd p[2];
		int n, wait = WAKE_PING_MS;
		if (w->st == NULL) {
			err[0] = '\0';
			if (connect_listen(w, &w->st, err, sizeof err) != DMCP_OK) {
				log_msg(backoff == WAKE_RETRY_MIN_MS ? LOG_WARN : LOG_DEBUG,
				        "listener: %s; retrying", err);
				if (pause_or_stop(w, backoff))
					break;
				backoff = backoff * 2 > WAKE_RETRY_MAX_MS ? WAKE_RETRY_MAX_MS : backoff * 2;
				continue;
			}
			log_msg(LOG_INFO, "listener connected; waking every stream");
			backoff = WAKE_RETRY_MIN_MS;
			link_changed(w, 1);
			wake_deliver(w, NULL);
			tick = wake_now_ms() + w->tick_ms;
			ping = wake_now_ms() + WAKE_PING_MS;
		}
		if (w->on_tick != NULL) {
			long long now = wake_now_ms();
			if (now >= tick) {
				w->on_tick(w->tick_arg, w->st);
				tick = now + w->tick_ms;
			}
			if (tick - now < wait)
				wait = (int)(tick - now > 0 ? tick - now : 0);
		}
		p[0].fd = store_socket(w->st);
		p[0].events = POLLIN;
		p[1].fd = w->stop_fd;
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		n = poll(p, 2, wait);
		if (n > 0 && p[1].revents != 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && wake_now_ms() >= ping) {
			ping = wake_now_ms() + WAKE_PING_MS;
			if (store_ping(w->st) != DMCP_OK)
				n = -2; /* broken */
		}
		if (n == -2 ||
		    store_take_notifies(w->st, deliver_cb, w) != DMCP_OK) {
			log_msg(LOG_WARN, "listener connection lost; streams poll until it is back");
			link_changed(w, 0);
			store_close(w->st);
			w->st = NULL;
		}
	}
	if (w->st != NULL)
		link_changed(w, 0);
	store_close(w->st);
	w->st = NULL;
	return NULL;
}

dmcp_rc wake_listen(struct wake *w, const char *conninfo)
{
	if (w->started)
		return DMCP_OK;
	if (w->conninfo == NULL)
		w->conninfo = strdup(conninfo != NULL ? conninfo : "");
	if (w->stop_fd < 0)
		w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->conninfo == NULL || w->stop_fd < 0)
		return DMCP_E_NOMEM;
	if (pthread_create(&w->thread, NULL, listener, w) != 0)
		return DMCP_E_NOMEM;
	w->started = 1;
	return DMCP_OK;
}

int wake_listening(struct wake *w)
{
	return w->started;
}

int wake_connected(struct wake *w)
{
	return __atomic_load_n(&w->connected, __ATOMIC_ACQUIRE);
}

int wake_wait_connected(struct wake *w, int timeout_ms)
{
	struct timespec until;
	int up;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	while (!w->connected && w->started &&
	       pthread_cond_timedwait(&w->up, &w->mu, &until) == 0)
		;
	up = w->connected;
	pthread_mutex_unlock(&w->mu);
	return up;
}

void wake_on_event(struct wake *w, void (*payload)(void *arg, const char *payload),
                   void (*link)(void *arg, int up), void *arg)
{
	w->on_payload = payload;
	w->on_link = link;
	w->on_arg = arg;
}

void wake_on_tick(struct wake *w, void (*fn)(void *arg, struct store *st), void *arg,
                  int interval_ms)
{
	w->on_tick = fn;
	w->tick_arg = arg;
	w->tick_ms = interval_ms > 0 ? interval_ms : WAKE_PING_MS;
}

void wake_free(struct wake *w)
{
	if (w == NULL)
		return;
	if (w->started) {
		ring(w->stop_fd);
		pthread_join(w->thread, NULL);
	}
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	free(w->conninfo);
	pthread_cond_destroy(&w->up);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

dmcp_rc waiter_init(struct waiter *wt)
{
	memset(wt, 0, sizeof *wt);
	wt->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return wt->fd >= 0 ? DMCP_OK : DMCP_E_NOMEM;
}

/* Free the change payloads not taken (the caller holds the table's mutex, or wt is out of
 * the table). */
static void drop_pending(struct waiter *wt)
{
	int i;

	for (i = 0; i < wt->n_pending; i++)
		free(wt->pending[i]);
	wt->n_pending = 0;
	wt->missed = 0;
}

void waiter_close(struct waiter *wt)
{
	mail_clear(wt);
	drop_pending(wt);
	if (wt->fd >= 0)
		close(wt->fd);
	wt->fd = -1;
}

static void drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof v) > 0)
		;
}

static void link_waiter(struct wake *w, struct waiter *wt)
{
	drain(wt->fd);
	pthread_mutex_lock(&w->mu);
	wt->next = w->head;
	w->head = wt;
	wt->registered = 1;
	pthread_mutex_unlock(&w->mu);
}

void wake_register(struct wake *w, struct waiter *wt, const char *run_id)
{
	if (wt->registered)
		wake_unregister(w, wt);
	mail_clear(wt);
	snprintf(wt->run_id, sizeof wt->run_id, "%s", run_id);
	wt->changes = 0;
	link_waiter(w, wt);
}

void wake_register_changes(struct wake *w, struct waiter *wt)
{
	if (wt->registered)
		wake_unregister(w, wt);
	mail_clear(wt);
	wt->run_id[0] = '\0';
	wt->changes = 1;
	link_waiter(w, wt);
}

int wake_take_changes(struct wake *w, struct waiter *wt, char *out[WAKE_MAX_PENDING],
                      int *missed)
{
	int n;

	pthread_mutex_lock(&w->mu);
	n = wt->n_pending;
	memcpy(out, wt->pending, (size_t)n * sizeof out[0]);
	wt->n_pending = 0;
	*missed = wt->missed;
	wt->missed = 0;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void wake_unregister(struct wake *w, struct waiter *wt)
{
	struct waiter **pp;

	if (!wt->registered)
		return;
	pthread_mutex_lock(&w->mu);
	for (pp = &w->head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == wt) {
			*pp = wt->next;
			break;
		}
	}
	wt->registered = 0;
	wt->next = NULL;
	mail_clear(wt);
	drop_pending(wt);
	wt->changes = 0;
	pthread_mutex_unlock(&w->mu);
	wt->run_id[0] = '\0';
}

void wake_on_wait(struct wake *w, void (*fn)(void *arg, int *woke), void *arg)
{
	w->on_wait = fn;
	w->on_wait_arg = arg;
}

dmcp_rc waiter_wait(struct wake *w, struct waiter *wt, int timeout_ms, int client_fd,
                    int *woke)
{
	struct pollfd p[2];
	int nfds = 1, r;

	*woke = 0;
	if (w->on_wait != NULL) {
		w->on_wait(w->on_wait_arg, woke);
		if (*woke != 0)
			return DMCP_OK;
	}
	p[0].fd = wt->fd;
	p[0].events = POLLIN;
	p[0].revents = 0;
	if (client_fd >= 0) {
		p[1].fd = client_fd;
		p[1].events = POLLRDHUP;
		p[1].revents = 0;
		nfds = 2;
	}
	r = poll(p, (nfds_t)nfds, timeout_ms);
	if (r < 0)
		return errno == EINTR ? DMCP_OK : DMCP_E_INTERNAL;
	if (nfds == 2 && (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
		*woke = 2;
		return DMCP_OK;
	}
	if (p[0].revents != 0) {
		drain(wt->fd);
		*woke = 1;
	}
	return DMCP_OK;
}
