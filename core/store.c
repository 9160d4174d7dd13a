/* store.c — PostgreSQL access for sessions, runs, events and wake-ups (see store.h).
 * The only file that includes libpq-fe.h. SQL only through prepared statements with
 * parameters; every PGresult is cleared on every path; database error text goes to the
 * log, never to a client. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "buf.h"
#include "log.h"
#include "rnd.h"
#include "store.h"

/* Seconds a 'running' run stays owned by the worker executing it; a worker renews it at
 * every checkpoint, and a run whose lease passed may be taken over (crash recovery). */
#define STORE_LEASE_S "60"
/* The one NOTIFY channel; payloads are run ids. */
#define STORE_CHANNEL "dmcp"

enum stmt {
	S_SESSION_INSERT, S_SESSION_GET, S_SESSION_GET_RUNS, S_SESSION_TOUCH, S_SESSION_LEVEL,
	S_SESSION_END, S_SESSION_CANCEL_RUNS, S_SUB_ON, S_SUB_OFF, S_RUN_LOCK, S_BEGIN, S_DURABLE,
	S_COMMIT, S_RUN_INSERT,
	S_RUN_UPDATE, S_RUN_FIND, S_EVENTS_AFTER, S_NOTIFY, S_NOTIFY_NOW, S_SWEEP_END,
	S_SWEEP_DELETE, S_ORPHANS, S_COUNT
};

struct stmt_def {
	const char *sql; /* the statement; $n parameters are all text */
	int nparams;     /* how many */
};

#define RUN_COLS "session_id, principal, request_id, progress_token, tool, tool_version, " \
	"arguments, status, journal, notes, last_progress, last_lsn, pending_id, pending_method, " \
	"steps, error"

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

static const struct stmt_def stmts[S_COUNT] = {
	[S_SESSION_INSERT] = {"INSERT INTO dmcp_sessions (id, principal, protocol, client_info, "
	                      "client_caps) VALUES ($1, $2, $3, $4, $5)", 5},
	[S_SESSION_GET] = {"SELECT principal, protocol, client_caps, log_level, ended_at IS NOT NULL, "
	                   "last_seen < now() - interval '60 seconds', 0 FROM dmcp_sessions "
	                   "WHERE id = $1", 1},
	[S_SESSION_GET_RUNS] = {"SELECT principal, protocol, client_caps, log_level, "
	                        "ended_at IS NOT NULL, last_seen < now() - interval '60 seconds', "
	                        "(SELECT count(*) FROM dmcp_runs r WHERE r.session_id = s.id AND "
	                        "r.status IN ('running', 'waiting')) FROM dmcp_sessions s "
	                        "WHERE id = $1", 1},
	[S_SESSION_TOUCH] = {"UPDATE dmcp_sessions SET last_seen = now() WHERE id = $1", 1},
	[S_SESSION_LEVEL] = {"UPDATE dmcp_sessions SET log_level = $2 WHERE id = $1", 2},
	[S_SESSION_END] = {"UPDATE dmcp_sessions SET ended_at = now() WHERE id = $1 AND "
	                   "principal = $2 AND ended_at IS NULL RETURNING id", 2},
	[S_SESSION_CANCEL_RUNS] = {"UPDATE dmcp_runs SET status = 'cancelled', pending_id = NULL, "
	                           "pending_method = NULL, error = $2, updated_at = now() "
	                           "WHERE session_id = $1 AND status IN ('running', 'waiting') "
	                           "RETURNING id", 2},
	[S_SUB_ON] = {"INSERT INTO dmcp_subscriptions (session_id, uri) VALUES ($1, $2) "
	              "ON CONFLICT DO NOTHING", 2},
	[S_SUB_OFF] = {"DELETE FROM dmcp_subscriptions WHERE session_id = $1 AND uri = $2", 2},
	[S_RUN_LOCK] = {"SELECT " RUN_COLS ", status = 'running' AND lease_until < now() "
	                "FROM dmcp_runs WHERE id = $1 FOR UPDATE", 1},
	[S_BEGIN] = {"BEGIN", 0},
	[S_DURABLE] = {"SELECT set_config('synchronous_commit', 'on', true)", 0},
	[S_COMMIT] = {"COMMIT", 0},
	/* A run row and its new events in one statement: one round trip, and, outside a
	 * transaction, one commit. $18 is the first LSN, $19/$20 the kinds and bodies. */
	[S_RUN_INSERT] = {"WITH r AS (INSERT INTO dmcp_runs (id, " RUN_COLS ", lease_until, "
	                  "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
	                  "$13, $14, $15, $16, $17, CASE WHEN $9 = 'running' THEN now() + "
	                  "interval '" STORE_LEASE_S " seconds' END, " DURABILITY("$21") ") "
	                  "RETURNING id) " EVENTS_FROM("$18", "$19", "$20"), 21},
	[S_RUN_UPDATE] = {"WITH r AS (UPDATE dmcp_runs SET status = $2, journal = $3, notes = $4, "
	                  "last_progress = $5, last_lsn = $6, pending_id = $7, pending_method = $8, "
	                  "steps = $9, error = $10, updated_at = " DURABILITY("$14") ", "
	                  "lease_until = CASE WHEN $2 = 'running' THEN now() + interval '"
	                  STORE_LEASE_S " seconds' END WHERE id = $1 RETURNING id) "
	                  EVENTS_FROM("$11", "$12", "$13"), 14},
	[S_RUN_FIND] = {"SELECT id FROM dmcp_runs WHERE session_id = $1 AND principal = $2 AND "
	                "request_id = $3 AND status IN ('running', 'waiting') LIMIT 1", 3},
	[S_EVENTS_AFTER] = {"SELECT r.status, r.last_lsn, r.status = 'running' AND "
	                    "r.lease_until < now(), e.lsn, e.kind, e.body FROM dmcp_runs r "
	                    "LEFT JOIN LATERAL (SELECT lsn, kind, body FROM dmcp_events "
	                    "WHERE run_id = r.id AND lsn > $4::bigint ORDER BY lsn "
	                    "LIMIT $5::int) e ON true WHERE r.id = $1 AND r.session_id = $2 "
	                    "AND r.principal = $3 ORDER BY e.lsn", 5},
	[S_NOTIFY] = {"SELECT pg_notify('" STORE_CHANNEL "', $1)", 1},
	/* Outside a transaction: a hint, so its commit does not wait for the disk. */
	[S_NOTIFY_NOW] = {"SELECT set_config('synchronous_commit', 'off', true), pg_notify('"
	                  STORE_CHANNEL "', $1)", 1},
	[S_SWEEP_END] = {"WITH s AS (UPDATE dmcp_sessions SET ended_at = now() WHERE ended_at IS "
	                 "NULL AND last_seen < now() - make_interval(secs => $1::int) "
	                 "RETURNING id), r AS (UPDATE dmcp_runs SET status = 'cancelled', "
	                 "pending_id = NULL, pending_method = NULL, error = 'session expired', "
	                 "updated_at = now() WHERE session_id IN (SELECT id FROM s) AND status IN "
	                 "('running', 'waiting') RETURNING id) SELECT (SELECT count(*) FROM s)", 1},
	[S_ORPHANS] = {"SELECT r.id, r.session_id, r.principal FROM dmcp_runs r JOIN dmcp_sessions s "
	               "ON s.id = r.session_id WHERE r.status = 'running' AND r.lease_until < now() "
	               "AND s.ended_at IS NULL ORDER BY r.updated_at LIMIT $1::int", 1},
	[S_SWEEP_DELETE] = {"WITH d AS (DELETE FROM dmcp_sessions WHERE ended_at < now() - "
	                    "make_interval(secs => $1::int) RETURNING id) SELECT count(*) FROM d", 1},
};

struct store {
	PGconn *conn; /* one connection, owned */
	int prepared; /* statements prepared on this connection */
	int async;    /* commits outside store_begin do not wait for the disk */
	int broken;   /* a pipeline went wrong: reset the connection at the next store_ready */
};


static void log_pg(struct store *st, const char *what, const PGresult *res)
{
	const char *msg = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(st->conn);
	char line[400];
	size_t n = strcspn(msg, "\n");

	log_msg(LOG_ERROR, "database: %s: %s", what, log_escape(line, sizeof line, msg, n));
}

static dmcp_rc run_cmd(struct store *st, const char *sql);

static dmcp_rc prepare_all(struct store *st)
{
	char name[16];
	int i;

	if (st->async && run_cmd(st, "SET synchronous_commit TO off") != DMCP_OK)
		return DMCP_E_DB;
	for (i = 0; i < S_COUNT; i++) {
		PGresult *res;
		snprintf(name, sizeof name, "s%d", i);
		res = PQprepare(st->conn, name, stmts[i].sql, stmts[i].nparams, NULL);
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

dmcp_rc store_open(const char *conninfo, struct store **out, char *err, size_t errlen)
{
	static const char *const keys[] = {"dbname", "fallback_application_name",
	                                   "connect_timeout", NULL};
	const char *vals[] = {conninfo, "dmcp", "10", NULL};
	struct store *st;

	*out = NULL;
	st = calloc(1, sizeof *st);
	if (st == NULL)
		return DMCP_E_NOMEM;
	st->conn = PQconnectdbParams(keys, vals, 1);
	if (st->conn == NULL || PQstatus(st->conn) != CONNECTION_OK) {
		const char *m = st->conn != NULL ? PQerrorMessage(st->conn) : "out of memory";
		snprintf(err, errlen, "cannot connect to the database: %.*s",
		         (int)strcspn(m, "\n"), m);
		store_close(st);
		return DMCP_E_DB;
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
	free(st);
}

dmcp_rc store_ready(struct store *st)
{
	/* Read whatever the server sent while the connection was idle: a server that went away
	 * (restart, idle timeout) shows up now, and the connection is reset before this request
	 * instead of failing it. Worker connections never LISTEN, so nothing else arrives. */
	if (!st->broken && PQstatus(st->conn) == CONNECTION_OK && PQconsumeInput(st->conn) == 0)
		st->broken = 1;
	if (st->broken || PQstatus(st->conn) != CONNECTION_OK) {
		st->broken = 0;
		log_msg(LOG_WARN, "database connection lost; reconnecting");
		PQreset(st->conn);
		st->prepared = 0;
		if (PQstatus(st->conn) != CONNECTION_OK) {
			log_pg(st, "reconnect", NULL);
			return DMCP_E_DB;
		}
	}
	if (PQtransactionStatus(st->conn) != PQTRANS_IDLE)
		store_rollback(st);
	if (!st->prepared && prepare_all(st) != DMCP_OK)
		return DMCP_E_DB;
	return DMCP_OK;
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
	snprintf(name, sizeof name, "s%d", (int)s);
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

/* Send prepared statements ids[0..n) with their params in one round trip (libpq pipeline
 * mode) and collect their results into res[0..n) (the caller clears them). DMCP_E_DB when
 * any of them failed (the server skips the rest of a failed pipeline). */
static dmcp_rc exec_pipeline(struct store *st, int n, const enum stmt *ids,
                             const char *const *const *params, PGresult **res)
{
	char name[16];
	PGresult *r;
	dmcp_rc rc = DMCP_OK;
	int i;

	for (i = 0; i < n; i++)
		res[i] = NULL;
	if (PQenterPipelineMode(st->conn) != 1)
		return DMCP_E_DB;
	for (i = 0; i < n && rc == DMCP_OK; i++) {
		snprintf(name, sizeof name, "s%d", (int)ids[i]);
		if (PQsendQueryPrepared(st->conn, name, stmts[ids[i]].nparams, params[i], NULL, NULL,
		                        0) != 1)
			rc = DMCP_E_DB;
	}
	if (rc != DMCP_OK || PQpipelineSync(st->conn) != 1) {
		log_pg(st, "pipeline", NULL);
		st->broken = 1;
		return DMCP_E_DB;
	}
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
	}
	r = PQgetResult(st->conn);
	if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
		rc = DMCP_E_DB;
	PQclear(r);
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
	 * promises (a waiting run, an applied answer) still wait for the disk at COMMIT. */
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

dmcp_rc store_session_create(struct store *st, const struct session_row *s,
                             const char *client_info)
{
	const char *p[5] = {s->id, s->principal, s->protocol, client_info, s->client_caps};

	return exec_stmt(st, S_SESSION_INSERT, p, NULL);
}

dmcp_rc store_session_get(struct store *st, const char *id, const char *principal,
                          int with_runs, struct session_row *out)
{
	const char *p[1] = {id};
	PGresult *res = NULL;
	dmcp_rc rc;
	int stale = 0;

	memset(out, 0, sizeof *out);
	rc = exec_stmt(st, with_runs ? S_SESSION_GET_RUNS : S_SESSION_GET, p, &res);
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
	stale = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
	out->unfinished_runs = (int)strtol(PQgetvalue(res, 0, 6), NULL, 10);
	if (out->client_caps == NULL)
		rc = DMCP_E_NOMEM;
out:
	PQclear(res);
	if (rc == DMCP_OK && stale && PQtransactionStatus(st->conn) == PQTRANS_IDLE)
		rc = exec_stmt(st, S_SESSION_TOUCH, p, NULL);
	if (rc != DMCP_OK)
		row_session_clear(out);
	return rc;
}

dmcp_rc store_session_set_level(struct store *st, const char *id, int level)
{
	char lv[8];
	const char *p[2] = {id, lv};

	snprintf(lv, sizeof lv, "%d", level);
	return exec_stmt(st, S_SESSION_LEVEL, p, NULL);
}

dmcp_rc store_session_end(struct store *st, const char *id, const char *principal)
{
	const char *p[2] = {id, principal};
	const char *q[2] = {id, "session ended by the client"};
	PGresult *res = NULL, *runs = NULL;
	dmcp_rc rc;
	int i;

	rc = store_begin(st);
	if (rc != DMCP_OK)
		return rc;
	rc = exec_stmt(st, S_SESSION_END, p, &res);
	if (rc == DMCP_OK && PQntuples(res) != 1)
		rc = DMCP_E_NOT_FOUND;
	if (rc == DMCP_OK)
		rc = exec_stmt(st, S_SESSION_CANCEL_RUNS, q, &runs);
	if (rc == DMCP_OK)
		rc = store_commit(st);
	if (rc != DMCP_OK)
		store_rollback(st);
	for (i = 0; rc == DMCP_OK && runs != NULL && i < PQntuples(runs); i++)
		store_notify(st, PQgetvalue(runs, i, 0));
	PQclear(res);
	PQclear(runs);
	return rc;
}

dmcp_rc store_subscribe(struct store *st, const char *session_id, const char *uri, int on)
{
	const char *p[2] = {session_id, uri};

	return exec_stmt(st, on ? S_SUB_ON : S_SUB_OFF, p, NULL);
}

/* ---- runs ------------------------------------------------------------------------------ */

static char *dup_or_null(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return strdup(PQgetvalue(res, row, col));
}

static dmcp_rc fill_run(const PGresult *res, struct run_row *r)
{
	row_copy(r->session_id, sizeof r->session_id, PQgetvalue(res, 0, 0));
	row_copy(r->principal, sizeof r->principal, PQgetvalue(res, 0, 1));
	r->request_id = dup_or_null(res, 0, 2);
	r->progress_token = dup_or_null(res, 0, 3);
	r->tool = dup_or_null(res, 0, 4);
	r->tool_version = (int)strtol(PQgetvalue(res, 0, 5), NULL, 10);
	r->arguments = dup_or_null(res, 0, 6);
	if (!row_status_parse(PQgetvalue(res, 0, 7), &r->status))
		return DMCP_E_INTERNAL;
	r->journal = dup_or_null(res, 0, 8);
	r->notes = (int)strtol(PQgetvalue(res, 0, 9), NULL, 10);
	r->has_progress = !PQgetisnull(res, 0, 10);
	r->last_progress = r->has_progress ? strtod(PQgetvalue(res, 0, 10), NULL) : 0;
	r->last_lsn = strtoll(PQgetvalue(res, 0, 11), NULL, 10);
	r->pending_id = dup_or_null(res, 0, 12);
	r->pending_method = dup_or_null(res, 0, 13);
	r->steps = (int)strtol(PQgetvalue(res, 0, 14), NULL, 10);
	r->error = dup_or_null(res, 0, 15);
	r->lease_expired = strcmp(PQgetvalue(res, 0, 16), "t") == 0;
	r->exists = 1;
	if (r->request_id == NULL || r->tool == NULL || r->arguments == NULL || r->journal == NULL)
		return DMCP_E_NOMEM;
	return DMCP_OK;
}

/* Fill out from the result of S_RUN_LOCK, checking session and principal. */
static dmcp_rc locked_row(const PGresult *res, const char *run_id, const char *session_id,
                          const char *principal, struct run_row *out)
{
	dmcp_rc rc;

	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), session_id) != 0 ||
	    strcmp(PQgetvalue(res, 0, 1), principal) != 0)
		return DMCP_E_NOT_FOUND;
	row_copy(out->id, sizeof out->id, run_id);
	rc = fill_run(res, out);
	if (rc != DMCP_OK)
		row_run_clear(out);
	return rc;
}

dmcp_rc store_run_lock(struct store *st, const char *run_id, const char *session_id,
                       const char *principal, struct run_row *out)
{
	const char *p[1] = {run_id};
	PGresult *res = NULL;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	rc = exec_stmt(st, S_RUN_LOCK, p, &res);
	if (rc == DMCP_OK)
		rc = locked_row(res, run_id, session_id, principal, out);
	PQclear(res);
	return rc;
}

dmcp_rc store_begin_lock(struct store *st, const char *run_id, const char *session_id,
                         const char *principal, int durable, struct run_row *out)
{
	static const enum stmt sync_ids[] = {S_BEGIN, S_DURABLE, S_RUN_LOCK};
	static const enum stmt plain_ids[] = {S_BEGIN, S_RUN_LOCK};
	const char *lock_p[1] = {run_id};
	const char *const *params[3] = {NULL, NULL, NULL};
	PGresult *res[3];
	int sync = st->async && durable, n = sync ? 3 : 2;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	params[n - 1] = lock_p;
	rc = exec_pipeline(st, n, sync ? sync_ids : plain_ids, params, res);
	if (rc == DMCP_OK)
		rc = locked_row(res[n - 1], run_id, session_id, principal, out);
	clear_all(res, n);
	return rc;
}

dmcp_rc store_commit_notify(struct store *st, const char *run_id)
{
	static const enum stmt ids[] = {S_COMMIT, S_NOTIFY_NOW};
	const char *notify_p[1] = {run_id};
	const char *const *params[2] = {NULL, notify_p};
	PGresult *res[2];
	dmcp_rc rc;

	if (!rnd_id_ok(run_id))
		return store_commit(st);
	rc = exec_pipeline(st, 2, ids, params, res);
	/* COMMIT of a transaction that already failed answers "ROLLBACK" with an OK status. */
	if (res[0] == NULL || PQresultStatus(res[0]) != PGRES_COMMAND_OK ||
	    strcmp(PQcmdStatus(res[0]), "COMMIT") != 0) {
		log_pg(st, "COMMIT", res[0]);
		rc = DMCP_E_DB;
	} else if (rc != DMCP_OK) {
		log_msg(LOG_WARN, "NOTIFY for run %s failed; followers will poll", run_id);
		rc = DMCP_OK; /* committed; the hint is optional */
	}
	clear_all(res, 2);
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

dmcp_rc store_run_save(struct store *st, struct run_row *r, int64_t first_lsn, int n,
                       const enum event_kind *kinds, const char *const *bodies, int durable)
{
	const char *sync = durable || !st->async ? "on" : "off";
	char ver[16], notes[16], lsn[24], steps[16], prog[40], first[24];
	const char *prog_p = NULL, **knames = NULL;
	struct buf ka, ba;
	dmcp_rc rc;
	int i;

	buf_init(&ka, STORE_MAX_EVENT_BYTES);
	buf_init(&ba, STORE_MAX_EVENT_BYTES);
	knames = calloc((size_t)(n > 0 ? n : 1), sizeof *knames);
	if (knames == NULL)
		return DMCP_E_NOMEM;
	for (i = 0; i < n; i++)
		knames[i] = row_kind_name(kinds[i]);
	rc = array_literal(&ka, n, knames);
	if (rc == DMCP_OK)
		rc = array_literal(&ba, n, bodies);
	free(knames);
	if (rc != DMCP_OK) {
		buf_free(&ka);
		buf_free(&ba);
		return rc;
	}
	snprintf(ver, sizeof ver, "%d", r->tool_version);
	snprintf(notes, sizeof notes, "%d", r->notes);
	snprintf(lsn, sizeof lsn, "%lld", (long long)r->last_lsn);
	snprintf(steps, sizeof steps, "%d", r->steps);
	snprintf(first, sizeof first, "%lld", (long long)first_lsn);
	if (r->has_progress) {
		snprintf(prog, sizeof prog, "%.17g", r->last_progress);
		prog_p = prog;
	}
	if (!r->exists) {
		const char *p[21] = {r->id, r->session_id, r->principal, r->request_id,
		                     r->progress_token, r->tool, ver, r->arguments,
		                     row_status_name(r->status), r->journal, notes, prog_p, lsn,
		                     r->pending_id, r->pending_method, steps, r->error, first,
		                     buf_cstr(&ka), buf_cstr(&ba), sync};
		rc = exec_stmt(st, S_RUN_INSERT, p, NULL);
	} else {
		const char *p[14] = {r->id, row_status_name(r->status), r->journal, notes, prog_p,
		                     lsn, r->pending_id, r->pending_method, steps, r->error, first,
		                     buf_cstr(&ka), buf_cstr(&ba), sync};
		rc = exec_stmt(st, S_RUN_UPDATE, p, NULL);
	}
	buf_free(&ka);
	buf_free(&ba);
	if (rc == DMCP_OK)
		r->exists = 1;
	return rc;
}

dmcp_rc store_run_find_unfinished(struct store *st, const char *session_id,
                                  const char *principal, const char *request_id,
                                  rnd_hex_id run_id_out)
{
	const char *p[3] = {session_id, principal, request_id};
	PGresult *res = NULL;
	dmcp_rc rc;

	rc = exec_stmt(st, S_RUN_FIND, p, &res);
	if (rc != DMCP_OK)
		return rc;
	if (PQntuples(res) != 1)
		rc = DMCP_E_NOT_FOUND;
	else
		row_copy(run_id_out, sizeof(rnd_hex_id), PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

/* ---- events ---------------------------------------------------------------------------- */

dmcp_rc store_events_after(struct store *st, const char *run_id, const char *session_id,
                           const char *principal, int64_t after_lsn, int max,
                           struct event_row *out, int *n, enum run_status *status,
                           int64_t *last_lsn, int *lease_expired)
{
	char after[24], lim[16];
	const char *p[5] = {run_id, session_id, principal, after, lim};
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

/* ---- wake-ups -------------------------------------------------------------------------- */

void store_notify(struct store *st, const char *run_id)
{
	const char *p[1] = {run_id};

	/* After the step's commit, in its own transaction: a NOTIFY inside the step would hold
	 * the global notify lock until the commit is flushed and serialize all commits. This
	 * one does not wait for the disk (a lost hint only delays a follower until its next
	 * poll): one round trip, no fsync. */
	if (!rnd_id_ok(run_id))
		return;
	if (exec_stmt(st, S_NOTIFY_NOW, p, NULL) != DMCP_OK)
		log_msg(LOG_WARN, "NOTIFY for run %s failed; followers will poll", run_id);
}

void store_notify_in_tx(struct store *st, const char *run_id)
{
	const char *p[1] = {run_id};

	if (exec_stmt(st, S_NOTIFY, p, NULL) != DMCP_OK)
		log_msg(LOG_WARN, "NOTIFY for run %s failed", run_id);
}

dmcp_rc store_listen_all(struct store *st)
{
	return run_cmd(st, "LISTEN " STORE_CHANNEL);
}

int store_socket(struct store *st)
{
	return PQsocket(st->conn);
}

dmcp_rc store_take_notifies(struct store *st, void (*cb)(void *arg, const char *run_id),
                            void *arg)
{
	PGnotify *n;

	if (PQconsumeInput(st->conn) == 0 || PQstatus(st->conn) != CONNECTION_OK) {
		log_pg(st, "listen", NULL);
		return DMCP_E_DB;
	}
	while ((n = PQnotifies(st->conn)) != NULL) {
		if (strcmp(n->relname, STORE_CHANNEL) == 0 && rnd_id_ok(n->extra))
			cb(arg, n->extra);
		PQfreemem(n);
	}
	return DMCP_OK;
}

dmcp_rc store_ping(struct store *st)
{
	return run_cmd(st, "SELECT 1");
}

dmcp_rc store_sweep(struct store *st, int ttl_s, long *ended, long *deleted)
{
	char ttl[16];
	const char *p[1] = {ttl};
	PGresult *res = NULL;
	dmcp_rc rc;

	snprintf(ttl, sizeof ttl, "%d", ttl_s);
	rc = exec_stmt(st, S_SWEEP_END, p, &res);
	if (rc != DMCP_OK)
		return rc;
	*ended = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	rc = exec_stmt(st, S_SWEEP_DELETE, p, &res);
	if (rc != DMCP_OK)
		return rc;
	*deleted = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return DMCP_OK;
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
		(*n)++;
	}
	PQclear(res);
	return DMCP_OK;
}
