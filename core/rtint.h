/* rtint.h — what the run engine (runtime.c: steps, saves, the two eras) shares with the
 * effects a tool calls (effects.c: elicitation, sampling, roots, progress, log, memo, the
 * result being built), and with the adapters of the tool kinds made at run time (sqltool.c,
 * exectool.c), which read their entry's data from ctx->tool->impl. Internal to the library:
 * not installed, not for tool authors. Knows nothing of HTTP or SQL. */
#ifndef DMCP_RTINT_H
#define DMCP_RTINT_H

#include <json-c/json.h>
#include "runtime.h"

/* Bytes of a failure message kept for the client and the operators. */
#define RT_ERR_LEN 512

struct dmcp_result {
	json_object *messages;   /* owned array of PromptMessage: a prompt's run builds these */
	json_object *content;    /* owned array of content blocks */
	json_object *structured; /* owned, or NULL */
	int is_error;            /* isError: true */
};

/* Deepest branch nesting a run may ever reach, whatever a tool asks (the level table is
 * fixed-size): DMCP_BRANCH_DEPTH is the default, a branch may ask for up to this. */
#define RT_MAX_DEPTH 16
/* Bytes of a request id's prefix: "<run>/" and, per branch level, "<effect>b". */
#define RT_PREFIX_MAX (33 + RT_MAX_DEPTH * 12 + 2)

/* One level of the branch tree the step is in: 0 is the tool itself. */
struct rt_level {
	int max_depth;      /* deepest nesting allowed below */
	int64_t budget;     /* sampling tokens allowed at this level and below; 0: no own budget */
	int64_t used;       /* sampling tokens used at this level and below (this step's replay
	                       included: usage comes from journaled answers) */
};

struct dmcp_ctx {
	struct rt_env *env;
	const struct reg_tool *tool;
	struct run_row *run;      /* the row; journal text is rewritten at each save */
	json_object *journal;     /* owned: parsed journal array */
	json_object *events;      /* owned: array of [kind, body] waiting for the next save */
	int journal_at_start;     /* entries when the step began: below is replay */
	int notes_at_start;       /* run->notes when the step began */
	int effect;               /* index of the next effect */
	int note;                 /* notifications met so far in this step */
	int suspended;            /* the step waits for the client: it ends */
	int noted;                /* the process knows this thread steps the run (its lease) */
	json_object *pending;     /* borrowed from journal: the entry the step waits on (a
	                             request, or a group of them) */
	int recorded;             /* pending was recorded in this step (its requests are new) */
	json_object *inputs;      /* 2026-07-28: the request's inputResponses (borrowed), or NULL */
	json_object *args;        /* a new call's arguments (borrowed), or NULL: parse the row's */
	json_object *taken;       /* owned: keys of inputs used in this step (each answers once) */
	int accepted;             /* inputs that answered a request in this step */
	int unchanged;            /* a 2026-07-28 retry answered nothing: the run is as it was */
	json_object *required;    /* owned: the capabilities a refused effect needed, or NULL */
	struct run_expect expect; /* what the stored row holds (valid once run->exists) */
	dmcp_rc failed;           /* a checkpoint could not be saved: the step is abandoned */
	char err[RT_ERR_LEN];     /* why an effect failed, for the tool's error result */
	json_object *answers;     /* owned array: form answers with their defaults filled in,
	                             handed to the tool for this step */
	json_object *root;        /* borrowed: the run's whole journal (journal is the branch's
	                             while a branch runs) */
	char prefix[RT_PREFIX_MAX]; /* request ids of this level start with it ("<run>/") */
	int depth;                /* branch level of the function running (0: the tool) */
	struct rt_level levels[RT_MAX_DEPTH + 1];
	int parked;               /* the step waits on time, not on the client (a timer, or a
	                             task that goes on in the background) */
	int64_t due_ms;           /* parked: when the run is due again */
	int64_t deadline_ms;      /* dmcp_deadline: the next request's deadline, from now */
	int64_t clock_floor;      /* a due time the database says has passed (a claimed run):
	                             time never reads earlier than this in the step */
	int background;           /* a claimed step that no request carries: always saved */
	json_object *reply;       /* owned: this request's answer that is not in the run's log
	                             (a CreateTaskResult), delivered after the save, or NULL */
	char refused[RT_ERR_LEN]; /* why dmcp_branch refused to start a branch (the text its
	                             result points to: err may be overwritten with it) */
	long long deadline;       /* monotonic ms when the step's wall time (DMCP_STEP_MAX_MS)
	                             is up; 0: no bound */
	int overtime;             /* the step ran past it: it fails with DMCP_E_TIMEOUT */
};

/* ---- engine side (runtime.c), for the effects ------------------------------------------ */

/* Queue a message (taken; NULL for an empty body) as an event of the next save. */
void rt_queue_event(dmcp_ctx *ctx, enum event_kind kind, json_object *msg);
/* Save the row and the queued events now (a checkpoint): see runtime.c. */
dmcp_rc rt_save(dmcp_ctx *ctx) DMCP_MUST_CHECK;
void rt_set_err(dmcp_ctx *ctx, const char *fmt, ...) DMCP_PRINTF(2, 3);
/* 1 when the run may append n more events and keep room for its response. */
int rt_room_for(dmcp_ctx *ctx, int n);
/* DMCP_E_LIMIT, with the reason in ctx->err. */
dmcp_rc rt_no_room(dmcp_ctx *ctx);
/* The journal entry for the next effect of type t at this level, or NULL when the effect is
 * new (*rc DMCP_E_VERSION when the journal holds another type there). */
json_object *rt_next_entry(dmcp_ctx *ctx, const char *t, dmcp_rc *rc);
/* Milliseconds since the epoch, never earlier than ctx->clock_floor. */
int64_t rt_now(const dmcp_ctx *ctx);
/* 1 when the run may wait on time without its request: not on the 2026-07-28 wire unless it
 * is (or may become) a task. */
int rt_can_park(const dmcp_ctx *ctx);
/* 1 when a 2026-07-28 call may become a task now: its tool supports tasks, its client
 * declared the extension, and it is not one yet. */
int rt_can_become_task(const dmcp_ctx *ctx);
/* DMCP_OK while the step is within DMCP_STEP_MAX_MS; after that DMCP_E_TIMEOUT (with the
 * reason in ctx->err), from every effect the tool calls, and the step fails. */
dmcp_rc rt_check_time(dmcp_ctx *ctx) DMCP_MUST_CHECK;
/* Milliseconds left before the step's deadline (INT_MAX when it has none, 0 when past). */
int rt_time_left(dmcp_ctx *ctx);

/* ---- branches and budgets (branch.c) --------------------------------------------------- */

/* Charge tokens to every level of the branch tree the step is in: DMCP_E_BUDGET (with the
 * reason in ctx->err) when a level's budget is crossed. */
dmcp_rc rt_budget_charge(dmcp_ctx *ctx, int64_t tokens);
/* The tokens the step may still use (INT64_MAX without budgets); 0: none left. */
int64_t rt_budget_left(const dmcp_ctx *ctx);
/* The tokens a CreateMessageResult used: its usage, or an estimate from its text. */
int64_t rt_tokens_of(json_object *result);

/* ---- effects side (effects.c), for the engine and the tool kinds ------------------------ */

/* Before a tool with .confirm runs: effect 0 asks the user, with a form naming the tool and
 * its arguments (args, borrowed), to confirm. DMCP_OK once they did; DMCP_E_TOOL (a clear
 * message in ctx->err) when they declined, cancelled or left it unticked; DMCP_SUSPENDED
 * while the question waits; DMCP_E_CAPABILITY when the client cannot be asked. */
dmcp_rc rt_confirm(dmcp_ctx *ctx, json_object *args) DMCP_MUST_CHECK;

/* dmcp_elicit with the form given as JSON (schema, borrowed) instead of a registered name:
 * for forms that arrive while serving (a program's). Checked as registered forms are
 * (DMCP_E_SCHEMA with the reason in ctx->err); answers are validated against the schema the
 * client was shown (the journaled one, on replay). key names the request on the 2026-07-28
 * wire (NULL or unusable: "elicit_<effect number>"). */
dmcp_rc rt_elicit_inline(dmcp_ctx *ctx, json_object *schema, const char *key,
                         const char *message, struct dmcp_elicit_answer *out) DMCP_MUST_CHECK;

/* For tool kinds whose code runs again from the top with every answer so far (programs):
 * the answer to the next effect when the journal holds it, replayed as the effect functions
 * would (numbered, checked). *answer (borrowed, valid for the step) is the client's result
 * object, or {"error": <JSON-RPC error>} for a request the client refused; NULL when the
 * journal holds no more effects (the caller runs its code, and records the next request
 * with dmcp_elicit, rt_elicit_inline, dmcp_elicit_url or dmcp_sample). DMCP_SUSPENDED while
 * the journaled request waits; DMCP_E_ANSWER (ctx->err) for an answer that does not fit;
 * DMCP_E_VERSION for a journal entry a program cannot have made. */
dmcp_rc rt_next_answer(dmcp_ctx *ctx, json_object **answer) DMCP_MUST_CHECK;
/* The request effect just made was answered within the step (the sampling fallback, or an
 * inputResponse): step back to it, so that rt_next_answer reads its answer as a replay. */
void rt_effect_back(dmcp_ctx *ctx);

#endif
