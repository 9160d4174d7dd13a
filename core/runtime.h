/* runtime.h — the run engine: a tools/call becomes a run whose C function replays against
 * its journal at every step; one step is one transaction (plus checkpoint commits for
 * notifications sent while the tool works). Knows nothing of HTTP or SSE framing; reaches
 * PostgreSQL only through store.h. MCP 2025-11-25 server/tools, client/elicitation,
 * client/sampling, basic/utilities (progress, cancellation, logging). */
#ifndef DMCP_RUNTIME_H
#define DMCP_RUNTIME_H

#include <json-c/json.h>
#include "cfg.h"
#include "dmcp.h"
#include "registry.h"
#include "store.h"

/* What a step knows of the session that owns the run. */
struct rt_session {
	const char *id;        /* session id; "" on the sessionless 2026-07-28 wire */
	int modern;            /* the 2026-07-28 wire: no stream to resume, no server->client
	                          requests (a waiting step answers input_required instead) */
	const char *principal; /* who made it */
	const char *scopes;    /* what the caller of this request was granted (normalized,
	                          space-separated; NULL or "" none): a new run keeps them for
	                          all its steps (dmcp_scopes) */
	const char *protocol;  /* negotiated version */
	json_object *caps;     /* the client's capabilities (borrowed) */
	int log_level;         /* logging/setLevel, 0 debug .. 7 emergency */
};

/* Called after every commit that appended events, by the worker that made them, so that a
 * worker holding the run's stream writes them out at once (the events are committed). */
struct rt_sink {
	void *arg;
	void (*committed)(void *arg, const char *run_id, int64_t first_lsn, int n,
	                  const enum event_kind *kinds, const char *const *bodies);
	int status;    /* set by the runtime: the HTTP status of a lone response (0: 200) */
};

struct state_key;

struct rt_env {
	const struct cfg *cfg;
	const dmcp_registry *reg;
	struct store *st;
	const struct rt_session *sess;
	struct rt_sink *sink;               /* or NULL */
	const struct state_key *state_key;  /* signs requestState (2026-07-28), or NULL */
	/* Called after a commit that rings the run's doorbell, with the committed events: a
	 * stream of this process that follows the run receives them at once (NOTIFY still goes
	 * out for other processes). NULL: none. */
	void (*local)(void *arg, const char *run_id, int64_t first_lsn, int n,
	              const enum event_kind *kinds, const char *const *bodies);
	void *local_arg;
	/* Called with the run and the step count the store holds when a step begins and after
	 * each of its saves, and with NULL when it ends: the process renews the lease of a run
	 * while its step works. NULL: none. */
	void (*stepping)(void *arg, const char *run_id, int steps);
	void *stepping_arg;
};

/* One tools/call. */
struct rt_call {
	const struct reg_tool *tool;
	json_object *request_id;     /* the client's id (borrowed) */
	json_object *args;           /* validated arguments (borrowed), or NULL for {} */
	json_object *progress_token; /* params._meta.progressToken (borrowed), or NULL */
	json_object *inputs;         /* 2026-07-28: params.inputResponses (borrowed), or NULL */
	const char *state;           /* 2026-07-28: params.requestState, or NULL */
};

/* tools/call: take the first step of a new run, or (2026-07-28, with a requestState) the
 * next step of the run the state names. *run receives the row as saved (clear it with
 * row_run_clear on every path). DMCP_OK once the step's outcome reached the sink: a
 * result, an error response, a request (2025-11-25) or an input_required result
 * (2026-07-28). Otherwise nothing reached the sink and:
 *   DMCP_E_PARAMS     the requestState is malformed, forged, expired, another principal's,
 *                     or another call's (the client receives -32602);
 *   DMCP_CANCELLED    the state names a call that was cancelled;
 *   DMCP_E_LIMIT      the session holds DMCP_MAX_RUNS_PER_SESSION unfinished runs, or
 *                     (run->over_principal set) the principal DMCP_MAX_RUNS_PER_PRINCIPAL;
 *   DMCP_E_NOT_FOUND  the session ended meanwhile;
 *   DMCP_E_DB and the like: nothing was saved, or (when the tool had sent notifications) the
 *                     run stays 'running' under its lease and is finished later by
 *                     rt_resume or `sweep`. */
dmcp_rc rt_call(struct rt_env *env, const struct rt_call *call,
                struct run_row *run) DMCP_MUST_CHECK;

/* 2025-11-25 tools/call with params.task: store the call as a task (a run bound to the
 * principal, no session) that has not stepped yet and is due now, durably, and take no step:
 * the caller answers with the CreateTaskResult and the step runs in the background
 * (rt_run_due). ttl_ms: the task's retention. DMCP_E_LIMIT when the principal holds
 * DMCP_MAX_TASKS unfinished tasks. *run receives the row (clear it). */
dmcp_rc rt_task_create(struct rt_env *env, const struct rt_call *call, int64_t ttl_ms,
                       struct run_row *run) DMCP_MUST_CHECK;

/* 2026-07-28 tasks/update: apply inputResponses (inputs, borrowed) to the waiting task run_id
 * of env->sess->principal and take its next step; each input answers the request of its key
 * at most once, inputs that answer nothing are ignored. *applied counts the answers taken.
 * DMCP_E_NOT_FOUND when the principal has no such task. */
dmcp_rc rt_task_update(struct rt_env *env, const char *run_id, json_object *inputs,
                       int *applied) DMCP_MUST_CHECK;

/* Claim up to max runs that are due (run_id alone when not NULL) and take their steps: the
 * background executor, for a FastCGI process's scheduler, `sweep`, and a CGI process that
 * goes on with the task it just created. env->sess and env->sink are ignored (each run's own
 * client is used); a run of a tool env->reg lacks is skipped with one log line (it becomes an
 * orphan for a program that has it). *taken counts the steps saved here. */
dmcp_rc rt_run_due(struct rt_env *env, const char *run_id, int max,
                   int *taken) DMCP_MUST_CHECK;

/* The requests a run's journal (JSON text) waits on: a new array of copies of their entries
 * ({"key", "id", "req": {"method", "params"}}), [] when none. */
json_object *rt_open_requests(const char *journal);

/* A client's JSON-RPC response (msg, borrowed) to our request our_id: apply it exactly once
 * (a compare-and-set on the waiting row; a lost race is retried against the new row) and
 * take the run's next step. *applied is 0 for a duplicate or late answer (nothing
 * changed). DMCP_E_NOT_FOUND when the id names no run of this session and principal (nor a
 * 2025-11-25 task of the principal: a task's client may answer from another session). */
dmcp_rc rt_answer(struct rt_env *env, const char *our_id, json_object *msg,
                  int *applied) DMCP_MUST_CHECK;

/* notifications/cancelled: cancel the unfinished run started by request id (JSON text).
 * DMCP_E_NOT_FOUND when there is none (the caller ignores it, as the spec says). */
dmcp_rc rt_cancel(struct rt_env *env, const char *request_id, const char *reason) DMCP_MUST_CHECK;

/* The operator's `runs cancel`: cancel the unfinished run run_id (of session_id, "" when it
 * has none, and principal, as its row says), with a compare-and-set like any save, so a step
 * in progress loses its next save and stops. The client is told on the run's stream:
 * notifications/cancelled for each request of ours it waits on (2025-11-25 wire), then the
 * call's response, a JSON-RPC error (RPC_REQUEST_CANCELLED) with message why; followers are
 * notified. *was: the status the run had. DMCP_E_CONFLICT when it was already over (*was
 * says how), DMCP_E_NOT_FOUND when there is no such run. */
dmcp_rc rt_cancel_run(struct store *st, const char *run_id, const char *session_id,
                      const char *principal, const char *why,
                      enum run_status *was) DMCP_MUST_CHECK;

/* Take over a 'running' run whose lease passed (its worker died mid-step): run its step
 * again. DMCP_E_CONFLICT when it is not orphaned any more. */
dmcp_rc rt_resume(struct rt_env *env, const char *run_id) DMCP_MUST_CHECK;

/* Take over up to max orphaned runs (see rt_resume) of any session: what `sweep` does for
 * runs that nobody follows. env->sess is ignored (each run's own session is loaded). A run
 * of a tool that env->reg lacks is skipped, with one log line, and stays as it is for a
 * program that has the tool. *taken counts the runs whose step completed here. */
dmcp_rc rt_recover_orphans(struct rt_env *env, int max, int *taken) DMCP_MUST_CHECK;

/* 1 when caps (client capabilities) declare what is needed. */
int rt_caps_elicit_form(json_object *caps);
int rt_caps_elicit_url(json_object *caps);
int rt_caps_sampling(json_object *caps);
int rt_caps_sampling_tools(json_object *caps);
int rt_caps_roots(json_object *caps);

/* Level names of logging/setLevel, 0 debug .. 7 emergency; -1 when unknown. */
int rt_level_parse(const char *name);
const char *rt_level_name(int level);

#endif
