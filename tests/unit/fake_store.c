/* fake_store.c — an in-memory implementation of every function of core/store.h, for the
 * unit tests of runtime.c, mcp.c and server.c (they link this instead of core/store.o, so
 * no PostgreSQL is needed). Same contracts as core/store.c: sessions bound to a principal,
 * runs inserted or updated together with their events in one call, gap-free LSNs per run,
 * NOT_FOUND for rows of another session or principal, NOTIFY delivered at commit. One
 * process-wide database shared by every handle; store_begin snapshots it and
 * store_rollback restores the snapshot. Test hooks are declared in fake_store.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fake_store.h"
#include "rnd.h"
#include "store.h"

/* Functions whose calls are counted separately. */
#define FS_MAX_FNS 64
/* Failure rules set with fake_store_fail at once. */
#define FS_MAX_RULES 8
/* Runs one transaction may lock. */
#define FS_MAX_LOCKS 16

struct fs_event {
	int64_t lsn;
	enum event_kind kind;
	char *body; /* owned */
};

struct fs_run {
	struct run_row row; /* owned copies; row.exists is 1 */
	int expired;        /* the lease passed */
	long updated;       /* tick of the last write (orphans are listed oldest first) */
	long created;       /* tick of the insert (tasks are listed in creation order) */
	struct fs_event *ev;
	int nev, cap;
};

struct fs_session {
	struct session_row row; /* client_caps owned */
	char *info;             /* owned */
	int ended;
	int live;               /* live_runs: unfinished runs counted against the limit */
};

struct fs_sub {
	rnd_hex_id session_id;
	char *uri; /* owned */
};

/* Secrets the fake keeps (store_secret). */
#define FS_MAX_SECRETS 4

struct fs_db {
	struct fs_session *sess;
	int nsess, capsess;
	struct fs_run *runs;
	int nruns, capruns;
	struct fs_sub *subs;
	int nsubs, capsubs;
	char secret_name[FS_MAX_SECRETS][32];
	char secret_value[FS_MAX_SECRETS][65];
	int nsecrets;
	long tool_writes; /* rows the SQL tools' functions wrote (store_tool_call) */
};

struct store {
	struct store *next;         /* open handles */
	int in_tx;                  /* a transaction is open */
	int aborted;                /* a statement failed inside it */
	struct fs_db snap;          /* the database as of store_begin */
	int tool_tx;                /* the transaction is a tool's step (store_tool_call) */
	char (*queued)[33];         /* NOTIFYs sent inside the transaction */
	int nqueued, capqueued;
	char locked[FS_MAX_LOCKS][33]; /* runs locked by the transaction */
	int nlocked;
};

struct fs_count {
	const char *fn; /* a string literal */
	long n;
};

struct fs_rule {
	char fn[40];
	int skip, n;
};

/* Bytes of a NOTIFY payload the fake records ("s:" + a session id, a run id, ...). */
#define FS_MAX_PAYLOAD 64

struct fs_notified {
	char run_id[FS_MAX_PAYLOAD]; /* the payload: usually a run id */
	int n;
};

static struct fs_db db;
static long tick;
static int migrated;
static struct store *handles;
static long calls_total;
static struct fs_count counts[FS_MAX_FNS];
static int n_counts;
static int fail_next;
static struct fs_rule rules[FS_MAX_RULES];
static int n_anomalies;
static char last_anomaly[300];
static struct fs_notified *notified;
static int n_notified, cap_notified;
static void (*notify_hook)(void *arg, const char *run_id);
static void *notify_arg;


/* ---- bookkeeping ----------------------------------------------------------------------- */

static void anomaly(const char *fmt, ...) DMCP_PRINTF(1, 2);
static void anomaly(const char *fmt, ...)
{
	va_list ap;

	n_anomalies++;
	va_start(ap, fmt);
	vsnprintf(last_anomaly, sizeof last_anomaly, fmt, ap);
	va_end(ap);
	fprintf(stderr, "# fake store anomaly: %s\n", last_anomaly);
}

static void count(const char *fn)
{
	int i;

	calls_total++;
	for (i = 0; i < n_counts; i++) {
		if (strcmp(counts[i].fn, fn) == 0) {
			counts[i].n++;
			return;
		}
	}
	if (n_counts < FS_MAX_FNS) {
		counts[n_counts].fn = fn;
		counts[n_counts].n = 1;
		n_counts++;
	}
}

/* 1 when this call of fn must fail (an injected failure). */
static int injected(const char *fn)
{
	int i;

	for (i = 0; i < FS_MAX_RULES; i++) {
		if (rules[i].fn[0] == '\0' || strcmp(rules[i].fn, fn) != 0)
			continue;
		if (rules[i].skip > 0) {
			rules[i].skip--;
			continue;
		}
		if (rules[i].n > 0) {
			rules[i].n--;
			if (rules[i].n == 0)
				rules[i].fn[0] = '\0';
			return 1;
		}
	}
	if (fail_next > 0) {
		fail_next--;
		return 1;
	}
	return 0;
}

/* A statement failed: inside a transaction that aborts it. */
static dmcp_rc stmt_error(struct store *st)
{
	if (st != NULL && st->in_tx)
		st->aborted = 1;
	return DMCP_E_DB;
}

/* Count a statement and decide whether it fails. */
static dmcp_rc enter(struct store *st, const char *fn)
{
	count(fn);
	if (st != NULL && st->in_tx && st->aborted) {
		anomaly("%s inside an aborted transaction (PostgreSQL refuses every statement "
		        "until ROLLBACK)", fn);
		return DMCP_E_DB;
	}
	if (injected(fn))
		return stmt_error(st);
	return DMCP_OK;
}

static void *grow(void *p, int *cap, int need, size_t size)
{
	int c = *cap > 0 ? *cap : 4;
	void *q;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	q = realloc(p, (size_t)c * size);
	if (q == NULL) {
		fprintf(stderr, "fake store: out of memory\n");
		abort();
	}
	*cap = c;
	return q;
}

static char *dup_s(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL) {
		fprintf(stderr, "fake store: out of memory\n");
		abort();
	}
	return d;
}

/* ---- rows ------------------------------------------------------------------------------ */

static void run_copy(struct run_row *dst, const struct run_row *src)
{
	*dst = *src;
	dst->request_id = dup_s(src->request_id);
	dst->progress_token = dup_s(src->progress_token);
	dst->tool = dup_s(src->tool);
	dst->arguments = dup_s(src->arguments);
	dst->journal = dup_s(src->journal);
	dst->pending_id = dup_s(src->pending_id);
	dst->pending_method = dup_s(src->pending_method);
	dst->error = dup_s(src->error);
	dst->client = dup_s(src->client);
}

static void replace(char **dst, const char *src)
{
	free(*dst);
	*dst = dup_s(src);
}

static void run_free(struct fs_run *r)
{
	int i;

	row_run_clear(&r->row);
	for (i = 0; i < r->nev; i++)
		free(r->ev[i].body);
	free(r->ev);
}

static void db_free(struct fs_db *d)
{
	int i;

	for (i = 0; i < d->nsess; i++) {
		free(d->sess[i].row.client_caps);
		free(d->sess[i].info);
	}
	for (i = 0; i < d->nruns; i++)
		run_free(&d->runs[i]);
	for (i = 0; i < d->nsubs; i++)
		free(d->subs[i].uri);
	free(d->sess);
	free(d->runs);
	free(d->subs);
	memset(d, 0, sizeof *d);
}

static void db_copy(struct fs_db *dst, const struct fs_db *src)
{
	int i, j;

	memset(dst, 0, sizeof *dst);
	dst->sess = grow(NULL, &dst->capsess, src->nsess > 0 ? src->nsess : 1, sizeof *dst->sess);
	dst->runs = grow(NULL, &dst->capruns, src->nruns > 0 ? src->nruns : 1, sizeof *dst->runs);
	dst->subs = grow(NULL, &dst->capsubs, src->nsubs > 0 ? src->nsubs : 1, sizeof *dst->subs);
	for (i = 0; i < src->nsess; i++) {
		dst->sess[i] = src->sess[i];
		dst->sess[i].row.client_caps = dup_s(src->sess[i].row.client_caps);
		dst->sess[i].info = dup_s(src->sess[i].info);
	}
	dst->nsess = src->nsess;
	for (i = 0; i < src->nruns; i++) {
		const struct fs_run *s = &src->runs[i];
		struct fs_run *d = &dst->runs[i];
		run_copy(&d->row, &s->row);
		d->expired = s->expired;
		d->updated = s->updated;
		d->nev = s->nev;
		d->cap = 0;
		d->ev = grow(NULL, &d->cap, s->nev > 0 ? s->nev : 1, sizeof *d->ev);
		for (j = 0; j < s->nev; j++) {
			d->ev[j] = s->ev[j];
			d->ev[j].body = dup_s(s->ev[j].body);
		}
	}
	dst->nruns = src->nruns;
	for (i = 0; i < src->nsubs; i++) {
		dst->subs[i] = src->subs[i];
		dst->subs[i].uri = dup_s(src->subs[i].uri);
	}
	dst->nsubs = src->nsubs;
	memcpy(dst->secret_name, src->secret_name, sizeof dst->secret_name);
	memcpy(dst->secret_value, src->secret_value, sizeof dst->secret_value);
	dst->nsecrets = src->nsecrets;
	dst->tool_writes = src->tool_writes;
}

static struct fs_session *find_session(struct fs_db *d, const char *id)
{
	int i;

	for (i = 0; id != NULL && i < d->nsess; i++)
		if (strcmp(d->sess[i].row.id, id) == 0)
			return &d->sess[i];
	return NULL;
}

static struct fs_run *find_run(struct fs_db *d, const char *id)
{
	int i;

	for (i = 0; id != NULL && i < d->nruns; i++)
		if (strcmp(d->runs[i].row.id, id) == 0)
			return &d->runs[i];
	return NULL;
}

static struct fs_event *find_event(struct fs_run *r, int64_t lsn)
{
	int i;

	for (i = 0; r != NULL && i < r->nev; i++)
		if (r->ev[i].lsn == lsn)
			return &r->ev[i];
	return NULL;
}

static int unfinished(enum run_status s)
{
	return s == RUN_RUNNING || s == RUN_WAITING;
}

static void append_event(struct fs_run *r, int64_t lsn, enum event_kind kind, const char *body)
{
	r->ev = grow(r->ev, &r->cap, r->nev + 1, sizeof *r->ev);
	r->ev[r->nev].lsn = lsn;
	r->ev[r->nev].kind = kind;
	r->ev[r->nev].body = dup_s(body != NULL ? body : "");
	r->nev++;
}

static int64_t max_lsn(const struct fs_run *r)
{
	int64_t m = 0;
	int i;

	for (i = 0; i < r->nev; i++)
		if (r->ev[i].lsn > m)
			m = r->ev[i].lsn;
	return m;
}

/* ---- notifications --------------------------------------------------------------------- */

static void deliver(const char *run_id)
{
	int i;

	if (strlen(run_id) >= FS_MAX_PAYLOAD)
		return;
	for (i = 0; i < n_notified; i++)
		if (strcmp(notified[i].run_id, run_id) == 0)
			break;
	if (i == n_notified) {
		notified = grow(notified, &cap_notified, n_notified + 1, sizeof *notified);
		row_copy(notified[i].run_id, sizeof notified[i].run_id, run_id);
		notified[i].n = 0;
		n_notified++;
	}
	notified[i].n++;
	if (notify_hook != NULL)
		notify_hook(notify_arg, run_id);
}

static void end_tx(struct store *st)
{
	st->in_tx = 0;
	st->tool_tx = 0;
	st->aborted = 0;
	st->nqueued = 0;
	st->nlocked = 0;
}

static void tx_rollback(struct store *st)
{
	db_free(&db);
	db = st->snap;
	memset(&st->snap, 0, sizeof st->snap);
	end_tx(st);
}

/* ---- connection and transactions -------------------------------------------------------- */

dmcp_rc store_open(const char *conninfo, struct store **out, char *err, size_t errlen)
{
	struct store *st;

	(void)conninfo;
	*out = NULL;
	if (enter(NULL, "store_open") != DMCP_OK) {
		snprintf(err, errlen, "cannot connect to the database (injected failure)");
		return DMCP_E_DB;
	}
	st = calloc(1, sizeof *st);
	if (st == NULL)
		return DMCP_E_NOMEM;
	st->next = handles;
	handles = st;
	*out = st;
	return DMCP_OK;
}

dmcp_rc store_open_lazy(const char *conninfo, struct store **out)
{
	struct store *st;

	(void)conninfo;
	*out = NULL;
	st = calloc(1, sizeof *st);
	if (st == NULL)
		return DMCP_E_NOMEM;
	st->next = handles;
	handles = st;
	*out = st;
	return DMCP_OK;
}

void store_setup(const struct store_cfg *cfg)
{
	(void)cfg;
}

int store_ever_connected(const struct store *st)
{
	(void)st;
	return 1;
}

dmcp_rc store_schema_check(struct store *st, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return enter(st, "store_schema_check");
}

dmcp_rc store_lease_renew(struct store *st, int n, const char *const *ids, const int *steps,
                          int *renewed)
{
	dmcp_rc rc = enter(st, "store_lease_renew");

	(void)ids;
	(void)steps;
	*renewed = rc == DMCP_OK ? n : 0;
	return rc;
}

void store_close(struct store *st)
{
	struct store **p;

	if (st == NULL)
		return;
	if (st->in_tx)
		tx_rollback(st);
	for (p = &handles; *p != NULL; p = &(*p)->next) {
		if (*p == st) {
			*p = st->next;
			break;
		}
	}
	free(st->queued);
	free(st);
}

dmcp_rc store_ready(struct store *st)
{
	if (st->in_tx)
		tx_rollback(st); /* a transaction left open is rolled back, as store.c does */
	return enter(st, "store_ready");
}

dmcp_rc store_migrate(struct store *st, void (*report)(const char *name, int applied),
                      char *err, size_t errlen)
{
	size_t i;

	if (enter(st, "store_migrate") != DMCP_OK) {
		snprintf(err, errlen, "cannot prepare the migrations table (injected failure)");
		return DMCP_E_DB;
	}
	for (i = 0; i < dmcp_migrations_count; i++)
		if (report != NULL)
			report(dmcp_migrations[i].name, !migrated);
	migrated = 1;
	return DMCP_OK;
}

dmcp_rc store_begin(struct store *st)
{
	struct store *h;
	dmcp_rc rc = enter(st, "store_begin");

	if (rc != DMCP_OK)
		return rc;
	if (st->in_tx) {
		anomaly("BEGIN inside a transaction");
		return DMCP_OK; /* PostgreSQL only warns */
	}
	for (h = handles; h != NULL; h = h->next)
		if (h != st && h->in_tx)
			anomaly("two transactions open at once: the fake cannot isolate them");
	db_copy(&st->snap, &db);
	st->in_tx = 1;
	st->aborted = 0;
	st->nqueued = 0;
	st->nlocked = 0;
	return DMCP_OK;
}

dmcp_rc store_commit(struct store *st)
{
	int i;

	count("store_commit");
	if (!st->in_tx) {
		anomaly("COMMIT outside a transaction");
		return DMCP_OK; /* PostgreSQL only warns */
	}
	if (st->aborted) {
		/* PostgreSQL answers ROLLBACK (and libpq a success status): core/store.c would say
		 * DMCP_OK here. The fake says DMCP_E_DB and notes it. */
		anomaly("COMMIT of an aborted transaction (PostgreSQL rolls back and reports "
		        "success)");
		tx_rollback(st);
		return DMCP_E_DB;
	}
	if (injected("store_commit")) {
		tx_rollback(st); /* a failed COMMIT leaves nothing behind */
		return DMCP_E_DB;
	}
	db_free(&st->snap);
	for (i = 0; i < st->nqueued; i++)
		deliver(st->queued[i]);
	end_tx(st);
	return DMCP_OK;
}

void store_rollback(struct store *st)
{
	if (!st->in_tx)
		return; /* store.c checks the connection's status locally: no round trip */
	count("store_rollback");
	tx_rollback(st);
}

/* ---- tokens ---------------------------------------------------------------------------- */

/* Tokens the fake keeps (not transactional: no statement of a transaction touches them). */
#define FS_MAX_TOKENS 16
static struct token_row tokens[FS_MAX_TOKENS];
static int n_tokens;

static struct token_row *find_token(const char *id, const char *hash)
{
	int i;

	for (i = 0; i < n_tokens; i++)
		if ((id != NULL && strcmp(tokens[i].id, id) == 0) ||
		    (hash != NULL && strcmp(tokens[i].hash, hash) == 0))
			return &tokens[i];
	return NULL;
}

dmcp_rc store_token_find(struct store *st, const char *hash, struct token_row *out)
{
	struct token_row *t;
	dmcp_rc rc = enter(st, "store_token_find");

	memset(out, 0, sizeof *out);
	if (rc != DMCP_OK)
		return rc;
	t = find_token(NULL, hash);
	if (t == NULL)
		return DMCP_E_NOT_FOUND;
	*out = *t;
	out->expired = t->expires > 0 && t->expires <= (int64_t)time(NULL);
	return DMCP_OK;
}

dmcp_rc store_token_insert(struct store *st, const struct token_row *t)
{
	dmcp_rc rc = enter(st, "store_token_insert");

	if (rc != DMCP_OK)
		return rc;
	if (n_tokens == FS_MAX_TOKENS || find_token(t->id, t->hash) != NULL)
		return stmt_error(st);
	tokens[n_tokens] = *t;
	tokens[n_tokens].revoked = 0;
	n_tokens++;
	return DMCP_OK;
}

dmcp_rc store_token_revoke(struct store *st, const char *id, const char *hash,
                           char out_id[ROW_TOKEN_ID + 1])
{
	struct token_row *t;
	dmcp_rc rc = enter(st, "store_token_revoke");

	if (rc != DMCP_OK)
		return rc;
	t = find_token(id, hash);
	if (t == NULL || t->revoked)
		return DMCP_E_NOT_FOUND;
	t->revoked = 1;
	row_copy(out_id, ROW_TOKEN_ID + 1, t->id);
	return DMCP_OK;
}

dmcp_rc store_token_list(struct store *st, void (*each)(void *arg, const struct token_row *t),
                         void *arg)
{
	int i;
	dmcp_rc rc = enter(st, "store_token_list");

	for (i = 0; rc == DMCP_OK && i < n_tokens; i++)
		each(arg, &tokens[i]);
	return rc;
}

/* ---- sessions -------------------------------------------------------------------------- */

dmcp_rc store_session_create(struct store *st, const struct session_row *s,
                             const char *client_info, int max_sessions)
{
	struct fs_session *n;
	int i, live = 0;
	dmcp_rc rc = enter(st, "store_session_create");

	if (rc != DMCP_OK)
		return rc;
	if (find_session(&db, s->id) != NULL || s->client_caps == NULL || client_info == NULL)
		return stmt_error(st); /* primary key, NOT NULL */
	for (i = 0; i < db.nsess; i++)
		live += !db.sess[i].ended && strcmp(db.sess[i].row.principal, s->principal) == 0;
	if (max_sessions > 0 && live >= max_sessions)
		return DMCP_E_LIMIT;
	db.sess = grow(db.sess, &db.capsess, db.nsess + 1, sizeof *db.sess);
	n = &db.sess[db.nsess++];
	memset(n, 0, sizeof *n);
	row_copy(n->row.id, sizeof n->row.id, s->id);
	row_copy(n->row.principal, sizeof n->row.principal, s->principal);
	row_copy(n->row.protocol, sizeof n->row.protocol, s->protocol);
	n->row.client_caps = dup_s(s->client_caps);
	n->row.log_level = 1; /* the column's default: the insert does not set it */
	n->info = dup_s(client_info);
	return DMCP_OK;
}

dmcp_rc store_session_get(struct store *st, const char *id, const char *principal,
                          struct session_row *out, int *stale)
{
	struct fs_session *s;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	*stale = 0;
	rc = enter(st, "store_session_get");
	if (rc != DMCP_OK)
		return rc;
	s = find_session(&db, id);
	if (s == NULL || strcmp(s->row.principal, principal) != 0 || s->ended)
		return DMCP_E_NOT_FOUND;
	row_copy(out->id, sizeof out->id, id);
	row_copy(out->principal, sizeof out->principal, principal);
	row_copy(out->protocol, sizeof out->protocol, s->row.protocol);
	out->client_caps = dup_s(s->row.client_caps);
	out->log_level = s->row.log_level;
	return DMCP_OK;
}

dmcp_rc store_session_touch(struct store *st, const char *id)
{
	(void)id;
	return enter(st, "store_session_touch");
}

/* "s:<id>" into out[FS_MAX_PAYLOAD]. */
static const char *session_payload(char *out, const char *id)
{
	snprintf(out, FS_MAX_PAYLOAD, "s:%s", id);
	return out;
}

dmcp_rc store_session_set_level(struct store *st, const char *id, int level)
{
	struct fs_session *s;
	dmcp_rc rc = enter(st, "store_session_set_level");

	if (rc != DMCP_OK)
		return rc;
	if (level < 0 || level > 32767)
		return stmt_error(st); /* smallint */
	s = find_session(&db, id);
	if (s != NULL) {
		char p[FS_MAX_PAYLOAD];
		s->row.log_level = level; /* an UPDATE of no row is no error */
		deliver(session_payload(p, id));
	}
	return DMCP_OK;
}

/* End a session and cancel its unfinished runs; the ids to notify into *ids (owned). */
static int end_session(const char *id, const char *principal, const char *why,
                       char (**ids)[33])
{
	struct fs_session *s = find_session(&db, id);
	int i, n = 0, cap = 0;

	*ids = NULL;
	if (s == NULL || s->ended || (principal != NULL && strcmp(s->row.principal, principal) != 0))
		return -1;
	s->ended = 1;
	s->live = 0;
	for (i = 0; i < db.nruns; i++) {
		struct run_row *r = &db.runs[i].row;
		if (strcmp(r->session_id, id) != 0 || !unfinished(r->status))
			continue;
		r->status = RUN_CANCELLED;
		replace(&r->pending_id, NULL);
		replace(&r->pending_method, NULL);
		replace(&r->error, why);
		db.runs[i].updated = ++tick;
		*ids = grow(*ids, &cap, n + 1, sizeof **ids);
		row_copy((*ids)[n], 33, r->id);
		n++;
	}
	return n;
}

dmcp_rc store_session_end(struct store *st, const char *id, const char *principal,
                          const char *why)
{
	char (*ids)[33];
	int n, i;
	dmcp_rc rc = enter(st, "store_session_end");

	if (rc != DMCP_OK)
		return rc;
	if (st->in_tx)
		anomaly("store_session_end inside a transaction (its own BEGIN/COMMIT would commit "
		        "the caller's)");
	n = end_session(id, principal, why, &ids);
	if (n < 0)
		return DMCP_E_NOT_FOUND;
	for (i = 0; i < n; i++)
		deliver(ids[i]);
	free(ids);
	{
		char p[FS_MAX_PAYLOAD];
		deliver(session_payload(p, id));
	}
	return DMCP_OK;
}

dmcp_rc store_subscribe(struct store *st, const char *session_id, const char *uri, int on,
                        int max)
{
	int i, held = 0;
	dmcp_rc rc = enter(st, "store_subscribe");

	if (rc != DMCP_OK)
		return rc;
	for (i = 0; i < db.nsubs; i++)
		if (strcmp(db.subs[i].session_id, session_id) == 0 && strcmp(db.subs[i].uri, uri) == 0)
			break;
	if (on) {
		if (i < db.nsubs)
			return DMCP_OK; /* ON CONFLICT DO NOTHING */
		for (i = 0; i < db.nsubs; i++)
			held += strcmp(db.subs[i].session_id, session_id) == 0;
		if (held >= max)
			return DMCP_E_LIMIT;
		i = db.nsubs;
		if (find_session(&db, session_id) == NULL)
			return stmt_error(st); /* foreign key */
		db.subs = grow(db.subs, &db.capsubs, db.nsubs + 1, sizeof *db.subs);
		row_copy(db.subs[db.nsubs].session_id, 33, session_id);
		db.subs[db.nsubs].uri = dup_s(uri);
		db.nsubs++;
	} else if (i < db.nsubs) {
		free(db.subs[i].uri);
		db.subs[i] = db.subs[db.nsubs - 1];
		db.nsubs--;
	}
	return DMCP_OK;
}

/* ---- runs ------------------------------------------------------------------------------ */

dmcp_rc store_run_get(struct store *st, const char *run_id, const char *session_id,
                      const char *principal, struct run_row *out)
{
	struct fs_run *r;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	rc = enter(st, "store_run_get");
	if (rc != DMCP_OK)
		return rc;
	r = find_run(&db, run_id);
	if (r == NULL || strcmp(r->row.session_id, session_id) != 0 ||
	    strcmp(r->row.principal, principal) != 0)
		return DMCP_E_NOT_FOUND;
	run_copy(out, &r->row);
	row_copy(out->id, sizeof out->id, run_id);
	out->exists = 1;
	out->lease_expired = r->row.status == RUN_RUNNING && r->expired;
	return DMCP_OK;
}

dmcp_rc store_run_claim(struct store *st, const char *run_id, int64_t last_lsn, int steps)
{
	struct fs_run *r;
	dmcp_rc rc = enter(st, "store_run_claim");

	if (rc != DMCP_OK)
		return rc;
	r = find_run(&db, run_id);
	if (r == NULL || r->row.status != RUN_RUNNING || !r->expired ||
	    r->row.last_lsn != last_lsn || r->row.steps != steps)
		return DMCP_E_CONFLICT;
	r->expired = 0;
	r->row.steps++;
	r->updated = ++tick;
	return DMCP_OK;
}

/* A run of a session that ends leaves the session's count. */
static void leave_count(const struct run_row *r)
{
	struct fs_session *s = find_session(&db, r->session_id);

	if (s != NULL && s->live > 0)
		s->live--;
}

dmcp_rc store_run_cancel(struct store *st, const char *session_id, const char *principal,
                         const char *request_id, const char *why, struct run_end *ended)
{
	int i, hit = 0;
	dmcp_rc rc = enter(st, "store_run_cancel");

	if (rc != DMCP_OK)
		return rc;
	if (st->in_tx)
		anomaly("store_run_cancel inside a transaction");
	for (i = 0; i < db.nruns; i++) {
		struct run_row *r = &db.runs[i].row;
		if (strcmp(r->session_id, session_id) != 0 || strcmp(r->principal, principal) != 0 ||
		    strcmp(r->request_id, request_id) != 0 || !unfinished(r->status))
			continue;
		r->status = RUN_CANCELLED;
		replace(&r->pending_id, NULL);
		replace(&r->pending_method, NULL);
		replace(&r->error, why);
		db.runs[i].updated = ++tick;
		leave_count(r);
		deliver(r->id);
		if (ended != NULL && hit == 0) {
			memset(ended, 0, sizeof *ended);
			row_copy(ended->id, sizeof ended->id, r->id);
			row_copy(ended->tool, sizeof ended->tool, r->tool);
			ended->steps = r->steps;
		}
		hit++;
	}
	return hit > 0 ? DMCP_OK : DMCP_E_NOT_FOUND;
}

/* The principal's gate of an insert (dmcp_principal_runs_below): with a limit, an
 * unfinished run goes in only while its principal holds fewer unfinished runs. */
static int principal_has_room(const struct run_row *r, int max_principal)
{
	int i, n = 0;

	if (max_principal <= 0 || !unfinished(r->status))
		return 1;
	for (i = 0; i < db.nruns; i++)
		if (strcmp(db.runs[i].row.principal, r->principal) == 0 &&
		    unfinished(db.runs[i].row.status))
			n++;
	return n < max_principal;
}

/* The checks of an insert's statement: the principal's gate first (its refusal sets
 * r->over_principal), then the session is live, and has room for an unfinished run (which
 * takes a place in its count). */
static dmcp_rc insert_allowed(struct run_row *r, int max_live, int max_principal)
{
	struct fs_session *s;

	if (!principal_has_room(r, max_principal)) {
		r->over_principal = 1;
		return DMCP_E_LIMIT;
	}
	if (r->session_id[0] == '\0')
		return DMCP_OK; /* sessionless */
	s = find_session(&db, r->session_id);
	if (s == NULL || s->ended || strcmp(s->row.principal, r->principal) != 0)
		return DMCP_E_NOT_FOUND;
	if (!unfinished(r->status))
		return DMCP_OK;
	if (s->live >= max_live)
		return DMCP_E_LIMIT;
	s->live++;
	return DMCP_OK;
}

/* The compare-and-set of an update: DMCP_E_CONFLICT unless the row is as expected. */
static dmcp_rc update_allowed(struct fs_run *run, const struct run_expect *expect)
{
	if (run->row.status != expect->status || run->row.last_lsn != expect->last_lsn ||
	    run->row.steps != expect->steps)
		return DMCP_E_CONFLICT;
	return DMCP_OK;
}

static void update_row(struct fs_run *run, const struct run_row *r)
{
	if (unfinished(run->row.status) && !unfinished(r->status))
		leave_count(&run->row);
	run->row.status = r->status;
	replace(&run->row.journal, r->journal);
	run->row.notes = r->notes;
	run->row.has_progress = r->has_progress;
	run->row.last_progress = r->has_progress ? r->last_progress : 0;
	run->row.last_lsn = r->last_lsn;
	replace(&run->row.pending_id, r->pending_id);
	replace(&run->row.pending_method, r->pending_method);
	run->row.steps = r->steps;
	replace(&run->row.error, r->error);
	run->row.task = run->row.task_stored = r->task;
	replace(&run->row.client, r->client);
	run->row.ttl_ms = r->ttl_ms;
	run->row.due_ms = r->due_ms;
}

/* Unfinished tasks of principal. */
static int live_tasks(const char *principal)
{
	int i, n = 0;

	for (i = 0; i < db.nruns; i++)
		n += db.runs[i].row.task && unfinished(db.runs[i].row.status) &&
		     !db.runs[i].row.expired && strcmp(db.runs[i].row.principal, principal) == 0;
	return n;
}

/* The save's statement itself (store_run_save). */
static dmcp_rc save_row(struct store *st, struct run_row *r, const struct run_expect *expect,
                        int max_live, int max_principal, int64_t first_lsn, int n,
                        const enum event_kind *kinds, const char *const *bodies)
{
	struct fs_run *run;
	int64_t before;
	int i;
	dmcp_rc rc;

	if (n < 0 || (n > 0 && (kinds == NULL || bodies == NULL)))
		return stmt_error(st);
	for (i = 0; i < n; i++)
		if (first_lsn + i <= 0 || bodies[i] == NULL || (int)kinds[i] < 0 || kinds[i] > EV_POLL)
			return stmt_error(st); /* CHECK (lsn > 0), NOT NULL, CHECK (kind IN ...) */
	if (r->request_id == NULL || r->tool == NULL || r->arguments == NULL || r->journal == NULL)
		return stmt_error(st); /* NOT NULL */
	if (r->task && !r->task_stored && live_tasks(r->principal) >= max_live)
		return expect == NULL || (rc = update_allowed(find_run(&db, r->id), expect)) == DMCP_OK
		       ? DMCP_E_LIMIT : rc;
	if (expect == NULL) {
		if (find_run(&db, r->id) != NULL)
			return stmt_error(st); /* primary key */
		rc = r->task ? DMCP_OK : insert_allowed(r, max_live, max_principal);
		if (rc != DMCP_OK)
			return rc;
		db.runs = grow(db.runs, &db.capruns, db.nruns + 1, sizeof *db.runs);
		run = &db.runs[db.nruns++];
		memset(run, 0, sizeof *run);
		run_copy(&run->row, r);
		run->row.exists = 1;
		run->row.lease_expired = 0;
		run->created = tick + 1;
		before = 0;
	} else {
		run = find_run(&db, r->id);
		if (run == NULL) {
			anomaly("store_run_save updates run %s, which is not in the table", r->id);
			return DMCP_E_CONFLICT;
		}
		rc = update_allowed(run, expect);
		if (rc != DMCP_OK)
			return rc;
		for (i = 0; i < n; i++)
			if (find_event(run, first_lsn + i) != NULL)
				return stmt_error(st); /* primary key (run_id, lsn) */
		before = max_lsn(run);
		update_row(run, r);
	}
	run->expired = 0; /* the lease is renewed (running) or cleared */
	run->updated = ++tick;
	for (i = 0; i < n; i++)
		append_event(run, first_lsn + i, kinds[i], bodies[i]);
	if (n > 0 && first_lsn != before + 1)
		anomaly("run %s: events start at LSN %lld, not right after %lld (a gap)", r->id,
		        (long long)first_lsn, (long long)before);
	if (run->row.last_lsn != max_lsn(run))
		anomaly("run %s: last_lsn does not match its newest event", r->id);
	r->exists = 1;
	r->task_stored = r->task;
	run->row.task_stored = r->task;
	run->row.expired = 0;
	return DMCP_OK;
}

dmcp_rc store_run_save(struct store *st, struct run_row *r, const struct run_expect *expect,
                       int max_live, int max_principal, int64_t first_lsn, int n,
                       const enum event_kind *kinds, const char *const *bodies, int durable,
                       int notify)
{
	dmcp_rc rc = enter(st, "store_run_save");

	(void)durable; /* the fake has no disk */
	if (rc != DMCP_OK)
		return rc;
	if (st->in_tx && !st->tool_tx)
		anomaly("store_run_save inside a transaction: a save is one statement of its own");
	rc = save_row(st, r, expect, max_live, max_principal, first_lsn, n, kinds, bodies);
	if (st->in_tx) {
		/* A tool's step: the save goes into its transaction and commits it only when it
		 * saved; else the function's writes go with the rollback. */
		if (rc == DMCP_OK)
			rc = store_commit(st);
		else
			tx_rollback(st);
		st->tool_tx = 0;
		if (rc == DMCP_OK)
			r->exists = 1;
	}
	if (rc == DMCP_OK && notify)
		store_notify(st, r->id);
	if (rc == DMCP_OK && r->due_ms > 0)
		store_notify(st, STORE_DUE_PAYLOAD);
	return rc;
}

/* ---- SQL tools --------------------------------------------------------------------------- */

static const char *tool_catalog;
static dmcp_rc (*tool_hook)(void *arg, const struct store_call *c, struct store_call_out *out);
static void *tool_hook_arg;

dmcp_rc store_tool_catalog(struct store *st, const char *schema, char **json)
{
	dmcp_rc rc = enter(st, "store_tool_catalog");

	(void)schema;
	*json = NULL;
	if (rc != DMCP_OK)
		return rc;
	*json = dup_s(tool_catalog != NULL ? tool_catalog : "[]");
	return DMCP_OK;
}

dmcp_rc store_tool_call(struct store *st, const struct store_call *c, struct store_call_out *out)
{
	dmcp_rc rc = enter(st, "store_tool_call");

	memset(out, 0, sizeof *out);
	if (rc != DMCP_OK)
		return rc;
	if (!st->in_tx) {
		rc = store_begin(st);
		if (rc != DMCP_OK)
			return rc;
	}
	st->tool_tx = 1;
	rc = tool_hook != NULL ? tool_hook(tool_hook_arg, c, out) : DMCP_OK;
	if (rc != DMCP_OK) {
		tx_rollback(st);
		store_call_out_clear(out);
		return rc;
	}
	if (!out->failed)
		db.tool_writes++; /* the function's write, inside the step's transaction */
	return DMCP_OK;
}

void store_call_out_clear(struct store_call_out *out)
{
	free(out->value);
	out->value = NULL;
}

dmcp_rc store_step_commit(struct store *st)
{
	if (!st->in_tx)
		return DMCP_OK;
	return store_commit(st);
}

void fake_store_tools(const char *catalog,
                      dmcp_rc (*hook)(void *arg, const struct store_call *c,
                                      struct store_call_out *out),
                      void *arg)
{
	tool_catalog = catalog;
	tool_hook = hook;
	tool_hook_arg = arg;
}

long fake_store_tool_writes(void)
{
	return db.tool_writes;
}

dmcp_rc store_secret(struct store *st, const char *name, const char *proposed, char *out,
                     size_t cap)
{
	int i;
	dmcp_rc rc = enter(st, "store_secret");

	if (rc != DMCP_OK)
		return rc;
	for (i = 0; i < db.nsecrets; i++)
		if (strcmp(db.secret_name[i], name) == 0)
			break;
	if (i == db.nsecrets) {
		if (i == FS_MAX_SECRETS)
			return stmt_error(st);
		row_copy(db.secret_name[i], sizeof db.secret_name[i], name);
		row_copy(db.secret_value[i], sizeof db.secret_value[i], proposed);
		db.nsecrets++;
	}
	row_copy(out, cap, db.secret_value[i]);
	return DMCP_OK;
}

/* ---- events ---------------------------------------------------------------------------- */

dmcp_rc store_events_after(struct store *st, const char *run_id, const char *session_id,
                           const char *principal, int64_t after_lsn, int max,
                           struct event_row *out, int *n, enum run_status *status,
                           int64_t *last_lsn, int *lease_expired)
{
	struct fs_run *r;
	int64_t want;
	dmcp_rc rc;

	*n = 0;
	rc = enter(st, "store_events_after");
	if (rc != DMCP_OK)
		return rc;
	r = find_run(&db, run_id);
	if (r == NULL || strcmp(r->row.session_id, session_id) != 0 ||
	    strcmp(r->row.principal, principal) != 0 || r->row.expired)
		return DMCP_E_NOT_FOUND;
	*status = r->row.status;
	*last_lsn = r->row.last_lsn;
	*lease_expired = r->row.status == RUN_RUNNING && r->expired;
	/* Oldest first: LSNs are gap-free, so walk them upwards. */
	for (want = after_lsn + 1; *n < max; want++) {
		struct fs_event *e = find_event(r, want);
		if (e == NULL)
			break;
		out[*n].lsn = e->lsn;
		out[*n].kind = e->kind;
		out[*n].body = dup_s(e->body);
		(*n)++;
	}
	return DMCP_OK;
}

/* ---- wake-ups -------------------------------------------------------------------------- */

static void queue_notify(struct store *st, const char *run_id)
{
	if (!rnd_id_ok(run_id))
		return;
	st->queued = grow(st->queued, &st->capqueued, st->nqueued + 1, sizeof *st->queued);
	row_copy(st->queued[st->nqueued++], 33, run_id);
}

void store_notify(struct store *st, const char *payload)
{
	if (!rnd_id_ok(payload) && (strlen(payload) < 3 || payload[1] != ':'))
		return;
	if (enter(st, "store_notify") != DMCP_OK)
		return; /* a hint only: store.c logs the failure and goes on */
	if (st->in_tx) {
		anomaly("store_notify of %s inside a transaction (its COMMIT would commit the "
		        "caller's transaction)", payload);
		queue_notify(st, payload);
	} else {
		deliver(payload);
	}
}

/* The listener's side: the fake delivers notifications through fake_store_on_notify
 * instead of a socket, so these only count as calls. */
void store_lazy(struct store *st)
{
	(void)st;
}

void store_set_async(struct store *st, int on)
{
	(void)st;
	(void)on;
}

dmcp_rc store_listen_all(struct store *st)
{
	return enter(st, "store_listen_all");
}

int store_socket(struct store *st)
{
	(void)st;
	return -1;
}

dmcp_rc store_take_notifies(struct store *st, void (*cb)(void *arg, const char *payload),
                            void *arg)
{
	(void)cb;
	(void)arg;
	return enter(st, "store_take_notifies");
}

dmcp_rc store_ping(struct store *st)
{
	return enter(st, "store_ping");
}

dmcp_rc store_sweep(struct store *st, int ttl_s, int retention_s, int batch,
                    struct sweep_counts *out)
{
	dmcp_rc rc = enter(st, "store_sweep");

	(void)ttl_s;
	(void)retention_s;
	(void)batch;
	memset(out, 0, sizeof *out);
	return rc;
}

dmcp_rc store_orphans(struct store *st, int max, struct orphan *out, int *n)
{
	long after = -1;
	dmcp_rc rc = enter(st, "store_orphans");

	*n = 0;
	if (rc != DMCP_OK)
		return rc;
	/* Oldest first: pick the least recently updated orphan after the previous one. */
	while (*n < max) {
		struct fs_run *best = NULL;
		int i;
		for (i = 0; i < db.nruns; i++) {
			struct fs_run *r = &db.runs[i];
			struct fs_session *s = find_session(&db, r->row.session_id);
			if (r->row.status != RUN_RUNNING || !r->expired ||
			    (r->row.session_id[0] != '\0' && (s == NULL || s->ended)) ||
			    r->updated <= after)
				continue;
			if (best == NULL || r->updated < best->updated)
				best = r;
		}
		if (best == NULL)
			break;
		row_copy(out[*n].run_id, sizeof out[*n].run_id, best->row.id);
		row_copy(out[*n].session_id, sizeof out[*n].session_id, best->row.session_id);
		row_copy(out[*n].principal, sizeof out[*n].principal, best->row.principal);
		row_copy(out[*n].tool, sizeof out[*n].tool, best->row.tool);
		after = best->updated;
		(*n)++;
	}
	return DMCP_OK;
}

/* ---- expiry, tasks and due runs -------------------------------------------------------- */

/* The fake's clock for due times: milliseconds since the epoch, moved by the tests. */
static int64_t fake_now;

void fake_store_set_now(int64_t ms)
{
	fake_now = ms;
}

int store_run_expired(struct store *st, const char *run_id, const char *session_id,
                      const char *principal)
{
	struct fs_run *r;

	if (enter(st, "store_run_expired") != DMCP_OK)
		return 0;
	r = find_run(&db, run_id);
	return r != NULL && r->row.expired && strcmp(r->row.session_id, session_id) == 0 &&
	       strcmp(r->row.principal, principal) == 0;
}

/* Times in the fake: the tick, as an ISO-looking string. */
static void fake_time(char *out, long t)
{
	snprintf(out, ROW_TIME_LEN, "2026-01-01T00:00:%02ld.%03ldZ", (t / 1000) % 60, t % 1000);
}

static void task_copy(struct task_row *out, const struct fs_run *r, int full)
{
	int i;

	memset(out, 0, sizeof *out);
	run_copy(&out->run, &r->row);
	row_copy(out->run.id, sizeof out->run.id, r->row.id);
	out->run.exists = 1;
	if (!full) {
		free(out->run.journal);
		out->run.journal = dup_s("[]");
	}
	fake_time(out->created, r->created);
	fake_time(out->updated, r->updated);
	out->created_us = r->created;
	for (i = r->nev - 1; full && i >= 0; i--) {
		if (r->ev[i].kind == EV_RESPONSE) {
			out->response = dup_s(r->ev[i].body);
			break;
		}
	}
}

dmcp_rc store_task_get(struct store *st, const char *run_id, const char *principal,
                       struct task_row *out)
{
	struct fs_run *r;
	dmcp_rc rc = enter(st, "store_task_get");

	memset(out, 0, sizeof *out);
	if (rc != DMCP_OK)
		return rc;
	r = find_run(&db, run_id);
	if (r == NULL || !r->row.task || strcmp(r->row.principal, principal) != 0)
		return DMCP_E_NOT_FOUND;
	task_copy(out, r, 1);
	return DMCP_OK;
}

dmcp_rc store_task_list(struct store *st, const char *principal, int64_t after_us,
                        const char *after_id, int max, struct task_row *out, int *n)
{
	dmcp_rc rc = enter(st, "store_task_list");
	int i;

	*n = 0;
	if (rc != DMCP_OK)
		return rc;
	/* Runs are kept in creation order; created ticks are unique. */
	for (i = 0; i < db.nruns && *n < max; i++) {
		struct fs_run *r = &db.runs[i];
		if (!r->row.task || strcmp(r->row.principal, principal) != 0 ||
		    r->created < after_us || (r->created == after_us && strcmp(r->row.id, after_id) <= 0))
			continue;
		task_copy(&out[(*n)++], r, 0);
	}
	return DMCP_OK;
}

dmcp_rc store_task_cancel(struct store *st, const char *run_id, const char *principal,
                          const char *why)
{
	struct fs_run *r;
	dmcp_rc rc = enter(st, "store_task_cancel");

	if (rc != DMCP_OK)
		return rc;
	r = find_run(&db, run_id);
	if (r == NULL || !r->row.task || strcmp(r->row.principal, principal) != 0)
		return DMCP_E_NOT_FOUND;
	if (!unfinished(r->row.status) || r->row.expired)
		return DMCP_E_CONFLICT;
	r->row.status = RUN_CANCELLED;
	replace(&r->row.pending_id, NULL);
	replace(&r->row.pending_method, NULL);
	replace(&r->row.error, why);
	r->row.due_ms = 0;
	r->updated = ++tick;
	deliver(r->row.id);
	return DMCP_OK;
}

dmcp_rc store_due_claim(struct store *st, const char *run_id, int max, struct run_row *out,
                        int *n)
{
	dmcp_rc rc = enter(st, "store_due_claim");
	int i;

	*n = 0;
	if (rc != DMCP_OK)
		return rc;
	for (i = 0; i < db.nruns && *n < max; i++) {
		struct fs_run *r = &db.runs[i];
		if (r->row.status != RUN_WAITING || r->row.due_ms == 0 || r->row.due_ms > fake_now ||
		    (run_id != NULL && strcmp(run_id, r->row.id) != 0))
			continue;
		r->row.status = RUN_RUNNING;
		r->expired = 0;
		run_copy(&out[*n], &r->row); /* with the due time it had, as store.c returns it */
		r->row.due_ms = 0;
		row_copy(out[*n].id, sizeof out[*n].id, r->row.id);
		out[*n].exists = 1;
		(*n)++;
	}
	return DMCP_OK;
}

dmcp_rc store_due_next(struct store *st, int64_t *in_ms)
{
	dmcp_rc rc = enter(st, "store_due_next");
	int i;

	*in_ms = -1;
	for (i = 0; rc == DMCP_OK && i < db.nruns; i++) {
		const struct run_row *r = &db.runs[i].row;
		int64_t in = r->due_ms - fake_now;
		if (r->status != RUN_WAITING || r->due_ms == 0)
			continue;
		if (in < 0)
			in = 0;
		if (*in_ms < 0 || in < *in_ms)
			*in_ms = in;
	}
	return rc;
}

dmcp_rc store_expire(struct store *st, int retention_s, long *expired)
{
	dmcp_rc rc = enter(st, "store_expire");

	(void)retention_s;
	*expired = 0;
	return rc;
}

/* Make the run a tombstone now (as store_expire would once its retention passed). */
dmcp_rc fake_store_expire_run(const char *run_id)
{
	struct fs_run *r = find_run(&db, run_id);
	int i;

	if (r == NULL)
		return DMCP_E_NOT_FOUND;
	if (unfinished(r->row.status))
		r->row.status = RUN_CANCELLED;
	r->row.expired = 1;
	r->row.due_ms = 0;
	replace(&r->row.journal, "[]");
	for (i = 0; i < r->nev; i++)
		free(r->ev[i].body);
	r->nev = 0;
	return DMCP_OK;
}

/* ---- test hooks ------------------------------------------------------------------------ */

void fake_store_reset_counters(void)
{
	calls_total = 0;
	n_counts = 0;
}

void fake_store_reset(void)
{
	struct store *h;

	for (h = handles; h != NULL; h = h->next) {
		db_free(&h->snap);
		end_tx(h);
	}
	db_free(&db);
	free(notified);
	notified = NULL;
	n_notified = cap_notified = 0;
	tick = 0;
	migrated = 0;
	fake_store_reset_counters();
	fail_next = 0;
	memset(rules, 0, sizeof rules);
	n_anomalies = 0;
	last_anomaly[0] = '\0';
	notify_hook = NULL;
	notify_arg = NULL;
	tool_catalog = NULL;
	tool_hook = NULL;
	tool_hook_arg = NULL;
	n_tokens = 0;
}

long fake_store_calls(void)
{
	return calls_total;
}

long fake_store_calls_of(const char *fn)
{
	int i;

	for (i = 0; i < n_counts; i++)
		if (strcmp(counts[i].fn, fn) == 0)
			return counts[i].n;
	return 0;
}

int fake_store_count(const char *table)
{
	int i, n = 0;

	if (strcmp(table, "sessions") == 0)
		return db.nsess;
	if (strcmp(table, "runs") == 0)
		return db.nruns;
	if (strcmp(table, "subscriptions") == 0)
		return db.nsubs;
	if (strcmp(table, "events") == 0) {
		for (i = 0; i < db.nruns; i++)
			n += db.runs[i].nev;
		return n;
	}
	return -1;
}

int fake_store_find_unfinished(const char *session_id, const char *request_id,
                               char *run_id_out)
{
	int i;

	for (i = 0; i < db.nruns; i++) {
		const struct run_row *r = &db.runs[i].row;
		if (strcmp(r->session_id, session_id) == 0 && strcmp(r->request_id, request_id) == 0 &&
		    unfinished(r->status)) {
			row_copy(run_id_out, 33, r->id);
			return 1;
		}
	}
	return 0;
}

int fake_store_run(const char *run_id, struct run_row *out)
{
	struct fs_run *r = find_run(&db, run_id);

	memset(out, 0, sizeof *out);
	if (r == NULL)
		return 0;
	run_copy(out, &r->row);
	out->lease_expired = r->row.status == RUN_RUNNING && r->expired;
	return 1;
}

int fake_store_events(const char *run_id, struct event_row *out, int max)
{
	struct fs_run *r = find_run(&db, run_id);
	int i, n = 0;

	for (i = 0; r != NULL && i < r->nev && n < max; i++) {
		out[n].lsn = r->ev[i].lsn;
		out[n].kind = r->ev[i].kind;
		out[n].body = dup_s(r->ev[i].body);
		n++;
	}
	return n;
}

const char *fake_store_event_body(const char *run_id, int64_t lsn)
{
	struct fs_event *e = find_event(find_run(&db, run_id), lsn);

	return e != NULL ? e->body : NULL;
}

int fake_store_event_committed(const char *run_id, int64_t lsn)
{
	struct store *h;

	if (find_event(find_run(&db, run_id), lsn) == NULL)
		return 0;
	for (h = handles; h != NULL; h = h->next)
		if (h->in_tx && find_event(find_run(&h->snap, run_id), lsn) == NULL)
			return 0; /* only inside an open transaction */
	return 1;
}

dmcp_rc store_subscribed(struct store *st, const char *session_id, const char *uri, int *yes)
{
	dmcp_rc rc = enter(st, "store_subscribed");

	*yes = rc == DMCP_OK && fake_store_subscribed(session_id, uri);
	return rc;
}

int fake_store_subscribed(const char *session_id, const char *uri)
{
	int i;

	for (i = 0; i < db.nsubs; i++)
		if (strcmp(db.subs[i].session_id, session_id) == 0 && strcmp(db.subs[i].uri, uri) == 0)
			return 1;
	return 0;
}

void fake_store_fail_next(int n)
{
	fail_next = n;
}

void fake_store_fail(const char *fn, int skip, int n)
{
	int i;

	for (i = 0; i < FS_MAX_RULES; i++) {
		if (rules[i].fn[0] == '\0' || strcmp(rules[i].fn, fn) == 0) {
			row_copy(rules[i].fn, sizeof rules[i].fn, n > 0 ? fn : "");
			rules[i].skip = skip;
			rules[i].n = n;
			return;
		}
	}
}

static void cancel_row(struct fs_run *r, const char *why)
{
	r->row.status = RUN_CANCELLED;
	replace(&r->row.pending_id, NULL);
	replace(&r->row.pending_method, NULL);
	replace(&r->row.error, why);
	r->updated = ++tick;
}

dmcp_rc fake_store_cancel_run(const char *run_id, const char *why)
{
	struct fs_run *r = find_run(&db, run_id), *snap;
	struct store *h;

	if (r == NULL)
		return DMCP_E_NOT_FOUND;
	if (unfinished(r->row.status))
		leave_count(&r->row);
	cancel_row(r, why);
	/* Committed by another worker: a transaction of ours that is open now and rolls back
	 * does not undo it. */
	for (h = handles; h != NULL; h = h->next)
		if (h->in_tx && (snap = find_run(&h->snap, run_id)) != NULL)
			cancel_row(snap, why);
	deliver(run_id);
	return DMCP_OK;
}

dmcp_rc fake_store_append_event(const char *run_id, enum event_kind kind, const char *body)
{
	struct fs_run *r = find_run(&db, run_id);

	if (r == NULL)
		return DMCP_E_NOT_FOUND;
	r->row.last_lsn++;
	append_event(r, r->row.last_lsn, kind, body);
	r->updated = ++tick;
	deliver(run_id);
	return DMCP_OK;
}

dmcp_rc fake_store_expire_lease(const char *run_id, int expired)
{
	struct fs_run *r = find_run(&db, run_id);

	if (r == NULL)
		return DMCP_E_NOT_FOUND;
	r->expired = expired;
	return DMCP_OK;
}

dmcp_rc fake_store_end_session(const char *session_id)
{
	char (*ids)[33];
	int n, i;

	n = end_session(session_id, NULL, "session ended", &ids);
	if (n < 0)
		return DMCP_E_NOT_FOUND;
	for (i = 0; i < n; i++)
		deliver(ids[i]);
	free(ids);
	return DMCP_OK;
}

int fake_store_notifies(const char *run_id)
{
	int i, n = 0;

	for (i = 0; i < n_notified; i++)
		if (run_id == NULL || strcmp(notified[i].run_id, run_id) == 0)
			n += notified[i].n;
	return n;
}

int fake_store_open_tx(void)
{
	struct store *h;
	int n = 0;

	for (h = handles; h != NULL; h = h->next)
		n += h->in_tx;
	return n;
}

int fake_store_anomalies(char *last, size_t cap)
{
	if (last != NULL && cap > 0)
		snprintf(last, cap, "%s", last_anomaly);
	return n_anomalies;
}

void fake_store_on_notify(void (*fn)(void *arg, const char *run_id), void *arg)
{
	notify_hook = fn;
	notify_arg = arg;
}

struct store *fake_store_handle(void)
{
	return handles;
}
