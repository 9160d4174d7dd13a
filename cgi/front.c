/* front.c — dmcp_main(), the FastCGI/CGI front of every dmcp program: the command line,
 * process start-up, the accept loop (FCGX_Accept_r, one database connection per worker
 * thread), turning FastCGI params and stdin into a core request, writing core's answer back,
 * a clean stop on SIGTERM/SIGINT, and the migrate, sweep and token commands. The program's tools
 * come from the register function its main() passes in.
 * Knows no MCP: everything past the request struct is core's. FastCGI 1.0; RFC 3875 (CGI). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcgiapp.h>
#include "cfg.h"
#include "dmcp.h"
#include "dynreg.h"
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

static volatile sig_atomic_t stopping; /* set once SIGTERM/SIGINT arrived */

struct worker_arg {
	struct srv *srv;  /* shared */
	int listen_fd;    /* the FastCGI listening socket */
	pthread_t thread;
	int started;      /* the thread was created */
};

/* The usage text after its first two lines, which name the program (print_usage). */
static const char usage_rest[] =
	"\n"
	"Serves the MCP endpoint with the tools this program was built with, over FastCGI:\n"
	"on fd 0 when the web server, spawn-fcgi or systemd hands over a listening socket, on\n"
	"PATH with --socket, or as plain CGI (one request) when fd 0 is not a socket.\n"
	"  --socket PATH       listen on the Unix socket PATH (or :PORT / HOST:PORT)\n"
	"  --socket-mode MODE  permissions of that socket, octal (default 0660)\n"
	"  --threads N         worker threads, each with one database connection\n"
	"                      (default DMCP_THREADS or 8)\n"
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
	"DMCP_EXEC_MAX_OUTPUT [1048576],\n"
	"DMCP_ALLOWED_HOSTS [localhost,127.0.0.1,[::1]] (name your public host name here),\n"
	"DMCP_ALLOWED_ORIGINS [http(s) on localhost, 127.0.0.1, [::1]], DMCP_LOG_LEVEL [info],\n"
	"DMCP_LOG_FILE [stderr], DMCP_LOG_FORMAT [text|json],\n"
	"DMCP_METRICS_PATH [none: no metrics page],\n"
	"DMCP_MAX_SESSIONS_PER_PRINCIPAL [0: no limit].\n"
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

	fprintf(f, "usage: %s [--socket PATH] [--socket-mode MODE] [--threads N]\n"
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

static dmcp_rc fcgi_read(void *io, char *p, size_t cap, size_t *got)
{
	FCGX_Request *req = io;
	int n = FCGX_GetStr(p, cap > 1u << 30 ? 1 << 30 : (int)cap, req->in);

	*got = n > 0 ? (size_t)n : 0;
	return n < 0 ? DMCP_E_IO : DMCP_OK;
}

static dmcp_rc fcgi_write(void *io, const char *p, size_t n)
{
	FCGX_Request *req = io;

	while (n > 0) {
		int chunk = n > 1u << 20 ? 1 << 20 : (int)n;
		if (FCGX_PutStr(p, chunk, req->out) != chunk)
			return DMCP_E_IO;
		p += chunk;
		n -= (size_t)chunk;
	}
	return DMCP_OK;
}

static dmcp_rc fcgi_flush(void *io)
{
	FCGX_Request *req = io;

	return FCGX_FFlush(req->out) == 0 ? DMCP_OK : DMCP_E_IO;
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

static void *worker_main(void *p)
{
	struct worker_arg *a = p;
	struct srv_worker *w = NULL;
	FCGX_Request req;
	struct srv_req rq;
	struct srv_out out;
	char err[300];

	/* The connection is opened before the first accept: a worker that cannot reach the
	 * database takes no requests and says why. */
	if (srv_worker_new(a->srv, &w, err, sizeof err) != DMCP_OK) {
		log_msg(LOG_ERROR, "worker: %s", err);
		return NULL;
	}
	if (FCGX_InitRequest(&req, a->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		srv_worker_free(w);
		return NULL;
	}
	while (!stopping && FCGX_Accept_r(&req) == 0) {
		fill_request(&rq, req.envp);
		rq.io = &req;
		rq.read = fcgi_read;
		out.io = &req;
		out.write = fcgi_write;
		out.flush = fcgi_flush;
		out.fd = req.ipcFd;
		srv_handle(w, &rq, &out);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	srv_worker_free(w);
	return NULL;
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
	if (srv_worker_new(srv, &w, err, sizeof err) != DMCP_OK) {
		log_msg(LOG_ERROR, "%s", err);
		fputs("Status: 503 Service Unavailable\r\nContent-Type: application/json\r\n\r\n"
		      "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,"
		      "\"message\":\"database unavailable\"}}", stdout);
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

/* What a command gets besides its words. */
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

static int cmd_sweep(int argc, char **argv, const struct cmd_env *e)
{
	const struct cfg *cfg = e->cfg;
	struct store *st = NULL;
	dmcp_registry *reg = build_registry(e->register_tools, cfg);
	struct dyn *dyn = NULL;
	struct rt_env env;
	char err[400];
	long ended = 0, deleted = 0, expired = 0;
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
		rc = store_sweep(st, cfg->session_ttl_s, &ended, &deleted);
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
		rc = store_expire(st, cfg->retention_s, &expired);
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
	printf("sweep: %ld sessions ended, %ld deleted, %ld runs expired, %d orphaned runs "
	       "resumed, %d due steps taken\n", ended, deleted, expired, taken, due);
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

static int open_listener(const struct opts *o)
{
	int fd;

	if (o->socket == NULL)
		return 0; /* handed over by the web server, spawn-fcgi or systemd */
	if (o->socket[0] == '/')
		unlink(o->socket);
	fd = FCGX_OpenSocket(o->socket, MAIN_BACKLOG);
	if (fd < 0) {
		log_msg(LOG_ERROR, "cannot listen on %s: %s", o->socket, strerror(errno));
		return -1;
	}
	if (o->socket[0] == '/' && chmod(o->socket, o->socket_mode) != 0) {
		log_msg(LOG_ERROR, "cannot chmod %s: %s", o->socket, strerror(errno));
		return -1;
	}
	return fd;
}

static int serve_fastcgi(struct srv *srv, int listen_fd, int threads)
{
	struct worker_arg *args = calloc((size_t)threads, sizeof *args);
	sigset_t set;
	int i, sig = 0, started = 0;

	if (args == NULL)
		return 1;
	srv_set_threads(srv, threads);
	/* The listener first: a stream served right after start-up is woken by NOTIFY, and the
	 * session cache is on, from the first request. */
	if (!srv_listen(srv, FRONT_LISTEN_WAIT_MS))
		log_msg(LOG_WARN, "the listener is not connected yet; it keeps trying");
	srv_tools_start(srv, 1);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < threads; i++) {
		args[i].srv = srv;
		args[i].listen_fd = listen_fd;
		if (pthread_create(&args[i].thread, NULL, worker_main, &args[i]) == 0) {
			args[i].started = 1;
			started++;
		}
	}
	log_msg(LOG_INFO, "serving FastCGI with %d worker threads", started);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		srv_tools_reload(srv); /* the programs and the SQL catalog, read again */
	log_msg(LOG_INFO, "signal %d: stopping (open streams end with retry:)", sig);
	stopping = 1;
	/* Wake every thread blocked in accept(): shutting the listener down makes accept fail. */
	shutdown(listen_fd, SHUT_RDWR);
	for (i = 0; i < threads; i++)
		if (args[i].started)
			pthread_join(args[i].thread, NULL);
	free(args);
	log_msg(LOG_INFO, "stopped");
	return 0;
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
	char err[400];
	int rc = 1, listen_fd;

	prog_name = name_of(argc, argv);
	rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	rc = 1;
	if (!set_log_level() || !set_log_file() || !set_log_format())
		return 2;
	log_detect_journal(); /* stderr is final now */
	if (cfg_load(&cfg, err, sizeof err) != DMCP_OK) {
		fprintf(stderr, "dmcp: %s\n", err);
		return 2;
	}
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
	if (o.socket == NULL && FCGX_IsCGI())
		rc = serve_cgi(srv);
	else
		rc = serve_fastcgi(srv, listen_fd, o.threads > 0 ? o.threads : cfg.threads);
out:
	srv_free(srv);
	dmcp_registry_free(reg);
	cfg_free(&cfg);
	return rc;
}
