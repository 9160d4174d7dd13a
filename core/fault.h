/* fault.h — named points where a test build kills its own process (SIGKILL), to prove that
 * a crash at any commit boundary loses no call, applies no answer twice and leaves every
 * run's events gap-free (tests/faults.bats).
 *
 * FAULT_POINT(ID) marks a point. In a normal build it compiles to nothing. In the fault build
 * (`make fault-build`: -DDMCP_FAULTS, into build/fault) it counts the hit and, when the
 * environment variable DMCP_FAULT names this point, logs "fault point NAME: SIGKILL" (an
 * error line of the program's log) and raises SIGKILL: no handler, no flush, no ROLLBACK,
 * exactly what a kill -9 or a power cut does to the process.
 *
 *   DMCP_FAULT=NAME      the process dies at its first hit of NAME
 *   DMCP_FAULT=NAME@N    the process dies at its Nth hit of NAME (counted per process, over all
 *                        its threads), so a run can get partway first
 *   DMCP_FAULT_ONCE=PATH (with DMCP_FAULT=NAME) one death per arming, across processes: a
 *                        hit kills only the process that creates the file PATH (O_EXCL), so
 *                        while PATH exists the point is disarmed and the other processes carry
 *                        on; removing PATH arms it again. @N does not apply then.
 *
 * DMCP_FAULT is read once, at the process's start (fault_init, from dmcp_main); a value that
 * names no point (a typo) stops the program with an error instead of serving unharmed.
 *
 * The points, one line each below: a step's save and commit (core/store.c) and the write of a
 * run's events to the client (core/server.c, a stream's flush). Where the boundaries really
 * are: the run row's compare-and-set (or insert) and the insert of its events are ONE
 * statement, so "before the run update" is "before the events insert", and after it both are
 * done. Outside a transaction that statement is its own commit; its NOTIFY is pipelined behind
 * it in the same round trip. A step in a transaction (an SQL tool's writes) sends the save
 * first, then COMMIT with the NOTIFYs pipelined behind it in a second round trip. So each
 * round trip has three points: before it is sent; sent but its answer not read (the database
 * applies it, commits it and sends the NOTIFY, and the worker never learns); and after its
 * answer.
 */
#ifndef DMCP_FAULT_H
#define DMCP_FAULT_H

/* X(ID, "name"): every point, in the order of a step. */
#define FAULT_POINTS(X) \
	X(SAVE_BEFORE, "save.before")      /* before the save statement (run row + events) */ \
	X(SAVE_SENT, "save.sent")          /* save (and, outside BEGIN, its NOTIFY) sent, unread */ \
	X(SAVE_AFTER, "save.after")        /* after the save's answer (outside BEGIN: committed) */ \
	X(COMMIT_BEFORE, "commit.before")  /* in a transaction: saved, COMMIT not sent */ \
	X(COMMIT_SENT, "commit.sent")      /* COMMIT and its NOTIFYs sent, their answers unread */ \
	X(COMMIT_AFTER, "commit.after")    /* after COMMIT's and the NOTIFYs' answers */ \
	X(HTTP_BEFORE, "http.before")      /* before a batch of SSE events leaves the process */ \
	X(HTTP_AFTER, "http.after")        /* after it left */

#define FAULT_ID(id, name) FP_##id,
enum fault_point { FAULT_POINTS(FAULT_ID) FP_COUNT };
#undef FAULT_ID

#ifdef DMCP_FAULTS
/* Reads DMCP_FAULT; 0 when it is unset or names a point (and "@N" with N >= 1), -1 (with
 * the reason on stderr) when not. Call once, before any thread starts. */
int fault_init(void);
/* One hit of point p: dies when DMCP_FAULT says so. Thread-safe. */
void fault_hit(enum fault_point p);
#define FAULT_INIT() fault_init()
#define FAULT_POINT(id) fault_hit(FP_##id)
#else
#define FAULT_INIT() 0
#define FAULT_POINT(id) ((void)0)
#endif

#endif
