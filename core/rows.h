/* rows.h — the rows dmcp keeps (session, run, event) as C structs, their names in SQL, and
 * how their memory is freed. Knows nothing of PostgreSQL or HTTP: the store fills these
 * (core/store.c, or the in-memory store of the unit tests) and the runtime reads them. */
#ifndef DMCP_ROWS_H
#define DMCP_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include "rnd.h"
#include "scope.h"

/* Bytes of a principal name kept from REMOTE_USER (longer names are refused). */
#define ROW_MAX_PRINCIPAL 256

struct session_row {
	rnd_hex_id id;        /* session id */
	char principal[ROW_MAX_PRINCIPAL + 1]; /* who made it */
	char protocol[16];    /* negotiated protocol version */
	char *client_caps;    /* owned JSON text */
	int log_level;        /* 0 debug .. 7 emergency */
};

/* Hex digits of a token's id (64 random bits: names a token in `token list` and `token
 * revoke` without being the secret). */
#define ROW_TOKEN_ID 16
/* Bytes of a timestamp as the store writes it ("2026-11-26T10:00:00Z"). */
#define ROW_TIME 32

/* A bearer token made by `dmcp.fcgi token create`: the database keeps its hash, never the
 * token. */
struct token_row {
	char id[ROW_TOKEN_ID + 1];              /* its id */
	char hash[65];                          /* lowercase hex SHA-256 of the token */
	char principal[ROW_MAX_PRINCIPAL + 1];  /* who it signs in as */
	char scopes[SCOPE_MAX_LIST + 1];        /* what it grants (normalized; "" none) */
	int64_t expires;                        /* seconds since the epoch; 0 = never */
	int expired;                            /* filled by reads: expires has passed */
	int revoked;                            /* filled by reads: `token revoke` ran */
	char created_at[ROW_TIME];              /* filled by reads, UTC */
	char expires_at[ROW_TIME];              /* filled by reads, UTC; "" = never */
	char revoked_at[ROW_TIME];              /* filled by reads, UTC; "" = not revoked */
};

enum run_status { RUN_RUNNING, RUN_WAITING, RUN_COMPLETED, RUN_FAILED, RUN_CANCELLED };

struct run_row {
	rnd_hex_id id;        /* run id */
	rnd_hex_id session_id; /* the session that owns it; "" for a sessionless run */
	char principal[ROW_MAX_PRINCIPAL + 1]; /* who started it */
	char scopes[SCOPE_MAX_LIST + 1];       /* what its caller was granted when it began
	                                          (normalized; "" none): fixed for the run, so
	                                          every step replays alike */
	char *request_id;     /* owned JSON text of the client's id */
	char *progress_token; /* owned JSON text, or NULL */
	char *tool;           /* owned */
	int tool_version;      /* the tool's version when the run began */
	char *arguments;      /* owned JSON text */
	enum run_status status;
	char *journal;        /* owned JSON text */
	int notes;            /* notifications emitted */
	int has_progress;     /* last_progress is set */
	double last_progress; /* the last progress value sent */
	int64_t last_lsn;     /* LSN of the newest event */
	char *pending_id;     /* owned, or NULL */
	char *pending_method; /* owned, or NULL */
	int steps;            /* steps taken */
	char *error;          /* owned, or NULL (for operators only) */
	int exists;           /* 1 once the row is in the database (insert vs update) */
	int lease_expired;    /* filled when the row is locked: a running run whose lease passed */
	int over_principal;   /* its first save was refused by DMCP_MAX_RUNS_PER_PRINCIPAL (that
	                         DMCP_E_LIMIT, not the session's) */
	int task;             /* a task (MCP tasks): bound to its principal, named by its id,
	                         polled by the client; session_id is "" */
	int task_stored;      /* task is 1 in the database already (the store counts new tasks
	                         against the principal's limit) */
	int modern;           /* started on the 2026-07-28 wire */
	char *client;         /* owned JSON text, or NULL: what a step that no request carries
	                         needs of the client ({"caps", "protocol", "level"}); set for
	                         tasks, whose client may come back in another session or none */
	int64_t ttl_ms;       /* a task's retention from its creation, in milliseconds */
	int64_t due_ms;       /* when the run is due for its next step without the client (a
	                         timer, a deadline, a task's background step), in milliseconds
	                         since the epoch; 0: only a client moves it */
	int expired;          /* its retention passed: events and journal are gone (a tombstone) */
	int64_t started_ms;   /* when the call began, in milliseconds since the epoch by this
	                         host's clock (read back as the database's age of the row, so
	                         the two clocks need not agree); 0 when unknown */
};

enum event_kind { EV_NOTIFICATION, EV_REQUEST, EV_RESPONSE, EV_POLL };

struct event_row {
	int64_t lsn;          /* its place in the run's log */
	enum event_kind kind; /* what it carries */
	char *body; /* owned JSON text ('' for poll) */
};

/* Bytes of an ISO 8601 UTC time as tasks carry it ("2026-07-28T12:34:56.789Z"). */
#define ROW_TIME_LEN 32

/* What tasks/get and tasks/list show of a task. */
struct task_row {
	struct run_row run;            /* the run (journal only from store_task_get) */
	char created[ROW_TIME_LEN];    /* createdAt */
	char updated[ROW_TIME_LEN];    /* lastUpdatedAt */
	int64_t created_us;            /* created_at in microseconds (tasks/list's cursor) */
	char *response;                /* owned: body of the run's response event, or NULL */
};

/* Free what the row owns (its strings); the struct itself is the caller's. */
void row_session_clear(struct session_row *s);
void row_run_clear(struct run_row *r);
void row_events_clear(struct event_row *ev, int n);
void row_task_clear(struct task_row *t);
/* The names of statuses and kinds in SQL ("running", "request", ...); static strings. */
const char *row_status_name(enum run_status s);
const char *row_kind_name(enum event_kind k);
/* Parse those names: 1 on success. */
int row_status_parse(const char *s, enum run_status *out);
int row_kind_parse(const char *s, enum event_kind *out);
/* Copy src into dst[cap], cut to fit, always NUL-terminated. */
void row_copy(char *dst, size_t cap, const char *src);

#endif
