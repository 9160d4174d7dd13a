/* scache.c — the process's session cache (see scache.h).
 * Knows nothing of HTTP or SQL. A fixed table of SCACHE_SIZE slots addressed by the id's
 * leading hex digits (ids are random, so they spread evenly), probed SCACHE_WAYS deep; a
 * full neighbourhood evicts its least recently used entry. One mutex, held for copies only. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "rnd.h"
#include "scache.h"

/* Slots probed for one id: a small neighbourhood keeps lookups to one or two cache lines
 * and still lets four ids that hash alike live together. */
#define SCACHE_WAYS 4

struct slot {
	struct session_row s;  /* s.id[0] == '\0' when free; s.client_caps owned */
	long long used;        /* tick of the last hit (eviction) */
	time_t touched;        /* when last_seen was last written (monotonic seconds) */
};

struct scache {
	pthread_mutex_t mu;
	int on;                /* the listener is up */
	long long tick;
	struct slot slots[SCACHE_SIZE];
};

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static unsigned hash(const char *id)
{
	unsigned h = 0;
	int i;

	for (i = 0; i < 8 && id[i] != '\0'; i++)
		h = h * 16 + (unsigned)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
	return h % SCACHE_SIZE;
}

struct scache *scache_new(void)
{
	struct scache *c = calloc(1, sizeof *c);

	if (c != NULL && pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		c = NULL;
	}
	return c;
}

static void clear_slot(struct slot *sl)
{
	row_session_clear(&sl->s);
	memset(sl, 0, sizeof *sl);
}

static void flush_locked(struct scache *c)
{
	int i;

	for (i = 0; i < SCACHE_SIZE; i++)
		if (c->slots[i].s.id[0] != '\0')
			clear_slot(&c->slots[i]);
}

void scache_free(struct scache *c)
{
	if (c == NULL)
		return;
	flush_locked(c);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void scache_enable(struct scache *c, int on)
{
	pthread_mutex_lock(&c->mu);
	flush_locked(c); /* what was heard before is no guide to what was missed */
	c->on = on;
	pthread_mutex_unlock(&c->mu);
}

/* The slot holding id, or NULL. Called with the mutex held. */
static struct slot *find(struct scache *c, const char *id)
{
	unsigned h = hash(id);
	int i;

	for (i = 0; i < SCACHE_WAYS; i++) {
		struct slot *sl = &c->slots[(h + (unsigned)i) % SCACHE_SIZE];
		if (strcmp(sl->s.id, id) == 0)
			return sl;
	}
	return NULL;
}

int scache_get(struct scache *c, const char *id, const char *principal,
               struct session_row *out, int *touch)
{
	struct slot *sl;
	int hit = 0;

	*touch = 0;
	if (!rnd_id_ok(id))
		return 0;
	pthread_mutex_lock(&c->mu);
	sl = c->on ? find(c, id) : NULL;
	if (sl != NULL && strcmp(sl->s.principal, principal) == 0) {
		*out = sl->s;
		out->client_caps = strdup(sl->s.client_caps);
		hit = out->client_caps != NULL;
		sl->used = ++c->tick;
		*touch = mono_s() - sl->touched >= SCACHE_TOUCH_S;
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

void scache_put(struct scache *c, const struct session_row *s)
{
	unsigned h = hash(s->id);
	struct slot *sl, *victim = NULL;
	char *caps = strdup(s->client_caps != NULL ? s->client_caps : "{}");
	int i;

	if (caps == NULL || !rnd_id_ok(s->id)) {
		free(caps);
		return;
	}
	pthread_mutex_lock(&c->mu);
	sl = c->on ? find(c, s->id) : NULL;
	for (i = 0; c->on && sl == NULL && i < SCACHE_WAYS; i++) {
		struct slot *cand = &c->slots[(h + (unsigned)i) % SCACHE_SIZE];
		if (victim == NULL || cand->s.id[0] == '\0' ||
		    (victim->s.id[0] != '\0' && cand->used < victim->used))
			victim = cand;
	}
	if (sl == NULL)
		sl = victim;
	if (sl != NULL) {
		clear_slot(sl);
		sl->s = *s;
		sl->s.client_caps = caps;
		caps = NULL;
		sl->used = ++c->tick;
		sl->touched = mono_s();
	}
	pthread_mutex_unlock(&c->mu);
	free(caps);
}

void scache_touched(struct scache *c, const char *id)
{
	struct slot *sl;

	pthread_mutex_lock(&c->mu);
	sl = find(c, id);
	if (sl != NULL)
		sl->touched = mono_s();
	pthread_mutex_unlock(&c->mu);
}

void scache_drop(struct scache *c, const char *id)
{
	struct slot *sl;

	pthread_mutex_lock(&c->mu);
	sl = find(c, id);
	if (sl != NULL)
		clear_slot(sl);
	pthread_mutex_unlock(&c->mu);
}

void scache_flush(struct scache *c)
{
	pthread_mutex_lock(&c->mu);
	flush_locked(c);
	pthread_mutex_unlock(&c->mu);
}
