/* scache.h — the sessions this process has served, so that a request on a known session costs
 * no database round trip. Knows nothing of HTTP or SQL: the server fills it from what the
 * store read, and drops entries when the process's listener hears "s:<id>" (a session ended
 * or changed in any process: DELETE, logging/setLevel, sweep).
 *
 * Correctness rests on the listener: the cache answers only while the listener's connection
 * is up, and is emptied each time that connection is lost or comes back, because
 * notifications sent meanwhile are gone. Another process's DELETE reaches this cache as soon
 * as the listener reads its NOTIFY (sent after the DELETE's commit, before its reply). */
#ifndef DMCP_SCACHE_H
#define DMCP_SCACHE_H

#include "dmcp.h"
#include "rows.h"

/* Sessions one process keeps: 4096 entries of about 400 bytes (plus the capabilities text)
 * are under 2 MiB; a process rarely serves more live sessions between two sweeps, and a miss
 * only costs the read the cache saves. */
#define SCACHE_SIZE 4096
/* Seconds between the last_seen updates of a session the cache serves (the store refreshes
 * last_seen on a read older than a minute; sweep ends sessions idle for DMCP_SESSION_TTL,
 * at least 10 s, so a minute is well inside every TTL that matters). */
#define SCACHE_TOUCH_S 60

struct scache;

struct scache *scache_new(void);
void scache_free(struct scache *c);
/* The listener's state: entries are only served while on; any change empties the cache. */
void scache_enable(struct scache *c, int on);
/* Copy the session id into out (client_caps duplicated; clear with row_session_clear) when it
 * is cached for principal: 1, and *touch 1 when last_seen is due an update (the caller
 * updates it and calls scache_touched). 0 on a miss (nothing to clear). */
int scache_get(struct scache *c, const char *id, const char *principal,
               struct session_row *out, int *touch);
/* Keep s (copied). Ignored while disabled, or when the copy cannot be made. */
void scache_put(struct scache *c, const struct session_row *s);
void scache_touched(struct scache *c, const char *id);
/* Forget one session / all of them. */
void scache_drop(struct scache *c, const char *id);
void scache_flush(struct scache *c);

#endif
