/* timers.h — the background executor of a long-lived process: one thread, with its own
 * database connection, that takes the steps no request carries — runs whose due time passed
 * (durable timers, answer deadlines, a task's steps after its CreateTaskResult went out) and
 * runs whose worker died mid-step (orphans). It sleeps until the next due time it read, and
 * wakes early on a "t:due" notification (a run somewhere got a due time; the process's
 * listener rings it) or on timers_kick. Claims are atomic (store_due_claim), so the
 * schedulers of every process, and `sweep`, can run at once: each due step is taken once.
 * Knows nothing of HTTP; reaches PostgreSQL only through store.h and the runtime. */
#ifndef DMCP_TIMERS_H
#define DMCP_TIMERS_H

#include "cfg.h"
#include "dmcp.h"
#include "rows.h"

struct timers;
struct wake;

/* Called after a step of the scheduler committed events (rt_env.local), so that a stream of
 * this process that follows the run receives them at once. */
typedef void (*timers_local_fn)(void *arg, const char *run_id, int64_t first, int n,
                               const enum event_kind *kinds, const char *const *bodies);

/* Start the thread. cfg, reg and wake are borrowed and must outlive it (timers_stop first);
 * wake's listener delivers the "t:due" notifications. DMCP_E_NOMEM when it cannot start. */
dmcp_rc timers_start(const struct cfg *cfg, const dmcp_registry *reg, struct wake *wake,
                    timers_local_fn local, void *local_arg, struct timers **out) DMCP_MUST_CHECK;
/* Look for due runs now (a run of this process was just made due). */
void timers_kick(struct timers *s);
/* Stop the thread (after the step it is taking, if any) and free it. NULL does nothing. */
void timers_stop(struct timers *s);

#endif
