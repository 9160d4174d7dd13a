/* timers.c — the scheduler thread of a long-lived process (see timers.h).
 * Knows nothing of HTTP. Its loop: take every due step (rt_run_due), now and then the
 * orphans (rt_recover_orphans), read the next due time, sleep on its doorbell until then.
 *
 * Rejected: running due steps in the listener thread (wake.c). A tool's step may take
 * seconds, and the listener must keep handing notifications to the streams meanwhile; a
 * thread of its own with its own connection keeps the two apart, and costs one connection
 * per process. Rejected too: one timer per sleeping run in memory. The rows are the timers;
 * a thousand sleeping runs cost a thousand rows and nothing here. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "runtime.h"
#include "timers.h"
#include "store.h"
#include "wake.h"

/* Longest sleep between two looks at the table when nothing is due and no notification
 * comes: a lost "t:due" (the listener was reconnecting) delays a due step by this much. */
#define TIMERS_IDLE_MS 30000
/* Due steps taken per look: the rest are taken right after, without sleeping. */
#define TIMERS_BATCH 64
/* How often the scheduler also takes over orphaned runs (a lease is 60 s). */
#define TIMERS_ORPHAN_MS 15000
/* Backoff after the database could not be reached. */
#define TIMERS_RETRY_MS 2000

struct timers {
	const struct cfg *cfg;      /* borrowed */
	const dmcp_registry *reg;   /* borrowed */
	struct wake *wake;          /* borrowed */
	timers_local_fn local;       /* rt_env.local, or NULL */
	void *local_arg;
	struct waiter waiter;       /* rung by "t:due" and timers_kick */
	pthread_t thread;
	int stop;                   /* atomic: the thread ends at its next look */
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One look: due steps and (now and then) orphans; how long to sleep afterwards. */
static int look(struct timers *s, struct store *st, long long *orphans_at)
{
	struct rt_env env;
	int64_t in_ms = -1;
	int taken = 0, n = 0;

	memset(&env, 0, sizeof env);
	env.cfg = s->cfg;
	env.reg = s->reg;
	env.st = st;
	env.local = s->local;
	env.local_arg = s->local_arg;
	if (store_ready(st) != DMCP_OK)
		return TIMERS_RETRY_MS;
	if (rt_run_due(&env, NULL, TIMERS_BATCH, &taken) != DMCP_OK)
		return TIMERS_RETRY_MS;
	if (mono_ms() >= *orphans_at) {
		*orphans_at = mono_ms() + TIMERS_ORPHAN_MS;
		if (rt_recover_orphans(&env, TIMERS_BATCH, &n) != DMCP_OK)
			return TIMERS_RETRY_MS;
	}
	if (taken == TIMERS_BATCH)
		return 0; /* more are due */
	if (store_due_next(st, &in_ms) != DMCP_OK)
		return TIMERS_RETRY_MS;
	if (in_ms < 0 || in_ms > TIMERS_IDLE_MS)
		in_ms = TIMERS_IDLE_MS;
	if (*orphans_at - mono_ms() < in_ms)
		in_ms = *orphans_at - mono_ms() > 0 ? *orphans_at - mono_ms() : 0;
	return (int)in_ms;
}

static void *timers_main(void *arg)
{
	struct timers *s = arg;
	struct store *st = NULL;
	long long orphans_at = mono_ms() + TIMERS_ORPHAN_MS;
	char err[300];
	int wait, woke;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		if (st == NULL && store_open(s->cfg->database_url, &st, err, sizeof err) != DMCP_OK) {
			log_msg(LOG_WARN, "scheduler: %s; retrying", err);
			st = NULL;
			wait = TIMERS_RETRY_MS;
		} else {
			wait = look(s, st, &orphans_at);
		}
		if (wait > 0 && waiter_wait(s->wake, &s->waiter, wait, -1, &woke) != DMCP_OK)
			break;
	}
	store_close(st);
	return NULL;
}

dmcp_rc timers_start(const struct cfg *cfg, const dmcp_registry *reg, struct wake *wake,
                    timers_local_fn local, void *local_arg, struct timers **out)
{
	struct timers *s = calloc(1, sizeof *s);

	*out = NULL;
	if (s == NULL)
		return DMCP_E_NOMEM;
	s->cfg = cfg;
	s->reg = reg;
	s->wake = wake;
	s->local = local;
	s->local_arg = local_arg;
	if (waiter_init(&s->waiter) != DMCP_OK) {
		free(s);
		return DMCP_E_NOMEM;
	}
	wake_register(wake, &s->waiter, STORE_DUE_PAYLOAD);
	if (pthread_create(&s->thread, NULL, timers_main, s) != 0) {
		wake_unregister(wake, &s->waiter);
		waiter_close(&s->waiter);
		free(s);
		return DMCP_E_NOMEM;
	}
	*out = s;
	return DMCP_OK;
}

void timers_kick(struct timers *s)
{
	if (s != NULL)
		wake_deliver(s->wake, STORE_DUE_PAYLOAD);
}

void timers_stop(struct timers *s)
{
	if (s == NULL)
		return;
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	wake_deliver(s->wake, STORE_DUE_PAYLOAD);
	pthread_join(s->thread, NULL);
	wake_unregister(s->wake, &s->waiter);
	waiter_close(&s->waiter);
	free(s);
}
