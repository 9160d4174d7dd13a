/* dynreg.c — the view of the registry that holds the tools made while serving (see
 * dynreg.h). Knows nothing of HTTP.
 *
 * Two locks. mu guards which view is current and every view's reference count; it is held
 * for a few instructions. build_mu lets one thread build at a time (and guards the programs'
 * last scan); a request that finds the view stale while another thread builds goes on with
 * the current view rather than wait. A view is freed by whoever drops its last reference:
 * the builder when nobody holds the old one, or the last request that held it.
 *
 * Rejected: a read-write lock around one registry rebuilt in place. A rebuild reads the
 * catalog and compiles schemas (milliseconds); every request would wait behind it, and a
 * request that looked a tool up before the rebuild would hold a pointer into freed memory
 * after it. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "dynreg.h"
#include "exectool.h"
#include "log.h"
#include "sqltool.h"

/* Milliseconds before a build that could not read the catalog (the database is down, or not
 * migrated) is tried again: requests meanwhile use the tools they have, without a failing
 * statement (and a log line) each. */
#define DYN_RETRY_MS 5000

struct dyn {
	const struct cfg *cfg;    /* borrowed */
	dmcp_registry *base;      /* borrowed: the program's own tools */
	pthread_mutex_t mu;       /* guards cur and the views' refs */
	dmcp_registry *cur;       /* the current view (it holds one reference), or NULL */
	int stale;                /* atomic: rebuild before the next request */
	int announce;             /* atomic: the next rebuild NOTIFYs 'l:tools' */
	pthread_mutex_t build_mu; /* one builder at a time; guards scan */
	struct exec_scan *scan;   /* the programs as last described, or NULL */
	long long retry_at;       /* atomic: no build before this (ms, monotonic) after a failed
	                             one; 0: none failed */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sql_on(const struct cfg *cfg)
{
	return cfg->sql_schema != NULL && cfg->sql_schema[0] != '\0';
}

dmcp_rc dyn_new(dmcp_registry *base, const struct cfg *cfg, struct dyn **out)
{
	struct dyn *d;

	*out = NULL;
	if (!sql_on(cfg) && cfg->exec_dir == NULL)
		return DMCP_OK;
	d = calloc(1, sizeof *d);
	if (d == NULL)
		return DMCP_E_NOMEM;
	if (pthread_mutex_init(&d->mu, NULL) != 0) {
		free(d);
		return DMCP_E_NOMEM;
	}
	if (pthread_mutex_init(&d->build_mu, NULL) != 0) {
		pthread_mutex_destroy(&d->mu);
		free(d);
		return DMCP_E_NOMEM;
	}
	d->cfg = cfg;
	d->base = base;
	d->stale = 1;
	*out = d;
	return DMCP_OK;
}

void dyn_free(struct dyn *d)
{
	if (d == NULL)
		return;
	dmcp_registry_free(d->cur);
	exec_scan_free(d->scan);
	pthread_mutex_destroy(&d->mu);
	pthread_mutex_destroy(&d->build_mu);
	free(d);
}

/* Make v the current view; the old one goes when its last holder lets go. */
static void publish(struct dyn *d, dmcp_registry *v)
{
	dmcp_registry *old;
	int gone = 0;

	v->refs = 1; /* the one "current" holds */
	pthread_mutex_lock(&d->mu);
	old = d->cur;
	d->cur = v;
	if (old != NULL)
		gone = --old->refs == 0;
	pthread_mutex_unlock(&d->mu);
	if (gone)
		dmcp_registry_free(old);
}

/* Build a new view (the caller holds build_mu). */
static dmcp_rc build(struct dyn *d, struct store *st)
{
	dmcp_registry *v = reg_view_new(d->base);
	int n_sql = 0, n_exec = 0, have;
	dmcp_rc rc = DMCP_OK;

	if (v == NULL)
		return DMCP_E_NOMEM;
	if (sql_on(d->cfg))
		rc = sqlt_load(v, st, d->cfg, &n_sql);
	if (exec_register(v, d->scan, d->cfg, &n_exec) != DMCP_OK && rc == DMCP_OK)
		rc = DMCP_E_NOMEM;
	pthread_mutex_lock(&d->mu);
	have = d->cur != NULL;
	pthread_mutex_unlock(&d->mu);
	if (rc != DMCP_OK && have) {
		/* Keep serving the tools we had rather than drop the SQL ones for a while. */
		dmcp_registry_free(v);
		__atomic_store_n(&d->stale, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&d->retry_at, now_ms() + DYN_RETRY_MS, __ATOMIC_RELEASE);
		log_msg(LOG_WARN, "tools: the new tool list could not be built (%s); the old one "
		        "stays, and the next try is in %d ms", dmcp_rc_name(rc), DYN_RETRY_MS);
		return rc;
	}
	publish(d, v);
	if (rc != DMCP_OK)
		__atomic_store_n(&d->stale, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&d->retry_at, rc != DMCP_OK ? now_ms() + DYN_RETRY_MS : 0,
	                 __ATOMIC_RELEASE);
	log_msg(LOG_INFO, "tools: %d of the program, %d SQL functions of %s, %d programs of %s",
	        d->base->n_tools, n_sql, sql_on(d->cfg) ? d->cfg->sql_schema : "(none)", n_exec,
	        d->cfg->exec_dir != NULL ? d->cfg->exec_dir : "(none)");
	if (rc == DMCP_OK && __atomic_exchange_n(&d->announce, 0, __ATOMIC_ACQ_REL))
		store_notify(st, "l:tools");
	return rc;
}

dmcp_rc dyn_build(struct dyn *d, struct store *st)
{
	dmcp_rc rc;

	pthread_mutex_lock(&d->build_mu);
	__atomic_store_n(&d->stale, 0, __ATOMIC_RELEASE);
	rc = build(d, st);
	pthread_mutex_unlock(&d->build_mu);
	return rc;
}

const dmcp_registry *dyn_acquire(struct dyn *d, struct store *st)
{
	const dmcp_registry *v;

	if (__atomic_load_n(&d->stale, __ATOMIC_ACQUIRE) &&
	    now_ms() >= __atomic_load_n(&d->retry_at, __ATOMIC_ACQUIRE) &&
	    pthread_mutex_trylock(&d->build_mu) == 0) {
		/* Cleared before the build: a change announced meanwhile makes it stale again. */
		if (__atomic_exchange_n(&d->stale, 0, __ATOMIC_ACQ_REL))
			(void)build(d, st);
		pthread_mutex_unlock(&d->build_mu);
	}
	pthread_mutex_lock(&d->mu);
	if (d->cur != NULL)
		d->cur->refs++;
	v = d->cur != NULL ? d->cur : d->base;
	pthread_mutex_unlock(&d->mu);
	return v;
}

void dyn_release(struct dyn *d, const dmcp_registry *view)
{
	dmcp_registry *v = (dmcp_registry *)(void *)view;
	int gone;

	if (d == NULL || v == NULL || v == d->base)
		return;
	pthread_mutex_lock(&d->mu);
	gone = --v->refs == 0;
	pthread_mutex_unlock(&d->mu);
	if (gone)
		dmcp_registry_free(v);
}

void dyn_stale(struct dyn *d)
{
	if (d == NULL)
		return;
	__atomic_store_n(&d->retry_at, 0, __ATOMIC_RELEASE); /* told: try at once */
	__atomic_store_n(&d->stale, 1, __ATOMIC_RELEASE);
}

void dyn_rescan(struct dyn *d, int announce)
{
	struct exec_scan *s, *old;

	if (d == NULL)
		return;
	s = d->cfg->exec_dir != NULL ? exec_scan(d->cfg) : NULL;
	pthread_mutex_lock(&d->build_mu);
	old = d->scan;
	d->scan = s;
	pthread_mutex_unlock(&d->build_mu);
	exec_scan_free(old);
	if (announce)
		__atomic_store_n(&d->announce, 1, __ATOMIC_RELEASE);
	dyn_stale(d);
}
