/* store.c — PostgreSQL access for sessions, runs, events and wake-ups (see store.h).
 * The only file that includes libpq-fe.h. SQL only through prepared statements with
 * parameters; every PGresult is cleared on every path; database error text goes to the
 * log, never to a client. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libpq-fe.h>
#include "buf.h"
#include "fault.h"
#include "log.h"
#include "metrics.h"
#include "rnd.h"
#include "store.h"

/* The run columns a save writes, in this order, after the id: the one list that the insert
 * and update statements and their parameters are generated from (store_run_save). X(name,
 * updated): updated says whether an update writes it (the rest are fixed at insert). */
#define RUN_FIELDS(X)            \
	X(session_id, 0)             \
	X(principal, 0)              \
	X(scopes, 0)                 \
	X(request_id, 0)             \
	X(progress_token, 0)         \
	X(tool, 0)                   \
	X(tool_version, 0)           \
	X(arguments, 0)              \
	X(status, 1)                 \
	X(journal, 1)                \
	X(notes, 1)                  \
	X(last_progress, 1)          \
	X(last_lsn, 1)               \
	X(pending_id, 1)             \
	X(pending_method, 1)         \
	X(steps, 1)                  \
	X(error, 1)                  \
	X(task, 1)                   \
	X(modern, 0)                 \
	X(client, 1)                 \
	X(ttl_ms, 1)

/* Parameter numbers of the save statements: $1 is the run id, the fields follow in order,
 * then the rest. Generated, so no statement numbers a parameter by hand. */
enum save_param {
	SP_ID = 1,
#define SP_FIELD(name, upd) SP_##name,
	RUN_FIELDS(SP_FIELD)
#undef SP_FIELD
	SP_FIRST_LSN,    /* the first new event's LSN */
	SP_KINDS,        /* text[] of event kinds */
	SP_BODIES,       /* text[] of event bodies */
	SP_SYNC,         /* synchronous_commit for this statement: on | off */
	SP_DUE,          /* due_at in milliseconds since the epoch, or NULL */
	SP_TASK_LIMIT,   /* the principal's limit of unfinished tasks, when this save makes
	                    the run a task (under S_TASK_LOCK); NULL otherwise */
	SP_EXP_STATUS,   /* update: the status the row must still have */
	SP_EXP_LSN,      /* update: the last_lsn the row must still have */
	SP_EXP_STEPS,    /* update: the steps the row must still have */
	SP_MAX_LIVE,     /* insert: the session's limit of unfinished runs */
	SP_MAX_PRINCIPAL, /* insert: the principal's limit of unfinished runs (0: none) */
	SP_COUNT = SP_MAX_PRINCIPAL /* parameters of the longest statement */
};

static const char *const run_field_names[] = {
#define NAME(name, upd) #name,
	RUN_FIELDS(NAME)
#undef NAME
};
static const int run_field_updated[] = {
#define UPD(name, upd) upd,
	RUN_FIELDS(UPD)
#undef UPD
};
#define RUN_NFIELDS ((int)(sizeof run_field_names / sizeof run_field_names[0]))

enum stmt {
	S_SESSION_INSERT, S_SESSION_LOCK, S_SESSION_INSERT_MAX, S_SESSION_GET, S_SESSION_TOUCH,
	S_SESSION_LEVEL, S_SESSION_END, S_SESSION_CANCEL_RUNS, S_SUB_ON, S_SUB_OFF, S_SUB_HAS,
	S_BEGIN, S_COMMIT, S_RUN_INSERT, S_RUN_UPDATE, S_RUN_GET, S_RUN_CLAIM, S_RUN_CANCEL,
	S_RUN_WHY, S_EVENTS_AFTER, S_NOTIFY_NOW, S_SECRET, S_SWEEP_END, S_SWEEP_END_RUNS,
	S_SWEEP_DELETE, S_SWEEP_RUNS, S_SWEEP_TRIM, S_ORPHANS, S_LEASE_RENEW, S_SCHEMA,
	S_TOKEN_FIND, S_TOKEN_INSERT, S_TOKEN_REVOKE, S_TOKEN_LIST, S_TASK_LOCK, S_TASK_GET,
	S_TASK_LIST, S_TASK_CANCEL, S_DUE_CLAIM, S_DUE_NEXT, S_EXPIRE, S_RUN_EXPIRED, S_TASK_FULL,
	S_COUNT
};

struct stmt_def {
	const char *sql; /* the statement; $n parameters are all text; NULL: generated */
	int nparams;     /* how many */
};

/* Backoff between connection attempts of one store: from the first value, doubling, up to
 * the last. Within it store_ready fails at once: a request that finds the database down is
 * answered 503 in microseconds, and a database that comes back is used within the last. */
#define STORE_RETRY_MIN_MS 100
#define STORE_RETRY_MAX_MS 2000
/* The one NOTIFY channel. */
#define STORE_CHANNEL "dmcp"
/* Bytes of one generated statement. */
#define STORE_MAX_SQL 8192
/* Bytes of a NOTIFY payload dmcp accepts: "r:" + a resource URI (PostgreSQL's own limit is
 * 8000; a longer URI is announced as "l:resources" instead). */
#define STORE_MAX_PAYLOAD 2048

/* Insert the events given as parallel text arrays, numbered from the first LSN, for the run
 * returned by the CTE r. */
#define EVENTS_FROM(first, kinds, bodies) \
	"INSERT INTO dmcp_events (run_id, lsn, kind, body) SELECT r.id, " first "::bigint + " \
	"t.o - 1, t.k, t.b FROM r, unnest(" kinds "::text[], " bodies "::text[]) WITH " \
	"ORDINALITY AS t(k, b, o)"

/* now(), after setting synchronous_commit for the current transaction ("on" or "off"):
 * a single statement outside BEGIN commits durably or not as its caller says, in one
 * round trip (the setting is read at COMMIT). */
#define DURABILITY(p) "(SELECT now() FROM (SELECT set_config('synchronous_commit', " p \
	"::text, true)) AS durability)"

/* Milliseconds since the row's created_at, by the database's clock. */
#define AGE_MS "(extract(epoch FROM clock_timestamp() - created_at) * 1000)::bigint"

/* The statuses of a run that is not over. */
#define UNFINISHED "('running', 'waiting')"

/* The statuses of a run that is over. */
#define FINISHED "('completed', 'failed', 'cancelled')"

/* Runs returned by the CTE r (id, session_id) leave their sessions' counts. */
#define LEAVE_COUNT \
	"d AS (UPDATE dmcp_sessions s SET live_runs = greatest(s.live_runs - c.n, 0) FROM " \
	"(SELECT session_id, count(*) AS n FROM r WHERE session_id IS NOT NULL GROUP BY 1) c " \
	"WHERE s.id = c.session_id)"

/* The advisory lock class of a principal's session creation (the second key is the hash of
 * the principal's name); the one-key class 7368301 is the migrations', and 7368303 (in
 * dmcp_principal_runs_below, sql/009_principal_runs.sql) a principal's new unfinished runs. */
#define STORE_LOCK_SESSIONS "7368302"

/* A timestamp as UTC text, "2026-11-26T10:00:00Z" (NULL stays NULL). */
#define UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The token columns the reads return, in this order. */
#define TOKEN_COLS "id, hash, principal, scopes, coalesce(extract(epoch FROM expires_at)::bigint, " \
	"0), expires_at <= now(), revoked_at IS NOT NULL, " UTC("created_at") ", " \
	"coalesce(" UTC("expires_at") ", ''), coalesce(" UTC("revoked_at") ", '')"

static char run_insert_sql[STORE_MAX_SQL], run_update_sql[STORE_MAX_SQL];
static char task_get_sql[STORE_MAX_SQL], task_list_sql[STORE_MAX_SQL];
static char due_claim_sql[STORE_MAX_SQL];

/* True while the principal p holds fewer than l unfinished tasks (l NULL: always). l is
 * pasted twice: its parameter is given twice. */
#define TASKS_BELOW(p, l) "(" l "::int IS NULL OR (SELECT count(*) FROM dmcp_runs WHERE task " \
	"AND principal = " p " AND status IN " UNFINISHED " AND expired_at IS NULL) < " l "::int)"

/* createdAt and lastUpdatedAt of tasks: ISO 8601 in UTC with milliseconds. */
#define ISO_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* Statements that carry the lease time (store_cfg.lease_s), generated once. */
static char run_claim_sql[STORE_MAX_SQL], run_renew_sql[STORE_MAX_SQL];

/* The process's settings (store_setup), read by every connection. */
static struct store_cfg scfg = {
	.statement_timeout_ms = 30000,
	.lock_timeout_ms = 5000,
	.idle_tx_timeout_ms = 60000,
	.lease_s = 60,
	.pooled = 0,
};

void store_setup(const struct store_cfg *cfg)
{
	scfg = *cfg;
}

static struct stmt_def stmts[S_COUNT] = {
	[S_SESSION_INSERT] = {"INSERT INTO dmcp_sessions (id, principal, protocol, client_info, "
	                      "client_caps) VALUES ($1, $2, $3, $4, $5)", 5},
	/* DMCP_MAX_SESSIONS_PER_PRINCIPAL: the principal's lock, then the insert only while it
	 * has fewer than $6 live sessions (see store_session_create). */
	[S_SESSION_LOCK] = {"SELECT pg_advisory_xact_lock(" STORE_LOCK_SESSIONS ", hashtext($1))", 1},
	[S_SESSION_INSERT_MAX] = {"INSERT INTO dmcp_sessions (id, principal, protocol, client_info, "
	                          "client_caps) SELECT $1, $2, $3, $4, $5 WHERE (SELECT count(*) FROM "
	                          "dmcp_sessions WHERE principal = $2 AND ended_at IS NULL) < $6::int "
	                          "RETURNING id", 6},
	[S_SESSION_GET] = {"SELECT principal, protocol, client_caps, log_level, ended_at IS NOT NULL, "
	                   "last_seen < now() - interval '60 seconds' FROM dmcp_sessions "
	                   "WHERE id = $1", 1},
	[S_SESSION_TOUCH] = {"UPDATE dmcp_sessions SET last_seen = now() WHERE id = $1", 1},
	[S_SESSION_LEVEL] = {"UPDATE dmcp_sessions SET log_level = $2 WHERE id = $1", 2},
	/* Locks the session row first: an insert of a run (which takes the same lock) either
	 * committed before (and S_SESSION_CANCEL_RUNS, a new statement with a new snapshot,
	 * cancels it) or waits and then finds the session ended. */
	[S_SESSION_END] = {"UPDATE dmcp_sessions SET ended_at = now(), live_runs = 0 WHERE id = $1 "
	                   "AND principal = $2 AND ended_at IS NULL RETURNING id", 2},
	/* Only the caller's own runs, and only when its END matched: a DELETE of another
	 * principal's session (or of one already ended) cancels nothing. */
	[S_SESSION_CANCEL_RUNS] = {"UPDATE dmcp_runs SET status = 'cancelled', pending_id = NULL, "
	                           "pending_method = NULL, error = $2, updated_at = now() "
	                           "WHERE session_id = $1 AND principal = $3 AND status IN "
	                           UNFINISHED " AND EXISTS (SELECT 1 FROM dmcp_sessions WHERE id = "
	                           "$1 AND principal = $3 AND ended_at IS NOT NULL) RETURNING id", 3},
	/* Counted under the session row's lock, so concurrent subscribes cannot pass the limit;
	 * a subscription that exists already is kept (and counts as done). */
	[S_SUB_ON] = {"WITH s AS (SELECT id FROM dmcp_sessions WHERE id = $1 FOR UPDATE), e AS ("
	              "SELECT 1 FROM dmcp_subscriptions WHERE session_id = $1 AND uri = $2), i AS ("
	              "INSERT INTO dmcp_subscriptions (session_id, uri) SELECT $1, $2 FROM s WHERE "
	              "NOT EXISTS (SELECT 1 FROM e) AND (SELECT count(*) FROM dmcp_subscriptions "
	              "WHERE session_id = $1) < $3::int ON CONFLICT DO NOTHING RETURNING 1) SELECT "
	              "(SELECT count(*) FROM i) + (SELECT count(*) FROM e)", 3},
	[S_SUB_OFF] = {"DELETE FROM dmcp_subscriptions WHERE session_id = $1 AND uri = $2", 2},
	[S_SUB_HAS] = {"SELECT 1 FROM dmcp_subscriptions WHERE session_id = $1 AND uri = $2", 2},
	[S_BEGIN] = {"BEGIN", 0},
	[S_COMMIT] = {"COMMIT", 0},
	[S_RUN_INSERT] = {run_insert_sql, SP_COUNT},
	[S_RUN_UPDATE] = {run_update_sql, SP_EXP_STEPS},
	[S_RUN_GET] = {NULL, 1},
	[S_RUN_CLAIM] = {run_claim_sql, 3},
	[S_RUN_CANCEL] = {"WITH r AS (UPDATE dmcp_runs SET status = 'cancelled', pending_id = NULL, "
	                  "pending_method = NULL, error = $4, updated_at = " DURABILITY("'on'") " "
	                  "WHERE session_id = $1 AND principal = $2 AND request_id = $3 AND status "
	                  "IN " UNFINISHED " RETURNING id, session_id, tool, steps, " AGE_MS " AS age), "
	                  LEAVE_COUNT " SELECT id, tool, steps, age FROM r", 4},
	/* Why an insert found no session to count against: ended (or gone) or at its limit. */
	[S_RUN_WHY] = {"SELECT ended_at IS NULL AND principal = $2 FROM dmcp_sessions WHERE id = $1",
	               2},
	[S_EVENTS_AFTER] = {"SELECT r.status, r.last_lsn, r.status = 'running' AND "
	                    "r.lease_until < now(), e.lsn, e.kind, e.body FROM dmcp_runs r "
	                    "LEFT JOIN LATERAL (SELECT lsn, kind, body FROM dmcp_events "
	                    "WHERE run_id = r.id AND lsn > $4::bigint ORDER BY lsn "
	                    "LIMIT $5::int) e ON true WHERE r.id = $1 AND r.session_id IS NOT "
	                    "DISTINCT FROM $2 AND r.principal = $3 AND r.expired_at IS NULL ORDER BY "
	                    "e.lsn", 5},
	/* Outside a transaction: a hint, so its commit does not wait for the disk. */
	[S_NOTIFY_NOW] = {"SELECT set_config('synchronous_commit', 'off', true), pg_notify('"
	                  STORE_CHANNEL "', $1)", 1},
	[S_SECRET] = {"WITH i AS (INSERT INTO dmcp_secrets (name, value) VALUES ($1, $2) ON CONFLICT "
	              "(name) DO NOTHING RETURNING value) SELECT value FROM i UNION ALL SELECT value "
	              "FROM dmcp_secrets WHERE name = $1 LIMIT 1", 2},
	/* The sweep works in batches of $2 rows (FOR UPDATE SKIP LOCKED: a row another sweep or
	 * a request holds is left for the next round), each batch one short transaction, and
	 * finds its rows through partial indexes (sql/007_sweep.sql). */
	[S_SWEEP_END] = {"WITH c AS (SELECT id FROM dmcp_sessions WHERE ended_at IS NULL AND "
	                 "last_seen < now() - make_interval(secs => $1::int) ORDER BY last_seen "
	                 "LIMIT $2::int FOR UPDATE SKIP LOCKED) UPDATE dmcp_sessions s SET ended_at "
	                 "= now(), live_runs = 0 FROM c WHERE s.id = c.id RETURNING s.id", 2},
	/* The unfinished runs of the sessions the same transaction just ended ($1: their ids). */
	[S_SWEEP_END_RUNS] = {"UPDATE dmcp_runs r SET status = 'cancelled', pending_id = NULL, "
	                      "pending_method = NULL, error = 'session expired', updated_at = now() "
	                      "WHERE r.session_id = ANY ($1::text[]) AND r.status IN " UNFINISHED
	                      " RETURNING r.id", 1},
	[S_ORPHANS] = {"SELECT r.id, coalesce(r.session_id, ''), r.principal, r.tool FROM dmcp_runs r LEFT "
	               "JOIN dmcp_sessions s ON s.id = r.session_id WHERE r.status = 'running' AND "
	               "r.lease_until < now() AND (r.session_id IS NULL OR s.ended_at IS NULL) "
	               "ORDER BY r.updated_at LIMIT $1::int", 1},
	[S_LEASE_RENEW] = {run_renew_sql, 2},
	/* The migrations applied, as a sorted array of versions. */
	[S_SCHEMA] = {"SELECT coalesce(array_agg(version ORDER BY version)::text, '{}') FROM "
	              "dmcp_migrations", 0},
	/* Sessions ended longer than the TTL ago (their runs and events go with them), and
	 * sessionless runs untouched that long (their requestStates have expired: nobody can name
	 * them any more). */
	[S_SWEEP_DELETE] = {"WITH c AS (SELECT id FROM dmcp_sessions WHERE ended_at < now() - "
	                    "make_interval(secs => $1::int) ORDER BY ended_at LIMIT $2::int FOR "
	                    "UPDATE SKIP LOCKED), d AS (DELETE FROM dmcp_sessions s USING c WHERE "
	                    "s.id = c.id RETURNING s.id) SELECT count(*) FROM d", 2},
	/* Sessionless runs untouched for the session TTL; a task only once it finished or
	 * expired (a task lives by its own TTL). */
	[S_SWEEP_RUNS] = {"WITH c AS (SELECT id FROM dmcp_runs WHERE session_id IS NULL AND (NOT "
	                  "task OR expired_at IS NOT NULL) AND updated_at < now() - "
	                  "make_interval(secs => $1::int) ORDER BY updated_at "
	                  "LIMIT $2::int FOR UPDATE SKIP LOCKED), d AS (DELETE FROM dmcp_runs r "
	                  "USING c WHERE r.id = c.id RETURNING r.id) SELECT count(*) FROM d", 2},
	/* Finished runs of live sessions past the retention period; a task only once it expired
	 * (a task lives by its own TTL, and tasks/get must find it until then). */
	[S_SWEEP_TRIM] = {"WITH c AS (SELECT id FROM dmcp_runs WHERE status IN ('completed', "
	                  "'failed', 'cancelled') AND session_id IS NOT NULL AND (NOT task OR "
	                  "expired_at IS NOT NULL) AND updated_at < now() "
	                  "- make_interval(secs => $1::int) ORDER BY updated_at LIMIT $2::int FOR "
	                  "UPDATE SKIP LOCKED), d AS (DELETE FROM dmcp_runs r USING c WHERE r.id = "
	                  "c.id RETURNING r.id) SELECT count(*) FROM d", 2},
	/* Serialises the saves that make runs tasks of principal $1, so that the count of its
	 * unfinished tasks (TASKS_BELOW) in the next statement of the transaction is exact. */
	[S_TASK_LOCK] = {"SELECT pg_advisory_xact_lock(7368302, hashtext($1))", 1},
	[S_TASK_GET] = {task_get_sql, 2},
	[S_TASK_LIST] = {task_list_sql, 4},
	/* $4: 1 when the task was cancelled here, 2 when it exists (finished), else 0. */
	[S_TASK_CANCEL] = {"WITH r AS (UPDATE dmcp_runs SET status = 'cancelled', pending_id = NULL, "
	                   "pending_method = NULL, due_at = NULL, error = $3, updated_at = "
	                   DURABILITY("'on'") " WHERE id = $1 AND principal = $2 AND task AND status "
	                   "IN " UNFINISHED " AND expired_at IS NULL RETURNING id) SELECT CASE WHEN "
	                   "EXISTS (SELECT 1 FROM r) THEN 1 WHEN EXISTS (SELECT 1 FROM dmcp_runs "
	                   "WHERE id = $1 AND principal = $2 AND task) THEN 2 ELSE 0 END", 3},
	[S_DUE_CLAIM] = {due_claim_sql, 2},
	/* No row when nothing is due: greatest() skips a NULL, so greatest(0, NULL) would be 0,
	 * "due now", and the scheduler would ask again at once, forever. */
	[S_DUE_NEXT] = {"SELECT greatest(0, ceil(extract(epoch FROM min(due_at) - now()) * 1000))::"
	                "bigint FROM dmcp_runs WHERE due_at IS NOT NULL AND status = 'waiting' "
	                "HAVING min(due_at) IS NOT NULL", 0},
	/* A batch of runs past their retention: finished runs DMCP_RETENTION ($1 s) after their
	 * last change, tasks their TTL after their creation (an unfinished one is cancelled).
	 * Their events go, their journals are emptied; the rows stay as tombstones. */
	[S_EXPIRE] = {"WITH x AS (UPDATE dmcp_runs SET expired_at = now(), journal = '[]', "
	              "due_at = NULL, pending_id = NULL, pending_method = NULL, status = CASE WHEN "
	              "status IN " UNFINISHED " THEN 'cancelled' ELSE status END, error = CASE WHEN "
	              "status IN " UNFINISHED " THEN 'the task expired (its TTL passed)' ELSE error "
	              "END WHERE id IN (SELECT id FROM dmcp_runs WHERE expired_at IS NULL AND ((NOT "
	              "task AND status IN " FINISHED " AND updated_at < now() - make_interval(secs "
	              "=> $1::int)) OR (task AND created_at + ttl_ms * interval '1 millisecond' < "
	              "now())) LIMIT $2::int FOR UPDATE SKIP LOCKED) RETURNING id), e AS (DELETE "
	              "FROM dmcp_events v USING x WHERE v.run_id = x.id) SELECT count(*) FROM x", 2},
	/* Whether principal $1 holds $2 unfinished tasks (a refused save: why). */
	[S_TASK_FULL] = {"SELECT NOT " TASKS_BELOW("$1", "$2"), 2},
	[S_RUN_EXPIRED] = {"SELECT 1 FROM dmcp_runs WHERE id = $1 AND session_id IS NOT DISTINCT "
	                   "FROM $2 AND principal = $3 AND expired_at IS NOT NULL", 3},
	[S_TOKEN_FIND] = {"SELECT " TOKEN_COLS " FROM dmcp_tokens WHERE hash = $1", 1},
	[S_TOKEN_INSERT] = {"INSERT INTO dmcp_tokens (id, hash, principal, scopes, expires_at) "
	                    "VALUES ($1, $2, $3, $4, CASE WHEN $5::bigint > 0 THEN "
	                    "to_timestamp($5::bigint) END)", 5},
	/* By id ($1) or by hash ($2); only a token not revoked yet. */
	[S_TOKEN_REVOKE] = {"UPDATE dmcp_tokens SET revoked_at = now() WHERE (id = $1 OR hash = $2) "
	                    "AND revoked_at IS NULL RETURNING id", 2},
	[S_TOKEN_LIST] = {"SELECT " TOKEN_COLS " FROM dmcp_tokens ORDER BY created_at, id", 0},
};

/* SELECT of every run field (and whether a running run's lease passed), for S_RUN_GET. */
static char run_get_sql[STORE_MAX_SQL];

/* The columns every run read has after the fields: whether a running run's lease passed, its
 * due time in milliseconds since the epoch, whether it expired. */
#define RUN_EXTRA ", status = 'running' AND lease_until < now(), (extract(epoch FROM due_at) * " \
	"1000)::bigint, expired_at IS NOT NULL, " AGE_MS
/* Their columns, after the fields (XC_AGE: milliseconds since the run was created). */
enum { XC_LEASE = 0, XC_DUE, XC_EXPIRED, XC_AGE, XC_COUNT };

/* Build the statements generated from RUN_FIELDS (once per process). */
static void build_run_sql(void)
{
	struct buf b;
	int i;

	buf_init(&b, STORE_MAX_SQL - 1);
	(void)buf_adds(&b, "SELECT ");
	for (i = 0; i < RUN_NFIELDS; i++)
		(void)buf_addf(&b, "%s%s", i > 0 ? ", " : "", run_field_names[i]);
	(void)buf_adds(&b, RUN_EXTRA " FROM dmcp_runs WHERE id = $1");
	row_copy(run_get_sql, sizeof run_get_sql, buf_cstr(&b));

	/* A task: its row, its times and its response. */
	buf_reset(&b);
	(void)buf_adds(&b, "SELECT ");
	for (i = 0; i < RUN_NFIELDS; i++)
		(void)buf_addf(&b, "%s%s", i > 0 ? ", " : "", run_field_names[i]);
	(void)buf_adds(&b, RUN_EXTRA ", " ISO_TIME("created_at") ", " ISO_TIME("updated_at") ", "
	               "(extract(epoch FROM created_at) * 1000000)::bigint, (SELECT body FROM "
	               "dmcp_events e WHERE e.run_id = r.id AND e.kind = 'response' ORDER BY e.lsn "
	               "DESC LIMIT 1) FROM dmcp_runs r WHERE id = $1 AND principal = $2 AND task");
	row_copy(task_get_sql, sizeof task_get_sql, buf_cstr(&b));

	/* A page of tasks: the same columns, without journal and response. */
	buf_reset(&b);
	(void)buf_adds(&b, "SELECT ");
	for (i = 0; i < RUN_NFIELDS; i++)
		(void)buf_addf(&b, "%s%s", i > 0 ? ", " : "",
		               strcmp(run_field_names[i], "journal") == 0 ? "'[]'" : run_field_names[i]);
	(void)buf_adds(&b, RUN_EXTRA ", " ISO_TIME("created_at") ", " ISO_TIME("updated_at") ", "
	               "(extract(epoch FROM created_at) * 1000000)::bigint, NULL, id FROM dmcp_runs "
	               "WHERE principal = $1 AND task AND ((extract(epoch FROM created_at) * 1000000)"
	               "::bigint, id) > ($2::bigint, $3) ORDER BY created_at, id LIMIT $4::int");
	row_copy(task_list_sql, sizeof task_list_sql, buf_cstr(&b));

	/* Claim due runs: FOR UPDATE SKIP LOCKED, so that concurrent claimers split them; each
	 * becomes 'running' under a lease, no longer due (the change of status fences any other
	 * writer: its compare-and-set expects 'waiting'), and comes back with the due time it had
	 * (the database's clock said it passed). */
	buf_reset(&b);
	(void)buf_addf(&b, "WITH c AS (SELECT id, due_at FROM dmcp_runs WHERE due_at <= now() AND "
	               "status = 'waiting' AND ($1::text IS NULL OR id = $1) ORDER BY due_at LIMIT "
	               "$2::int FOR UPDATE SKIP LOCKED) UPDATE dmcp_runs r SET status = 'running', "
	               "due_at = NULL, lease_until = now() + make_interval(secs => %d) FROM c WHERE "
	               "r.id = c.id RETURNING ", scfg.lease_s);
	for (i = 0; i < RUN_NFIELDS; i++)
		(void)buf_addf(&b, "%sr.%s", i > 0 ? ", " : "", run_field_names[i]);
	(void)buf_adds(&b, ", false, (extract(epoch FROM c.due_at) * 1000)::bigint, false, "
	               "(extract(epoch FROM clock_timestamp() - r.created_at) * 1000)::bigint, r.id");
	row_copy(due_claim_sql, sizeof due_claim_sql, buf_cstr(&b));

	/* Insert: a run of a session takes a place in the session's count first (only while
	 * the session is live and below its limit, under the session row's lock); no place,
	 * no row, no events. An unfinished run with DMCP_MAX_RUNS_PER_PRINCIPAL set passes the
	 * principal's gate g before that (dmcp_principal_runs_below, sql/009_principal_runs.sql:
	 * an advisory lock on the principal, then a count in a snapshot of its own, so the limit
	 * is exact under concurrency, in this one statement). g runs once (a CTE referenced more
	 * than once is materialized) and first: the session's row is locked only after it, so
	 * two inserts of one principal never wait for each other in opposite orders. The second
	 * column says the gate refused (store_run_save tells the two limits apart by it). */
	buf_reset(&b);
	(void)buf_addf(&b, "WITH g AS (SELECT CASE WHEN $%d::int <= 0 OR $%d NOT IN " UNFINISHED
	               " THEN true ELSE dmcp_principal_runs_below($%d, $%d::int) END AS pass), "
	               "s AS (UPDATE dmcp_sessions SET live_runs = live_runs + 1 WHERE "
	               "id = $%d AND principal = $%d AND ended_at IS NULL AND live_runs < "
	               "$%d::int AND $%d IN " UNFINISHED " AND (SELECT pass FROM g) RETURNING id), "
	               "ok AS (SELECT 1 WHERE (SELECT pass FROM g) AND ($%d::text IS NULL OR $%d "
	               "NOT IN " UNFINISHED " OR EXISTS (SELECT 1 FROM s)) AND " TASKS_BELOW("$%d", "$%d")
	               "), r AS (INSERT INTO dmcp_runs (id", SP_MAX_PRINCIPAL, SP_status, SP_principal,
	               SP_MAX_PRINCIPAL, SP_session_id, SP_principal, SP_MAX_LIVE, SP_status,
	               SP_session_id, SP_status, SP_TASK_LIMIT, SP_principal, SP_TASK_LIMIT);
	for (i = 0; i < RUN_NFIELDS; i++)
		(void)buf_addf(&b, ", %s", run_field_names[i]);
	(void)buf_adds(&b, ", due_at, lease_until, updated_at) SELECT $1");
	for (i = 0; i < RUN_NFIELDS; i++)
		(void)buf_addf(&b, ", $%d", SP_ID + 1 + i);
	(void)buf_addf(&b, ", to_timestamp($%d::float8 / 1000), CASE WHEN $%d = 'running' THEN "
	               "now() + make_interval(secs => %d) END, " DURABILITY("$%d")
	               " FROM ok RETURNING id), e AS (" EVENTS_FROM("$%d", "$%d", "$%d") ") SELECT "
	               "count(*), NOT (SELECT pass FROM g) FROM r", SP_DUE, SP_status, scfg.lease_s,
	               SP_SYNC, SP_FIRST_LSN, SP_KINDS, SP_BODIES);
	row_copy(run_insert_sql, sizeof run_insert_sql, buf_cstr(&b));

	/* Update: a compare-and-set on (status, last_lsn); a run that ends here leaves its
	 * session's count. */
	buf_reset(&b);
	(void)buf_adds(&b, "WITH r AS (UPDATE dmcp_runs SET ");
	for (i = 0; i < RUN_NFIELDS; i++)
		if (run_field_updated[i])
			(void)buf_addf(&b, "%s = $%d, ", run_field_names[i], SP_ID + 1 + i);
	(void)buf_addf(&b, "updated_at = " DURABILITY("$%d") ", due_at = to_timestamp($%d::float8 "
	               "/ 1000), lease_until = CASE WHEN $%d = 'running' THEN now() + "
	               "make_interval(secs => %d) END WHERE id = $1 AND status = $%d AND last_lsn = "
	               "$%d::bigint AND steps = $%d::int AND " TASKS_BELOW("$%d", "$%d") " RETURNING "
	               "id, CASE WHEN $%d NOT IN " UNFINISHED " THEN session_id END AS session_id), "
	               LEAVE_COUNT ", e AS (" EVENTS_FROM("$%d", "$%d", "$%d") ") SELECT count(*) "
	               "FROM r", SP_SYNC, SP_DUE, SP_status, scfg.lease_s, SP_EXP_STATUS, SP_EXP_LSN,
	               SP_EXP_STEPS, SP_TASK_LIMIT, SP_principal, SP_TASK_LIMIT, SP_status,
	               SP_FIRST_LSN, SP_KINDS, SP_BODIES);
	row_copy(run_update_sql, sizeof run_update_sql, buf_cstr(&b));

	/* A takeover: renew the lease and count a step (the fence), if the lease passed. */
	buf_reset(&b);
	(void)buf_addf(&b, "UPDATE dmcp_runs SET lease_until = now() + make_interval(secs => %d), "
	               "steps = steps + 1 WHERE id = $1 AND status = 'running' AND last_lsn = "
	               "$2::bigint AND steps = $3::int AND lease_until < now() RETURNING id",
	               scfg.lease_s);
	row_copy(run_claim_sql, sizeof run_claim_sql, buf_cstr(&b));
	/* Renewal by the worker that steps the run: only while it is still at its step count. */
	buf_reset(&b);
	(void)buf_addf(&b, "UPDATE dmcp_runs r SET lease_until = now() + make_interval(secs => %d) "
	               "FROM unnest($1::text[], $2::int[]) AS u(id, steps) WHERE r.id = u.id AND "
	               "r.steps = u.steps AND r.status = 'running' RETURNING r.id", scfg.lease_s);
	row_copy(run_renew_sql, sizeof run_renew_sql, buf_cstr(&b));
	stmts[S_RUN_GET].sql = run_get_sql;
	if (b.fail != DMCP_OK)
		log_msg(LOG_ERROR, "a generated statement is longer than %d bytes", STORE_MAX_SQL);
	buf_free(&b);
}

struct store {
	PGconn *conn;        /* one connection, owned; NULL before the first attempt */
	char *conninfo;      /* owned: what to connect to */
	int check;           /* store_ready is due before the next statement (store_lazy) */
	int prepared;        /* statements prepared (or, pooled, the session set up) */
	int async;           /* commits outside store_begin do not wait for the disk */
	int broken;          /* a pipeline went wrong: reset the connection at the next
	                        store_ready */
	int ever;            /* a connection attempt succeeded once */
	int down;            /* the last attempt failed (logged once until one succeeds) */
	int backoff_ms;      /* wait after the next failed attempt */
	long long next_try;  /* monotonic ms before which store_ready does not try again */
#ifdef DMCP_FAULTS
	int sent_point;      /* 1 + the fault point of the next pipeline once sent (0: none) */
#endif
};

/* The fault build's point between sending a pipeline and reading its answers (see fault.h):
 * FAULT_SENT names it for the connection's next pipeline, which takes it (FAULT_SENT_TAKE)
 * whether or not it goes as far as sending, and hits it once sent. Nothing in a normal
 * build. */
#ifdef DMCP_FAULTS
#define FAULT_SENT(st, id) ((st)->sent_point = FP_##id + 1)
#define FAULT_SENT_TAKE(st) \
	int sent_point = (st)->sent_point; \
	(st)->sent_point = 0
#define FAULT_SENT_HIT() \
	do { \
		if (sent_point != 0) \
			fault_hit((enum fault_point)(sent_point - 1)); \
	} while (0)
#else
#define FAULT_SENT(st, id) ((void)0)
#define FAULT_SENT_TAKE(st) ((void)0)
#define FAULT_SENT_HIT() ((void)0)
#endif

/* Parameter types of each statement (0: let PostgreSQL infer; text for a parameter the
 * statement does not mention), filled in with the generated statements. */
static Oid stmt_types[S_COUNT][SP_COUNT];


static void log_pg(struct store *st, const char *what, const PGresult *res)
{
	const char *msg = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(st->conn);
	char line[400];
	size_t n = strcspn(msg, "\n");

	metrics_db_error();
	log_msg(LOG_ERROR, "database: %s: %s", what, log_escape(line, sizeof line, msg, n));
}

static dmcp_rc run_cmd(struct store *st, const char *sql);
static dmcp_rc array_literal(struct buf *b, int n, const char *const *items);

/* 1 when sql mentions parameter $n. */
static int mentions(const char *sql, int n)
{
	char tok[8];
	const char *p = sql;
	size_t len;

	snprintf(tok, sizeof tok, "$%d", n);
	len = strlen(tok);
	while ((p = strstr(p, tok)) != NULL) {
		p += len;
		if (*p < '0' || *p > '9')
			return 1;
	}
	return 0;
}

/* OID of PostgreSQL's text type: the type of a parameter a statement does not mention (a
 * generated statement may skip some; PostgreSQL cannot infer the type of those). */
#define STORE_TEXTOID 25

static pthread_once_t built = PTHREAD_ONCE_INIT;

/* Build the generated statements and every statement's parameter types (once). */
static void build_all(void)
{
	int i, k;

	build_run_sql();
	for (i = 0; i < S_COUNT; i++)
		for (k = 0; k < stmts[i].nparams && k < SP_COUNT; k++)
			stmt_types[i][k] = mentions(stmts[i].sql, k + 1) ? 0 : STORE_TEXTOID;
}

/* The session's settings: timeouts (a statement or a lock wait can never hang a thread), and
 * synchronous_commit off for an async connection. None through a pooler in transaction
 * mode, where a session setting would land on whichever server connection ran it: there
 * the timeouts belong on the role (ALTER ROLE ... SET statement_timeout ...). */
static dmcp_rc session_setup(struct store *st)
{
	char sql[200];

	if (scfg.pooled)
		return DMCP_OK;
	snprintf(sql, sizeof sql, "SET statement_timeout = %d; SET lock_timeout = %d; SET "
	         "idle_in_transaction_session_timeout = %d%s", scfg.statement_timeout_ms,
	         scfg.lock_timeout_ms, scfg.idle_tx_timeout_ms,
	         st->async ? "; SET synchronous_commit TO off" : "");
	return run_cmd(st, sql);
}

static dmcp_rc prepare_all(struct store *st)
{
	char name[16];
	int i;

	pthread_once(&built, build_all);
	if (session_setup(st) != DMCP_OK)
		return DMCP_E_DB;
	for (i = 0; i < S_COUNT && !scfg.pooled; i++) {
		PGresult *res;
		snprintf(name, sizeof name, "s%d", i);
		res = PQprepare(st->conn, name, stmts[i].sql, stmts[i].nparams, stmt_types[i]);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_pg(st, "prepare", res);
			PQclear(res);
			return DMCP_E_DB;
		}
		PQclear(res);
	}
	st->prepared = 1;
	return DMCP_OK;
}

/* Run a command with no result rows (BEGIN, LISTEN, ...). */
static dmcp_rc run_cmd(struct store *st, const char *sql)
{
	PGresult *res = PQexec(st->conn, sql);
	dmcp_rc rc = DMCP_OK;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_pg(st, sql, res);
		rc = DMCP_E_DB;
	}
	PQclear(res);
	return rc;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connect st->conn (a new connection). The defaults come first, so that the connection string
 * overrides them: a bounded connect (connect_timeout), and TCP keepalives and a user timeout
 * so that a peer that vanished (a network partition, a host that died) breaks the connection
 * within about a minute instead of hanging a thread for the kernel's two hours. */
static dmcp_rc connect_now(struct store *st, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "tcp_user_timeout", "dbname", "fallback_application_name", NULL};
	const char *vals[] = {"5", "1", "30", "10", "3", "60000", st->conninfo, "dmcp", NULL};

	if (st->conn != NULL)
		PQfinish(st->conn);
	st->conn = PQconnectdbParams(keys, vals, 1);
	st->prepared = 0;
	st->broken = 0;
	if (st->conn == NULL || PQstatus(st->conn) != CONNECTION_OK) {
		const char *m = st->conn != NULL ? PQerrorMessage(st->conn) : "out of memory";
		snprintf(err, errlen, "cannot connect to the database: %.*s", (int)strcspn(m, "\n"),
		         m);
		metrics_db_error();
		return DMCP_E_DB;
	}
	st->ever = 1;
	return DMCP_OK;
}

dmcp_rc store_open_lazy(const char *conninfo, struct store **out)
{
	struct store *st = calloc(1, sizeof *st);

	*out = NULL;
	if (st == NULL)
		return DMCP_E_NOMEM;
	st->conninfo = strdup(conninfo != NULL ? conninfo : "");
	if (st->conninfo == NULL) {
		free(st);
		return DMCP_E_NOMEM;
	}
	st->backoff_ms = STORE_RETRY_MIN_MS;
	*out = st;
	return DMCP_OK;
}

dmcp_rc store_open(const char *conninfo, struct store **out, char *err, size_t errlen)
{
	struct store *st = NULL;
	dmcp_rc rc = store_open_lazy(conninfo, &st);

	*out = NULL;
	if (rc != DMCP_OK) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	rc = connect_now(st, err, errlen);
	if (rc != DMCP_OK) {
		store_close(st);
		return rc;
	}
	*out = st;
	return DMCP_OK;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->conn != NULL)
		PQfinish(st->conn);
	free(st->conninfo);
	free(st);
}

int store_ever_connected(const struct store *st)
{
	return st->ever;
}

/* A (re)connection for store_ready, unless the last attempt failed less than the backoff
 * ago: then DMCP_E_DB at once. One log line when the database goes away, one when it is back. */
static dmcp_rc reconnect(struct store *st)
{
	char err[300];
	long long now = mono_ms();

	if (now < st->next_try)
		return DMCP_E_DB;
	if (connect_now(st, err, sizeof err) != DMCP_OK) {
		if (!st->down)
			log_msg(LOG_WARN, "%s; answering 503 and retrying", err);
		st->down = 1;
		st->next_try = now + st->backoff_ms;
		st->backoff_ms = st->backoff_ms * 2 > STORE_RETRY_MAX_MS ? STORE_RETRY_MAX_MS
		                                                         : st->backoff_ms * 2;
		return DMCP_E_DB;
	}
	if (st->down)
		log_msg(LOG_INFO, "database connection back");
	st->down = 0;
	st->backoff_ms = STORE_RETRY_MIN_MS;
	st->next_try = 0;
	return DMCP_OK;
}

dmcp_rc store_ready(struct store *st)
{
	st->check = 0;
	/* Read whatever the server sent while the connection was idle: a server that went away
	 * (restart, idle timeout) shows up now, and the connection is reset before this request
	 * instead of failing it. Worker connections never LISTEN, so nothing else arrives. */
	if (st->conn != NULL && !st->broken && PQstatus(st->conn) == CONNECTION_OK &&
	    PQconsumeInput(st->conn) == 0)
		st->broken = 1;
	if (st->conn == NULL || st->broken || PQstatus(st->conn) != CONNECTION_OK) {
		if (st->conn != NULL && !st->down)
			log_msg(LOG_WARN, "database connection lost; reconnecting");
		if (reconnect(st) != DMCP_OK)
			return DMCP_E_DB;
	}
	if (PQtransactionStatus(st->conn) != PQTRANS_IDLE)
		store_rollback(st);
	if (!st->prepared && prepare_all(st) != DMCP_OK) {
		st->broken = 1; /* a statement timed out or the server went away: start afresh */
		return DMCP_E_DB;
	}
	return DMCP_OK;
}

void store_lazy(struct store *st)
{
	st->check = 1;
}

/* The readiness store_lazy postponed, now that a statement is about to go out. */
static dmcp_rc due(struct store *st)
{
	if (!st->check)
		return st->conn != NULL ? DMCP_OK : DMCP_E_DB;
	st->check = 0;
	return store_ready(st);
}

/* Execute prepared statement s; *res receives the result (clear it) when rows come back. */
static dmcp_rc exec_stmt(struct store *st, enum stmt s, const char *const *params,
                         PGresult **res_out)
{
	char name[16];
	PGresult *res;
	ExecStatusType es;

	if (res_out != NULL)
		*res_out = NULL;
	if (due(st) != DMCP_OK)
		return DMCP_E_DB;
	snprintf(name, sizeof name, "s%d", (int)s);
	if (scfg.pooled)
		res = PQexecParams(st->conn, stmts[s].sql, stmts[s].nparams, stmt_types[s], params,
		                   NULL, NULL, 0);
	else
		res = PQexecPrepared(st->conn, name, stmts[s].nparams, params, NULL, NULL, 0);
	es = PQresultStatus(res);
	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
		log_pg(st, name, res);
		PQclear(res);
		return DMCP_E_DB;
	}
	if (res_out != NULL)
		*res_out = res;
	else
		PQclear(res);
	return DMCP_OK;
}

/* Through a pooler in transaction mode, statements that are transactions of their own go one
 * at a time: PgBouncer before 1.21 may hand each transaction to another server connection,
 * and must see one finish before the next begins. The results as exec_pipeline's. */
static dmcp_rc exec_each(struct store *st, int n, const enum stmt *ids,
                         const char *const *const *params, PGresult **res)
{
	dmcp_rc rc = DMCP_OK;
	int i;

	for (i = 0; i < n; i++) {
		PGresult *r = NULL;
		if (exec_stmt(st, ids[i], params[i], &r) != DMCP_OK) {
			/* exec_stmt cleared the failed result: keep a status the callers can read */
			r = PQmakeEmptyPGresult(st->conn, PGRES_FATAL_ERROR);
			rc = DMCP_E_DB;
		}
		res[i] = r;
	}
	return rc;
}

/* Send prepared statements ids[0..n) with their params in one round trip (libpq pipeline
 * mode) and collect their results into res[0..n) (the caller clears them). Outside BEGIN,
 * the statements up to a sync run in one implicit transaction: with sync_each, each
 * statement is its own transaction (a failure of one does not undo the others), else they
 * share one. DMCP_E_DB when any of them failed (within a transaction, the server skips the
 * rest of it). */
static dmcp_rc exec_pipeline(struct store *st, int n, const enum stmt *ids,
                             const char *const *const *params, PGresult **res, int sync_each)
{
	char name[16];
	PGresult *r;
	dmcp_rc rc = DMCP_OK;
	int i;
	FAULT_SENT_TAKE(st);

	for (i = 0; i < n; i++)
		res[i] = NULL;
	if (scfg.pooled && sync_each)
		return exec_each(st, n, ids, params, res);
	if (due(st) != DMCP_OK || PQenterPipelineMode(st->conn) != 1)
		return DMCP_E_DB;
	for (i = 0; i < n && rc == DMCP_OK; i++) {
		int sent;
		snprintf(name, sizeof name, "s%d", (int)ids[i]);
		if (scfg.pooled)
			sent = PQsendQueryParams(st->conn, stmts[ids[i]].sql, stmts[ids[i]].nparams,
			                         stmt_types[ids[i]], params[i], NULL, NULL, 0);
		else
			sent = PQsendQueryPrepared(st->conn, name, stmts[ids[i]].nparams, params[i],
			                           NULL, NULL, 0);
		if (sent != 1 || ((sync_each || i == n - 1) && PQpipelineSync(st->conn) != 1))
			rc = DMCP_E_DB;
	}
	if (rc != DMCP_OK) {
		log_pg(st, "pipeline", NULL);
		st->broken = 1;
		return DMCP_E_DB;
	}
	FAULT_SENT_HIT(); /* sent (PQpipelineSync flushed it), no answer read yet */
	for (i = 0; i < n; i++) {
		ExecStatusType es;
		res[i] = PQgetResult(st->conn);
		es = PQresultStatus(res[i]);
		if (res[i] == NULL || (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK)) {
			if (es != PGRES_PIPELINE_ABORTED)
				log_pg(st, "pipeline", res[i]);
			rc = DMCP_E_DB;
		}
		while (res[i] != NULL && (r = PQgetResult(st->conn)) != NULL)
			PQclear(r); /* NULL ends each statement's results */
		if (sync_each || i == n - 1) {
			r = PQgetResult(st->conn);
			if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
				rc = DMCP_E_DB;
			PQclear(r);
		}
	}
	if (PQexitPipelineMode(st->conn) != 1) {
		log_pg(st, "pipeline exit", NULL);
		st->broken = 1;
		rc = DMCP_E_DB;
	}
	return rc;
}

static void clear_all(PGresult **res, int n)
{
	int i;

	for (i = 0; i < n; i++)
		PQclear(res[i]);
}

dmcp_rc store_begin(struct store *st)
{
	/* One round trip either way; with async connections, the transactions that hold
	 * promises still wait for the disk at COMMIT. */
	if (due(st) != DMCP_OK)
		return DMCP_E_DB;
	return run_cmd(st, st->async ? "BEGIN; SET LOCAL synchronous_commit TO on" : "BEGIN");
}

void store_set_async(struct store *st, int on)
{
	if (st->async != on)
		st->prepared = 0; /* store_ready sets the connection up again */
	st->async = on;
}

dmcp_rc store_commit(struct store *st)
{
	PGresult *res = PQexec(st->conn, "COMMIT");
	dmcp_rc rc = DMCP_OK;

	/* COMMIT of a transaction that already failed answers "ROLLBACK" with an OK status. */
	if (PQresultStatus(res) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		log_pg(st, "COMMIT", res);
		rc = DMCP_E_DB;
	}
	PQclear(res);
	return rc;
}

void store_rollback(struct store *st)
{
	if (PQtransactionStatus(st->conn) != PQTRANS_IDLE)
		(void)run_cmd(st, "ROLLBACK");
}

/* ---- migrations ------------------------------------------------------------------------ */

static int migration_applied(struct store *st, int version, dmcp_rc *rc)
{
	char v[16];
	const char *p[1] = {v};
	PGresult *res;
	int applied;

	snprintf(v, sizeof v, "%d", version);
	res = PQexecParams(st->conn, "SELECT 1 FROM dmcp_migrations WHERE version = $1::int", 1,
	                   NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_pg(st, "migrations", res);
		*rc = DMCP_E_DB;
		PQclear(res);
		return 0;
	}
	applied = PQntuples(res) > 0;
	PQclear(res);
	return applied;
}

static dmcp_rc apply_one(struct store *st, const struct migration *m, char *err, size_t errlen)
{
	char v[16];
	const char *p[2] = {v, m->name};
	PGresult *res;
	dmcp_rc rc = DMCP_OK;

	res = PQexec(st->conn, m->sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *msg = PQresultErrorMessage(res);
		snprintf(err, errlen, "migration %s failed: %.*s", m->name, (int)strcspn(msg, "\n"),
		         msg);
		rc = DMCP_E_DB;
	}
	PQclear(res);
	if (rc != DMCP_OK)
		return rc;
	snprintf(v, sizeof v, "%d", m->version);
	res = PQexecParams(st->conn, "INSERT INTO dmcp_migrations (version, name) VALUES "
	                   "($1::int, $2)", 2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		snprintf(err, errlen, "cannot record migration %s", m->name);
		rc = DMCP_E_DB;
	}
	PQclear(res);
	return rc;
}

dmcp_rc store_migrate(struct store *st, void (*report)(const char *name, int applied),
                      char *err, size_t errlen)
{
	size_t i;
	dmcp_rc rc = DMCP_OK;

	if (run_cmd(st, "BEGIN") != DMCP_OK ||
	    run_cmd(st, "SELECT pg_advisory_xact_lock(7368301)") != DMCP_OK ||
	    run_cmd(st, "CREATE TABLE IF NOT EXISTS dmcp_migrations (version integer PRIMARY KEY, "
	                "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())") !=
	        DMCP_OK) {
		snprintf(err, errlen, "cannot prepare the migrations table");
		store_rollback(st);
		return DMCP_E_DB;
	}
	for (i = 0; i < dmcp_migrations_count && rc == DMCP_OK; i++) {
		const struct migration *m = &dmcp_migrations[i];
		int done = migration_applied(st, m->version, &rc);
		if (rc != DMCP_OK)
			break;
		if (!done)
			rc = apply_one(st, m, err, errlen);
		if (rc == DMCP_OK && report != NULL)
			report(m->name, !done);
	}
	if (rc != DMCP_OK) {
		store_rollback(st);
		return rc;
	}
	if (run_cmd(st, "COMMIT") != DMCP_OK) {
		snprintf(err, errlen, "cannot commit the migrations");
		return DMCP_E_DB;
	}
	return DMCP_OK;
}

/* ---- sessions -------------------------------------------------------------------------- */

/* "s:<id>" into out[cap]: the payload that tells other processes the session changed. */
static const char *session_payload(char *out, size_t cap, const char *id)
{
	snprintf(out, cap, "s:%s", id);
	return out;
}

/* With a limit, three statements in one transaction and one round trip: a transaction-scoped
 * advisory lock on the principal, then an insert that counts the principal's live sessions in
 * its own snapshot, taken after the lock was granted; so every creator of the same principal
 * sees the sessions of the ones before it, and the limit is exact under concurrency. It is
 * tempting to do it in one statement with a counter row per principal (as the sessions count
 * their runs), but every initialize of a shared principal ("anonymous" by default) would then
 * update one hot row, limit or not (measured: 20 to 40% fewer sessions per second); this costs
 * nothing without a limit, and a count bounded by the limit with one. */
dmcp_rc store_session_create(struct store *st, const struct session_row *s,
                             const char *client_info, int max_sessions)
{
	static const enum stmt ids[] = {S_BEGIN, S_SESSION_LOCK, S_SESSION_INSERT_MAX, S_COMMIT};
	char max[16];
	const char *p[6] = {s->id, s->principal, s->protocol, client_info, s->client_caps, max};
	const char *lock[1] = {s->principal};
	const char *const *params[4] = {NULL, lock, p, NULL};
	PGresult *res[4];
	dmcp_rc rc;

	if (max_sessions <= 0)
		return exec_stmt(st, S_SESSION_INSERT, p, NULL);
	snprintf(max, sizeof max, "%d", max_sessions);
	rc = exec_pipeline(st, 4, ids, params, res, 0);
	if (rc == DMCP_OK && strcmp(PQcmdStatus(res[3]), "COMMIT") != 0)
		rc = DMCP_E_DB;
	if (rc == DMCP_OK && PQntuples(res[2]) != 1)
		rc = DMCP_E_LIMIT;
	clear_all(res, 4);
	store_rollback(st);
	return rc;
}

dmcp_rc store_session_get(struct store *st, const char *id, const char *principal,
                          struct session_row *out, int *stale)
{
	const char *p[1] = {id};
	PGresult *res = NULL;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	*stale = 0;
	rc = exec_stmt(st, S_SESSION_GET, p, &res);
	if (rc != DMCP_OK)
		return rc;
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), principal) != 0 ||
	    strcmp(PQgetvalue(res, 0, 4), "t") == 0) {
		rc = DMCP_E_NOT_FOUND;
		goto out;
	}
	row_copy(out->id, sizeof out->id, id);
	row_copy(out->principal, sizeof out->principal, principal);
	row_copy(out->protocol, sizeof out->protocol, PQgetvalue(res, 0, 1));
	out->client_caps = strdup(PQgetvalue(res, 0, 2));
	out->log_level = (int)strtol(PQgetvalue(res, 0, 3), NULL, 10);
	*stale = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
	if (out->client_caps == NULL)
		rc = DMCP_E_NOMEM;
out:
	PQclear(res);
	if (rc != DMCP_OK)
		row_session_clear(out);
	return rc;
}

dmcp_rc store_session_touch(struct store *st, const char *id)
{
	const char *p[1] = {id};

	return exec_stmt(st, S_SESSION_TOUCH, p, NULL);
}

dmcp_rc store_session_set_level(struct store *st, const char *id, int level)
{
	static const enum stmt ids[] = {S_SESSION_LEVEL, S_NOTIFY_NOW};
	char lv[8], payload[40];
	const char *p[2] = {id, lv};
	const char *q[1] = {session_payload(payload, sizeof payload, id)};
	const char *const *params[2] = {p, q};
	PGresult *res[2];
	dmcp_rc rc;

	snprintf(lv, sizeof lv, "%d", level);
	rc = exec_pipeline(st, 2, ids, params, res, 1);
	if (PQresultStatus(res[0]) == PGRES_COMMAND_OK)
		rc = DMCP_OK; /* set; the hint to other processes is optional */
	clear_all(res, 2);
	return rc;
}

dmcp_rc store_session_end(struct store *st, const char *id, const char *principal,
                          const char *why)
{
	static const enum stmt ids[] = {S_BEGIN, S_SESSION_END, S_SESSION_CANCEL_RUNS, S_COMMIT};
	const char *p[2] = {id, principal};
	const char *q[3] = {id, why, principal};
	const char *const *params[4] = {NULL, p, q, NULL};
	char payload[40];
	PGresult *res[4];
	dmcp_rc rc;
	int i;

	rc = exec_pipeline(st, 4, ids, params, res, 0);
	if (rc == DMCP_OK && PQntuples(res[1]) != 1)
		rc = DMCP_E_NOT_FOUND; /* committed nothing: the UPDATEs matched no row */
	if (rc == DMCP_OK && strcmp(PQcmdStatus(res[3]), "COMMIT") != 0)
		rc = DMCP_E_DB;
	if (rc == DMCP_OK) {
		for (i = 0; i < PQntuples(res[2]); i++)
			store_notify(st, PQgetvalue(res[2], i, 0));
		store_notify(st, session_payload(payload, sizeof payload, id));
	}
	clear_all(res, 4);
	store_rollback(st);
	return rc;
}

dmcp_rc store_subscribe(struct store *st, const char *session_id, const char *uri, int on,
                        int max)
{
	char lim[16];
	const char *p[3] = {session_id, uri, lim};
	PGresult *res = NULL;
	dmcp_rc rc;

	if (!on)
		return exec_stmt(st, S_SUB_OFF, p, NULL);
	snprintf(lim, sizeof lim, "%d", max);
	rc = exec_stmt(st, S_SUB_ON, p, &res);
	if (rc == DMCP_OK && strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		rc = DMCP_E_LIMIT;
	PQclear(res);
	return rc;
}

dmcp_rc store_subscribed(struct store *st, const char *session_id, const char *uri, int *yes)
{
	const char *p[2] = {session_id, uri};
	PGresult *res = NULL;
	dmcp_rc rc = exec_stmt(st, S_SUB_HAS, p, &res);

	*yes = rc == DMCP_OK && PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

/* ---- runs ------------------------------------------------------------------------------ */

static char *dup_or_null(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return strdup(PQgetvalue(res, row, col));
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The column of field name in a result of S_RUN_GET. */
#define COL(name) (SP_##name - 2)

/* A boolean column. */
static int is_true(const PGresult *res, int row, int col)
{
	return strcmp(PQgetvalue(res, row, col), "t") == 0;
}

/* Row i of a result whose columns are the run fields then RUN_EXTRA's. */
static dmcp_rc fill_run(const PGresult *res, int i, struct run_row *r)
{
	row_copy(r->session_id, sizeof r->session_id, PQgetvalue(res, i, COL(session_id)));
	row_copy(r->principal, sizeof r->principal, PQgetvalue(res, i, COL(principal)));
	row_copy(r->scopes, sizeof r->scopes, PQgetvalue(res, i, COL(scopes)));
	r->request_id = dup_or_null(res, i, COL(request_id));
	r->progress_token = dup_or_null(res, i, COL(progress_token));
	r->tool = dup_or_null(res, i, COL(tool));
	r->tool_version = (int)strtol(PQgetvalue(res, i, COL(tool_version)), NULL, 10);
	r->arguments = dup_or_null(res, i, COL(arguments));
	if (!row_status_parse(PQgetvalue(res, i, COL(status)), &r->status))
		return DMCP_E_INTERNAL;
	r->journal = dup_or_null(res, i, COL(journal));
	r->notes = (int)strtol(PQgetvalue(res, i, COL(notes)), NULL, 10);
	r->has_progress = !PQgetisnull(res, i, COL(last_progress));
	r->last_progress = r->has_progress ? strtod(PQgetvalue(res, i, COL(last_progress)), NULL) : 0;
	r->last_lsn = strtoll(PQgetvalue(res, i, COL(last_lsn)), NULL, 10);
	r->pending_id = dup_or_null(res, i, COL(pending_id));
	r->pending_method = dup_or_null(res, i, COL(pending_method));
	r->steps = (int)strtol(PQgetvalue(res, i, COL(steps)), NULL, 10);
	r->error = dup_or_null(res, i, COL(error));
	r->task = r->task_stored = is_true(res, i, COL(task));
	r->modern = is_true(res, i, COL(modern));
	r->client = dup_or_null(res, i, COL(client));
	r->ttl_ms = PQgetisnull(res, i, COL(ttl_ms)) ? 0 : strtoll(PQgetvalue(res, i, COL(ttl_ms)),
	                                                            NULL, 10);
	r->lease_expired = is_true(res, i, RUN_NFIELDS + XC_LEASE);
	r->due_ms = PQgetisnull(res, i, RUN_NFIELDS + XC_DUE) ? 0 :
	            strtoll(PQgetvalue(res, i, RUN_NFIELDS + XC_DUE), NULL, 10);
	r->expired = is_true(res, i, RUN_NFIELDS + XC_EXPIRED);
	r->started_ms = now_ms() - strtoll(PQgetvalue(res, i, RUN_NFIELDS + XC_AGE), NULL, 10);
	r->exists = 1;
	if (r->request_id == NULL || r->tool == NULL || r->arguments == NULL || r->journal == NULL ||
	    (r->client == NULL && !PQgetisnull(res, i, COL(client))))
		return DMCP_E_NOMEM;
	return DMCP_OK;
}

dmcp_rc store_run_get(struct store *st, const char *run_id, const char *session_id,
                      const char *principal, struct run_row *out)
{
	const char *p[1] = {run_id};
	PGresult *res = NULL;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	rc = exec_stmt(st, S_RUN_GET, p, &res);
	if (rc != DMCP_OK)
		return rc;
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, COL(session_id)), session_id) != 0 ||
	    strcmp(PQgetvalue(res, 0, COL(principal)), principal) != 0) {
		rc = DMCP_E_NOT_FOUND;
	} else {
		row_copy(out->id, sizeof out->id, run_id);
		rc = fill_run(res, 0, out);
		if (rc != DMCP_OK)
			row_run_clear(out);
	}
	PQclear(res);
	return rc;
}

dmcp_rc store_run_claim(struct store *st, const char *run_id, int64_t last_lsn, int steps)
{
	char lsn[24], st_[16];
	const char *p[3] = {run_id, lsn, st_};
	PGresult *res = NULL;
	dmcp_rc rc;

	snprintf(lsn, sizeof lsn, "%lld", (long long)last_lsn);
	snprintf(st_, sizeof st_, "%d", steps);
	rc = exec_stmt(st, S_RUN_CLAIM, p, &res);
	if (rc == DMCP_OK && PQntuples(res) != 1)
		rc = DMCP_E_CONFLICT;
	PQclear(res);
	return rc;
}

dmcp_rc store_lease_renew(struct store *st, int n, const char *const *ids, const int *steps,
                          int *renewed)
{
	struct buf a, b;
	char num[16];
	const char *p[2];
	PGresult *res = NULL;
	dmcp_rc rc;
	int i;

	*renewed = 0;
	if (n <= 0)
		return DMCP_OK;
	buf_init(&a, STORE_MAX_EVENT_BYTES);
	buf_init(&b, STORE_MAX_EVENT_BYTES);
	rc = array_literal(&a, n, ids);
	(void)buf_add(&b, "{", 1);
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof num, "%s%d", i > 0 ? "," : "", steps[i]);
		(void)buf_adds(&b, num);
	}
	(void)buf_add(&b, "}", 1);
	if (rc == DMCP_OK && b.fail == DMCP_OK) {
		p[0] = buf_cstr(&a);
		p[1] = buf_cstr(&b);
		rc = exec_stmt(st, S_LEASE_RENEW, p, &res);
		if (rc == DMCP_OK)
			*renewed = PQntuples(res);
		PQclear(res);
	} else if (rc == DMCP_OK) {
		rc = b.fail;
	}
	buf_free(&a);
	buf_free(&b);
	return rc;
}

dmcp_rc store_run_cancel(struct store *st, const char *session_id, const char *principal,
                         const char *request_id, const char *why, struct run_end *ended)
{
	const char *p[4] = {session_id, principal, request_id, why};
	PGresult *res = NULL;
	dmcp_rc rc;
	int i;

	rc = exec_stmt(st, S_RUN_CANCEL, p, &res);
	if (rc == DMCP_OK && PQntuples(res) == 0)
		rc = DMCP_E_NOT_FOUND;
	if (rc == DMCP_OK && ended != NULL) {
		row_copy(ended->id, sizeof ended->id, PQgetvalue(res, 0, 0));
		row_copy(ended->tool, sizeof ended->tool, PQgetvalue(res, 0, 1));
		ended->steps = (int)strtol(PQgetvalue(res, 0, 2), NULL, 10);
		ended->ms = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	}
	for (i = 0; rc == DMCP_OK && i < PQntuples(res); i++)
		store_notify(st, PQgetvalue(res, i, 0));
	PQclear(res);
	return rc;
}

/* A PostgreSQL array literal of n text elements: {"a","b\\"c"}. */
static dmcp_rc array_literal(struct buf *b, int n, const char *const *items)
{
	int i;

	(void)buf_add(b, "{", 1);
	for (i = 0; i < n; i++) {
		const char *p = items[i];
		(void)buf_add(b, i > 0 ? ",\"" : "\"", i > 0 ? 2 : 1);
		while (*p != '\0') {
			size_t plain = strcspn(p, "\"\\");
			(void)buf_add(b, p, plain);
			p += plain;
			if (*p != '\0') {
				(void)buf_add(b, "\\", 1);
				(void)buf_add(b, p, 1);
				p++;
			}
		}
		(void)buf_add(b, "\"", 1);
	}
	(void)buf_add(b, "}", 1);
	return b->fail;
}

/* Text of the numbers a save sends (the run's own strings are used as they are). */
struct save_text {
	char ver[16], notes[16], lsn[24], steps[16], prog[40], first[24], exp_lsn[24];
	char exp_steps[16], max[16], max_principal[16], ttl[24], due[24];
};

/* 1 when this save makes r a task (the principal's limit of tasks applies). */
static int makes_task(const struct run_row *r)
{
	return r->task && !r->task_stored;
}

/* The parameters of a save, by save_param number (p[k - 1] is $k). */
static void save_params(const struct run_row *r, const struct run_expect *expect, int max_live,
                        int max_principal, int64_t first_lsn, const char *kinds, const char *bodies,
                        const char *sync, struct save_text *t, const char *p[SP_COUNT])
{
	snprintf(t->ver, sizeof t->ver, "%d", r->tool_version);
	snprintf(t->notes, sizeof t->notes, "%d", r->notes);
	snprintf(t->lsn, sizeof t->lsn, "%lld", (long long)r->last_lsn);
	snprintf(t->steps, sizeof t->steps, "%d", r->steps);
	snprintf(t->first, sizeof t->first, "%lld", (long long)first_lsn);
	snprintf(t->prog, sizeof t->prog, "%.17g", r->last_progress);
	snprintf(t->exp_lsn, sizeof t->exp_lsn, "%lld", expect ? (long long)expect->last_lsn : 0LL);
	snprintf(t->exp_steps, sizeof t->exp_steps, "%d", expect ? expect->steps : 0);
	snprintf(t->max, sizeof t->max, "%d", max_live);
	snprintf(t->max_principal, sizeof t->max_principal, "%d", max_principal);
	snprintf(t->ttl, sizeof t->ttl, "%lld", (long long)r->ttl_ms);
	snprintf(t->due, sizeof t->due, "%lld", (long long)r->due_ms);
	p[SP_ID - 1] = r->id;
	p[SP_session_id - 1] = r->session_id[0] != '\0' ? r->session_id : NULL;
	p[SP_principal - 1] = r->principal;
	p[SP_scopes - 1] = r->scopes;
	p[SP_request_id - 1] = r->request_id;
	p[SP_progress_token - 1] = r->progress_token;
	p[SP_tool - 1] = r->tool;
	p[SP_tool_version - 1] = t->ver;
	p[SP_arguments - 1] = r->arguments;
	p[SP_status - 1] = row_status_name(r->status);
	p[SP_journal - 1] = r->journal;
	p[SP_notes - 1] = t->notes;
	p[SP_last_progress - 1] = r->has_progress ? t->prog : NULL;
	p[SP_last_lsn - 1] = t->lsn;
	p[SP_pending_id - 1] = r->pending_id;
	p[SP_pending_method - 1] = r->pending_method;
	p[SP_steps - 1] = t->steps;
	p[SP_error - 1] = r->error;
	p[SP_task - 1] = r->task ? "t" : "f";
	p[SP_modern - 1] = r->modern ? "t" : "f";
	p[SP_client - 1] = r->client;
	p[SP_ttl_ms - 1] = r->ttl_ms > 0 ? t->ttl : NULL;
	p[SP_FIRST_LSN - 1] = t->first;
	p[SP_KINDS - 1] = kinds;
	p[SP_BODIES - 1] = bodies;
	p[SP_SYNC - 1] = sync;
	p[SP_DUE - 1] = r->due_ms > 0 ? t->due : NULL;
	p[SP_TASK_LIMIT - 1] = makes_task(r) ? t->max : NULL;
	p[SP_EXP_STATUS - 1] = expect ? row_status_name(expect->status) : NULL;
	p[SP_EXP_LSN - 1] = t->exp_lsn;
	p[SP_EXP_STEPS - 1] = t->exp_steps;
	p[SP_MAX_LIVE - 1] = t->max;
	p[SP_MAX_PRINCIPAL - 1] = t->max_principal;
}

/* An insert's answer (one row: how many runs it wrote, whether the principal's gate refused
 * it): DMCP_OK when it wrote the run; DMCP_E_LIMIT with r->over_principal set when
 * DMCP_MAX_RUNS_PER_PRINCIPAL refused it; else DMCP_E_INTERNAL (insert_refused says why). */
static dmcp_rc insert_result(const PGresult *res, struct run_row *r)
{
	if (strcmp(PQgetvalue(res, 0, 0), "1") == 0)
		return DMCP_OK;
	if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
		r->over_principal = 1;
		return DMCP_E_LIMIT;
	}
	return DMCP_E_INTERNAL;
}

/* After a save that made a task and wrote nothing: DMCP_E_LIMIT when the principal holds its
 * limit of unfinished tasks, else DMCP_E_CONFLICT (an update lost its compare-and-set). */
static dmcp_rc task_full(struct store *st, const struct run_row *r, int max_tasks)
{
	char max[16];
	const char *p[2] = {r->principal, max};
	PGresult *res = NULL;
	dmcp_rc rc;

	snprintf(max, sizeof max, "%d", max_tasks);
	rc = exec_stmt(st, S_TASK_FULL, p, &res);
	if (rc == DMCP_OK)
		rc = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? DMCP_E_LIMIT
		                                                                    : DMCP_E_CONFLICT;
	PQclear(res);
	return rc;
}

/* After an insert that wrote nothing: why (the session ended, or is at its limit; or the
 * principal is at its limit of tasks). */
static dmcp_rc insert_refused(struct store *st, const struct run_row *r, int max_live)
{
	const char *p[2] = {r->session_id, r->principal};
	PGresult *res = NULL;
	dmcp_rc rc;

	if (makes_task(r))
		return task_full(st, r, max_live);
	rc = exec_stmt(st, S_RUN_WHY, p, &res);
	if (rc == DMCP_OK)
		rc = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? DMCP_E_LIMIT
		                                                                    : DMCP_E_NOT_FOUND;
	PQclear(res);
	return rc;
}

/* The save statement with its notifications, in one round trip. A save that makes a task
 * runs in a transaction behind the principal's lock (S_TASK_LOCK); the notifications follow
 * the commit, each in its own transaction. *at: the index of the save's result in res. */
static dmcp_rc save_pipeline(struct store *st, const struct run_row *r, int update, int notify,
                             const char *const *p, PGresult **res, int *at)
{
	const char *np[1] = {r->id}, *dp[1] = {STORE_DUE_PAYLOAD}, *lp[1] = {r->principal};
	const char *const *params[6];
	enum stmt ids[6];
	int n = 0, locked = makes_task(r);
	dmcp_rc rc;

	if (locked) {
		ids[n] = S_BEGIN, params[n++] = NULL;
		ids[n] = S_TASK_LOCK, params[n++] = lp;
	}
	*at = n;
	ids[n] = update ? S_RUN_UPDATE : S_RUN_INSERT, params[n++] = p;
	if (locked)
		ids[n] = S_COMMIT, params[n++] = NULL;
	if (notify)
		ids[n] = S_NOTIFY_NOW, params[n++] = np;
	if (r->due_ms > 0)
		ids[n] = S_NOTIFY_NOW, params[n++] = dp;
	/* Fault points: the save, its commit (its own, or the task lock's COMMIT) and its
	 * NOTIFYs are one round trip; before it, sent, answered. */
	FAULT_POINT(SAVE_BEFORE);
	FAULT_SENT(st, SAVE_SENT);
	rc = exec_pipeline(st, n, ids, params, res, !locked);
	FAULT_POINT(SAVE_AFTER);
	if (locked) {
		if (res[*at + 1] == NULL || strcmp(PQcmdStatus(res[*at + 1]), "COMMIT") != 0)
			rc = DMCP_E_DB;
		store_rollback(st); /* a failed transaction block stays open until then */
	}
	return rc;
}

/* The save statement's parameters with the events as array literals into ka and ba. */
static dmcp_rc save_arrays(struct buf *ka, struct buf *ba, int n, const enum event_kind *kinds,
                           const char *const *bodies)
{
	const char **knames = calloc((size_t)(n > 0 ? n : 1), sizeof *knames);
	dmcp_rc rc;
	int i;

	if (knames == NULL)
		return DMCP_E_NOMEM;
	for (i = 0; i < n; i++)
		knames[i] = row_kind_name(kinds[i]);
	rc = array_literal(ka, n, knames);
	if (rc == DMCP_OK)
		rc = array_literal(ba, n, bodies);
	free(knames);
	return rc;
}

/* store_run_save inside the transaction a tool's step opened: the save (behind the
 * principal's task lock when it makes a task), then COMMIT (and the NOTIFYs, each in its own
 * transaction) only when it saved; else ROLLBACK, and the function's writes go with it. Two
 * round trips: the COMMIT must not go out before the save's answer (a COMMIT pipelined after
 * a compare-and-set that matched nothing would commit the function's writes without the
 * run). */
static dmcp_rc save_in_tx(struct store *st, struct run_row *r, const struct run_expect *expect,
                          int max_live, int max_principal, int64_t first_lsn, int n,
                          const enum event_kind *kinds, const char *const *bodies, int notify)
{
	enum stmt ids[3], after[3];
	const char *p[SP_COUNT], *np[1] = {r->id}, *dp[1] = {STORE_DUE_PAYLOAD};
	const char *lp[1] = {r->principal};
	const char *const *params[3], *const *aparams[3];
	struct save_text t;
	struct buf ka, ba;
	PGresult *res[3] = {NULL, NULL, NULL};
	int k = 0, at, na = 0, locked = makes_task(r);
	dmcp_rc rc;

	buf_init(&ka, STORE_MAX_EVENT_BYTES);
	buf_init(&ba, STORE_MAX_EVENT_BYTES);
	rc = save_arrays(&ka, &ba, n, kinds, bodies);
	if (rc == DMCP_OK) {
		save_params(r, expect, max_live, max_principal, first_lsn, buf_cstr(&ka),
		            buf_cstr(&ba), "on", &t, p);
		if (locked)
			ids[k] = S_TASK_LOCK, params[k++] = lp;
		at = k;
		ids[k] = expect != NULL ? S_RUN_UPDATE : S_RUN_INSERT, params[k++] = p;
		FAULT_POINT(SAVE_BEFORE); /* the tool's writes done, uncommitted */
		FAULT_SENT(st, SAVE_SENT);
		rc = exec_pipeline(st, k, ids, params, res, 0);
		FAULT_POINT(SAVE_AFTER); /* saved, uncommitted */
		if (rc == DMCP_OK && expect == NULL)
			rc = insert_result(res[at], r);
		else if (rc == DMCP_OK && strcmp(PQgetvalue(res[at], 0, 0), "1") != 0)
			rc = DMCP_E_CONFLICT;
		clear_all(res, 3);
	}
	buf_free(&ka);
	buf_free(&ba);
	if (rc != DMCP_OK) {
		store_rollback(st);
		if (rc == DMCP_E_CONFLICT && locked)
			return task_full(st, r, max_live);
		return rc == DMCP_E_INTERNAL ? insert_refused(st, r, max_live) : rc;
	}
	after[na] = S_COMMIT, aparams[na++] = NULL;
	if (notify)
		after[na] = S_NOTIFY_NOW, aparams[na++] = np;
	if (r->due_ms > 0)
		after[na] = S_NOTIFY_NOW, aparams[na++] = dp;
	FAULT_POINT(COMMIT_BEFORE);
	FAULT_SENT(st, COMMIT_SENT);
	rc = exec_pipeline(st, na, after, aparams, res, 1);
	FAULT_POINT(COMMIT_AFTER);
	if (res[0] != NULL && PQresultStatus(res[0]) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res[0]), "COMMIT") == 0)
		rc = DMCP_OK; /* committed; a failed NOTIFY only delays followers */
	else
		rc = DMCP_E_DB;
	clear_all(res, 3);
	store_rollback(st);
	if (rc == DMCP_OK) {
		r->exists = 1;
		r->task_stored = r->task;
	}
	return rc;
}
dmcp_rc store_run_save(struct store *st, struct run_row *r, const struct run_expect *expect,
                       int max_live, int max_principal, int64_t first_lsn, int n,
                       const enum event_kind *kinds, const char *const *bodies, int durable,
                       int notify)
{
	const char *p[SP_COUNT];
	struct save_text t;
	struct buf ka, ba;
	PGresult *res[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
	dmcp_rc rc;
	int at = 0;

	if (PQtransactionStatus(st->conn) == PQTRANS_INTRANS)
		return save_in_tx(st, r, expect, max_live, max_principal, first_lsn, n, kinds, bodies,
		                  notify);
	buf_init(&ka, STORE_MAX_EVENT_BYTES);
	buf_init(&ba, STORE_MAX_EVENT_BYTES);
	rc = save_arrays(&ka, &ba, n, kinds, bodies);
	if (rc == DMCP_OK) {
		save_params(r, expect, max_live, max_principal, first_lsn, buf_cstr(&ka),
		            buf_cstr(&ba), durable || !st->async ? "on" : "off", &t, p);
		rc = save_pipeline(st, r, expect != NULL, notify, p, res, &at);
		if (res[at] != NULL && PQresultStatus(res[at]) == PGRES_TUPLES_OK &&
		    (rc == DMCP_OK || !makes_task(r))) {
			rc = DMCP_OK; /* saved; a failed NOTIFY only delays followers until they poll */
			if (expect == NULL)
				rc = insert_result(res[at], r);
			else if (strcmp(PQgetvalue(res[at], 0, 0), "1") != 0)
				rc = DMCP_E_CONFLICT;
		}
		if (expect != NULL && rc == DMCP_E_CONFLICT && makes_task(r))
			rc = task_full(st, r, max_live);
	}
	clear_all(res, 6);
	buf_free(&ka);
	buf_free(&ba);
	if (rc == DMCP_E_INTERNAL)
		rc = insert_refused(st, r, max_live);
	if (rc == DMCP_OK) {
		r->exists = 1;
		r->task_stored = r->task;
	}
	return rc;
}

/* ---- events ---------------------------------------------------------------------------- */

dmcp_rc store_events_after(struct store *st, const char *run_id, const char *session_id,
                           const char *principal, int64_t after_lsn, int max,
                           struct event_row *out, int *n, enum run_status *status,
                           int64_t *last_lsn, int *lease_expired)
{
	char after[24], lim[16];
	const char *p[5] = {run_id, session_id[0] != '\0' ? session_id : NULL, principal, after,
	                    lim};
	PGresult *res = NULL;
	dmcp_rc rc;
	int i, rows;

	*n = 0;
	snprintf(after, sizeof after, "%lld", (long long)after_lsn);
	snprintf(lim, sizeof lim, "%d", max);
	rc = exec_stmt(st, S_EVENTS_AFTER, p, &res);
	if (rc != DMCP_OK)
		return rc;
	rows = PQntuples(res);
	if (rows == 0 || !row_status_parse(PQgetvalue(res, 0, 0), status)) {
		PQclear(res);
		return DMCP_E_NOT_FOUND;
	}
	*last_lsn = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	*lease_expired = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	for (i = 0; i < rows && i < max; i++) {
		if (PQgetisnull(res, i, 3))
			break;
		out[*n].lsn = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		if (!row_kind_parse(PQgetvalue(res, i, 4), &out[*n].kind)) {
			rc = DMCP_E_INTERNAL;
			break;
		}
		out[*n].body = strdup(PQgetvalue(res, i, 5));
		if (out[*n].body == NULL) {
			rc = DMCP_E_NOMEM;
			break;
		}
		(*n)++;
	}
	PQclear(res);
	if (rc != DMCP_OK) {
		row_events_clear(out, *n);
		*n = 0;
	}
	return rc;
}

dmcp_rc store_secret(struct store *st, const char *name, const char *proposed, char *out,
                     size_t cap)
{
	const char *p[2] = {name, proposed};
	PGresult *res = NULL;
	dmcp_rc rc = exec_stmt(st, S_SECRET, p, &res);

	if (rc == DMCP_OK && PQntuples(res) != 1)
		rc = DMCP_E_DB;
	if (rc == DMCP_OK)
		row_copy(out, cap, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

/* ---- tokens ---------------------------------------------------------------------------- */

/* A token row from row i of a TOKEN_COLS result. */
static void fill_token(const PGresult *res, int i, struct token_row *t)
{
	memset(t, 0, sizeof *t);
	row_copy(t->id, sizeof t->id, PQgetvalue(res, i, 0));
	row_copy(t->hash, sizeof t->hash, PQgetvalue(res, i, 1));
	row_copy(t->principal, sizeof t->principal, PQgetvalue(res, i, 2));
	row_copy(t->scopes, sizeof t->scopes, PQgetvalue(res, i, 3));
	t->expires = strtoll(PQgetvalue(res, i, 4), NULL, 10);
	t->expired = strcmp(PQgetvalue(res, i, 5), "t") == 0;
	t->revoked = strcmp(PQgetvalue(res, i, 6), "t") == 0;
	row_copy(t->created_at, sizeof t->created_at, PQgetvalue(res, i, 7));
	row_copy(t->expires_at, sizeof t->expires_at, PQgetvalue(res, i, 8));
	row_copy(t->revoked_at, sizeof t->revoked_at, PQgetvalue(res, i, 9));
}

dmcp_rc store_token_find(struct store *st, const char *hash, struct token_row *out)
{
	const char *p[1] = {hash};
	PGresult *res = NULL;
	dmcp_rc rc = exec_stmt(st, S_TOKEN_FIND, p, &res);

	memset(out, 0, sizeof *out);
	if (rc == DMCP_OK && PQntuples(res) != 1)
		rc = DMCP_E_NOT_FOUND;
	if (rc == DMCP_OK)
		fill_token(res, 0, out);
	PQclear(res);
	return rc;
}

dmcp_rc store_token_insert(struct store *st, const struct token_row *t)
{
	char exp[24];
	const char *p[5] = {t->id, t->hash, t->principal, t->scopes, exp};

	snprintf(exp, sizeof exp, "%lld", (long long)t->expires);
	return exec_stmt(st, S_TOKEN_INSERT, p, NULL);
}

dmcp_rc store_token_revoke(struct store *st, const char *id, const char *hash,
                           char out_id[ROW_TOKEN_ID + 1])
{
	const char *p[2] = {id, hash};
	PGresult *res = NULL;
	dmcp_rc rc = exec_stmt(st, S_TOKEN_REVOKE, p, &res);

	if (rc == DMCP_OK && PQntuples(res) != 1)
		rc = DMCP_E_NOT_FOUND;
	if (rc == DMCP_OK)
		row_copy(out_id, ROW_TOKEN_ID + 1, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

dmcp_rc store_token_list(struct store *st, void (*each)(void *arg, const struct token_row *t),
                         void *arg)
{
	PGresult *res = NULL;
	struct token_row t;
	dmcp_rc rc = exec_stmt(st, S_TOKEN_LIST, NULL, &res);
	int i;

	for (i = 0; rc == DMCP_OK && i < PQntuples(res); i++) {
		fill_token(res, i, &t);
		each(arg, &t);
	}
	PQclear(res);
	return rc;
}

/* ---- wake-ups -------------------------------------------------------------------------- */

/* 1 when payload is one dmcp sends: a run id, or "s:", "l:", "r:", "t:" and printable text. */
static int payload_ok(const char *payload)
{
	size_t i, n = strnlen(payload, STORE_MAX_PAYLOAD + 1);

	if (rnd_id_ok(payload))
		return 1;
	if (n < 3 || n > STORE_MAX_PAYLOAD || payload[1] != ':' || strchr("slrt", payload[0]) == NULL)
		return 0;
	for (i = 2; i < n; i++)
		if ((unsigned char)payload[i] < 0x20 || payload[i] == 0x7f)
			return 0;
	return 1;
}

void store_notify(struct store *st, const char *payload)
{
	const char *p[1] = {payload};

	/* After the step's commit, in its own transaction: a NOTIFY inside the step would hold
	 * the global notify lock until the commit is flushed and serialize all commits. This
	 * one does not wait for the disk (a lost hint only delays a follower until its next
	 * poll): one round trip, no fsync. */
	if (!payload_ok(payload))
		return;
	if (exec_stmt(st, S_NOTIFY_NOW, p, NULL) != DMCP_OK)
		log_msg(LOG_WARN, "NOTIFY %.40s failed; followers will poll", payload);
}

dmcp_rc store_listen_all(struct store *st)
{
	return run_cmd(st, "LISTEN " STORE_CHANNEL);
}

int store_socket(struct store *st)
{
	return PQsocket(st->conn);
}

dmcp_rc store_take_notifies(struct store *st, void (*cb)(void *arg, const char *payload),
                            void *arg)
{
	PGnotify *n;

	if (PQconsumeInput(st->conn) == 0 || PQstatus(st->conn) != CONNECTION_OK) {
		log_pg(st, "listen", NULL);
		return DMCP_E_DB;
	}
	while ((n = PQnotifies(st->conn)) != NULL) {
		if (strcmp(n->relname, STORE_CHANNEL) == 0 && payload_ok(n->extra))
			cb(arg, n->extra);
		PQfreemem(n);
	}
	return DMCP_OK;
}

dmcp_rc store_ping(struct store *st)
{
	return run_cmd(st, "SELECT 1");
}

/* One batch of idle sessions ended, with their unfinished runs cancelled, in one
 * transaction; then the notifications. *n: how many sessions. */
static dmcp_rc sweep_end_batch(struct store *st, const char *ttl, const char *lim, long *n)
{
	static const enum stmt ends[] = {S_BEGIN, S_SWEEP_END};
	const char *p[2] = {ttl, lim}, *q[1];
	const char *const *params[2] = {NULL, p};
	char payload[40];
	struct buf ids;
	PGresult *res[2], *runs = NULL;
	const char **list = NULL;
	dmcp_rc rc;
	int i, k = 0;

	*n = 0;
	buf_init(&ids, STORE_MAX_EVENT_BYTES);
	rc = exec_pipeline(st, 2, ends, params, res, 0);
	if (rc == DMCP_OK) {
		k = PQntuples(res[1]);
		list = calloc((size_t)(k > 0 ? k : 1), sizeof *list);
		if (list == NULL)
			rc = DMCP_E_NOMEM;
		for (i = 0; rc == DMCP_OK && i < k; i++)
			list[i] = PQgetvalue(res[1], i, 0);
		if (rc == DMCP_OK)
			rc = array_literal(&ids, k, list);
	}
	if (rc == DMCP_OK && k > 0) {
		q[0] = buf_cstr(&ids);
		rc = exec_stmt(st, S_SWEEP_END_RUNS, q, &runs);
	}
	if (rc == DMCP_OK)
		rc = store_commit(st);
	store_rollback(st);
	if (rc == DMCP_OK) {
		*n = k;
		for (i = 0; i < k; i++)
			store_notify(st, session_payload(payload, sizeof payload, list[i]));
		for (i = 0; runs != NULL && i < PQntuples(runs); i++)
			store_notify(st, PQgetvalue(runs, i, 0));
	}
	PQclear(runs);
	free(list);
	clear_all(res, 2);
	buf_free(&ids);
	return rc;
}

/* Repeat the deleting statement s until a batch comes back short; *total counts the rows. */
static dmcp_rc sweep_delete(struct store *st, enum stmt s, const char *age, const char *lim,
                            int batch, long *total)
{
	const char *p[2] = {age, lim};
	PGresult *res = NULL;
	dmcp_rc rc;
	long n;

	do {
		rc = exec_stmt(st, s, p, &res);
		n = rc == DMCP_OK ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
		PQclear(res);
		res = NULL;
		*total += n;
	} while (rc == DMCP_OK && n >= batch);
	return rc;
}

dmcp_rc store_sweep(struct store *st, int ttl_s, int retention_s, int batch,
                    struct sweep_counts *out)
{
	char ttl[16], ret[16], lim[16];
	dmcp_rc rc;
	long n;

	memset(out, 0, sizeof *out);
	snprintf(ttl, sizeof ttl, "%d", ttl_s);
	snprintf(ret, sizeof ret, "%d", retention_s);
	snprintf(lim, sizeof lim, "%d", batch);
	do {
		rc = sweep_end_batch(st, ttl, lim, &n);
		out->ended += n;
	} while (rc == DMCP_OK && n >= batch);
	if (rc == DMCP_OK)
		rc = sweep_delete(st, S_SWEEP_DELETE, ttl, lim, batch, &out->deleted);
	if (rc == DMCP_OK)
		rc = sweep_delete(st, S_SWEEP_RUNS, ttl, lim, batch, &out->deleted);
	if (rc == DMCP_OK && retention_s > 0)
		rc = sweep_delete(st, S_SWEEP_TRIM, ret, lim, batch, &out->trimmed);
	return rc;
}

/* ---- the schema ------------------------------------------------------------------------ */

/* 1 when the sorted list has v. */
static int has_version(const int *list, int n, int v)
{
	int i;

	for (i = 0; i < n; i++)
		if (list[i] == v)
			return 1;
	return 0;
}

/* Versions of the "{1,2,3}" array text into out[cap]: how many (at most cap). */
static int parse_versions(const char *text, int *out, int cap)
{
	const char *p = text;
	int n = 0;

	while (*p != '\0' && n < cap) {
		char *end = NULL;
		long v;
		while (*p == '{' || *p == ',' || *p == '}')
			p++;
		if (*p == '\0')
			break;
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		out[n++] = (int)v;
		p = end;
	}
	return n;
}

/* Versions the program and the database know, compared (STORE_MAX_MIGRATIONS each). */
#define STORE_MAX_MIGRATIONS 256

dmcp_rc store_schema_check(struct store *st, char *err, size_t errlen)
{
	int db[STORE_MAX_MIGRATIONS], n, i, missing = 0, extra = 0, first_missing = 0,
	    first_extra = 0, newest = 0;
	PGresult *res = NULL;
	const char *state;
	dmcp_rc rc;

	/* Not a prepared statement: preparing the others needs the tables this checks for. */
	if ((st->conn == NULL || PQstatus(st->conn) != CONNECTION_OK) && reconnect(st) != DMCP_OK) {
		snprintf(err, errlen, "cannot connect to the database");
		return DMCP_E_DB;
	}
	res = PQexec(st->conn, stmts[S_SCHEMA].sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		rc = code != NULL && strcmp(code, "42P01") == 0 ? DMCP_E_VERSION : DMCP_E_DB;
		/* 42P01, undefined_table: no dmcp_migrations, nothing was ever migrated. */
		snprintf(err, errlen, rc == DMCP_E_VERSION ? "the database has no dmcp tables (no "
		         "migration applied): run migrate" : "cannot read the database's migrations");
		PQclear(res);
		return rc;
	}
	n = parse_versions(PQgetvalue(res, 0, 0), db, STORE_MAX_MIGRATIONS);
	PQclear(res);
	for (i = 0; i < (int)dmcp_migrations_count; i++) {
		if (dmcp_migrations[i].version > newest)
			newest = dmcp_migrations[i].version;
		if (!has_version(db, n, dmcp_migrations[i].version) && missing++ == 0)
			first_missing = dmcp_migrations[i].version;
	}
	for (i = 0; i < n; i++) {
		int j, known = 0;
		for (j = 0; j < (int)dmcp_migrations_count; j++)
			known |= dmcp_migrations[j].version == db[i];
		if (!known && extra++ == 0)
			first_extra = db[i];
	}
	if (missing == 0 && extra == 0)
		return DMCP_OK;
	state = extra > 0 ? "ahead of" : "behind";
	if (extra > 0)
		snprintf(err, errlen, "the database's migrations are %s this program: it has %d "
		         "migration(s) the program does not know (first: %03d; the program knows up to "
		         "%03d); upgrade the program", state, extra, first_extra, newest);
	else
		snprintf(err, errlen, "the database's migrations are %s this program: %d not applied "
		         "(first: %03d, the program needs up to %03d); run migrate", state, missing,
		         first_missing, newest);
	return DMCP_E_VERSION;
}

dmcp_rc store_orphans(struct store *st, int max, struct orphan *out, int *n)
{
	char lim[16];
	const char *p[1] = {lim};
	PGresult *res = NULL;
	dmcp_rc rc;
	int i;

	*n = 0;
	snprintf(lim, sizeof lim, "%d", max);
	rc = exec_stmt(st, S_ORPHANS, p, &res);
	if (rc != DMCP_OK)
		return rc;
	for (i = 0; i < PQntuples(res) && i < max; i++) {
		row_copy(out[i].run_id, sizeof out[i].run_id, PQgetvalue(res, i, 0));
		row_copy(out[i].session_id, sizeof out[i].session_id, PQgetvalue(res, i, 1));
		row_copy(out[i].principal, sizeof out[i].principal, PQgetvalue(res, i, 2));
		row_copy(out[i].tool, sizeof out[i].tool, PQgetvalue(res, i, 3));
		(*n)++;
	}
	PQclear(res);
	return DMCP_OK;
}

/* ---- expiry, tasks and due runs --------------------------------------------------------- */

int store_run_expired(struct store *st, const char *run_id, const char *session_id,
                      const char *principal)
{
	const char *p[3] = {run_id, session_id[0] != '\0' ? session_id : NULL, principal};
	PGresult *res = NULL;
	int expired = 0;

	if (exec_stmt(st, S_RUN_EXPIRED, p, &res) == DMCP_OK)
		expired = PQntuples(res) == 1;
	PQclear(res);
	return expired;
}

/* Row i of a task read (S_TASK_GET, S_TASK_LIST): the run, then created, updated, created_us,
 * response (and, for the list, the id). */
static dmcp_rc fill_task(const PGresult *res, int i, struct task_row *t)
{
	int c = RUN_NFIELDS + XC_COUNT;
	dmcp_rc rc = fill_run(res, i, &t->run);

	row_copy(t->created, sizeof t->created, PQgetvalue(res, i, c));
	row_copy(t->updated, sizeof t->updated, PQgetvalue(res, i, c + 1));
	t->created_us = strtoll(PQgetvalue(res, i, c + 2), NULL, 10);
	t->response = dup_or_null(res, i, c + 3);
	if (rc == DMCP_OK && t->response == NULL && !PQgetisnull(res, i, c + 3))
		rc = DMCP_E_NOMEM;
	return rc;
}

dmcp_rc store_task_get(struct store *st, const char *run_id, const char *principal,
                       struct task_row *out)
{
	const char *p[2] = {run_id, principal};
	PGresult *res = NULL;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	rc = exec_stmt(st, S_TASK_GET, p, &res);
	if (rc != DMCP_OK)
		return rc;
	if (PQntuples(res) != 1) {
		rc = DMCP_E_NOT_FOUND;
	} else {
		row_copy(out->run.id, sizeof out->run.id, run_id);
		rc = fill_task(res, 0, out);
	}
	PQclear(res);
	if (rc != DMCP_OK)
		row_task_clear(out);
	return rc;
}

dmcp_rc store_task_list(struct store *st, const char *principal, int64_t after_us,
                        const char *after_id, int max, struct task_row *out, int *n)
{
	char us[24], lim[16];
	const char *p[4] = {principal, us, after_id, lim};
	PGresult *res = NULL;
	dmcp_rc rc;
	int i;

	*n = 0;
	snprintf(us, sizeof us, "%lld", (long long)after_us);
	snprintf(lim, sizeof lim, "%d", max);
	rc = exec_stmt(st, S_TASK_LIST, p, &res);
	if (rc != DMCP_OK)
		return rc;
	for (i = 0; i < PQntuples(res) && i < max && rc == DMCP_OK; i++) {
		memset(&out[i], 0, sizeof out[i]);
		row_copy(out[i].run.id, sizeof out[i].run.id,
		         PQgetvalue(res, i, RUN_NFIELDS + XC_COUNT + 4));
		rc = fill_task(res, i, &out[i]);
		(*n)++;
	}
	PQclear(res);
	if (rc != DMCP_OK) {
		for (i = 0; i < *n; i++)
			row_task_clear(&out[i]);
		*n = 0;
	}
	return rc;
}

dmcp_rc store_task_cancel(struct store *st, const char *run_id, const char *principal,
                          const char *why)
{
	const char *p[3] = {run_id, principal, why};
	PGresult *res = NULL;
	dmcp_rc rc;

	rc = exec_stmt(st, S_TASK_CANCEL, p, &res);
	if (rc == DMCP_OK) {
		const char *v = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "0";
		rc = strcmp(v, "1") == 0 ? DMCP_OK : strcmp(v, "2") == 0 ? DMCP_E_CONFLICT
		                                                        : DMCP_E_NOT_FOUND;
	}
	PQclear(res);
	if (rc == DMCP_OK)
		store_notify(st, run_id);
	return rc;
}

dmcp_rc store_due_claim(struct store *st, const char *run_id, int max, struct run_row *out,
                        int *n)
{
	char lim[16];
	const char *p[2] = {run_id, lim};
	PGresult *res = NULL;
	dmcp_rc rc;
	int i;

	*n = 0;
	snprintf(lim, sizeof lim, "%d", max);
	rc = exec_stmt(st, S_DUE_CLAIM, p, &res);
	if (rc != DMCP_OK)
		return rc;
	for (i = 0; i < PQntuples(res) && i < max; i++) {
		memset(&out[i], 0, sizeof out[i]);
		row_copy(out[i].id, sizeof out[i].id, PQgetvalue(res, i, RUN_NFIELDS + XC_COUNT));
		if (fill_run(res, i, &out[i]) != DMCP_OK)
			rc = DMCP_E_NOMEM; /* claimed anyway: left to the lease (an orphan) */
		(*n)++;
	}
	PQclear(res);
	return rc;
}

dmcp_rc store_due_next(struct store *st, int64_t *in_ms)
{
	PGresult *res = NULL;
	dmcp_rc rc;

	*in_ms = -1;
	rc = exec_stmt(st, S_DUE_NEXT, NULL, &res);
	if (rc == DMCP_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		*in_ms = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rc;
}

/* Runs one statement of store_expire tombstones at most: a short transaction that holds few
 * row locks; store_expire repeats it until a batch comes back short. */
#define STORE_EXPIRE_BATCH 1000

dmcp_rc store_expire(struct store *st, int retention_s, long *expired)
{
	char ret[16], lim[16];
	const char *p[2] = {ret, lim};
	PGresult *res = NULL;
	dmcp_rc rc;
	long got;

	*expired = 0;
	snprintf(ret, sizeof ret, "%d", retention_s);
	snprintf(lim, sizeof lim, "%d", STORE_EXPIRE_BATCH);
	do {
		rc = exec_stmt(st, S_EXPIRE, p, &res);
		got = rc == DMCP_OK && PQntuples(res) == 1 ? strtol(PQgetvalue(res, 0, 0), NULL, 10)
		                                           : 0;
		PQclear(res);
		res = NULL;
		*expired += got;
	} while (rc == DMCP_OK && got == STORE_EXPIRE_BATCH);
	return rc;
}

/* ---- operators ------------------------------------------------------------------------- */

/* A timestamp as UTC text, "2026-11-26T10:00:00Z" (NULL stays NULL). */
#define ISO_UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* PostgreSQL's type OIDs that read as numbers and booleans (pg_type.dat). */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

static const struct stmt_def reports[STORE_R_COUNT] = {
	[STORE_R_VERSION] = {"SELECT current_setting('server_version') AS server_version", 0},
	[STORE_R_HAS_MIGRATIONS] = {"SELECT to_regclass('dmcp_migrations') IS NOT NULL AS present",
	                            0},
	[STORE_R_MIGRATIONS] = {"SELECT version, name, " ISO_UTC("applied_at") " AS applied_at "
	                        "FROM dmcp_migrations ORDER BY version", 0},
	[STORE_R_SESSION_COUNTS] = {"SELECT count(*) FILTER (WHERE ended_at IS NULL) AS live, "
	                            "count(*) FILTER (WHERE ended_at IS NOT NULL) AS ended FROM "
	                            "dmcp_sessions", 0},
	[STORE_R_RUN_COUNTS] = {"SELECT s.status, count(r.id) AS runs FROM unnest(ARRAY['running', "
	                        "'waiting', 'completed', 'failed', 'cancelled']) WITH ORDINALITY "
	                        "AS s(status, o) LEFT JOIN dmcp_runs r ON r.status = s.status GROUP "
	                        "BY s.status, s.o ORDER BY s.o", 0},
	[STORE_R_WAITING] = {"SELECT tool, waiting, " ISO_UTC("oldest_since") " AS oldest_since, "
	                     "oldest_age_s FROM dmcp_waiting_by_tool ORDER BY tool", 0},
	[STORE_R_OLDEST] = {"SELECT id, tool, session_id, principal, pending_method, "
	                    ISO_UTC("waiting_since") " AS waiting_since, age_s FROM "
	                    "dmcp_oldest_waiting", 0},
	[STORE_R_EVENTS] = {"SELECT count(*) AS events, coalesce(sum(octet_length(body)), 0) AS "
	                    "bytes, (SELECT sum(pg_total_relation_size(c.oid))::bigint FROM "
	                    "pg_class c WHERE c.relkind = 'r' AND c.relname LIKE 'dmcp\\_%' AND "
	                    "pg_table_is_visible(c.oid)) AS disk_bytes FROM dmcp_events", 0},
	[STORE_R_RUNS] = {"SELECT id, tool, status, steps, last_lsn AS events, principal, session_id, "
	                  ISO_UTC("created_at") " AS created, " ISO_UTC("updated_at") " AS updated, "
	                  "pending_method, error FROM dmcp_runs WHERE ($1::text IS NULL OR status = "
	                  "$1) AND ($2::text IS NULL OR tool = $2) AND ($3::text IS NULL OR "
	                  "principal = $3) AND ($4::text IS NULL OR created_at >= to_timestamp("
	                  "$4::double precision)) ORDER BY created_at DESC, id LIMIT $5::int", 5},
	[STORE_R_RUN] = {"SELECT id, tool, tool_version, status, principal, session_id, request_id, "
	                 "progress_token, steps, last_lsn AS events, notes, last_progress, "
	                 "pending_id, pending_method, error, " ISO_UTC("created_at") " AS created, "
	                 ISO_UTC("updated_at") " AS updated, " ISO_UTC("lease_until") " AS "
	                 "lease_until, arguments, journal FROM dmcp_runs WHERE id = $1", 1},
	[STORE_R_RUN_EVENTS] = {"SELECT lsn, kind, " ISO_UTC("created_at") " AS created, body FROM "
	                        "dmcp_events WHERE run_id = $1 ORDER BY lsn", 1},
	[STORE_R_SESSIONS] = {"SELECT id, principal, protocol, client_info, live_runs, "
	                      ISO_UTC("created_at") " AS created, " ISO_UTC("last_seen") " AS "
	                      "last_seen, " ISO_UTC("ended_at") " AS ended FROM dmcp_sessions WHERE "
	                      "($1::text IS NULL OR principal = $1) AND ($2::text IS NOT NULL OR "
	                      "ended_at IS NULL) ORDER BY created_at DESC, id LIMIT $3::int", 3},
	[STORE_R_SESSION] = {"SELECT id, principal, " ISO_UTC("ended_at") " AS ended FROM "
	                     "dmcp_sessions WHERE id = $1", 1},
	[STORE_R_SESSION_RUNS] = {"SELECT id, coalesce(session_id, '') AS session_id, principal FROM "
	                          "dmcp_runs WHERE session_id = $1 AND status IN " UNFINISHED
	                          " ORDER BY created_at, id", 1},
};

static char column_type(Oid t)
{
	switch (t) {
	case OID_BOOL: return 'b';
	case OID_INT2: case OID_INT4: case OID_INT8: case OID_FLOAT4: case OID_FLOAT8:
	case OID_NUMERIC: return 'n';
	default: return 's';
	}
}

void store_grid_free(struct store_grid *g)
{
	int i;

	if (g->cells != NULL)
		for (i = 0; i < g->rows * g->cols; i++)
			free(g->cells[i]);
	if (g->names != NULL)
		for (i = 0; i < g->cols; i++)
			free(g->names[i]);
	free(g->cells);
	free(g->names);
	free(g->types);
	memset(g, 0, sizeof *g);
}

const char *store_cell(const struct store_grid *g, int row, int col)
{
	if (row < 0 || row >= g->rows || col < 0 || col >= g->cols)
		return NULL;
	return g->cells[row * g->cols + col];
}

/* Copy res into g; DMCP_E_NOMEM (g emptied) when memory ran out. */
static dmcp_rc grid_fill(const PGresult *res, struct store_grid *g)
{
	int i, k, nr = PQntuples(res), nc = PQnfields(res), bad = 0;

	g->rows = nr;
	g->cols = nc;
	g->names = calloc((size_t)(nc > 0 ? nc : 1), sizeof *g->names);
	g->types = calloc((size_t)(nc > 0 ? nc : 1), 1);
	g->cells = calloc((size_t)(nr * nc > 0 ? nr * nc : 1), sizeof *g->cells);
	if (g->names == NULL || g->types == NULL || g->cells == NULL)
		bad = 1;
	for (k = 0; !bad && k < nc; k++) {
		g->names[k] = strdup(PQfname(res, k));
		g->types[k] = column_type(PQftype(res, k));
		bad = g->names[k] == NULL;
	}
	for (i = 0; !bad && i < nr; i++) {
		for (k = 0; !bad && k < nc; k++) {
			if (PQgetisnull(res, i, k))
				continue;
			g->cells[i * nc + k] = strdup(PQgetvalue(res, i, k));
			bad = g->cells[i * nc + k] == NULL;
		}
	}
	if (bad) {
		store_grid_free(g);
		return DMCP_E_NOMEM;
	}
	return DMCP_OK;
}

dmcp_rc store_report(struct store *st, enum store_report q, const char *const *params,
                     struct store_grid *out)
{
	PGresult *res;
	dmcp_rc rc;
	char what[32];

	memset(out, 0, sizeof *out);
	if ((int)q < 0 || q >= STORE_R_COUNT)
		return DMCP_E_INTERNAL;
	res = PQexecParams(st->conn, reports[q].sql, reports[q].nparams, NULL, params, NULL, NULL,
	                   0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(what, sizeof what, "report %d", (int)q);
		log_pg(st, what, res);
		PQclear(res);
		return DMCP_E_DB;
	}
	rc = grid_fill(res, out);
	PQclear(res);
	return rc;
}

/* ---- tools that are SQL functions ------------------------------------------------------- */

/* Arguments of one function call (PostgreSQL's FUNC_MAX_ARGS). */
#define STORE_MAX_ARGS 100
/* Bytes of one call's statement: 100 arguments with quoted names and types of 128 bytes
 * each fit several times over. */
#define STORE_MAX_CALL_SQL (64u << 10)
/* Statements of the pipeline that opens a tool's transaction and calls it. */
#define STORE_MAX_TXQ 10

/* One statement of a pipeline of unnamed statements. */
struct txq {
	const char *sql;        /* the statement */
	int n;                  /* its parameters */
	const char *const *p;   /* their values (text) */
	int sync;               /* a Sync follows it (the last one always has one) */
};

/* Send qs[0..n) in one round trip (pipeline mode) and collect one result each into res (the
 * caller clears them; a statement skipped after an error receives PGRES_PIPELINE_ABORTED).
 * DMCP_E_DB only when the exchange itself failed (the connection is reset before the next
 * request); the statements' own failures are in their results. */
static dmcp_rc exec_texts(struct store *st, int n, const struct txq *qs, PGresult **res)
{
	PGresult *r;
	dmcp_rc rc = DMCP_OK;
	int i;

	for (i = 0; i < n; i++)
		res[i] = NULL;
	if (due(st) != DMCP_OK || PQenterPipelineMode(st->conn) != 1)
		return DMCP_E_DB;
	for (i = 0; i < n && rc == DMCP_OK; i++)
		if (PQsendQueryParams(st->conn, qs[i].sql, qs[i].n, NULL, qs[i].p, NULL, NULL, 0) != 1 ||
		    ((qs[i].sync || i == n - 1) && PQpipelineSync(st->conn) != 1))
			rc = DMCP_E_DB;
	for (i = 0; i < n && rc == DMCP_OK; i++) {
		res[i] = PQgetResult(st->conn);
		while (res[i] != NULL && (r = PQgetResult(st->conn)) != NULL)
			PQclear(r);
		if (qs[i].sync || i == n - 1) {
			r = PQgetResult(st->conn);
			if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
				rc = DMCP_E_DB;
			PQclear(r);
		}
	}
	if (PQexitPipelineMode(st->conn) != 1)
		rc = DMCP_E_DB;
	if (rc != DMCP_OK) {
		log_pg(st, "tool pipeline", NULL);
		st->broken = 1;
	}
	return rc;
}

static int ok_status(const PGresult *r)
{
	ExecStatusType es = PQresultStatus(r);

	return es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK;
}

/* The call expression: function(name => $1::type, ...); values into vals[0..n_args). */
static void call_expr(struct buf *b, const struct store_call *c, const char **vals)
{
	int i;

	(void)buf_addf(b, "%s(", c->function);
	for (i = 0; i < c->n_args; i++) {
		const struct store_arg *a = &c->args[i];
		(void)buf_addf(b, "%s%s => ", i > 0 ? ", " : "", a->ident);
		if (a->form == STORE_ARG_SCALAR)
			(void)buf_addf(b, "$%d::%s", i + 1, a->type);
		else
			(void)buf_addf(b, "ARRAY(SELECT jsonb_array_elements%s($%d::jsonb))::%s",
			               a->form == STORE_ARG_ARRAY ? "_text" : "", i + 1, a->type);
		vals[i] = a->value;
	}
	(void)buf_adds(b, ")");
}

/* The statement that calls c and bounds what it gives back: one row of (the result's text
 * or NULL, too big). $B is the byte bound, $M the row bound (both after the arguments). */
static dmcp_rc call_sql(struct buf *b, const struct store_call *c, const char **vals)
{
	int B = c->n_args + 1, M = c->n_args + 2;

	switch (c->ret) {
	case STORE_RET_VOID:
		(void)buf_addf(b, "SELECT NULL::text, $%d::bigint < 0 OR $%d::int < 0 FROM (SELECT ", B,
		               M);
		call_expr(b, c, vals);
		(void)buf_adds(b, ") s");
		break;
	case STORE_RET_TEXT:
	case STORE_RET_JSON:
		(void)buf_addf(b, "SELECT CASE WHEN octet_length(v) <= $%d::bigint THEN v END, "
		               "coalesce(octet_length(v) > $%d::bigint, false) OR $%d::int < 0 FROM "
		               "(SELECT %s(", B, B, M, c->ret == STORE_RET_JSON ? "to_json" : "");
		call_expr(b, c, vals);
		(void)buf_adds(b, ")::text AS v) s");
		break;
	case STORE_RET_ROWS:
		(void)buf_addf(b, "SELECT CASE WHEN n <= $%d::int AND octet_length(v) <= $%d::bigint "
		               "THEN v END, n > $%d::int OR octet_length(v) > $%d::bigint FROM "
		               "(SELECT count(*) AS n, coalesce(json_agg(t), '[]')::text AS v FROM "
		               "(SELECT * FROM ", M, B, M, B);
		call_expr(b, c, vals);
		(void)buf_addf(b, " LIMIT $%d::int + 1) t) s", M);
		break;
	}
	return b->fail;
}

/* What the function's error says, into out. */
static void call_failed(const PGresult *r, struct store_call_out *out)
{
	const char *f;

	out->failed = 1;
	f = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	row_copy(out->sqlstate, sizeof out->sqlstate, f != NULL ? f : "");
	f = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	row_copy(out->message, sizeof out->message, f != NULL ? f : "the function failed");
	f = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	row_copy(out->detail, sizeof out->detail, f != NULL ? f : "");
	f = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
	row_copy(out->hint, sizeof out->hint, f != NULL ? f : "");
}

/* Statements that end the call's part of the transaction: back to dmcp's own role and
 * timeout (the savepoint was released or rolled back to before them). */
#define CALL_RESET_ROLE "SET LOCAL ROLE NONE"
#define CALL_RESET_TIMEOUT "SET LOCAL statement_timeout TO DEFAULT"

/* After the function failed: back to the savepoint, so the transaction goes on. */
static dmcp_rc call_recover(struct store *st)
{
	static const struct txq q[3] = {{"ROLLBACK TO SAVEPOINT dmcp_tool", 0, NULL, 0},
	                                {CALL_RESET_ROLE, 0, NULL, 0},
	                                {CALL_RESET_TIMEOUT, 0, NULL, 1}};
	PGresult *res[3];
	dmcp_rc rc = exec_texts(st, 3, q, res);
	int i;

	for (i = 0; i < 3 && rc == DMCP_OK; i++)
		if (!ok_status(res[i])) {
			log_pg(st, "tool call: back to the savepoint", res[i]);
			rc = DMCP_E_DB;
		}
	clear_all(res, 3);
	return rc;
}

/* The call's result row into out (owned copy of the text). */
static dmcp_rc call_result(const PGresult *r, struct store_call_out *out)
{
	if (PQntuples(r) != 1 || PQnfields(r) != 2)
		return DMCP_OK; /* a void function's row, or none: no value */
	out->too_big = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
	if (PQgetisnull(r, 0, 0))
		return DMCP_OK;
	out->value = strdup(PQgetvalue(r, 0, 0));
	return out->value != NULL ? DMCP_OK : DMCP_E_NOMEM;
}

dmcp_rc store_tool_call(struct store *st, const struct store_call *c, struct store_call_out *out)
{
	char ms[16], bytes[24], rows[16];
	const char *ctx[4] = {c->principal, c->session_id, c->run_id, ms}, *role[1] = {c->role};
	const char *vals[STORE_MAX_ARGS + 2];
	struct txq q[STORE_MAX_TXQ];
	PGresult *res[STORE_MAX_TXQ];
	struct buf sql;
	int n = 0, at, i;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	if (c->n_args < 0 || c->n_args > STORE_MAX_ARGS)
		return DMCP_E_LIMIT;
	buf_init(&sql, STORE_MAX_CALL_SQL);
	if (call_sql(&sql, c, vals) != DMCP_OK) {
		buf_free(&sql);
		return DMCP_E_LIMIT;
	}
	snprintf(ms, sizeof ms, "%d", c->timeout_ms);
	snprintf(bytes, sizeof bytes, "%zu", c->max_bytes);
	snprintf(rows, sizeof rows, "%d", c->max_rows);
	vals[c->n_args] = bytes;
	vals[c->n_args + 1] = rows;
	if (due(st) != DMCP_OK) {
		buf_free(&sql);
		return DMCP_E_DB;
	}
	/* The transaction is durable whatever the connection's default: it holds the
	 * function's writes. The call receives a Sync of its own before it, so that its
	 * statement_timeout is timed from its own start. */
	if (PQtransactionStatus(st->conn) == PQTRANS_IDLE)
		q[n++] = (struct txq){"BEGIN", 0, NULL, 0};
	q[n++] = (struct txq){"SET LOCAL synchronous_commit TO on", 0, NULL, 0};
	q[n++] = (struct txq){"SELECT set_config('dmcp.principal', $1, true), "
	                      "set_config('dmcp.session_id', $2, true), "
	                      "set_config('dmcp.run_id', $3, true), "
	                      "set_config('statement_timeout', $4, true)", 4, ctx, 0};
	if (c->role != NULL && c->role[0] != '\0')
		q[n++] = (struct txq){"SELECT set_config('role', $1, true)", 1, role, 0};
	q[n++] = (struct txq){"SAVEPOINT dmcp_tool", 0, NULL, 1};
	at = n;
	q[n++] = (struct txq){buf_cstr(&sql), c->n_args + 2, vals, 0};
	q[n++] = (struct txq){"RELEASE SAVEPOINT dmcp_tool", 0, NULL, 0};
	q[n++] = (struct txq){CALL_RESET_ROLE, 0, NULL, 0};
	q[n++] = (struct txq){CALL_RESET_TIMEOUT, 0, NULL, 1};
	rc = exec_texts(st, n, q, res);
	for (i = 0; i < at && rc == DMCP_OK; i++)
		if (!ok_status(res[i])) {
			log_pg(st, "tool call: setting up", res[i]);
			rc = DMCP_E_DB;
		}
	if (rc == DMCP_OK && !ok_status(res[at])) {
		call_failed(res[at], out);
		rc = call_recover(st);
	} else if (rc == DMCP_OK) {
		for (i = at + 1; i < n && rc == DMCP_OK; i++)
			if (!ok_status(res[i])) {
				log_pg(st, "tool call: after the call", res[i]);
				rc = DMCP_E_DB;
			}
		if (rc == DMCP_OK)
			rc = call_result(res[at], out);
	}
	clear_all(res, n);
	buf_free(&sql);
	if (rc != DMCP_OK) {
		store_rollback(st);
		store_call_out_clear(out);
	}
	return rc;
}

void store_call_out_clear(struct store_call_out *out)
{
	free(out->value);
	out->value = NULL;
}

dmcp_rc store_step_commit(struct store *st)
{
	dmcp_rc rc;

	switch (PQtransactionStatus(st->conn)) {
	case PQTRANS_IDLE:
		return DMCP_OK;
	case PQTRANS_INTRANS:
		FAULT_POINT(COMMIT_BEFORE); /* a step with no row: its writes, uncommitted */
		rc = store_commit(st);
		FAULT_POINT(COMMIT_AFTER);
		store_rollback(st);
		return rc;
	default:
		store_rollback(st);
		return DMCP_E_DB;
	}
}

dmcp_rc store_tool_catalog(struct store *st, const char *schema, char **json)
{
	const char *p[1] = {schema};
	PGresult *res;
	dmcp_rc rc = DMCP_OK;

	*json = NULL;
	if (due(st) != DMCP_OK)
		return DMCP_E_DB;
	/* Unprepared: a program started before `migrate` still serves everything else. */
	res = PQexecParams(st->conn, "SELECT dmcp_tool_catalog($1)::text", 1, NULL, p, NULL, NULL,
	                   0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		log_pg(st, "the catalog of SQL tools (is the database migrated?)", res);
		rc = DMCP_E_DB;
	} else {
		*json = strdup(PQgetisnull(res, 0, 0) ? "[]" : PQgetvalue(res, 0, 0));
		if (*json == NULL)
			rc = DMCP_E_NOMEM;
	}
	PQclear(res);
	return rc;
}
