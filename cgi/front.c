/* front.c — dmcp_main(), the FastCGI/CGI front of every dmcp program: the command line,
 * process start-up, the accept loop (FCGX_Accept_r, one database connection per worker
 * thread), turning FastCGI params and stdin into a core request, writing core's answer back,
 * a clean stop on SIGTERM/SIGINT, and the migrate, sweep and token commands. The program's tools
 * come from the register function its main() passes in.
 * Knows no MCP: everything past the request struct is core's. FastCGI 1.0; RFC 3875 (CGI). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <fcgiapp.h>
#include "cfg.h"
#include "dmcp.h"
#include "dynreg.h"
#include "fault.h"
#include "log.h"
#include "ops.h"
#include "registry.h"
#include "runtime.h"
#include "server.h"
#include "store.h"
#include "token.h"

/* Pending connections the listening socket queues (listen(2) backlog). */
#define MAIN_BACKLOG 256
/* Milliseconds start-up waits for the listener's connection before it accepts requests
 * anyway (it goes on trying in the background). */
#define FRONT_LISTEN_WAIT_MS 2000
/* idle_in_transaction_session_timeout of the workers' connections (ms): dmcp never waits
 * inside a transaction, so a connection idle in one this long is a stuck thread's, and
 * PostgreSQL ends it rather than keep its locks. */
#define FRONT_IDLE_TX_MS 60000
/* Backoff of a worker thread whose accept() failed (EMFILE, ENOMEM, ...): from the first
 * value, doubling, up to the last; the thread stays, and serves again once it can. */
#define FRONT_ACCEPT_RETRY_MIN_MS 10
#define FRONT_ACCEPT_RETRY_MAX_MS 1000
/* Backoff of start-up's database check (connection and migrations), up to the last value,
 * until DMCP_START_TIMEOUT. */
#define FRONT_START_RETRY_MIN_MS 100
#define FRONT_START_RETRY_MAX_MS 2000
/* Milliseconds between two wake-up signals to the threads still blocked in accept() while
 * the program stops (a signal that comes just before the thread enters accept() is lost;
 * the next one is not). */
#define FRONT_WAKE_EVERY_MS 50
/* The signal that wakes a thread out of accept() on stop (its handler does nothing; it is
 * installed without SA_RESTART, so accept() fails with EINTR). */
#define FRONT_WAKE_SIGNAL SIGUSR2

static volatile sig_atomic_t stopping; /* set once SIGTERM/SIGINT arrived */

struct worker_arg {
	struct srv *srv;  /* shared */
	int listen_fd;    /* the FastCGI listening socket */
	int write_timeout_ms; /* SO_SNDTIMEO of each accepted connection */
	pthread_t thread;
	int started;      /* the thread was created */
	int in_accept;    /* the thread is in (or about to enter) FCGX_Accept_r (atomic) */
	int done;         /* the thread has returned (atomic) */
};

/* The usage text after its first two lines, which name the program (print_usage). */
static const char usage_rest[] =
	"\n"
	"Serves the MCP endpoint with the tools this program was built with, over FastCGI:\n"
	"on fd 0 when the web server, spawn-fcgi or systemd hands over a listening socket, on\n"
	"PATH with --socket, or as plain CGI (one request) when fd 0 is not a socket.\n"
	"  --socket PATH       listen on the Unix socket PATH (a stale socket there is\n"
	"                      replaced; any other file, or a socket in use, is refused), or on\n"
	"                      TCP HOST:PORT; :PORT listens on 127.0.0.1 only\n"
	"  --socket-mode MODE  permissions of that socket, octal (default 0660)\n"
	"  --threads N         worker threads, each with one database connection\n"
	"                      (default DMCP_THREADS or 8)\n"
	"  --user NAME         drop to this user (and its group) after opening the socket; a\n"
	"                      server started as root refuses to run without it\n"
	"  migrate             apply the SQL migrations to DMCP_DATABASE_URL and exit\n"
	"  sweep               end sessions idle longer than DMCP_SESSION_TTL, delete old ones,\n"
	"                      expire runs past DMCP_RETENTION (tasks past their TTL), finish\n"
	"                      the steps of runs whose worker died mid-step, and take the steps\n"
	"                      that fell due (timers, deadlines, tasks) (runs of tools this\n"
	"                      program does not have are left for one that has them)\n"
	"  check               configuration, database and migrations; the exit status says\n"
	"                      which is wrong (0 ready, 2 configuration, 3 database, 4 run\n"
	"                      migrate, 5 the database is newer than this program)\n"
	"  status              sessions, runs by status, waiting runs by tool, events\n"
	"  runs, sessions      list them; show a run's journal and events; cancel a run (its\n"
	"                      client is told) or end a session. --json for scripts\n"
	"  token create        make a bearer token for NAME (DMCP_AUTH=token); it is printed\n"
	"                      once, alone on the last line, and kept only as its SHA-256\n"
	"  token revoke        refuse it from the next request on; token list: all tokens\n"
	"  --help, --version   print this, or the version of dmcp, and exit\n"
	"\n"
	"Environment (defaults in brackets): DMCP_DATABASE_URL [libpq defaults],\n"
	"DMCP_THREADS [8], DMCP_MAX_BODY [1048576], DMCP_STREAM_HOLD_MS [25000],\n"
	"DMCP_HEARTBEAT_MS [15000], DMCP_POLL_MS [1000], DMCP_RETRY_MS [1000],\n"
	"DMCP_SESSION_TTL [86400], DMCP_MAX_RUNS_PER_SESSION [100],\n"
	"DMCP_MAX_EVENTS_PER_RUN [10000], DMCP_SAMPLING_FALLBACK [none|mock],\n"
	"DMCP_ASYNC_COMMIT [one-step|off], DMCP_RECORD_CALLS [durable|all],\n"
	"DMCP_NOTIFY [auto|always], DMCP_STATE_KEY [kept in the database],\n"
	"DMCP_STATE_TTL [86400], DMCP_TASK_TTL [86400], DMCP_MAX_TASKS [100],\n"
	"DMCP_TASK_POLL_MS [1000], DMCP_RETENTION [86400],\n"
	"DMCP_SQL_TOOLS_SCHEMA [dmcp_tools; empty: none],\n"
	"DMCP_SQL_TOOLS_ROLE [dmcp_tools], DMCP_SQL_TOOLS_TIMEOUT_MS [10000],\n"
	"DMCP_SQL_TOOLS_MAX_ROWS [1000], DMCP_EXEC_TOOLS_DIR [none], DMCP_EXEC_TIMEOUT_MS [30000],\n"
	"DMCP_EXEC_MAX_OUTPUT [1048576], DMCP_START_TIMEOUT [30], DMCP_STATEMENT_TIMEOUT_MS [30000],\n"
	"DMCP_LOCK_TIMEOUT_MS [5000], DMCP_LEASE_S [60], DMCP_STEP_MAX_MS [120000],\n"
	"DMCP_WRITE_TIMEOUT_MS [30000], DMCP_MAX_SUBSCRIPTIONS [100],\n"
	"DMCP_RUN_RETENTION [86400], DMCP_POOLER [none|transaction],\n"
	"DMCP_LISTEN_URL [DMCP_DATABASE_URL],\n"
	"DMCP_ALLOWED_HOSTS [localhost,127.0.0.1,[::1]] (name your public host name here),\n"
	"DMCP_ALLOWED_ORIGINS [http(s) on localhost, 127.0.0.1, [::1]], DMCP_LOG_LEVEL [info],\n"
	"DMCP_LOG_FILE [stderr], DMCP_LOG_FORMAT [text|json],\n"
	"DMCP_METRICS_PATH [none: no metrics page],\n"
	"DMCP_MAX_SESSIONS_PER_PRINCIPAL [0: no limit],\n"
	"DMCP_MAX_RUNS_PER_PRINCIPAL [0: no limit].\n"
	"Authentication: DMCP_AUTH [remote-user] (remote-user, token, jwt, or a comma list\n"
	"tried in order), DMCP_RESOURCE (this server's URL; token and jwt),\n"
	"DMCP_REQUIRED_SCOPES, DMCP_SCOPES_SUPPORTED, DMCP_AUTHORIZATION_SERVERS [the issuer];\n"
	"jwt: DMCP_JWT_ISSUER, DMCP_JWKS_FILE, DMCP_JWT_PRINCIPAL_CLAIM [sub],\n"
	"DMCP_JWT_AUDIENCE [DMCP_RESOURCE]. See dmcp.fcgi(8).\n";

/* The program's name for messages: argv[0] without its directory. */
static const char *prog_name = "dmcp.fcgi";

static void print_usage(FILE *f)
{
	const char *line = ops_usage;
	size_t n;

	fprintf(f, "usage: %s [--socket PATH] [--socket-mode MODE] [--threads N] [--user NAME]\n"
	           "       %s migrate | sweep | --help | --version\n", prog_name, prog_name);
	for (; *line != '\0'; line += n + 1) {
		n = strcspn(line, "\n");
		fprintf(f, "       %s%.*s\n", prog_name, (int)n, line);
		if (line[n] == '\0')
			break;
	}
	fprintf(f, "       %s token create --principal NAME [--expires DURATION|TIME] "
	           "[--scope \"a b\"]\n"
	           "       %s token revoke TOKEN|ID | token list [--json]\n", prog_name, prog_name);
	fputs(usage_rest, f);
}

/* ---- FastCGI I/O ----------------------------------------------------------------------- */

/* One request's FastCGI streams, and whether writing to them failed. */
struct fcgi_io {
	FCGX_Request *req;
	int failed; /* a write or flush failed: the client is gone, or did not read in time */
};

static dmcp_rc fcgi_read(void *io, char *p, size_t cap, size_t *got)
{
	FCGX_Request *req = ((struct fcgi_io *)io)->req;
	int n = FCGX_GetStr(p, cap > 1u << 30 ? 1 << 30 : (int)cap, req->in);

	*got = n > 0 ? (size_t)n : 0;
	return n < 0 ? DMCP_E_IO : DMCP_OK;
}

static dmcp_rc fcgi_write(void *io, const char *p, size_t n)
{
	struct fcgi_io *f = io;

	while (n > 0) {
		int chunk = n > 1u << 20 ? 1 << 20 : (int)n;
		if (f->failed || FCGX_PutStr(p, chunk, f->req->out) != chunk) {
			f->failed = 1;
			return DMCP_E_IO;
		}
		p += chunk;
		n -= (size_t)chunk;
	}
	return DMCP_OK;
}

static dmcp_rc fcgi_flush(void *io)
{
	struct fcgi_io *f = io;

	if (!f->failed && FCGX_FFlush(f->req->out) == 0)
		return DMCP_OK;
	f->failed = 1;
	return DMCP_E_IO;
}

static void fill_request(struct srv_req *rq, FCGX_ParamArray env)
{
	memset(rq, 0, sizeof *rq);
	rq->method = FCGX_GetParam("REQUEST_METHOD", env);
	rq->accept = FCGX_GetParam("HTTP_ACCEPT", env);
	rq->content_type = FCGX_GetParam("CONTENT_TYPE", env);
	rq->content_length = FCGX_GetParam("CONTENT_LENGTH", env);
	rq->origin = FCGX_GetParam("HTTP_ORIGIN", env);
	rq->host = FCGX_GetParam("HTTP_HOST", env);
	rq->session_id = FCGX_GetParam("HTTP_MCP_SESSION_ID", env);
	rq->protocol_version = FCGX_GetParam("HTTP_MCP_PROTOCOL_VERSION", env);
	rq->last_event_id = FCGX_GetParam("HTTP_LAST_EVENT_ID", env);
	rq->remote_user = FCGX_GetParam("REMOTE_USER", env);
	rq->mcp_method = FCGX_GetParam("HTTP_MCP_METHOD", env);
	rq->mcp_name = FCGX_GetParam("HTTP_MCP_NAME", env);
	rq->authorization = FCGX_GetParam("HTTP_AUTHORIZATION", env);
	rq->request_uri = FCGX_GetParam("REQUEST_URI", env);
	rq->script_name = FCGX_GetParam("SCRIPT_NAME", env);
	rq->path_info = FCGX_GetParam("PATH_INFO", env);
}

/* Sleep ms, or less when the program stops. */
static void nap(int ms)
{
	while (ms > 0 && !stopping) {
		int step = ms > FRONT_WAKE_EVERY_MS ? FRONT_WAKE_EVERY_MS : ms;
		(void)poll(NULL, 0, step);
		ms -= step;
	}
}

/* A write to the web server that blocks longer than ms fails (the client does not read and
 * the web server does not buffer): the request ends instead of holding its thread. */
static void set_write_timeout(int fd, int ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (fd >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Accept the next request; 0 when the thread should stop. A failed accept() (out of file
 * descriptors, of memory) is retried with backoff: the thread never exits on its own. */
static int accept_next(struct worker_arg *a, FCGX_Request *req)
{
	int backoff = FRONT_ACCEPT_RETRY_MIN_MS;

	for (;;) {
		int rc;
		__atomic_store_n(&a->in_accept, 1, __ATOMIC_SEQ_CST);
		if (stopping) {
			__atomic_store_n(&a->in_accept, 0, __ATOMIC_SEQ_CST);
			return 0;
		}
		rc = FCGX_Accept_r(req);
		__atomic_store_n(&a->in_accept, 0, __ATOMIC_SEQ_CST);
		if (rc == 0)
			return 1;
		if (stopping)
			return 0;
		if (errno != EINTR)
			log_msg(LOG_WARN, "accept failed (%s); retrying in %d ms", strerror(errno),
			        backoff);
		nap(backoff);
		backoff = backoff * 2 > FRONT_ACCEPT_RETRY_MAX_MS ? FRONT_ACCEPT_RETRY_MAX_MS
		                                                  : backoff * 2;
	}
}

static void *worker_main(void *p)
{
	struct worker_arg *a = p;
	struct srv_worker *w = NULL;
	FCGX_Request req;
	struct srv_req rq;
	struct srv_out out;
	char err[300];

	if (srv_worker_new(a->srv, &w, err, sizeof err) != DMCP_OK) {
		log_msg(LOG_ERROR, "worker: %s", err);
		__atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
		return NULL;
	}
	/* Connect before the first accept when the database is there; when it is not, requests
	 * are answered 503 at once and the connection is tried again with each. */
	if (srv_worker_connect(w) != DMCP_OK)
		log_msg(LOG_DEBUG, "worker: no database yet; its requests get 503 until there is");
	if (FCGX_InitRequest(&req, a->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		srv_worker_free(w);
		__atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
		return NULL;
	}
	while (accept_next(a, &req)) {
		struct fcgi_io io = {&req, 0};
		set_write_timeout(req.ipcFd, a->write_timeout_ms);
		fill_request(&rq, req.envp);
		rq.io = &io;
		rq.read = fcgi_read;
		out.io = &io;
		out.write = fcgi_write;
		out.flush = fcgi_flush;
		out.fd = req.ipcFd;
		srv_handle(w, &rq, &out);
		/* A failed write: the connection is of no more use. Shut it down, so that libfcgi's
		 * end-of-request records and its lingering close (up to 2 s waiting for the peer)
		 * do not hold the thread once more. */
		if (io.failed && req.ipcFd >= 0)
			(void)shutdown(req.ipcFd, SHUT_RDWR);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	srv_worker_free(w);
	__atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* 1 when the database answers and holds exactly the program's migrations; else 0 with err
 * saying why (cannot connect, behind, ahead). */
static int schema_ok(struct store *st, char *err, size_t errlen)
{
	return store_schema_check(st, err, errlen) == DMCP_OK;
}

/* ---- CGI I/O --------------------------------------------------------------------------- */

static dmcp_rc cgi_read(void *io, char *p, size_t cap, size_t *got)
{
	(void)io;
	*got = fread(p, 1, cap, stdin);
	return ferror(stdin) ? DMCP_E_IO : DMCP_OK;
}

static dmcp_rc cgi_write(void *io, const char *p, size_t n)
{
	(void)io;
	return fwrite(p, 1, n, stdout) == n ? DMCP_OK : DMCP_E_IO;
}

static dmcp_rc cgi_flush(void *io)
{
	(void)io;
	return fflush(stdout) == 0 ? DMCP_OK : DMCP_E_IO;
}

static int serve_cgi(struct srv *srv)
{
	struct srv_worker *w = NULL;
	struct srv_req rq;
	struct srv_out out;
	char err[300];

	memset(&rq, 0, sizeof rq);
	rq.method = getenv("REQUEST_METHOD");
	rq.accept = getenv("HTTP_ACCEPT");
	rq.content_type = getenv("CONTENT_TYPE");
	rq.content_length = getenv("CONTENT_LENGTH");
	rq.origin = getenv("HTTP_ORIGIN");
	rq.host = getenv("HTTP_HOST");
	rq.session_id = getenv("HTTP_MCP_SESSION_ID");
	rq.protocol_version = getenv("HTTP_MCP_PROTOCOL_VERSION");
	rq.last_event_id = getenv("HTTP_LAST_EVENT_ID");
	rq.remote_user = getenv("REMOTE_USER");
	rq.mcp_method = getenv("HTTP_MCP_METHOD");
	rq.mcp_name = getenv("HTTP_MCP_NAME");
	rq.authorization = getenv("HTTP_AUTHORIZATION");
	rq.request_uri = getenv("REQUEST_URI");
	rq.script_name = getenv("SCRIPT_NAME");
	rq.path_info = getenv("PATH_INFO");
	rq.read = cgi_read;
	out.io = NULL;
	out.write = cgi_write;
	out.flush = cgi_flush;
	out.fd = -1;
	if (rq.method == NULL) {
		print_usage(stderr);
		return 2;
	}
	srv_tools_start(srv, 0);
	/* One process, one connection: streams poll the table rather than open a listener. */
	srv_set_no_listener(srv);
	if (srv_worker_new(srv, &w, err, sizeof err) != DMCP_OK ||
	    !schema_ok(srv_worker_store(w), err, sizeof err)) {
		log_msg(LOG_ERROR, "%s", err);
		fputs("Status: 503 Service Unavailable\r\nRetry-After: 1\r\n"
		      "Content-Type: application/json\r\n\r\n"
		      "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,"
		      "\"message\":\"database unavailable\"}}", stdout);
		srv_worker_free(w);
		return 0;
	}
	srv_handle(w, &rq, &out);
	srv_worker_free(w);
	return 0;
}

/* ---- commands -------------------------------------------------------------------------- */

static void report_migration(const char *name, int applied)
{
	printf("migration %s: %s\n", name, applied ? "applied" : "already applied");
}

/* What a command receives besides its words. */
struct cmd_env {
	const struct cfg *cfg;
	dmcp_register_fn register_tools; /* the program's tools (NULL: none) */
};

static int cmd_migrate(int argc, char **argv, const struct cmd_env *e)
{
	const struct cfg *cfg = e->cfg;
	struct store *st = NULL;
	char err[400];
	dmcp_rc rc;

	(void)argc;
	(void)argv;
	rc = store_open(cfg->database_url, &st, err, sizeof err);
	if (rc == DMCP_OK)
		rc = store_migrate(st, report_migration, err, sizeof err);
	store_close(st);
	if (rc != DMCP_OK) {
		fprintf(stderr, "dmcp migrate: %s\n", err);
		return 1;
	}
	return 0;
}

/* A new registry holding the program's tools (none when register_tools is NULL), with the
 * mock sampling provider when DMCP_SAMPLING_FALLBACK=mock and the program set none. NULL
 * (after logging why) when registration fails; the caller frees the registry. */
static dmcp_registry *build_registry(dmcp_register_fn register_tools, const struct cfg *cfg)
{
	dmcp_registry *reg = dmcp_registry_new();
	char err[400];

	if (reg == NULL) {
		log_msg(LOG_ERROR, "cannot register the tools: out of memory");
		return NULL;
	}
	err[0] = '\0';
	if (register_tools != NULL && register_tools(reg, err, sizeof err) != DMCP_OK) {
		log_msg(LOG_ERROR, "cannot register the tools: %s", err[0] ? err : "no reason given");
		dmcp_registry_free(reg);
		return NULL;
	}
	if (cfg->sampling_mock && reg->sampling == NULL)
		dmcp_set_sampling_provider(reg, dmcp_mock_sampling_provider());
	return reg;
}

/* Orphaned runs one sweep resumes at most (the rest wait for the next sweep). */
#define SWEEP_MAX_ORPHANS 100
/* Due steps one sweep takes at most: a minute's cron run steps a hundred thousand runs well
 * within its minute; the rest wait for the next one. */
#define SWEEP_MAX_DUE 100000
/* Rows one statement of the sweep changes at most: each batch is a short transaction that
 * holds few locks, and the sweep goes on until a batch comes back short. */
#define SWEEP_BATCH 500

static int cmd_sweep(int argc, char **argv, const struct cmd_env *e)
{
	const struct cfg *cfg = e->cfg;
	struct store *st = NULL;
	dmcp_registry *reg = build_registry(e->register_tools, cfg);
	struct dyn *dyn = NULL;
	struct rt_env env;
	char err[400];
	struct sweep_counts n;
	long expired = 0;
	int taken = 0, due = 0;
	dmcp_rc rc;

	if (reg == NULL)
		return 1;
	rc = store_open(cfg->database_url, &st, err, sizeof err);
	if (rc != DMCP_OK) {
		fprintf(stderr, "dmcp sweep: %s\n", err);
		dmcp_registry_free(reg);
		return 1;
	}
	(void)argc;
	(void)argv;
	rc = store_ready(st);
	if (rc == DMCP_OK)
		rc = store_sweep(st, cfg->session_ttl_s, cfg->retention_s, SWEEP_BATCH, &n);
	memset(&env, 0, sizeof env);
	env.cfg = cfg;
	env.reg = reg;
	env.st = st;
	/* Calls of SQL functions and programs are finished too: their tools, as now. */
	if (rc == DMCP_OK && dyn_new(reg, cfg, &dyn) == DMCP_OK && dyn != NULL) {
		dyn_rescan(dyn, 0);
		env.reg = dyn_acquire(dyn, st);
	}
	if (rc == DMCP_OK)
		rc = store_expire(st, cfg->expire_s, &expired);
	if (rc == DMCP_OK)
		rc = rt_recover_orphans(&env, SWEEP_MAX_ORPHANS, &taken);
	if (rc == DMCP_OK)
		rc = rt_run_due(&env, NULL, SWEEP_MAX_DUE, &due);
	if (dyn != NULL)
		dyn_release(dyn, env.reg);
	dyn_free(dyn);
	store_close(st);
	dmcp_registry_free(reg);
	if (rc != DMCP_OK) {
		fprintf(stderr, "dmcp sweep: database error (see the log above)\n");
		return 1;
	}
	printf("sweep: %ld sessions ended, %ld deleted, %ld finished runs trimmed, %ld runs expired, "
	       "%d orphaned runs resumed, %d due steps taken\n", n.ended, n.deleted, n.trimmed,
	       expired, taken, due);
	return 0;
}

/* The operator's commands (ops.h); check also registers the tools and builds the server as
 * serving would, so that a configuration that cannot serve fails here. */
static int cmd_ops(int argc, char **argv, const struct cmd_env *e)
{
	dmcp_registry *reg = NULL;
	struct srv *srv = NULL;
	static volatile sig_atomic_t never;
	int tools = 0, rc;

	if (strcmp(argv[0], "check") == 0) {
		reg = build_registry(e->register_tools, e->cfg);
		tools = reg != NULL && srv_new(e->cfg, reg, &never, &srv) == DMCP_OK
		        ? reg->n_tools : -1;
		srv_free(srv);
	}
	rc = ops_main(argc, argv, e->cfg, tools);
	dmcp_registry_free(reg);
	return rc;
}

/* token create|revoke|list (token.h). */
static int cmd_token(int argc, char **argv, const struct cmd_env *e)
{
	return token_cli(argc - 1, argv + 1, e->cfg);
}

/* The commands, by the word that names them. words: the command takes every word after its
 * name as its own (else the options of serving may follow it, and are ignored). */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv, const struct cmd_env *e); /* argv[0]: the name */
	int words;
} commands[] = {
	{"migrate", cmd_migrate, 0},
	{"sweep", cmd_sweep, 0},
	{"check", cmd_ops, 1},
	{"status", cmd_ops, 1},
	{"runs", cmd_ops, 1},
	{"sessions", cmd_ops, 1},
	{"token", cmd_token, 1},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* ---- start-up -------------------------------------------------------------------------- */

struct opts {
	const char *socket;            /* --socket, or NULL */
	mode_t socket_mode;            /* --socket-mode */
	int threads;                   /* --threads, or 0 for DMCP_THREADS */
	const char *user;              /* --user, or NULL */
	const struct command *command; /* the command, or NULL to serve */
	int cmd_argc;                  /* its words, from its name on */
	char **cmd_argv;
};

static const struct command *command_named(const char *word)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(word, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

static int parse_int_arg(const char *s, long lo, long hi, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return 0;
	*out = v;
	return 1;
}

/* 0 ok, 1 exit 0 (help/version), 2 usage error. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	long v;
	int i;

	memset(o, 0, sizeof *o);
	o->socket_mode = 0660;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			print_usage(stdout);
			return 1;
		} else if (strcmp(a, "--version") == 0) {
			puts("dmcp " DMCP_VERSION);
			return 1;
		} else if (strcmp(a, "--socket") == 0 && i + 1 < argc) {
			o->socket = argv[++i];
		} else if (strcmp(a, "--user") == 0 && i + 1 < argc) {
			o->user = argv[++i];
		} else if (strcmp(a, "--socket-mode") == 0 && i + 1 < argc &&
		           parse_int_arg(argv[i + 1], 0, 0777, &v)) {
			o->socket_mode = (mode_t)v;
			i++;
		} else if (strcmp(a, "--threads") == 0 && i + 1 < argc &&
		           parse_int_arg(argv[i + 1], 1, 256, &v)) {
			o->threads = (int)v;
			i++;
		} else if (o->command == NULL && command_named(a) != NULL) {
			o->command = command_named(a);
			o->cmd_argc = o->command->words ? argc - i : 1;
			o->cmd_argv = argv + i;
			if (o->command->words)
				break;
		} else {
			fprintf(stderr, "dmcp: bad argument '%s'\n", a);
			print_usage(stderr);
			return 2;
		}
	}
	return 0;
}

/* --socket PATH: only a socket nobody listens on may be replaced (a server left it behind);
 * any other file is refused, and so is a socket another server still answers on. */
static int unix_path_free(const char *path)
{
	struct sockaddr_un sa;
	struct stat sb;
	int fd, live;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 1 : (log_msg(LOG_ERROR, "cannot use %s: %s", path,
		                                      strerror(errno)), 0);
	if (!S_ISSOCK(sb.st_mode)) {
		log_msg(LOG_ERROR, "%s exists and is not a socket; not replacing it", path);
		return 0;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		log_msg(LOG_ERROR, "socket path too long: %s", path);
		return 0;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	if (fd >= 0)
		close(fd);
	if (live) {
		log_msg(LOG_ERROR, "%s is in use by another server", path);
		return 0;
	}
	return unlink(path) == 0 || errno == ENOENT;
}

static int open_listener(const struct opts *o)
{
	char where[300];
	int fd;

	if (o->socket == NULL)
		return 0; /* handed over by the web server, spawn-fcgi or systemd */
	/* ":PORT" would bind every interface (libfcgi's reading): loopback unless a host is named. */
	snprintf(where, sizeof where, "%s%s", o->socket[0] == ':' ? "127.0.0.1" : "", o->socket);
	if (where[0] == '/' && !unix_path_free(where))
		return -1;
	fd = FCGX_OpenSocket(where, MAIN_BACKLOG);
	if (fd < 0) {
		log_msg(LOG_ERROR, "cannot listen on %s: %s", where, strerror(errno));
		return -1;
	}
	if (where[0] == '/' && chmod(where, o->socket_mode) != 0) {
		log_msg(LOG_ERROR, "cannot chmod %s: %s", where, strerror(errno));
		return -1;
	}
	if (where[0] != '/')
		log_msg(LOG_INFO, "listening on TCP %s", where);
	return fd;
}

/* --user: become that user (and its primary group, no supplementary groups). */
static int drop_to(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		log_msg(LOG_ERROR, "--user %s: no such user", user);
		return 0;
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		log_msg(LOG_ERROR, "--user %s: cannot switch to it: %s", user, strerror(errno));
		return 0;
	}
	return 1;
}

static void wake_handler(int sig)
{
	(void)sig; /* only there to interrupt accept() */
}

/* Start-up's check, while the threads already answer (503 until the database is there):
 * the database must answer, with the program's migrations, within DMCP_START_TIMEOUT.
 * 1 when it does; 0 after one log line saying why not (or when a signal stops the program:
 * *sig is then set). */
static int start_check(struct srv *srv, const struct cfg *cfg, const sigset_t *set, int *sig)
{
	struct store *st = NULL;
	struct timespec ts;
	char err[400];
	long long waited = 0, limit = (long long)cfg->start_timeout_s * 1000;
	int backoff = FRONT_START_RETRY_MIN_MS, ok = 0, tries = 0;
	dmcp_rc rc = DMCP_E_DB;

	(void)srv;
	*sig = 0;
	snprintf(err, sizeof err, "no answer");
	if (store_open_lazy(cfg->database_url, &st) != DMCP_OK)
		return 0;
	for (;;) {
		tries++;
		rc = store_schema_check(st, err, sizeof err);
		if (rc == DMCP_OK) {
			ok = 1;
			break;
		}
		if (rc == DMCP_E_VERSION || waited >= limit)
			break;
		if (tries == 1)
			log_msg(LOG_WARN, "start: %s; waiting up to DMCP_START_TIMEOUT (%d s)", err,
			        cfg->start_timeout_s);
		ts.tv_sec = backoff / 1000;
		ts.tv_nsec = (long)(backoff % 1000) * 1000000L;
		*sig = sigtimedwait(set, NULL, &ts);
		if (*sig > 0 && *sig != SIGHUP)
			break;
		*sig = 0;
		waited += backoff;
		backoff = backoff * 2 > FRONT_START_RETRY_MAX_MS ? FRONT_START_RETRY_MAX_MS : backoff * 2;
	}
	store_close(st);
	if (!ok && *sig == 0) {
		if (rc == DMCP_E_VERSION)
			log_msg(LOG_ERROR, "refusing to serve: %s", err);
		else
			log_msg(LOG_ERROR, "no database within DMCP_START_TIMEOUT (%d s): %s; exiting",
			        cfg->start_timeout_s, err);
	}
	return ok;
}

/* Stop every worker: no new request is accepted (threads blocked in accept() are woken by a
 * signal, again and again until they are out), requests in flight finish, streams end with
 * retry:. The listening socket itself is left alone: other processes may share it (spawn-fcgi
 * -F, a kept systemd socket), and the next process inherits it. */
static void stop_workers(struct worker_arg *args, int threads)
{
	int i, left;

	stopping = 1;
	do {
		left = 0;
		for (i = 0; i < threads; i++) {
			if (!args[i].started || __atomic_load_n(&args[i].done, __ATOMIC_SEQ_CST))
				continue;
			left++;
			if (__atomic_load_n(&args[i].in_accept, __ATOMIC_SEQ_CST))
				pthread_kill(args[i].thread, FRONT_WAKE_SIGNAL);
		}
		if (left > 0)
			(void)poll(NULL, 0, FRONT_WAKE_EVERY_MS);
	} while (left > 0);
	for (i = 0; i < threads; i++)
		if (args[i].started)
			pthread_join(args[i].thread, NULL);
}

static int serve_fastcgi(struct srv *srv, const struct cfg *cfg, int listen_fd, int threads)
{
	struct worker_arg *args = calloc((size_t)threads, sizeof *args);
	struct store *probe = NULL;
	struct sigaction sa;
	sigset_t set;
	char err[400];
	int i, sig = 0, started = 0, rc = 0;
	dmcp_rc first;

	if (args == NULL)
		return 1;
	srv_set_threads(srv, threads);
	/* The listener first, when the database is there: a stream served right after start-up
	 * is woken by NOTIFY, and the session cache is on, from the first request. When it is
	 * not, the threads start at once and answer 503 until it is (start_check). */
	if (store_open_lazy(cfg->database_url, &probe) != DMCP_OK) {
		free(args);
		return 1;
	}
	first = store_schema_check(probe, err, sizeof err);
	store_close(probe);
	if (first == DMCP_E_VERSION) {
		log_msg(LOG_ERROR, "refusing to serve: %s", err);
		free(args);
		return 1;
	}
	if (!srv_listen(srv, first == DMCP_OK ? FRONT_LISTEN_WAIT_MS : 0) && first == DMCP_OK)
		log_msg(LOG_WARN, "the listener is not connected yet; it keeps trying");
	srv_tools_start(srv, 1);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = wake_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: accept() returns EINTR */
	sigaction(FRONT_WAKE_SIGNAL, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < threads; i++) {
		args[i].srv = srv;
		args[i].listen_fd = listen_fd;
		args[i].write_timeout_ms = cfg->write_timeout_ms;
		if (pthread_create(&args[i].thread, NULL, worker_main, &args[i]) == 0) {
			args[i].started = 1;
			started++;
		}
	}
	log_msg(LOG_INFO, "serving FastCGI with %d worker threads", started);
	if (first != DMCP_OK && !start_check(srv, cfg, &set, &sig)) {
		rc = sig == 0 ? 1 : 0;
	} else {
		while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
			srv_tools_reload(srv); /* the programs and the SQL catalog, read again */
	}
	if (sig != 0)
		log_msg(LOG_INFO, "signal %d: stopping (open streams end with retry:)", sig);
	stop_workers(args, threads);
	free(args);
	log_msg(LOG_INFO, rc == 0 ? "stopped" : "stopped (start-up failed)");
	return rc;
}

/* DMCP_LOG_FILE: append the log (and anything else written to stderr, such as sanitizer
 * reports) to a file; process managers like spawn-fcgi point stderr at /dev/null. */
static int set_log_file(void)
{
	const char *path = getenv("DMCP_LOG_FILE");
	int fd;

	if (path == NULL || *path == '\0')
		return 1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
		fprintf(stderr, "dmcp: cannot open DMCP_LOG_FILE %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (fd != STDERR_FILENO)
		close(fd);
	return 1;
}

static int set_log_level(void)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	const char *s = getenv("DMCP_LOG_LEVEL");
	int i;

	if (s == NULL || *s == '\0')
		return 1;
	for (i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			log_set_level((enum log_level)i);
			return 1;
		}
	}
	fprintf(stderr, "dmcp: DMCP_LOG_LEVEL must be debug, info, warn or error\n");
	return 0;
}

/* DMCP_LOG_FORMAT: text (default) or json, one object per line. */
static int set_log_format(void)
{
	const char *s = getenv("DMCP_LOG_FORMAT");

	if (s == NULL || *s == '\0' || strcmp(s, "text") == 0)
		return 1;
	if (strcmp(s, "json") == 0) {
		log_set_format(LOG_FORMAT_JSON);
		return 1;
	}
	fprintf(stderr, "dmcp: DMCP_LOG_FORMAT must be text or json\n");
	return 0;
}

/* argv[0] without its directory, or "dmcp.fcgi" when there is none. */
static const char *name_of(int argc, char **argv)
{
	const char *slash;

	if (argc < 1 || argv[0] == NULL || argv[0][0] == '\0')
		return "dmcp.fcgi";
	slash = strrchr(argv[0], '/');
	return slash != NULL && slash[1] != '\0' ? slash + 1 : argv[0];
}

int dmcp_main(int argc, char **argv, dmcp_register_fn register_tools)
{
	struct opts o;
	struct cfg cfg;
	dmcp_registry *reg = NULL;
	struct srv *srv = NULL;
	struct store_cfg scfg;
	char err[400];
	int rc = 1, listen_fd, cgi;

	prog_name = name_of(argc, argv);
	rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	rc = 1;
	if (!set_log_level() || !set_log_file() || !set_log_format() || FAULT_INIT() != 0)
		return 2;
	log_detect_journal(); /* stderr is final now */
	if (cfg_load(&cfg, err, sizeof err) != DMCP_OK) {
		fprintf(stderr, "dmcp: %s\n", err);
		return 2;
	}
	scfg.statement_timeout_ms = cfg.statement_timeout_ms;
	scfg.lock_timeout_ms = cfg.lock_timeout_ms;
	scfg.idle_tx_timeout_ms = FRONT_IDLE_TX_MS;
	scfg.lease_s = cfg.lease_s;
	scfg.pooled = cfg.pooled;
	store_setup(&scfg);
	if (o.command != NULL) {
		struct cmd_env e = {&cfg, register_tools};
		rc = o.command->run(o.cmd_argc, o.cmd_argv, &e);
		cfg_free(&cfg);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	reg = build_registry(register_tools, &cfg);
	if (reg == NULL)
		goto out;
	if (srv_new(&cfg, reg, &stopping, &srv) != DMCP_OK)
		goto out;
	if (FCGX_Init() != 0) {
		log_msg(LOG_ERROR, "FCGX_Init failed");
		goto out;
	}
	listen_fd = open_listener(&o);
	if (listen_fd < 0)
		goto out;
	cgi = o.socket == NULL && FCGX_IsCGI();
	/* A server (not a CGI process, whose user the web server chose) never runs as root: it
	 * drops to --user once its socket is open, or refuses. */
	if (o.user != NULL && !drop_to(o.user))
		goto out;
	if (!cgi && o.user == NULL && (getuid() == 0 || geteuid() == 0)) {
		log_msg(LOG_ERROR, "refusing to serve as root: start it as an unprivileged user, or "
		        "give --user NAME to drop to one once the socket is open");
		goto out;
	}
	if (cgi)
		rc = serve_cgi(srv);
	else
		rc = serve_fastcgi(srv, &cfg, listen_fd, o.threads > 0 ? o.threads : cfg.threads);
out:
	srv_free(srv);
	dmcp_registry_free(reg);
	cfg_free(&cfg);
	return rc;
}
