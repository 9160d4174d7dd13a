/* srvint.h — what the transport (server.c: header rules, bodies, the 2025-11-25 session wire,
 * streams) shares with modern.c (the 2026-07-28 sessionless wire). Internal to the library:
 * not installed and not for tool authors. Knows nothing of FastCGI. MCP 2025-11-25
 * basic/transports; MCP 2026-07-28 basic/transports and basic/lifecycle. */
#ifndef DMCP_SRVINT_H
#define DMCP_SRVINT_H

#include <pthread.h>
#include <signal.h>
#include <json-c/json.h>
#include "auth.h"
#include "buf.h"
#include "cfg.h"
#include "rows.h"
#include "rpc.h"
#include "scache.h"
#include "state.h"
#include "server.h"
#include "store.h"
#include "wake.h"

struct rt_call;
struct timers;

struct srv {
	const struct cfg *cfg;                  /* borrowed */
	dmcp_registry *reg;                     /* borrowed */
	const volatile sig_atomic_t *stopping;  /* borrowed: non-zero once shutting down */
	struct wake *wake;                      /* the process's wake-ups */
	int following;                          /* threads following a stream now (atomic) */
	int stepping;                           /* threads running a tool's step now (atomic) */
	int max_following;                      /* how many may follow, or step a new call: the
	                                           rest stay free for requests such as the
	                                           answers those streams wait for, and pings */
	int changes;                            /* of those, change streams (atomic) */
	int max_changes;                        /* how many may (0: none in this process) */
	int threads;                            /* worker threads (srv_set_threads) */
	int busy;                               /* threads inside srv_handle now (atomic) */
	int no_listener;                        /* plain CGI: never open a second connection */
	pthread_mutex_t step_mu;                /* guards workers' step_id and step_steps */
	struct srv_worker *workers;             /* every worker, for lease renewal (step_mu) */
	int wake_owned;                         /* wake is ours: free it, start its listener */
	pthread_mutex_t wake_mu;                /* guards starting the listener */
	struct scache *cache;                   /* sessions this process served (scache.h) */
	struct timers *sched;                    /* the background executor (timers.h), or NULL
	                                           (plain CGI: a request takes the steps it
	                                           makes due now itself) */
	struct dyn *dyn;                        /* tools made while serving (dynreg.h), or
	                                           NULL: reg is all there is */
	struct auth *auth;                      /* who is calling (auth.h): DMCP_AUTH's methods */
	struct state_key key;                   /* signs requestState; loaded on first use */
	int key_ready;                          /* key is loaded (atomic: set once) */
	pthread_mutex_t key_mu;                 /* guards loading it */
};

struct srv_worker {
	struct srv *srv;      /* borrowed */
	struct store *st;     /* owned: this thread's connection */
	struct waiter waiter; /* this thread's doorbell while it follows a run */
	char step_id[33];     /* the run this thread is stepping, "" when none (srv->step_mu) */
	int step_steps;       /* its step count as stored: what renewing its lease expects */
	long long step_since; /* monotonic ms its current step began, 0 when none (atomic) */
	struct srv_worker *next; /* in srv->workers */
};

/* Everything one request owns; freed in one place at the end (srv_handle). */
struct req {
	struct srv_worker *w;
	const dmcp_registry *reg;                /* the tools this request sees: the server's
	                                            registry, or a view of it with the tools made
	                                            while serving (held until the end) */
	const struct srv_req *rq;
	const struct srv_out *out;
	char principal[ROW_MAX_PRINCIPAL + 1]; /* who is calling, as auth_check said */
	char scopes[SCOPE_MAX_LIST + 1];         /* what the caller was granted ("" none) */
	struct buf body;                         /* the request body */
	struct rpc_msg msg;                      /* the parsed message (msg.root owned) */
	struct session_row sess;                 /* the session, when have_sess */
	int have_sess;
	int modern;                              /* on the 2026-07-28 wire (no session) */
	int log_level;                           /* modern: _meta logLevel, 0..7; 8 = none */
	json_object *caps;                       /* owned: parsed client capabilities (the
	                                            session's, or the modern request's _meta) */
	int headed;                              /* the head was written */
	int status;                              /* the HTTP status it had */
};

/* A complete reply: "Status:" head, Content-Type (when ctype), Content-Length, extra header
 * lines (or NULL), then body; written once. Later calls for the same request do nothing. */
void srv_reply(struct req *r, int status, const char *ctype, const char *extra,
               const char *body, size_t len);
/* The same with a JSON body (o is taken). */
void srv_reply_json(struct req *r, int status, json_object *o, const char *extra);
/* A JSON-RPC error with an HTTP status; id may be NULL (null); data is taken. */
void srv_reply_error(struct req *r, int status, json_object *id, int code, const char *msg,
                     json_object *data);
void srv_reply_empty(struct req *r, int status);
/* Make the worker's connection usable; 0 after a 503 reply when the database is down. */
int srv_db_ready(struct req *r);
/* The process's requestState key: DMCP_STATE_KEY, or the one kept in the database (made by
 * the first process that needs it). NULL when neither can be had (logged). */
const struct state_key *srv_state_key(struct srv_worker *w);
/* tools/call on either wire: r->caps, r->principal, r->sess (legacy) or r->modern are set. */
void srv_tools_call(struct req *r);

/* prompts/get of a prompt that runs (dmcp_prompt.run), on either wire: 1 when it answered;
 * 0 for any other prompts/get (mcp.c answers those). */
int srv_prompts_get(struct req *r);

/* The _meta key that names a listen stream's subscription on each of its notifications. */
#define SRV_META_SUBSCRIPTION "io.modelcontextprotocol/subscriptionId"

/* What a change stream delivers: a 2026-07-28 subscriptions/listen stream, or a 2025-11-25
 * session's standalone GET stream. Everything borrowed for the stream's life. */
struct srv_changes {
	int tools, prompts, resources; /* the list_changed kinds it carries */
	json_object *uris;      /* listen: array of resource URIs it carries updates of, or NULL */
	json_object *sub_id;    /* listen: the request's id, stamped as subscriptionId on every
	                           notification and answered at the end; NULL: standalone */
	const char *session_id; /* standalone: the session (its subscriptions, its end) */
};

/* 1 when this process keeps change streams open (it has more than one thread). */
int srv_change_streams(const struct srv *srv);
/* Take a change-stream slot; 0 when none is free. Release it with srv_change_release. */
int srv_change_slot(struct srv *srv);
void srv_change_release(struct srv *srv);
/* Write the SSE head and first (an event's data, or NULL), then the changes c carries as
 * they are notified, with heartbeats, until the hold time passes (then the end: listen's
 * answer, or retry:), the client leaves or the server stops. The caller holds a slot. */
void srv_follow_changes(struct req *r, const struct srv_changes *c, const char *first);

/* modern.c: 1 when the message claims the 2026-07-28 wire (a request or notification whose
 * params._meta names a protocol version, or an MCP-Protocol-Version header naming a revision
 * of that era). */
int modern_claims(const struct req *r);
/* Serve a message modern_claims accepted. Always replies. */
void modern_handle(struct req *r);

/* tasksrv.c: tasks on both wires. */
/* 1 for tasks/get, tasks/result, tasks/list, tasks/cancel, tasks/update. */
int task_is_method(const char *method);
/* A tasks/ request on the 2025-11-25 wire (r->sess set), or on the 2026-07-28 wire
 * (r->modern, r->caps). Always replies. */
void task_legacy(struct req *r);
void task_modern(struct req *r);
/* The task side of tools/call, before its run starts: 1 when it replied (2025-11-25: a task
 * was created, or the call was refused for its params.task; 2026-07-28: a tool that needs
 * the tasks extension was called without it); 0: the call goes on as usual. */
int task_tools_call(struct req *r, const struct rt_call *call);
/* After a call's step: a 2026-07-28 call that became a task goes on in the background. */
void task_after_call(struct req *r, const struct run_row *run);

#endif
