/* server.c — the Streamable HTTP transport over core's request/response interface (see
 * server.h): header rules, body limits, session lookup, dispatch, and SSE streams that
 * follow a run's event log (LISTEN/NOTIFY as a hint, the table as the truth).
 * Knows nothing of FastCGI. MCP 2025-11-25 basic/transports, basic/lifecycle,
 * basic/utilities/cancellation. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "dynreg.h"
#include "err.h"
#include "fault.h"
#include "http.h"
#include "js.h"
#include "log.h"
#include "mcp.h"
#include "metrics.h"
#include "rnd.h"
#include "rpc.h"
#include "runtime.h"
#include "scache.h"
#include "timers.h"
#include "server.h"
#include "srvint.h"
#include "sse.h"
#include "store.h"
#include "wake.h"

/* Events read from the table per query while following a run. */
#define SRV_EVENT_BATCH 64
/* Bytes of a reply's head (status and headers; none of ours is long). */
#define SRV_MAX_HEAD 4096
/* Milliseconds a DELETE waits for its session's NOTIFY to come back through this process's
 * listener (see end_session): far above the sub-millisecond it takes, far below a client's
 * patience. */
#define SRV_ECHO_MS 1000
/* Bytes of the metrics page: a few kilobytes, and 1.5 KB more per tool called. */
#define SRV_MAX_METRICS (4u << 20)
/* Bytes of one reply or event written at once (bodies are capped by their producers). */
#define SRV_MAX_REPLY (16u << 20)
/* Runs one lease renewal names at most: one per worker thread (DMCP_THREADS is at most 256). */
#define SRV_MAX_RENEW 256
/* How long a step must have run to count against a new call (step_slot): quick steps end
 * before a refused client could come back. */
#define SRV_LONG_STEP_MS 200

/* A run's stream on this connection. */
struct stream {
	struct req *r;
	rnd_hex_id run_id;
	int64_t delivered; /* highest LSN written (0 = only the priming event) */
	int started;       /* SSE head written */
	int ended;         /* the connection is done: poll, response, or client gone */
	int primes;        /* the session's version wants priming events and polling */
	int modern;        /* a 2026-07-28 response stream: no ids, no resumption, no following */
	int registered;    /* the worker's waiter is registered for this run */
	int64_t seen_last; /* delivered == the run's last LSN when the waiter was registered
	                      before the events were written: no first re-read needed */
	char *stash;       /* a lone response held back for a plain JSON reply (owned) */
};

/* ---- writing --------------------------------------------------------------------------- */

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 415: return "Unsupported Media Type";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static dmcp_rc put(struct req *r, const char *p, size_t n)
{
	return r->out->write(r->out->io, p, n);
}

/* Write a complete reply with a body (or none). extra: more header lines, or NULL. */
void srv_reply(struct req *r, int status, const char *ctype, const char *extra,
                  const char *body, size_t len)
{
	struct buf h;

	if (r->headed)
		return;
	r->headed = 1;
	r->status = status;
	buf_init(&h, SRV_MAX_HEAD);
	(void)buf_addf(&h, "Status: %d %s\r\n", status, reason(status));
	if (ctype != NULL)
		(void)buf_addf(&h, "Content-Type: %s\r\n", ctype);
	if (status != 204) /* RFC 9110 §8.6: never with 204 */
		(void)buf_addf(&h, "Content-Length: %zu\r\n", len);
	if (status == 405 && (extra == NULL || strncmp(extra, "Allow:", 6) != 0))
		(void)buf_adds(&h, "Allow: GET, POST, DELETE\r\n");
	/* 503 is always temporary here (the database, or every thread busy): say when to come
	 * back, in whole seconds (RFC 9110 §10.2.3), at least one. */
	if (status == 503 || status == 429)
		(void)buf_addf(&h, "Retry-After: %d\r\n", (r->w->srv->cfg->retry_ms + 999) / 1000 > 0
		               ? (r->w->srv->cfg->retry_ms + 999) / 1000 : 1);
	if (extra != NULL)
		(void)buf_adds(&h, extra);
	(void)buf_adds(&h, "\r\n");
	if (h.fail == DMCP_OK && put(r, h.data, h.len) == DMCP_OK && len > 0)
		(void)put(r, body, len);
	(void)r->out->flush(r->out->io);
	buf_free(&h);
}

void srv_reply_json(struct req *r, int status, json_object *o, const char *extra)
{
	const char *text = js_text(o);

	srv_reply(r, status, "application/json", extra, text, strlen(text));
	json_object_put(o);
}

/* A JSON-RPC error with an HTTP status; id may be NULL (null). */
void srv_reply_error(struct req *r, int status, json_object *id, int code, const char *msg,
                        json_object *data)
{
	srv_reply_json(r, status, rpc_error(id, code, msg, data), NULL);
}

void srv_reply_empty(struct req *r, int status)
{
	srv_reply(r, status, NULL, NULL, "", 0);
}

/* ---- streams --------------------------------------------------------------------------- */

static void stream_head(struct stream *s)
{
	static const char head[] = "Status: 200 OK\r\nContent-Type: text/event-stream\r\n"
	                           "Cache-Control: no-cache, no-transform\r\n"
	                           "X-Accel-Buffering: no\r\n\r\n";
	struct buf b;
	char id[SSE_ID_MAX];

	s->started = 1;
	s->r->headed = 1;
	s->r->status = 200;
	buf_init(&b, SRV_MAX_HEAD);
	(void)buf_add(&b, head, sizeof head - 1);
	if (s->primes) {
		/* The priming event: an id and empty data. On a resumed stream its id is the
		 * client's own cursor again (no new message), so a connection that ends before the
		 * next event still leaves the client an id to resume from. */
		sse_event_id(id, s->run_id, s->delivered);
		(void)sse_event(&b, id, -1, "");
	}
	if (b.fail != DMCP_OK || put(s->r, b.data, b.len) != DMCP_OK ||
	    s->r->out->flush(s->r->out->io) != DMCP_OK)
		s->ended = 1;
	buf_free(&b);
}

/* Write one event (flushed by the caller, once per batch); poll events end the connection
 * with retry:, responses end the stream. */
static void stream_event(struct stream *s, int64_t lsn, enum event_kind kind, const char *body)
{
	struct buf b;
	char id[SSE_ID_MAX];
	long retry;

	if (s->ended)
		return;
	sse_event_id(id, s->run_id, lsn);
	buf_init(&b, SRV_MAX_REPLY);
	if (kind == EV_POLL) {
		retry = strtol(body, NULL, 10);
		(void)sse_event(&b, s->modern ? NULL : id, (int)retry, "");
	} else {
		(void)sse_event(&b, s->modern ? NULL : id, -1, body);
	}
	if (b.fail != DMCP_OK || put(s->r, b.data, b.len) != DMCP_OK)
		s->ended = 1;
	s->delivered = lsn;
	if (kind == EV_POLL || kind == EV_RESPONSE)
		s->ended = 1;
	buf_free(&b);
}

static void stream_flush(struct stream *s)
{
	dmcp_rc rc;

	if (!s->started)
		return;
	/* Fault points: a batch of a run's events (a request, notifications, the response)
	 * leaves the process here, towards the web server and the client. */
	FAULT_POINT(HTTP_BEFORE);
	rc = s->r->out->flush(s->r->out->io);
	FAULT_POINT(HTTP_AFTER);
	if (rc != DMCP_OK)
		s->ended = 1;
}

/* An SSE comment on a quiet stream, so proxies keep it open; 0 when the client is gone. */
static int stream_heartbeat_req(struct req *r)
{
	struct buf b;
	int ok;

	buf_init(&b, SRV_MAX_HEAD);
	ok = sse_comment(&b, "keepalive") == DMCP_OK && put(r, b.data, b.len) == DMCP_OK &&
	     r->out->flush(r->out->io) == DMCP_OK;
	buf_free(&b);
	return ok;
}

static int stream_heartbeat(struct stream *s)
{
	return stream_heartbeat_req(s->r);
}

/* End the connection (not the stream): the client resumes with Last-Event-ID. */
static void stream_retry(struct stream *s)
{
	char line[32];
	int n;

	if (s->ended || !s->started)
		return;
	n = snprintf(line, sizeof line, "retry: %d\n\n", s->r->w->srv->cfg->retry_ms);
	(void)put(s->r, line, (size_t)n);
	(void)s->r->out->flush(s->r->out->io);
	s->ended = 1;
}

/* rt_sink: events committed by this worker go out at once. */
static void stream_committed(void *arg, const char *run_id, int64_t first, int n,
                             const enum event_kind *kinds, const char *const *bodies)
{
	struct stream *s = arg;
	int i;

	if (s->run_id[0] == '\0')
		memcpy(s->run_id, run_id, sizeof s->run_id); /* rt_start made the id */
	if (s->ended || strcmp(run_id, s->run_id) != 0 || (!s->modern && first != s->delivered + 1))
		return;
	if (!s->started && n == 1 && kinds[0] == EV_RESPONSE) {
		free(s->stash);
		s->stash = strdup(bodies[0]);
		if (s->stash != NULL) {
			s->delivered = first;
			return;
		}
	}
	if (!s->started)
		stream_head(s);
	/* Before a request reaches the client, register for wake-ups: the answer's NOTIFY
	 * can only come after the client saw the request, so it cannot be missed. */
	for (i = 0; i < n && !s->registered; i++) {
		if (kinds[i] == EV_REQUEST) {
			wake_register(s->r->w->srv->wake, &s->r->w->waiter, s->run_id);
			s->registered = 1;
		}
	}
	for (i = 0; i < n && !s->ended; i++)
		stream_event(s, first + i, kinds[i], bodies[i]);
	stream_flush(s);
	if (s->registered)
		s->seen_last = first + n - 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int terminal(enum run_status st)
{
	return st == RUN_COMPLETED || st == RUN_FAILED || st == RUN_CANCELLED;
}

/* rt_env.local: a step of this process committed events that somebody may follow. */
static void local_post(void *arg, const char *run_id, int64_t first, int n,
                       const enum event_kind *kinds, const char *const *bodies)
{
	struct srv *s = arg;

	wake_post(s->wake, run_id, first, n, kinds, bodies);
}

/* rt_env.stepping: the run this thread steps now, at the step count the store holds (or
 * none), so that the listener renews its lease while the tool works (srv_renew). */
static void step_note(void *arg, const char *run_id, int steps)
{
	struct srv_worker *w = arg;

	pthread_mutex_lock(&w->srv->step_mu);
	snprintf(w->step_id, sizeof w->step_id, "%s", run_id != NULL ? run_id : "");
	w->step_steps = steps;
	pthread_mutex_unlock(&w->srv->step_mu);
}

/* The listener's tick: renew the leases of the runs this process's threads are stepping, so
 * that a live worker whose step outlasts the lease between two checkpoints is not taken over
 * (a takeover then means the worker is gone, or cut off from the database for a lease). */
static void srv_renew(void *arg, struct store *st)
{
	struct srv *s = arg;
	struct srv_worker *w;
	char ids[SRV_MAX_RENEW][33];
	const char *p[SRV_MAX_RENEW];
	int steps[SRV_MAX_RENEW], n = 0, renewed = 0;

	pthread_mutex_lock(&s->step_mu);
	for (w = s->workers; w != NULL && n < SRV_MAX_RENEW; w = w->next) {
		if (w->step_id[0] == '\0')
			continue;
		memcpy(ids[n], w->step_id, sizeof ids[n]);
		p[n] = ids[n];
		steps[n] = w->step_steps;
		n++;
	}
	pthread_mutex_unlock(&s->step_mu);
	if (n > 0 && store_lease_renew(st, n, p, steps, &renewed) != DMCP_OK)
		log_msg(LOG_WARN, "lease renewal of %d run(s) failed; retrying next tick", n);
	else if (n > 0)
		log_msg(LOG_DEBUG, "renewed the leases of %d of %d run(s)", renewed, n);
}

static struct rt_env make_env(struct req *r, struct rt_session *rs, struct rt_sink *sink)
{
	struct rt_env env;

	memset(rs, 0, sizeof *rs);
	rs->id = r->modern ? "" : r->sess.id;
	rs->modern = r->modern;
	rs->principal = r->principal;
	rs->scopes = r->scopes;
	rs->protocol = r->sess.protocol;
	rs->caps = r->caps;
	rs->log_level = r->modern ? r->log_level : r->sess.log_level;
	env.cfg = r->w->srv->cfg;
	env.reg = r->reg;
	env.st = r->w->st;
	env.sess = rs;
	env.sink = sink;
	env.state_key = srv_state_key(r->w);
	env.local = local_post;
	env.local_arg = r->w->srv;
	env.stepping = step_note;
	env.stepping_arg = r->w;
	return env;
}

/* Read and write what the table holds after s->delivered. *more: a full batch came. */
static dmcp_rc stream_catch_up(struct stream *s, enum run_status *status, int *more,
                               int *orphaned)
{
	struct event_row ev[SRV_EVENT_BATCH];
	int64_t last;
	int n = 0, i;
	dmcp_rc rc;

	rc = store_events_after(s->r->w->st, s->run_id, s->r->sess.id, s->r->principal,
	                        s->delivered, SRV_EVENT_BATCH, ev, &n, status, &last, orphaned);
	if (rc != DMCP_OK)
		return rc;
	for (i = 0; i < n; i++)
		stream_event(s, ev[i].lsn, ev[i].kind, ev[i].body);
	if (n > 0)
		stream_flush(s);
	row_events_clear(ev, n);
	*more = n == SRV_EVENT_BATCH;
	if (terminal(*status) && s->delivered >= last)
		s->ended = 1;
	return DMCP_OK;
}

/* Write the events a step of this process handed over (wake_post), when they follow what
 * the stream delivered; 1 when that covered the wake-up (no table read needed). */
static int stream_mail(struct stream *s)
{
	struct event_row ev[WAKE_MAIL_MAX];
	int n = waiter_take_mail(s->r->w->srv->wake, &s->r->w->waiter, ev), i, ok;

	ok = n > 0 && ev[0].lsn <= s->delivered + 1;
	for (i = 0; ok && i < n; i++)
		if (ev[i].lsn == s->delivered + 1)
			stream_event(s, ev[i].lsn, ev[i].kind, ev[i].body);
	if (ok)
		stream_flush(s);
	row_events_clear(ev, n > 0 ? n : 0);
	return ok && !(n > 0 && ev[n - 1].lsn > s->delivered);
}

/* Start the process's listener on first use (a CGI process that never follows a run never
 * opens the second connection). Without it, followers still poll the table. */
static void wake_ensure(struct srv *srv)
{
	if (!srv->wake_owned || srv->no_listener)
		return;
	pthread_mutex_lock(&srv->wake_mu);
	if (!wake_listening(srv->wake) && wake_listen(srv->wake, srv->cfg->listen_url) != DMCP_OK)
		log_msg(LOG_WARN, "no listener thread; streams poll every DMCP_POLL_MS");
	pthread_mutex_unlock(&srv->wake_mu);
}

int srv_listen(struct srv *s, int wait_ms)
{
	wake_ensure(s);
	/* A long-lived process also takes the steps that fall due (timers, tasks). */
	if (s->wake_owned && s->sched == NULL &&
	    timers_start(s->cfg, s->reg, s->wake, local_post, s, &s->sched) != DMCP_OK)
		log_msg(LOG_WARN, "no scheduler thread: due runs wait for `sweep`");
	return s->wake_owned && wake_wait_connected(s->wake, wait_ms);
}

/* The listener heard a payload that is not a run id. */
static void srv_heard(void *arg, const char *payload)
{
	struct srv *s = arg;

	if (payload[0] == 's' && payload[1] == ':')
		scache_drop(s->cache, payload + 2);
	else if (strcmp(payload, "l:tools") == 0)
		dyn_stale(s->dyn); /* CREATE, DROP or COMMENT of a function: the list follows */
}

/* The listener's connection came up or went down: the session cache follows it. */
static void srv_link(void *arg, int up)
{
	struct srv *s = arg;

	scache_enable(s->cache, up);
	if (up)
		dyn_stale(s->dyn); /* an 'l:tools' may have gone by while it was down */
}

/* Take a following slot; 0 when every slot is taken (then the stream only catches up and
 * ends with retry:, and the client polls: a few threads must stay free for answers). */
static int follow_slot(struct srv *srv)
{
	if (__atomic_add_fetch(&srv->following, 1, __ATOMIC_ACQ_REL) +
	        __atomic_load_n(&srv->stepping, __ATOMIC_ACQUIRE) <= srv->max_following)
		return 1;
	__atomic_sub_fetch(&srv->following, 1, __ATOMIC_ACQ_REL);
	return 0;
}

/* Take a stepping slot for a step: for the first step of a new call, 0 when max_following
 * threads are busy with steps that have run for SRV_LONG_STEP_MS already (the call is refused
 * with 503 and Retry-After, before anything is stored). Steps that have just begun do not
 * count: they end in a moment, and refusing calls behind them would turn a burst of quick
 * calls into errors. An answer's step (force) always receives one: it continues a call the
 * client is in the middle of, and refusing it would strand the call; it still counts, so
 * that followers leave the reserve alone while it runs. */
static int step_slot(struct srv_worker *w, int force)
{
	struct srv *srv = w->srv;
	struct srv_worker *o;
	long long now = now_ms();
	int n, long_ones = 0;

	n = __atomic_add_fetch(&srv->stepping, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&w->step_since, now, __ATOMIC_RELEASE);
	if (n <= srv->max_following || force)
		return 1;
	pthread_mutex_lock(&srv->step_mu);
	for (o = srv->workers; o != NULL; o = o->next) {
		long long since = __atomic_load_n(&o->step_since, __ATOMIC_ACQUIRE);
		if (o != w && since != 0 && now - since >= SRV_LONG_STEP_MS)
			long_ones++;
	}
	pthread_mutex_unlock(&srv->step_mu);
	if (long_ones < srv->max_following)
		return 1;
	__atomic_store_n(&w->step_since, 0, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&srv->stepping, 1, __ATOMIC_ACQ_REL);
	return 0;
}

static void step_done(struct srv_worker *w)
{
	__atomic_store_n(&w->step_since, 0, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&w->srv->stepping, 1, __ATOMIC_ACQ_REL);
}

/* Follow the run: write its events as they are committed, until its response went out, the
 * hold time passed (then retry:), the client left, or the server stops. */
static void stream_follow(struct stream *s)
{
	const struct cfg *cfg = s->r->w->srv->cfg;
	struct srv_worker *w = s->r->w;
	long long deadline = now_ms() + cfg->hold_ms, beat = now_ms() + cfg->heartbeat_ms;
	enum run_status status;
	int more, orphaned, woke = 0, read_first = 1, slot = follow_slot(w->srv), took_over = 0;
	dmcp_rc rc;

	if (!slot)
		deadline = now_ms(); /* no thread to spare: deliver what is there, then retry: */
	wake_ensure(w->srv);
	if (!s->registered && slot) {
		wake_register(w->srv->wake, &w->waiter, s->run_id);
		s->registered = 1;
	} else if (s->registered && s->delivered == s->seen_last) {
		read_first = 0; /* registered before the client saw anything: the doorbell says */
	}
	log_msg(LOG_DEBUG, "pid %ld: following run %s after %lld", (long)getpid(), s->run_id,
	        (long long)s->delivered);
	while (!s->ended) {
		long long now, wait;
		if (woke == 1 && !read_first && stream_mail(s))
			woke = 0; /* this process's own step handed the events over: no read */
		if (read_first || woke != 0) {
			rc = stream_catch_up(s, &status, &more, &orphaned);
			if (rc != DMCP_OK || s->ended)
				break;
			if (more)
				continue;
			if (orphaned && !took_over) {
				struct rt_session rs;
				struct rt_env env = make_env(s->r, &rs, NULL);
				/* One takeover per connection: a step that keeps failing is not retried in
				 * a loop (the lease it claimed passes again, and the next connection, or
				 * sweep, tries once more). */
				took_over = 1;
				step_slot(w, 1);
				rc = rt_resume(&env, s->run_id);
				step_done(w);
				if (rc == DMCP_E_DB)
					break;
				continue;
			}
		}
		if (s->ended)
			break; /* the handed-over events held the response */
		read_first = 0; /* a timeout or a foreign ring re-reads; the table is the truth */
		now = now_ms();
		if (*w->srv->stopping || now >= deadline) {
			stream_retry(s);
			break;
		}
		if (now >= beat) {
			if (!stream_heartbeat(s))
				break;
			beat = now + cfg->heartbeat_ms;
		}
		wait = deadline - now;
		if (wait > cfg->poll_ms)
			wait = cfg->poll_ms;
		if (wait > beat - now)
			wait = beat - now;
		rc = waiter_wait(w->srv->wake, &w->waiter, (int)(wait > 0 ? wait : 0), s->r->out->fd,
		                 &woke);
		if (rc != DMCP_OK || woke == 2)
			break;
		if (woke == 0)
			read_first = 1; /* the poll: read the table, NOTIFY or not */
	}
	if (slot)
		__atomic_sub_fetch(&w->srv->following, 1, __ATOMIC_ACQ_REL);
	/* However the loop ended without the response (the database failed, the server stops):
	 * the client is told to come back (a client that is gone does not mind the write). */
	stream_retry(s);
}

/* ---- change streams ------------------------------------------------------------------- */

/* Take a change-stream slot (subscriptions/listen, a session's standalone GET stream): 0
 * when none is free. These hold their thread for the hold time whatever happens, so they
 * get at most half of the following slots, and none in a single-threaded process. The slot
 * is also a following slot: tool calls' streams and change streams share that bound. */
int srv_change_slot(struct srv *srv)
{
	if (__atomic_add_fetch(&srv->changes, 1, __ATOMIC_ACQ_REL) > srv->max_changes) {
		__atomic_sub_fetch(&srv->changes, 1, __ATOMIC_ACQ_REL);
		return 0;
	}
	if (!follow_slot(srv)) {
		__atomic_sub_fetch(&srv->changes, 1, __ATOMIC_ACQ_REL);
		return 0;
	}
	return 1;
}

void srv_change_release(struct srv *srv)
{
	__atomic_sub_fetch(&srv->following, 1, __ATOMIC_ACQ_REL);
	__atomic_sub_fetch(&srv->changes, 1, __ATOMIC_ACQ_REL);
}

int srv_change_streams(const struct srv *srv)
{
	return srv->max_changes > 0;
}

/* Write bytes on a change stream and flush; 0 when the client is gone. */
static int changes_put(struct req *r, struct buf *b)
{
	return b->fail == DMCP_OK && put(r, b->data, b->len) == DMCP_OK &&
	       r->out->flush(r->out->io) == DMCP_OK;
}

/* One notification frame: method, and params (taken; NULL for none) with the subscription
 * id stamped in params._meta on the modern wire. */
static int changes_note(struct req *r, const struct srv_changes *c, const char *method,
                        json_object *params)
{
	json_object *msg, *meta;
	struct buf b;
	int ok;

	if (c->sub_id != NULL) {
		if (params == NULL)
			params = js_new_object();
		meta = js_new_object();
		js_object_add(meta, SRV_META_SUBSCRIPTION, json_object_get(c->sub_id));
		js_object_add(params, "_meta", meta);
	}
	msg = rpc_request(NULL, method, params);
	buf_init(&b, SRV_MAX_REPLY);
	(void)sse_event(&b, NULL, -1, js_text(msg));
	ok = changes_put(r, &b);
	buf_free(&b);
	json_object_put(msg);
	return ok;
}

static int changes_updated(struct req *r, const struct srv_changes *c, const char *uri)
{
	json_object *params = js_new_object();

	js_object_add(params, "uri", js_new_string(uri));
	return changes_note(r, c, "notifications/resources/updated", params);
}

/* 1 when the stream watches resource uri: listed in the listen request, or (legacy) in the
 * session's subscriptions. */
static int watches(struct req *r, const struct srv_changes *c, const char *uri)
{
	size_t i, n;
	int yes = 0;

	if (c->uris != NULL) {
		n = json_object_array_length(c->uris);
		for (i = 0; i < n; i++)
			if (strcmp(json_object_get_string(json_object_array_get_idx(c->uris, i)), uri) == 0)
				return 1;
		return 0;
	}
	if (c->session_id == NULL || !c->resources)
		return 0;
	if (store_subscribed(r->w->st, c->session_id, uri, &yes) != DMCP_OK)
		log_msg(LOG_WARN, "standalone stream: subscriptions unreadable; an update is dropped");
	return yes;
}

/* Everything a stream watches, for when payloads were missed. */
static int changes_all(struct req *r, const struct srv_changes *c)
{
	size_t i, n = c->uris != NULL ? json_object_array_length(c->uris) : 0;
	int ok = 1;

	if (c->tools)
		ok = changes_note(r, c, "notifications/tools/list_changed", NULL);
	if (ok && c->prompts)
		ok = changes_note(r, c, "notifications/prompts/list_changed", NULL);
	if (ok && c->resources)
		ok = changes_note(r, c, "notifications/resources/list_changed", NULL);
	for (i = 0; ok && i < n; i++)
		ok = changes_updated(r, c, json_object_get_string(json_object_array_get_idx(c->uris, i)));
	return ok;
}

/* What became of a change stream after a write. */
enum changes_state { CH_GO, CH_GONE, CH_SESSION };

/* Write what the waiter collected. CH_GONE: the client is gone; CH_SESSION: a legacy
 * stream's session changed (ended, or its settings), so the stream ends and the client
 * learns the session's fate from its next request. */
static enum changes_state changes_take(struct req *r, const struct srv_changes *c)
{
	char *got[WAKE_MAX_PENDING];
	int n, missed, i, ok = 1, session = 0, tools = 0, prompts = 0, resources = 0;

	n = wake_take_changes(r->w->srv->wake, &r->w->waiter, got, &missed);
	for (i = 0; i < n; i++) {
		const char *p = got[i];
		if (strcmp(p, "l:tools") == 0)
			tools = c->tools;
		else if (strcmp(p, "l:prompts") == 0)
			prompts = c->prompts;
		else if (strcmp(p, "l:resources") == 0)
			resources = c->resources;
		else if (ok && !missed && strncmp(p, "r:", 2) == 0 && watches(r, c, p + 2))
			ok = changes_updated(r, c, p + 2);
		else if (strncmp(p, "s:", 2) == 0 && c->session_id != NULL &&
		         strcmp(p + 2, c->session_id) == 0)
			session = 1;
	}
	for (i = 0; i < n; i++)
		free(got[i]);
	if (ok && missed)
		ok = changes_all(r, c);
	if (ok && !missed && tools)
		ok = changes_note(r, c, "notifications/tools/list_changed", NULL);
	if (ok && !missed && prompts)
		ok = changes_note(r, c, "notifications/prompts/list_changed", NULL);
	if (ok && !missed && resources)
		ok = changes_note(r, c, "notifications/resources/list_changed", NULL);
	if (!ok)
		return CH_GONE;
	return session ? CH_SESSION : CH_GO;
}

/* The end of a change stream that lasted its hold time (or the server stops, or a legacy
 * session changed): listen answers its request (the spec's graceful close); a standalone
 * stream says retry: and the client opens it again. */
static void changes_end(struct req *r, const struct srv_changes *c)
{
	json_object *res, *meta, *msg;
	struct buf b;

	buf_init(&b, SRV_MAX_HEAD);
	if (c->sub_id != NULL) {
		res = js_new_object();
		meta = js_new_object();
		js_object_add(meta, SRV_META_SUBSCRIPTION, json_object_get(c->sub_id));
		js_object_add(res, "_meta", meta);
		mcp_modern_result(res, "complete");
		msg = rpc_result(c->sub_id, res);
		(void)sse_event(&b, NULL, -1, js_text(msg));
		json_object_put(msg);
	} else {
		(void)buf_addf(&b, "retry: %d\n\n", r->w->srv->cfg->retry_ms);
	}
	(void)changes_put(r, &b);
	buf_free(&b);
}

void srv_follow_changes(struct req *r, const struct srv_changes *c, const char *first)
{
	static const char head[] = "Status: 200 OK\r\nContent-Type: text/event-stream\r\n"
	                           "Cache-Control: no-cache, no-transform\r\n"
	                           "X-Accel-Buffering: no\r\n\r\n";
	const struct cfg *cfg = r->w->srv->cfg;
	struct srv_worker *w = r->w;
	long long now = now_ms(), deadline = now + cfg->hold_ms, beat = now + cfg->heartbeat_ms;
	enum changes_state st = CH_GO;
	struct buf b;
	int woke = 0;

	wake_ensure(w->srv);
	/* Registered before the head goes out: a change made after the client saw the stream
	 * open cannot be missed. */
	wake_register_changes(w->srv->wake, &w->waiter);
	r->headed = 1;
	buf_init(&b, SRV_MAX_REPLY);
	(void)buf_add(&b, head, sizeof head - 1);
	if (first != NULL)
		(void)sse_event(&b, NULL, -1, first);
	else
		(void)sse_comment(&b, "open"); /* a proxy may hold a head without a body back */
	if (!changes_put(r, &b))
		st = CH_GONE;
	buf_free(&b);
	while (st == CH_GO) {
		long long wait;
		now = now_ms();
		if (*w->srv->stopping || now >= deadline)
			break;
		if (now >= beat) {
			if (!stream_heartbeat_req(r)) {
				st = CH_GONE;
				break;
			}
			beat = now + cfg->heartbeat_ms;
		}
		wait = (deadline < beat ? deadline : beat) - now;
		if (waiter_wait(w->srv->wake, &w->waiter, (int)(wait > 0 ? wait : 0), r->out->fd,
		                &woke) != DMCP_OK || woke == 2)
			st = CH_GONE;
		else if (woke == 1)
			st = changes_take(r, c);
	}
	if (st != CH_GONE)
		changes_end(r, c);
	wake_unregister(w->srv->wake, &w->waiter);
}

/* ---- tools/call ------------------------------------------------------------------------ */

static void call_invalid_args(struct req *r, const char *why)
{
	json_object *res = js_new_object(), *content = js_new_array();
	char text[600];

	snprintf(text, sizeof text, "Invalid arguments: %s", why);
	js_array_add(content, dmcp_text_block(text));
	js_object_add(res, "content", content);
	js_object_add(res, "isError", js_new_boolean(1));
	if (r->modern)
		mcp_modern_result(res, "complete");
	srv_reply_json(r, 200, rpc_result(r->msg.id, res), NULL);
}

/* The tool and its validated arguments (*owned: an {} made here, put it), or 0 after an
 * error reply. */
static int call_args(struct req *r, const struct reg_tool **tool, json_object **args,
                     json_object **owned)
{
	json_object *p = r->msg.params;
	const char *name = js_str(p, "name");
	char why[300];
	dmcp_rc rc;

	*owned = NULL;
	if (name == NULL) {
		srv_reply_error(r, 200, r->msg.id, RPC_INVALID_PARAMS, "Invalid params: name must be "
		                "a string", NULL);
		return 0;
	}
	*tool = reg_tool(r->reg, name);
	if (*tool == NULL) {
		snprintf(why, sizeof why, "Unknown tool: %.200s", name);
		srv_reply_error(r, 200, r->msg.id, RPC_INVALID_PARAMS, why, NULL);
		return 0;
	}
	*args = js_get(p, "arguments", json_type_object);
	if (*args == NULL && js_has(p, "arguments")) {
		srv_reply_error(r, 200, r->msg.id, RPC_INVALID_PARAMS, "Invalid params: arguments "
		                "must be an object", NULL);
		return 0;
	}
	if (*args == NULL)
		*args = *owned = js_new_object();
	rc = reg_args_check(*tool, *args, why, sizeof why);
	if (rc == DMCP_E_VALIDATION)
		call_invalid_args(r, why);
	else if (rc != DMCP_OK)
		srv_reply_error(r, 503, r->msg.id, RPC_INTERNAL_ERROR, "internal error; try again",
		                NULL);
	return rc == DMCP_OK;
}

/* The rest of a tools/call's params: its progress token and, on the 2026-07-28 wire, the
 * answers and the state of an earlier round. 0 after an error reply. */
static int call_extras(struct req *r, struct rt_call *c)
{
	json_object *p = r->msg.params, *meta = js_get(p, "_meta", json_type_object), *st;

	c->request_id = r->msg.id;
	if (meta != NULL && json_object_object_get_ex(meta, "progressToken", &c->progress_token) &&
	    !rpc_id_valid(c->progress_token))
		c->progress_token = NULL;
	if (!r->modern)
		return 1;
	json_object_object_get_ex(p, "inputResponses", &c->inputs);
	if (!json_object_object_get_ex(p, "requestState", &st))
		return 1;
	if (!json_object_is_type(st, json_type_string)) {
		srv_reply_error(r, 200, r->msg.id, RPC_INVALID_PARAMS, "Invalid params: requestState "
		                "must be a string", NULL);
		return 0;
	}
	c->state = json_object_get_string(st);
	return 1;
}

/* The reply for a call whose outcome never reached the stream. */
static void call_failed(struct req *r, const char *name, const struct run_row *run,
                        dmcp_rc rc)
{
	char why[300];

	switch (rc) {
	case DMCP_E_PARAMS:
		srv_reply_error(r, 200, r->msg.id, RPC_INVALID_PARAMS, "Invalid or expired "
		                "requestState", NULL);
		break;
	case DMCP_CANCELLED:
		srv_reply_error(r, 200, r->msg.id, RPC_INVALID_PARAMS, "This call was cancelled",
		                NULL);
		break;
	case DMCP_E_LIMIT:
		if (run->over_principal)
			snprintf(why, sizeof why, "principal %.64s has %d unfinished tool calls, the "
			         "limit (DMCP_MAX_RUNS_PER_PRINCIPAL): answer or cancel one first",
			         run->principal, r->w->srv->cfg->max_principal_runs);
		else if (r->modern) /* the call would have become a task */
			snprintf(why, sizeof why, "you hold %d unfinished tasks, the limit "
			         "(DMCP_MAX_TASKS)", r->w->srv->cfg->max_tasks);
		else
			snprintf(why, sizeof why, "this session has %d unfinished tool calls, the "
			         "limit (DMCP_MAX_RUNS_PER_SESSION)", r->w->srv->cfg->max_runs);
		srv_reply_error(r, 200, r->msg.id, RPC_SERVER_ERROR, why, NULL);
		break;
	case DMCP_E_NOT_FOUND:
		srv_reply_error(r, 404, r->msg.id, RPC_SESSION_NOT_FOUND, "Session not found", NULL);
		break;
	default:
		log_msg(LOG_ERROR, "tools/call %.100s: %s", name, dmcp_rc_name(rc));
		srv_reply_error(r, 503, r->msg.id, RPC_INTERNAL_ERROR, "the call could not be "
		                "stored; try again", NULL);
	}
}

/* Take a call's step and answer: a lone response as plain JSON, anything else as a stream
 * that (on the 2025-11-25 wire) goes on following the run. */
static void run_call(struct req *r, const struct rt_call *call)
{
	struct stream s;
	struct rt_session rs;
	struct rt_sink sink;
	struct rt_env env;
	struct run_row run;
	dmcp_rc rc;

	memset(&s, 0, sizeof s);
	memset(&sink, 0, sizeof sink);
	s.r = r;
	s.modern = r->modern;
	s.primes = !r->modern && http_version_primes(r->sess.protocol);
	sink.arg = &s;
	sink.committed = stream_committed;
	env = make_env(r, &rs, &sink);
	if (!step_slot(r->w, 0)) {
		srv_reply_error(r, 503, r->msg.id, RPC_SERVER_ERROR, "every worker thread that may run "
		                "a tool is busy; try again", NULL);
		return;
	}
	rc = rt_call(&env, call, &run);
	step_done(r->w);
	if (rc != DMCP_OK && !s.started && s.stash == NULL) {
		call_failed(r, call->tool->def->name, &run, rc);
	} else if (s.stash != NULL && !s.started) {
		srv_reply(r, sink.status ? sink.status : 200, "application/json", NULL, s.stash,
		          strlen(s.stash));
	} else {
		memcpy(s.run_id, run.id, sizeof s.run_id);
		if (!s.started)
			stream_head(&s);
		if (!s.ended && !s.modern)
			stream_follow(&s); /* catches up from the table, then follows */
	}
	if (run.task)
		task_after_call(r, &run);
	if (s.registered)
		wake_unregister(r->w->srv->wake, &r->w->waiter);
	free(s.stash);
	row_run_clear(&run);
}

void srv_tools_call(struct req *r)
{
	struct rt_call call;
	json_object *owned;

	memset(&call, 0, sizeof call);
	if (call_args(r, &call.tool, &call.args, &owned) && call_extras(r, &call) &&
	    !task_tools_call(r, &call))
		run_call(r, &call);
	json_object_put(owned);
}

int srv_prompts_get(struct req *r)
{
	const struct dmcp_prompt *p = NULL;
	struct rt_call call;
	json_object *owned = NULL;
	char why[300];

	memset(&call, 0, sizeof call);
	if (mcp_prompt_call(r->reg, r->msg.params, &p, &call.args, &owned, why,
	                    sizeof why) != DMCP_OK || p->run == NULL) {
		json_object_put(owned);
		return 0; /* mcp.c answers: the same checks, the same message */
	}
	call.tool = reg_prompt_run(r->reg, p->name);
	if (call_extras(r, &call))
		run_call(r, &call);
	json_object_put(owned);
	return 1;
}

/* ---- POST ------------------------------------------------------------------------------ */

/* Read the body: refuse over-size bodies before reading them, and short ones. */
static int read_body(struct req *r)
{
	const struct cfg *cfg = r->w->srv->cfg;
	size_t want = 0, got;
	int declared = r->rq->content_length != NULL && r->rq->content_length[0] != '\0';
	char chunk[16384];

	if (declared && http_content_length(r->rq->content_length, &want) != DMCP_OK) {
		srv_reply_error(r, 400, NULL, RPC_INVALID_REQUEST, "Content-Length is not a number", NULL);
		return 0;
	}
	if (declared && want > cfg->max_body) {
		srv_reply_error(r, 413, NULL, RPC_INVALID_REQUEST, "request body larger than "
		            "DMCP_MAX_BODY", NULL);
		return 0;
	}
	buf_init(&r->body, cfg->max_body);
	for (;;) {
		size_t cap = sizeof chunk;
		if (declared && want - r->body.len < cap)
			cap = want - r->body.len;
		if (cap == 0)
			break;
		if (r->rq->read(r->rq->io, chunk, cap, &got) != DMCP_OK || got == 0)
			break;
		if (buf_add(&r->body, chunk, got) != DMCP_OK) {
			srv_reply_error(r, 413, NULL, RPC_INVALID_REQUEST, "request body larger than "
			            "DMCP_MAX_BODY", NULL);
			return 0;
		}
	}
	if (declared && r->body.len != want) {
		srv_reply_error(r, 400, NULL, RPC_INVALID_REQUEST, "the request body is shorter than "
		            "its Content-Length (cut off)", NULL);
		return 0;
	}
	return 1;
}

static int parse_message(struct req *r)
{
	json_object *root = NULL;
	char why[200];
	dmcp_rc rc;

	rc = js_parse(r->body.data != NULL ? r->body.data : "", r->body.len, JS_MAX_DEPTH, &root,
	              why, sizeof why);
	if (rc == DMCP_E_PARSE) {
		srv_reply_error(r, 400, NULL, RPC_PARSE_ERROR, why, NULL);
		return 0;
	}
	if (rc != DMCP_OK) {
		srv_reply_error(r, 400, NULL, RPC_INVALID_REQUEST, why, NULL);
		return 0;
	}
	rc = rpc_classify(root, &r->msg, why, sizeof why);
	if (rc != DMCP_OK) {
		srv_reply_error(r, 400, r->msg.id, RPC_INVALID_REQUEST, why, NULL);
		return 0;
	}
	return 1;
}

/* Everything up to here was checked without the database; now it is needed. */
int srv_db_ready(struct req *r)
{
	if (store_ready(r->w->st) == DMCP_OK)
		return 1;
	srv_reply_error(r, 503, r->msg.id, RPC_INTERNAL_ERROR, "database unavailable", NULL);
	return 0;
}

/* 400 when the request names no session (checked before the database is touched). */
static int session_header(struct req *r)
{
	if (r->rq->session_id != NULL && r->rq->session_id[0] != '\0')
		return 1;
	srv_reply_error(r, 400, r->msg.id, RPC_INVALID_REQUEST, "Mcp-Session-Id header is required",
	            NULL);
	return 0;
}

/* Find the session the request names: 404 when unknown or not ours. */
static int load_session(struct req *r)
{
	struct srv *srv = r->w->srv;
	const char *sid = r->rq->session_id;
	int stale = 0;
	dmcp_rc rc;

	if (!session_header(r))
		return 0;
	if (scache_get(srv->cache, sid, r->principal, &r->sess, &stale)) {
		rc = DMCP_OK;
		if (stale && store_session_touch(r->w->st, sid) == DMCP_OK)
			scache_touched(srv->cache, sid);
	} else if (!srv_db_ready(r)) {
		return 0;
	} else {
		rc = rnd_id_ok(sid) ? store_session_get(r->w->st, sid, r->principal, &r->sess, &stale)
		                    : DMCP_E_NOT_FOUND;
		if (rc == DMCP_OK && stale && store_session_touch(r->w->st, sid) != DMCP_OK)
			log_msg(LOG_WARN, "session %s: last_seen not updated", sid);
		if (rc == DMCP_OK)
			scache_put(srv->cache, &r->sess);
	}
	if (rc == DMCP_E_NOT_FOUND) {
		srv_reply_error(r, 404, r->msg.id, RPC_SESSION_NOT_FOUND, "Session not found", NULL);
		return 0;
	}
	if (rc != DMCP_OK) {
		srv_reply_error(r, 503, r->msg.id, RPC_INTERNAL_ERROR, "database unavailable", NULL);
		return 0;
	}
	r->have_sess = 1;
	log_set(LOG_F_SESSION, r->sess.id);
	r->caps = js_parse_trusted(r->sess.client_caps);
	if (r->caps == NULL)
		r->caps = js_new_object();
	return 1;
}

static void answer_request(struct req *r)
{
	struct mcp_call c;
	json_object *result = NULL;
	dmcp_rc rc;
	char extra[80];
	int is_init = strcmp(r->msg.method, "initialize") == 0;

	memset(&c, 0, sizeof c);
	c.cfg = r->w->srv->cfg;
	c.reg = r->reg;
	c.st = r->w->st;
	c.msg = &r->msg;
	c.sess = r->have_sess ? &r->sess : NULL;
	c.principal = r->principal;
	c.notifies = srv_change_streams(r->w->srv);
	rc = mcp_dispatch(&c, &result);
	if (rc == DMCP_OK) {
		extra[0] = '\0';
		if (is_init) {
			snprintf(extra, sizeof extra, "Mcp-Session-Id: %s\r\n", c.new_session);
			log_set(LOG_F_SESSION, c.new_session);
			scache_put(r->w->srv->cache, &c.created);
		} else if (r->have_sess && strcmp(r->msg.method, "logging/setLevel") == 0) {
			scache_drop(r->w->srv->cache, r->sess.id);
		}
		srv_reply_json(r, 200, rpc_result(r->msg.id, result), extra);
	} else if (rc == DMCP_E_DB || rc == DMCP_E_NOMEM || rc == DMCP_E_INTERNAL) {
		srv_reply_error(r, err_http_status(rc), r->msg.id, err_rpc_code(rc),
		            "internal error; try again", NULL);
		json_object_put(c.error_data);
	} else {
		srv_reply_error(r, 200, r->msg.id, c.rpc_code ? c.rpc_code : err_rpc_code(rc),
		            c.err[0] ? c.err : dmcp_rc_name(rc), c.error_data);
	}
}

static void answer_response(struct req *r)
{
	struct rt_session rs;
	struct rt_env env = make_env(r, &rs, NULL);
	int applied = 0;
	dmcp_rc rc;

	if (!json_object_is_type(r->msg.id, json_type_string)) {
		srv_reply_error(r, 404, r->msg.id, RPC_INVALID_PARAMS, "no request of ours has this id",
		            NULL);
		return;
	}
	(void)step_slot(r->w, 1);
	rc = rt_answer(&env, json_object_get_string(r->msg.id), r->msg.root, &applied);
	step_done(r->w);
	if (rc == DMCP_E_NOT_FOUND)
		srv_reply_error(r, 404, r->msg.id, RPC_INVALID_PARAMS, "no request of ours has this id",
		            NULL);
	else if (rc != DMCP_OK)
		srv_reply_error(r, 503, r->msg.id, RPC_INTERNAL_ERROR, "the answer could not be applied; "
		            "send it again", NULL);
	else {
		log_msg(LOG_DEBUG, "pid %ld: answer %.48s %s", (long)getpid(),
		        json_object_get_string(r->msg.id), applied ? "applied" : "ignored (duplicate)");
		srv_reply_empty(r, 202);
	}
}

static void answer_notification(struct req *r)
{
	json_object *rid;
	struct rt_session rs;
	struct rt_env env;

	if (strcmp(r->msg.method, "notifications/cancelled") == 0) {
		rid = r->msg.params != NULL ? json_object_object_get(r->msg.params, "requestId") : NULL;
		if (rpc_id_valid(rid)) {
			env = make_env(r, &rs, NULL);
			if (rt_cancel(&env, js_text(rid), js_str(r->msg.params, "reason")) == DMCP_E_DB)
				log_msg(LOG_ERROR, "cancel: database error");
		}
	}
	/* notifications/initialized and anything unknown: accepted, nothing to do. */
	srv_reply_empty(r, 202);
}

static void handle_post(struct req *r)
{
	const char *pv = r->rq->protocol_version;

	if (!http_is_json(r->rq->content_type)) {
		srv_reply_error(r, 415, NULL, RPC_SERVER_ERROR, "Content-Type must be application/json",
		            NULL);
		return;
	}
	if (!http_accepts(r->rq->accept, "application/json") ||
	    !http_accepts(r->rq->accept, "text/event-stream")) {
		srv_reply_error(r, 406, NULL, RPC_SERVER_ERROR, "Accept must list application/json and "
		            "text/event-stream", NULL);
		return;
	}
	if (!read_body(r) || !parse_message(r))
		return;
	if (modern_claims(r)) {
		modern_handle(r);
		return;
	}
	if (pv != NULL && pv[0] != '\0' && !http_version_ok(pv)) {
		srv_reply_error(r, 400, r->msg.id, RPC_INVALID_REQUEST, "unsupported MCP-Protocol-Version",
		            NULL);
		return;
	}
	if (r->msg.kind == RPC_REQUEST && strcmp(r->msg.method, "initialize") == 0) {
		if (srv_db_ready(r))
			answer_request(r);
		return;
	}
	if (!load_session(r))
		return;
	if (r->msg.kind == RPC_RESPONSE)
		answer_response(r);
	else if (r->msg.kind == RPC_NOTIFICATION)
		answer_notification(r);
	else if (strcmp(r->msg.method, "tools/call") == 0)
		srv_tools_call(r);
	else if (task_is_method(r->msg.method))
		task_legacy(r);
	else if (strcmp(r->msg.method, "prompts/get") != 0 || !srv_prompts_get(r))
		answer_request(r);
}

/* ---- GET and DELETE -------------------------------------------------------------------- */

/* GET without Last-Event-ID: the session's standalone stream, which carries what belongs
 * to no call: list_changed of tools, prompts and resources, and resources/updated for the
 * session's subscriptions. No event ids (nothing on it is stored, so nothing resumes): at
 * the end of the hold time it says retry: and the client opens it again. A process that
 * keeps no change streams (fewer than 3 threads), and a GET without a session, get 405: the
 * answer after which a client does without (400 would make it retry). */
static void standalone_stream(struct req *r)
{
	const dmcp_registry *reg = r->w->srv->reg;
	struct srv_changes c;

	if (!srv_change_streams(r->w->srv)) {
		srv_reply_error(r, 405, NULL, RPC_SERVER_ERROR, "GET without Last-Event-ID is not "
		                "offered by this process: messages travel on the stream of their call",
		                NULL);
		return;
	}
	if (r->rq->session_id == NULL || r->rq->session_id[0] == '\0') {
		/* 405, not 400: a client that lost its session (after DELETE) stops asking. */
		srv_reply_error(r, 405, NULL, RPC_SERVER_ERROR, "GET without Last-Event-ID is the "
		                "standalone stream of a session: it needs Mcp-Session-Id", NULL);
		return;
	}
	if (!load_session(r))
		return;
	memset(&c, 0, sizeof c);
	c.tools = 1;
	c.prompts = reg->n_prompts > 0;
	c.resources = reg->n_resources + reg->n_templates > 0;
	c.session_id = r->sess.id;
	if (!srv_change_slot(r->w->srv)) {
		char line[32];
		int n = snprintf(line, sizeof line, "retry: %d\n\n", r->w->srv->cfg->retry_ms);
		srv_reply(r, 200, "text/event-stream", "Cache-Control: no-cache, no-transform\r\n",
		          line, (size_t)n);
		return;
	}
	srv_follow_changes(r, &c, NULL);
	srv_change_release(r->w->srv);
}

static void handle_get(struct req *r)
{
	struct stream s;
	int64_t lsn;
	rnd_hex_id run_id;

	if (!http_accepts(r->rq->accept, "text/event-stream")) {
		srv_reply_error(r, 406, NULL, RPC_SERVER_ERROR, "Accept must list text/event-stream", NULL);
		return;
	}
	if (r->rq->last_event_id == NULL || r->rq->last_event_id[0] == '\0') {
		standalone_stream(r);
		return;
	}
	if (!sse_parse_event_id(r->rq->last_event_id, run_id, &lsn)) {
		srv_reply_error(r, 400, NULL, RPC_INVALID_REQUEST, "malformed Last-Event-ID", NULL);
		return;
	}
	if (!session_header(r) || !srv_db_ready(r) || !load_session(r))
		return;
	memset(&s, 0, sizeof s);
	s.r = r;
	memcpy(s.run_id, run_id, sizeof s.run_id);
	s.delivered = lsn;
	s.primes = http_version_primes(r->sess.protocol);
	{
		enum run_status st;
		int64_t last;
		int n = 0, orphan;
		struct event_row ev[1];
		dmcp_rc rc = store_events_after(r->w->st, run_id, r->sess.id, r->principal, lsn, 1, ev,
		                                &n, &st, &last, &orphan);
		row_events_clear(ev, n);
		if (rc == DMCP_E_NOT_FOUND &&
		    store_run_expired(r->w->st, run_id, r->sess.id, r->principal)) {
			srv_reply_error(r, 404, NULL, RPC_INVALID_PARAMS, "this call expired: its events "
			                "were kept DMCP_RETENTION seconds after it finished", NULL);
			return;
		}
		if (rc == DMCP_E_NOT_FOUND || (rc == DMCP_OK && lsn > last)) {
			srv_reply_error(r, 404, NULL, RPC_INVALID_PARAMS, "no such stream in this session",
			            NULL);
			return;
		}
		if (rc != DMCP_OK) {
			srv_reply_error(r, 503, NULL, RPC_INTERNAL_ERROR, "database unavailable", NULL);
			return;
		}
	}
	stream_head(&s);
	stream_follow(&s);
	if (s.registered)
		wake_unregister(r->w->srv->wake, &r->w->waiter);
}

/* End the session. The reply waits (at most SRV_ECHO_MS) until this process's listener has
 * heard the session's "s:<id>" NOTIFY come back: PostgreSQL sends a notification to every
 * listener when the transaction that sent it commits, so by then the other processes'
 * listeners have it too, and their caches drop the session as soon as they read it. */
static dmcp_rc end_session(struct req *r, const char *sid)
{
	struct srv *srv = r->w->srv;
	char key[WAKE_MAX_KEY];
	int echo = srv->wake_owned && wake_connected(srv->wake), woke = 0;
	long long until;
	dmcp_rc rc;

	snprintf(key, sizeof key, "s:%s", sid);
	if (echo)
		wake_register(srv->wake, &r->w->waiter, key);
	rc = store_session_end(r->w->st, sid, r->principal, "session ended by the client");
	scache_drop(srv->cache, sid);
	until = now_ms() + SRV_ECHO_MS;
	while (rc == DMCP_OK && echo && woke != 1 && now_ms() < until)
		if (waiter_wait(srv->wake, &r->w->waiter, (int)(until - now_ms()), -1, &woke) != DMCP_OK)
			break;
	if (echo)
		wake_unregister(srv->wake, &r->w->waiter);
	return rc;
}

static void handle_delete(struct req *r)
{
	const char *sid = r->rq->session_id;
	dmcp_rc rc;

	if (sid == NULL || sid[0] == '\0') {
		srv_reply_error(r, 400, NULL, RPC_INVALID_REQUEST, "Mcp-Session-Id header is required",
		            NULL);
		return;
	}
	if (!rnd_id_ok(sid)) {
		srv_reply_error(r, 404, NULL, RPC_SESSION_NOT_FOUND, "Session not found", NULL);
		return;
	}
	if (!srv_db_ready(r))
		return;
	rc = end_session(r, sid);
	if (rc == DMCP_E_NOT_FOUND)
		srv_reply_error(r, 404, NULL, RPC_SESSION_NOT_FOUND, "Session not found", NULL);
	else if (rc != DMCP_OK)
		srv_reply_error(r, 503, NULL, RPC_INTERNAL_ERROR, "database unavailable", NULL);
	else
		srv_reply_empty(r, 200);
}

/* ---- entry ----------------------------------------------------------------------------- */

static int header_too_long(const struct srv_req *rq)
{
	/* Authorization is bounded by auth_check (an over-long token is a refused token). */
	const char *h[] = {rq->accept, rq->content_type, rq->content_length, rq->origin,
	                   rq->host, rq->session_id, rq->protocol_version, rq->last_event_id,
	                   rq->mcp_method, rq->mcp_name, rq->request_uri, rq->script_name,
	                   rq->path_info};
	size_t i;

	for (i = 0; i < sizeof h / sizeof h[0]; i++)
		if (h[i] != NULL && strnlen(h[i], HTTP_MAX_HEADER + 1) > HTTP_MAX_HEADER)
			return 1;
	return 0;
}

/* Who is calling (auth.h): 1 with r->principal and r->scopes set, 0 after the refusal. */
static int authenticate(struct req *r)
{
	struct auth *a = r->w->srv->auth;
	struct auth_in in = {.remote_user = r->rq->remote_user,
	                     .authorization = r->rq->authorization};
	struct auth_result res;
	struct buf hdr;
	char *body;
	dmcp_rc rc = auth_check(a, r->w->st, &in, &res);

	switch (rc) {
	case DMCP_OK:
		memcpy(r->principal, res.principal, sizeof r->principal);
		memcpy(r->scopes, res.scopes, sizeof r->scopes);
		log_set(LOG_F_PRINCIPAL, r->principal);
		log_msg(LOG_DEBUG, "pid %ld: authenticated %.64s", (long)getpid(), r->principal);
		return 1;
	case DMCP_E_UNAUTHORIZED:
	case DMCP_E_FORBIDDEN:
		/* The reason is one of auth.c's fixed sentences: no byte of the token. */
		log_msg(res.presented || rc == DMCP_E_FORBIDDEN ? LOG_INFO : LOG_DEBUG,
		        "pid %ld: %d: %s", (long)getpid(), err_http_status(rc), res.why);
		buf_init(&hdr, SRV_MAX_HEAD);
		auth_challenge(a, rc, &res, &hdr);
		body = auth_refusal_body(rc, &res);
		srv_reply(r, err_http_status(rc), "application/json",
		          hdr.fail == DMCP_OK ? buf_cstr(&hdr) : NULL, body != NULL ? body : "{}",
		          body != NULL ? strlen(body) : 2);
		free(body);
		buf_free(&hdr);
		return 0;
	case DMCP_E_PARAMS:
		srv_reply_error(r, 400, NULL, RPC_INVALID_REQUEST, "REMOTE_USER is not a usable name",
		                NULL);
		return 0;
	case DMCP_E_DB:
		srv_reply_error(r, 503, NULL, RPC_INTERNAL_ERROR, "database unavailable", NULL);
		return 0;
	default:
		log_msg(LOG_ERROR, "authentication: %s", dmcp_rc_name(rc));
		srv_reply_error(r, 500, NULL, RPC_INTERNAL_ERROR, "internal error; try again", NULL);
		return 0;
	}
}

/* The path the client asked for, without the query, into out[cap] (cut paths are ""):
 * REQUEST_URI when the web server passes it (nginx, Apache, lighttpd all do), else
 * SCRIPT_NAME and PATH_INFO. */
static void request_path(const struct srv_req *rq, char *out, size_t cap)
{
	const char *u = rq->request_uri;
	size_t n;

	out[0] = '\0';
	if (u != NULL && u[0] != '\0') {
		n = strcspn(u, "?#");
		if (n < cap)
			snprintf(out, cap, "%.*s", (int)n, u);
	} else if ((size_t)snprintf(out, cap, "%s%s", rq->script_name ? rq->script_name : "",
	                            rq->path_info ? rq->path_info : "") >= cap) {
		out[0] = '\0';
	}
}

/* Paths under /.well-known/ are not the MCP endpoint: the protected resource metadata
 * (RFC 9728), public and readable from any origin (browser-based clients fetch it), or 404.
 * 0 when the request is for the endpoint. */
static int well_known(struct req *r)
{
	static const char cors[] = "Access-Control-Allow-Origin: *\r\n";
	static const char preflight[] = "Access-Control-Allow-Origin: *\r\n"
	                                "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
	                                "Access-Control-Allow-Headers: *\r\n"
	                                "Access-Control-Max-Age: 86400\r\n";
	static const char allow[] = "Allow: GET, HEAD, OPTIONS\r\n"
	                            "Access-Control-Allow-Origin: *\r\n";
	static const char not_found[] = "{\"error\":\"not_found\"}";
	static const char not_allowed[] = "{\"error\":\"method_not_allowed\"}";
	const struct auth *a = r->w->srv->auth;
	const char *m = r->rq->method != NULL ? r->rq->method : "", *doc = auth_metadata(a);
	char path[HTTP_MAX_HEADER + 1];

	request_path(r->rq, path, sizeof path);
	if (strncmp(path, "/.well-known/", 13) != 0)
		return 0;
	if (!auth_metadata_path(a, path))
		srv_reply(r, 404, "application/json", cors, not_found, sizeof not_found - 1);
	else if (strcmp(m, "OPTIONS") == 0)
		srv_reply(r, 204, NULL, preflight, "", 0);
	else if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) /* HEAD: the server drops the body */
		srv_reply(r, 405, "application/json", allow, not_allowed, sizeof not_allowed - 1);
	else
		srv_reply(r, 200, "application/json", cors, doc, strlen(doc));
	return 1;
}

/* The Prometheus page, when DMCP_METRICS_PATH names the path asked for: 1 when answered,
 * 0 when the request is for the endpoint. It comes after authentication like any request. */
static int metrics_page(struct req *r)
{
	struct srv *s = r->w->srv;
	const char *want = s->cfg->metrics_path, *m = r->rq->method != NULL ? r->rq->method : "";
	char path[HTTP_MAX_HEADER + 1];
	struct metrics_gauges g;
	struct buf b;

	if (want == NULL)
		return 0;
	request_path(r->rq, path, sizeof path);
	if (strcmp(path, want) != 0)
		return 0;
	if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
		srv_reply(r, 405, "text/plain", "Allow: GET, HEAD\r\n", "GET or HEAD\n", 12);
		return 1;
	}
	g.threads = s->threads;
	g.busy = __atomic_load_n(&s->busy, __ATOMIC_RELAXED);
	g.following = __atomic_load_n(&s->following, __ATOMIC_RELAXED);
	g.listener = s->wake_owned && wake_listening(s->wake) ? wake_connected(s->wake) : -1;
	buf_init(&b, SRV_MAX_METRICS);
	if (metrics_render(&b, &g) == DMCP_OK)
		srv_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.data, b.len);
	else
		srv_reply(r, 500, "text/plain", NULL, "the page did not fit\n", 21);
	buf_free(&b);
	return 1;
}

/* This process's name for the request, for the log: "<pid>-<n>". */
static void request_id(void)
{
	static unsigned long long next;
	char id[48];

	snprintf(id, sizeof id, "%ld-%llu", (long)getpid(),
	         __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED));
	log_set(LOG_F_REQUEST, id);
}

/* The request's end: its count, and (at debug level) a line with its status and duration. */
static void request_done(struct req *r, long long started)
{
	struct log_kv kv[] = {
		{.key = "method", .str = r->rq->method != NULL ? r->rq->method : ""},
		{.key = "status", .num = r->status},
		{.key = "duration_ms", .num = now_ms() - started},
	};

	metrics_request(r->status);
	log_line(LOG_DEBUG, kv, 3, "request done");
	log_clear();
}

void srv_handle(struct srv_worker *w, const struct srv_req *rq, const struct srv_out *out)
{
	const struct cfg *cfg = w->srv->cfg;
	struct req r;
	const char *m = rq->method != NULL ? rq->method : "";
	long long started = now_ms();

	__atomic_add_fetch(&w->srv->busy, 1, __ATOMIC_RELAXED);
	request_id();
	memset(&r, 0, sizeof r);
	r.w = w;
	r.rq = rq;
	r.out = out;
	buf_init(&r.body, cfg->max_body);
	store_lazy(w->st);
	r.reg = w->srv->dyn != NULL ? dyn_acquire(w->srv->dyn, w->st) : w->srv->reg;
	if (header_too_long(rq)) {
		srv_reply_error(&r, 400, NULL, RPC_INVALID_REQUEST, "a request header is longer than "
		            "4096 bytes", NULL);
	} else if (!http_host_ok(cfg, rq->host)) {
		srv_reply_error(&r, 403, NULL, RPC_SERVER_ERROR, "Host or Origin not allowed", NULL);
	} else if (well_known(&r)) {
		/* answered: the metadata document is public */
	} else if (!http_origin_ok(cfg, rq->origin)) {
		srv_reply_error(&r, 403, NULL, RPC_SERVER_ERROR, "Host or Origin not allowed", NULL);
	} else if (!authenticate(&r)) {
		/* answered: 401, 403, 400 or 503 */
	} else if (metrics_page(&r)) {
		/* answered: the Prometheus page (behind the same authentication) */
	} else if (strcmp(m, "POST") != 0 && strcmp(m, "GET") != 0 && strcmp(m, "DELETE") != 0) {
		srv_reply_error(&r, 405, NULL, RPC_SERVER_ERROR, "method not allowed", NULL);
	} else if (strcmp(m, "POST") == 0) {
		handle_post(&r);
	} else if (strcmp(m, "GET") == 0) {
		handle_get(&r);
	} else {
		handle_delete(&r);
	}
	if (!r.headed)
		srv_reply_error(&r, 500, NULL, RPC_INTERNAL_ERROR, "no reply", NULL);
	store_rollback(w->st);
	buf_free(&r.body);
	if (r.msg.root != NULL)
		rpc_free(&r.msg);
	if (r.have_sess)
		row_session_clear(&r.sess);
	json_object_put(r.caps);
	dyn_release(w->srv->dyn, r.reg);
	request_done(&r, started);
	__atomic_sub_fetch(&w->srv->busy, 1, __ATOMIC_RELAXED);
}

const struct state_key *srv_state_key(struct srv_worker *w)
{
	struct srv *s = w->srv;
	char hex[65], stored[65];
	dmcp_rc rc = DMCP_OK;

	if (__atomic_load_n(&s->key_ready, __ATOMIC_ACQUIRE))
		return &s->key;
	pthread_mutex_lock(&s->key_mu);
	if (!s->key_ready) {
		if (s->cfg->state_key != NULL) {
			rc = state_key_hex(&s->key, s->cfg->state_key);
		} else {
			rc = state_key_new_hex(hex);
			if (rc == DMCP_OK)
				rc = store_ready(w->st);
			if (rc == DMCP_OK)
				rc = store_secret(w->st, "request_state_key", hex, stored, sizeof stored);
			if (rc == DMCP_OK)
				rc = state_key_hex(&s->key, stored);
		}
		if (rc == DMCP_OK)
			__atomic_store_n(&s->key_ready, 1, __ATOMIC_RELEASE);
		else
			log_msg(LOG_ERROR, "no requestState key (%s): 2026-07-28 calls cannot wait",
			        dmcp_rc_name(rc));
	}
	pthread_mutex_unlock(&s->key_mu);
	return rc == DMCP_OK ? &s->key : NULL;
}

dmcp_rc srv_new(const struct cfg *cfg, dmcp_registry *reg,
                const volatile sig_atomic_t *stopping, struct srv **out)
{
	struct srv *s = calloc(1, sizeof *s);
	char err[400];
	dmcp_rc rc;

	*out = NULL;
	if (s == NULL)
		return DMCP_E_NOMEM;
	s->cfg = cfg;
	s->reg = reg;
	s->stopping = stopping;
	s->wake = wake_new();
	s->wake_owned = 1;
	s->cache = scache_new();
	srv_set_threads(s, 1);
	if (s->wake == NULL || s->cache == NULL || pthread_mutex_init(&s->wake_mu, NULL) != 0 ||
	    pthread_mutex_init(&s->key_mu, NULL) != 0 || pthread_mutex_init(&s->step_mu, NULL) != 0) {
		wake_free(s->wake);
		scache_free(s->cache);
		free(s);
		return DMCP_E_NOMEM;
	}
	rc = auth_new(cfg, &s->auth, err, sizeof err);
	if (rc != DMCP_OK) {
		log_msg(LOG_ERROR, "authentication: %s", err);
		srv_free(s);
		return rc;
	}
	wake_on_event(s->wake, srv_heard, srv_link, s);
	/* Three renewals per lease: one lost tick (a slow statement) still leaves a third. */
	wake_on_tick(s->wake, srv_renew, s, cfg->lease_s * 1000 / 3);
	if (cfg->sampling_mock && reg->sampling == NULL)
		dmcp_set_sampling_provider(reg, dmcp_mock_sampling_provider());
	if (dyn_new(reg, cfg, &s->dyn) != DMCP_OK) {
		srv_free(s);
		return DMCP_E_NOMEM;
	}
	*out = s;
	return DMCP_OK;
}

void srv_tools_start(struct srv *s, int build_now)
{
	struct store *st = NULL;
	char err[300];

	if (s->dyn == NULL)
		return;
	dyn_rescan(s->dyn, 0);
	if (!build_now)
		return; /* the first request builds the list */
	if (store_open(s->cfg->database_url, &st, err, sizeof err) != DMCP_OK) {
		log_msg(LOG_WARN, "tools: %s; the first request reads the catalog", err);
		return;
	}
	if (store_ready(st) != DMCP_OK || dyn_build(s->dyn, st) != DMCP_OK)
		log_msg(LOG_WARN, "tools: no SQL tools yet; the next request tries again");
	store_close(st);
}

void srv_tools_reload(struct srv *s)
{
	log_msg(LOG_INFO, "SIGHUP: describing the programs and reading the SQL catalog again");
	dyn_rescan(s->dyn, 1);
}

void srv_free(struct srv *s)
{
	if (s == NULL)
		return;
	timers_stop(s->sched);
	if (s->wake_owned)
		wake_free(s->wake);
	scache_free(s->cache);
	dyn_free(s->dyn);
	auth_free(s->auth);
	pthread_mutex_destroy(&s->wake_mu);
	pthread_mutex_destroy(&s->key_mu);
	pthread_mutex_destroy(&s->step_mu);
	free(s);
}

void srv_set_no_listener(struct srv *s)
{
	s->no_listener = 1;
}

void srv_set_threads(struct srv *s, int threads)
{
	/* One thread in four (at least one) never follows a stream, so answers and other
	 * requests always find a thread. A single-threaded process (CGI, or one of several
	 * spawn-fcgi workers) may follow: its siblings serve the answers. */
	s->threads = threads;
	s->max_following = threads <= 1 ? 1 : threads - (threads / 4 > 1 ? threads / 4 : 1);
	/* Change streams wait for the whole hold time, answers or not: half of the following
	 * slots at most, and none where one would take the process's only thread. */
	s->max_changes = threads <= 1 ? 0 : s->max_following / 2;
}

void srv_use_wake(struct srv *s, struct wake *w)
{
	if (s->wake_owned)
		wake_free(s->wake);
	s->wake = w;
	s->wake_owned = 0;
}

dmcp_rc srv_worker_new(struct srv *s, struct srv_worker **out, char *err, size_t errlen)
{
	struct srv_worker *w = calloc(1, sizeof *w);
	dmcp_rc rc;

	*out = NULL;
	if (w == NULL)
		return DMCP_E_NOMEM;
	w->srv = s;
	if (waiter_init(&w->waiter) != DMCP_OK) {
		free(w);
		return DMCP_E_NOMEM;
	}
	/* No connection yet: the first request connects (a request that finds the database down
	 * is answered 503 at once, and the worker tries again with backoff). */
	rc = store_open_lazy(s->cfg->database_url, &w->st);
	if (rc != DMCP_OK) {
		snprintf(err, errlen, "out of memory");
		waiter_close(&w->waiter);
		free(w);
		return rc;
	}
	store_set_async(w->st, s->cfg->async_commit);
	pthread_mutex_lock(&s->step_mu);
	w->next = s->workers;
	s->workers = w;
	pthread_mutex_unlock(&s->step_mu);
	*out = w;
	return DMCP_OK;
}

struct store *srv_worker_store(struct srv_worker *w)
{
	return w->st;
}

dmcp_rc srv_worker_connect(struct srv_worker *w)
{
	return store_ready(w->st);
}

void srv_worker_free(struct srv_worker *w)
{
	struct srv_worker **pp;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->srv->step_mu);
	for (pp = &w->srv->workers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&w->srv->step_mu);
	store_close(w->st);
	waiter_close(&w->waiter);
	free(w);
}
