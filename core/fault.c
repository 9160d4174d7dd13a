/* fault.c — the fault build's points (see fault.h): built only with -DDMCP_FAULTS. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fault.h"
#include "log.h"

#define FAULT_NAME(id, name) name,
static const char *const names[FP_COUNT] = {FAULT_POINTS(FAULT_NAME)};
#undef FAULT_NAME

/* The armed point (FP_COUNT: none), the hit that kills, and the hits so far. Written once
 * by fault_init before threads start; the count is atomic. */
static int armed = FP_COUNT;
static long kill_at = 1;
static long hits;
/* DMCP_FAULT_ONCE: the marker file whose creation a death takes (NULL: none). */
static const char *once;

/* With DMCP_FAULT_ONCE, 1 when this process created the marker (no process had since it was
 * last removed), else 0; without, 1 at the hit DMCP_FAULT names. */
static int takes_hit(void)
{
	int fd;

	if (once == NULL)
		return __atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST) == kill_at;
	if (access(once, F_OK) == 0)
		return 0;
	fd = open(once, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int fault_init(void)
{
	const char *s = getenv("DMCP_FAULT");
	const char *at;
	size_t n;
	char *end;
	int i;

	if (s == NULL || *s == '\0')
		return 0;
	once = getenv("DMCP_FAULT_ONCE");
	if (once != NULL && *once == '\0')
		once = NULL;
	at = strchr(s, '@');
	n = at != NULL ? (size_t)(at - s) : strlen(s);
	if (at != NULL) {
		kill_at = strtol(at + 1, &end, 10);
		if (at[1] == '\0' || *end != '\0' || kill_at < 1) {
			fprintf(stderr, "dmcp: DMCP_FAULT %s: the hit after @ must be a number >= 1\n",
			        s);
			return -1;
		}
	}
	for (i = 0; i < FP_COUNT; i++) {
		if (strlen(names[i]) == n && strncmp(names[i], s, n) == 0) {
			armed = i;
			log_msg(LOG_WARN, "fault build: fault point %s armed", names[i]);
			return 0;
		}
	}
	fprintf(stderr, "dmcp: DMCP_FAULT %s names no fault point\n", s);
	return -1;
}

void fault_hit(enum fault_point p)
{
	if ((int)p != armed || !takes_hit())
		return;
	log_msg(LOG_ERROR, "fault point %s: SIGKILL", names[p]);
	raise(SIGKILL);
}
