/* rows.c — names and memory of the session, run and event rows (see rows.h).
 * Knows nothing of PostgreSQL: shared by the store and the unit tests' in-memory store. */
#include <stdlib.h>
#include <string.h>
#include "rows.h"

static const char *const status_names[] = {"running", "waiting", "completed", "failed",
                                           "cancelled"};
static const char *const kind_names[] = {"notification", "request", "response", "poll"};

const char *row_status_name(enum run_status s)
{
	return status_names[s];
}

const char *row_kind_name(enum event_kind k)
{
	return kind_names[k];
}

static int lookup(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int row_status_parse(const char *s, enum run_status *out)
{
	int i = lookup(status_names, 5, s);

	if (i < 0)
		return 0;
	*out = (enum run_status)i;
	return 1;
}

int row_kind_parse(const char *s, enum event_kind *out)
{
	int i = lookup(kind_names, 4, s);

	if (i < 0)
		return 0;
	*out = (enum event_kind)i;
	return 1;
}

void row_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void row_session_clear(struct session_row *s)
{
	free(s->client_caps);
	s->client_caps = NULL;
}

void row_run_clear(struct run_row *r)
{
	free(r->request_id);
	free(r->progress_token);
	free(r->tool);
	free(r->arguments);
	free(r->journal);
	free(r->pending_id);
	free(r->pending_method);
	free(r->error);
	free(r->client);
	r->client = NULL;
	r->request_id = r->progress_token = r->tool = r->arguments = r->journal = NULL;
	r->pending_id = r->pending_method = r->error = NULL;
}

void row_events_clear(struct event_row *ev, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(ev[i].body);
		ev[i].body = NULL;
	}
}

void row_task_clear(struct task_row *t)
{
	row_run_clear(&t->run);
	free(t->response);
	t->response = NULL;
}
