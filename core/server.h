/* server.h — one HTTP request in, one answer (or an SSE stream) out: the Streamable HTTP
 * transport rules, session lookup, dispatch, tools/call streams and resumption.
 * Knows nothing of FastCGI: the front end hands over a request struct and write/flush
 * callbacks. MCP 2025-11-25 basic/transports and basic/lifecycle. */
#ifndef DMCP_SERVER_H
#define DMCP_SERVER_H

#include <signal.h>
#include <stddef.h>
#include "cfg.h"
#include "dmcp.h"

/* One request, as the front end read it. Strings are borrowed for the call; NULL when the
 * header or variable is absent. */
struct srv_req {
	const char *method;           /* REQUEST_METHOD */
	const char *accept;           /* Accept */
	const char *content_type;     /* CONTENT_TYPE */
	const char *content_length;   /* CONTENT_LENGTH */
	const char *origin;           /* Origin */
	const char *host;             /* Host */
	const char *session_id;       /* Mcp-Session-Id */
	const char *protocol_version; /* MCP-Protocol-Version */
	const char *last_event_id;    /* Last-Event-ID */
	const char *remote_user;      /* REMOTE_USER set by the web server's authentication */
	const char *mcp_method;       /* Mcp-Method (2026-07-28: mirrors the body's method) */
	const char *mcp_name;         /* Mcp-Name (2026-07-28: mirrors params.name/uri/taskId) */
	const char *authorization;    /* Authorization, when the web server passes it on */
	const char *request_uri;      /* REQUEST_URI: the path (and query) the client asked for */
	const char *script_name;      /* SCRIPT_NAME: when there is no REQUEST_URI, the path is */
	const char *path_info;        /* SCRIPT_NAME followed by PATH_INFO */
	void *io;                     /* passed to read */
	/* Read up to cap body bytes; *got = 0 at the end of the body. */
	dmcp_rc (*read)(void *io, char *p, size_t cap, size_t *got);
};

/* Where the answer goes: a CGI-style head ("Status: ...\r\n" headers, blank line) then the
 * body. A failed write means the client is gone. */
struct srv_out {
	void *io;
	dmcp_rc (*write)(void *io, const char *p, size_t n);
	dmcp_rc (*flush)(void *io);
	int fd; /* the connection to poll for a hang-up while a stream waits, or -1 */
};

struct srv;
struct srv_worker;

/* Process-wide state: configuration and registry are borrowed and must outlive the server.
 * stopping is polled by waiting streams, which end (with retry:) once it is non-zero. */
dmcp_rc srv_new(const struct cfg *cfg, dmcp_registry *reg,
                const volatile sig_atomic_t *stopping, struct srv **out) DMCP_MUST_CHECK;
void srv_free(struct srv *s);
/* How many worker threads serve requests in this process (default 1): at most three in four
 * of them (all, for one) follow streams at a time; a stream that finds none free delivers
 * what is there and ends with retry:, so the client polls. */
void srv_set_threads(struct srv *s, int threads);
/* Use w (owned by the caller, no listener thread started) for wake-ups instead of the
 * server's own: for tests that ring the doorbells themselves. */
struct wake;
void srv_use_wake(struct srv *s, struct wake *w);
/* Start the process's listener (the LISTEN connection that wakes streams and keeps the
 * session cache honest) and wait up to wait_ms for it to connect, so the first requests find
 * it up. 1 when it is connected. A CGI process never needs one. */
int srv_listen(struct srv *s, int wait_ms);
/* The tools made while serving (SQL functions, programs; dynreg.h), when the configuration
 * asks for any: describe the programs, and with build_now read the catalog through a
 * connection of its own, so that problems are logged at start; else the first request does.
 * Call it once before serving. */
void srv_tools_start(struct srv *s, int build_now);
/* SIGHUP: describe the programs and read the catalog again before the next request, and
 * tell clients the tool list changed. Safe from any thread. */
void srv_tools_reload(struct srv *s);
/* One per thread: owns one database connection, opened here. */
/* Plain CGI: streams poll the table instead of starting a listener (one connection per
 * process, not two). */
void srv_set_no_listener(struct srv *s);
/* One per thread: owns one database connection, which connects at its first request (or at
 * srv_worker_connect); DMCP_E_NOMEM only. */
dmcp_rc srv_worker_new(struct srv *s, struct srv_worker **out, char *err,
                       size_t errlen) DMCP_MUST_CHECK;
/* Connect the worker's connection now (DMCP_E_DB when the database is down; it is retried at
 * the next request anyway). */
dmcp_rc srv_worker_connect(struct srv_worker *w) DMCP_MUST_CHECK;
void srv_worker_free(struct srv_worker *w);
/* The worker's connection (borrowed). */
struct store;
struct store *srv_worker_store(struct srv_worker *w);
/* Serve one request. Never exits, aborts or asserts on input. */
void srv_handle(struct srv_worker *w, const struct srv_req *rq, const struct srv_out *out);

#endif
