/* dmcp.h — the one public header for tool authors: define tools, resources, prompts and
 * completions, use the durable effects (elicit, sample, progress, log, memo) from a tool, and
 * hand them to dmcp_main(), which is the whole program. Documented in dmcp(3).
 * Knows nothing of HTTP, FastCGI or PostgreSQL. Follows MCP 2025-11-25: server/tools,
 * server/resources, server/prompts, client/elicitation, client/sampling, basic/utilities. */
#ifndef DMCP_H
#define DMCP_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/* The version of dmcp: the library, its programs, serverInfo.version and dmcp.pc. */
#define DMCP_VERSION "0.2.0"

#if defined(__GNUC__)
#define DMCP_MUST_CHECK __attribute__((warn_unused_result))
#define DMCP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DMCP_MUST_CHECK
#define DMCP_PRINTF(a, b)
#endif

/* Who owns what. Definitions (struct dmcp_tool, dmcp_param lists, dmcp_schema_def, resources,
 * prompts, and every string they point to) are borrowed: the registry copies none of them,
 * so they must outlive it (string literals and file-scope statics do). What a tool receives
 * (args, answers, the strings the getters and the ctx functions return) is borrowed and valid
 * for the current step only: copy what must last longer (through dmcp_memo when it varies).
 * What a tool hands over (a block to dmcp_result_content, an object to
 * dmcp_result_structured, the value a memo function sets) belongs to the runtime from then
 * on. Formatted texts (dmcp_result_textf, dmcp_fail, dmcp_log) are copied. */

/* The library's one return-code enum. dmcp_rc_name() names each code; core/err.c maps
 * each to a JSON-RPC code and an HTTP status. */
typedef enum dmcp_rc {
	DMCP_OK = 0,
	DMCP_SUSPENDED,         /* the run waits for the client: return it (DMCP_TRY does) */
	DMCP_CANCELLED,         /* the run was cancelled: return it, the client receives no result */
	DMCP_E_NOMEM,           /* out of memory */
	DMCP_E_LIMIT,           /* a named limit was crossed */
	DMCP_E_PARSE,           /* bytes are not JSON */
	DMCP_E_INVALID_REQUEST, /* JSON, but not a valid JSON-RPC message */
	DMCP_E_METHOD,          /* unknown method */
	DMCP_E_PARAMS,          /* bad params */
	DMCP_E_INTERNAL,        /* a bug or an impossible state */
	DMCP_E_DB,              /* the database failed; the request may be retried */
	DMCP_E_NOT_FOUND,       /* no such session, run, resource or prompt */
	DMCP_E_SCHEMA,          /* a schema is malformed or uses an unsupported dialect */
	DMCP_E_VALIDATION,      /* a value does not satisfy its schema */
	DMCP_E_CAPABILITY,      /* the client did not declare what this needs */
	DMCP_E_ANSWER,          /* the client's answer to our request is malformed */
	DMCP_E_REJECTED,        /* the client answered our request with an error */
	DMCP_E_VERSION,         /* a run was started by another version of its tool */
	DMCP_E_TOOL,            /* the tool failed */
	DMCP_E_IO,              /* the client is gone */
	DMCP_E_CONFLICT,        /* lost a race: someone else changed the row first */
	DMCP_E_URL_REQUIRED,    /* the call needs a URL-mode elicitation first (-32042) */
	DMCP_E_NO_SAMPLING,     /* no client sampling and no fallback provider */
	DMCP_E_UNAUTHORIZED,    /* no credentials, or credentials that are not good (HTTP 401) */
	DMCP_E_FORBIDDEN,       /* good credentials without a scope the server requires (403) */
	DMCP_E_TIMEOUT,         /* the step ran past DMCP_STEP_MAX_MS (return it; the call fails),
	                           or a request's deadline (dmcp_deadline) passed without an
	                           answer */
	DMCP_E_DEPTH,           /* a branch would nest deeper than its limit (dmcp_branch) */
	DMCP_E_BUDGET,          /* the tree of branches used up its sampling token budget */
	DMCP_RC_COUNT
} dmcp_rc;

/* A static string naming rc, e.g. "DMCP_E_LIMIT". */
const char *dmcp_rc_name(dmcp_rc rc);

/* Return from the calling function unless expr gives DMCP_OK: the one-line way for a tool
 * to pass DMCP_SUSPENDED (and DMCP_CANCELLED, and errors) up to the runtime. */
#define DMCP_TRY(expr)                                  \
	do {                                                \
		dmcp_rc dmcp_try_rc_ = (expr);                  \
		if (dmcp_try_rc_ != DMCP_OK)                    \
			return dmcp_try_rc_;                        \
	} while (0)

typedef struct dmcp_registry dmcp_registry; /* tools, resources, prompts; built before serving */
typedef struct dmcp_ctx dmcp_ctx;           /* one step of one run; valid during the call only */
typedef struct dmcp_result dmcp_result;     /* the CallToolResult being built */

/* ---- The program ------------------------------------------------------------------------ */

/* Registers the program's tools, resources, prompts and completions into reg (with the
 * dmcp_register_* functions below); on failure returns their code, with a message in err. */
typedef dmcp_rc (*dmcp_register_fn)(dmcp_registry *reg, char *err, size_t errlen);

/* The whole program: reads the command line and the environment (dmcp.fcgi(8)), calls reg
 * once to build the registry (reg may be NULL: no tools of its own), then serves FastCGI on
 * fd 0 or --socket, or one plain CGI request, until SIGTERM or SIGINT; or runs `migrate` or
 * `sweep`. Returns the process's exit status: 0, 1 on failure, 2 on a usage error. Call it
 * once, from main: `int main(int argc, char **argv) { return dmcp_main(argc, argv, reg); }` */
int dmcp_main(int argc, char **argv, dmcp_register_fn reg);

/* ---- Tools ------------------------------------------------------------------------------ */

/* A tool function. It runs from the top at every step of its run and must be deterministic
 * given args and what the effects below return: everything that varies (time, randomness,
 * calls to the outside world) goes through dmcp_memo(). args is borrowed for the call. */
typedef dmcp_rc (*dmcp_tool_fn)(dmcp_ctx *ctx, json_object *args, dmcp_result *res);

/* ---- Typed parameters --------------------------------------------------------------------
 * A tool declares its arguments (and an elicitation form its fields) as an array of
 * struct dmcp_param built with the macros below and ended by DMCP_END; dmcp generates the
 * JSON Schema (2020-12) that tools/list shows and that every call is validated against:
 *
 *     static const struct dmcp_param echo_params[] = {
 *         DMCP_STRING("message", .required = 1, .max_length = 65536,
 *                     .description = "The text to send back"),
 *         DMCP_BOOL("uppercase", .default_bool = DMCP_SET(0)),
 *         DMCP_INT("repeat", .minimum = DMCP_SET(1), .maximum = DMCP_SET(10)),
 *         DMCP_ENUM("style", .values = DMCP_VALUES("plain", "bold"), .default_str = "plain"),
 *         DMCP_END};
 *
 * Each macro takes the name, then designated initializers for any field of struct
 * dmcp_param that applies to its type; a field that does not apply (a .maximum on a string)
 * is a registration error, as are a duplicate name, bounds out of order and a default that
 * breaks its own constraints. Numbers where 0 is meaningful (bounds, defaults) are set with
 * DMCP_SET(v); left out, they are absent. A tool's generated schema allows no argument
 * other than those declared ("additionalProperties": false). Write schema text instead
 * (.input_schema) for anything else: nested objects, anyOf, $ref, other arrays. */

typedef enum dmcp_param_type {
	DMCP_PARAM_END = 0,      /* ends a list (DMCP_END) */
	DMCP_PARAM_STRING,       /* "type": "string" */
	DMCP_PARAM_BOOL,         /* "type": "boolean" */
	DMCP_PARAM_INT,          /* "type": "integer" */
	DMCP_PARAM_NUMBER,       /* "type": "number" */
	DMCP_PARAM_ENUM,         /* "type": "string" with "enum" */
	DMCP_PARAM_STRING_ARRAY  /* "type": "array" of strings */
} dmcp_param_type;

/* A number that may be left out: set by DMCP_SET(v), absent when omitted. */
struct dmcp_opt_int {
	int set;       /* 1 when given */
	int64_t value;
};
struct dmcp_opt_num {
	int set;       /* 1 when given */
	double value;  /* finite */
};
#define DMCP_SET(v) { .set = 1, .value = (v) }

struct dmcp_param {
	dmcp_param_type type;     /* set by the macro */
	const char *name;         /* 1-64 of [A-Za-z0-9_.-] (what LLM APIs accept), unique */
	const char *title;        /* display name, or NULL */
	const char *description;  /* what it is for, or NULL; LLMs choose arguments by it */
	int required;             /* 1: every call (every accepted answer) carries it */
	/* DMCP_STRING; for DMCP_STRING_ARRAY, each item */
	size_t min_length;        /* "minLength", in characters; 0: none */
	size_t max_length;        /* "maxLength", in characters; 0: none */
	const char *pattern;      /* "pattern" (ECMA-262, unanchored), or NULL; not in forms */
	const char *format;       /* "format", e.g. "email", "uri", "date", "date-time": a hint
	                             for clients that dmcp does not check; or NULL */
	/* DMCP_INT, DMCP_NUMBER */
	struct dmcp_opt_num minimum; /* "minimum" (inclusive) */
	struct dmcp_opt_num maximum; /* "maximum" (inclusive) */
	/* DMCP_ENUM (required), DMCP_STRING_ARRAY (optional: each item is one of them) */
	const char *const *values;   /* ended by NULL; DMCP_VALUES("a", "b") builds one */
	/* DMCP_STRING_ARRAY */
	size_t min_items;         /* "minItems"; 0: none */
	size_t max_items;         /* "maxItems"; 0: none */
	/* The default, of the parameter's type: a call without the argument receives it before the
	 * run starts (it is stored with the arguments, so replays see it too), and a form shows
	 * it. DMCP_STRING_ARRAY has none. */
	const char *default_str;            /* DMCP_STRING, DMCP_ENUM; or NULL */
	struct dmcp_opt_int default_bool;   /* DMCP_BOOL: DMCP_SET(0) or DMCP_SET(1) */
	struct dmcp_opt_int default_int;    /* DMCP_INT */
	struct dmcp_opt_num default_number; /* DMCP_NUMBER */
};

/* Standard C99 designated initializers: the first argument is the name, the rest set
 * fields, e.g. DMCP_INT("steps", .minimum = DMCP_SET(1), .default_int = DMCP_SET(5)). */
#define DMCP_STRING(...)       { .type = DMCP_PARAM_STRING, .name = __VA_ARGS__ }
#define DMCP_BOOL(...)         { .type = DMCP_PARAM_BOOL, .name = __VA_ARGS__ }
#define DMCP_INT(...)          { .type = DMCP_PARAM_INT, .name = __VA_ARGS__ }
#define DMCP_NUMBER(...)       { .type = DMCP_PARAM_NUMBER, .name = __VA_ARGS__ }
#define DMCP_ENUM(...)         { .type = DMCP_PARAM_ENUM, .name = __VA_ARGS__ }
#define DMCP_STRING_ARRAY(...) { .type = DMCP_PARAM_STRING_ARRAY, .name = __VA_ARGS__ }
#define DMCP_END               { .type = DMCP_PARAM_END }
/* A NULL-ended list of strings (a compound literal: use it in a definition at file scope,
 * where it lives as long as the program). */
#define DMCP_VALUES(...)       ((const char *const[]){__VA_ARGS__, NULL})

/* Reading arguments (a tool's args) and accepted form answers (dmcp_elicit's ans.content)
 * without json-c. Validation ran before the tool: a declared argument is either absent (only
 * when optional and without a default) or of its declared type. So these return a zero
 * value only for what is absent: NULL, 0, 0.0; dmcp_arg_has() tells absent from zero. A
 * value of another type (possible only with hand-written schema text) reads as absent too.
 * obj may be NULL (a declined or cancelled answer has no content): everything is absent.
 * Strings are borrowed from obj, valid as long as it is (the step, for args and answers);
 * they hold no U+0000 (dmcp refuses it in client JSON), so strlen() is their length. */

/* 1 when obj has the member name with a value other than null. */
int dmcp_arg_has(json_object *obj, const char *name);
/* The string (DMCP_STRING, DMCP_ENUM), or NULL. */
const char *dmcp_arg_str(json_object *obj, const char *name);
/* DMCP_BOOL: 1 for true, 0 for false or absent. */
int dmcp_arg_bool(json_object *obj, const char *name);
/* DMCP_INT: the value, or 0. JSON writes 3 as 3.0 too (both are integers); a value beyond
 * int64_t saturates to INT64_MIN/INT64_MAX: declare .minimum/.maximum to avoid that. */
int64_t dmcp_arg_int(json_object *obj, const char *name);
/* DMCP_NUMBER (or DMCP_INT): the value as a double, or 0.0. */
double dmcp_arg_number(json_object *obj, const char *name);
/* DMCP_STRING_ARRAY: the number of items (0 when absent), and item i (NULL when i is out of
 * range or the item is not a string). */
size_t dmcp_arg_count(json_object *obj, const char *name);
const char *dmcp_arg_item(json_object *obj, const char *name, size_t i);

/* A named elicitation form: a flat object of primitives (MCP elicitation requestedSchema),
 * given as fields (string, number, integer, boolean, enum, and a string array with .values
 * for a multi-select) or as schema text: exactly one of the two. A form's fields may be
 * required and still carry a default (the client shows it pre-filled); an accepted answer
 * that lacks an optional field with a default receives it, as arguments do. */
struct dmcp_schema_def {
	const char *name;                /* what the tool passes to dmcp_elicit() */
	const char *schema;              /* JSON text, or NULL */
	const struct dmcp_param *fields; /* ended by DMCP_END, or NULL */
};

/* Whether a client may run a call of the tool as a task (MCP tasks: the call returns a task
 * handle at once and the client polls it; Tool.execution.taskSupport). */
enum dmcp_task_support {
	DMCP_TASK_FORBIDDEN = 0, /* never a task (the default) */
	DMCP_TASK_OPTIONAL,      /* the client chooses (2025-11-25: params.task; 2026-07-28: the
	                            tasks extension, and the call becomes a task when it waits,
	                            see dmcp_task_start and dmcp_sleep) */
	DMCP_TASK_REQUIRED       /* only as a task: other calls are refused */
};

struct dmcp_tool {
	const char *name;          /* 1-128 chars of [A-Za-z0-9_.-], unique in the registry */
	const char *title;         /* display name, or NULL */
	const char *description;   /* required, non-empty */
	const char *input_schema;  /* JSON Schema text (2020-12 by default), or NULL: generated
	                              from params when set, else {"type":"object"} */
	const char *output_schema; /* JSON Schema text with an object root, or NULL; when set,
	                              results must carry structuredContent that conforms */
	const char *annotations;   /* ToolAnnotations JSON text, or NULL */
	const struct dmcp_schema_def *elicits; /* array ended by a NULL name, or NULL */
	int version;               /* runs record it; bump it when old journals would replay wrong */
	dmcp_tool_fn run;
	const struct dmcp_param *params; /* the arguments, ended by DMCP_END, instead of
	                                    input_schema (both set: a registration error) */
	int confirm;               /* 1: before the function runs, dmcp asks the user to confirm
	                              (effect 0: an elicitation form naming the tool and its
	                              arguments); a decline or cancel ends the call as an isError
	                              result, a client without elicitation receives an error, and the
	                              function never runs. Needs "destructiveHint": true in
	                              .annotations (else a registration error) */
	enum dmcp_task_support task_support; /* DMCP_TASK_FORBIDDEN unless set */
};

/* The registry copies nothing: every pointer in a definition must outlive the registry
 * (string literals and static structs do). Registration checks the definition and compiles
 * its schemas; a bad definition gives DMCP_E_SCHEMA or DMCP_E_PARAMS and a message in err. */
dmcp_registry *dmcp_registry_new(void);
void dmcp_registry_free(dmcp_registry *reg);
dmcp_rc dmcp_register_tool(dmcp_registry *reg, const struct dmcp_tool *tool,
                           char *err, size_t errlen) DMCP_MUST_CHECK;

/* Building the result. Content helpers append a block to "content". */
dmcp_rc dmcp_result_text(dmcp_result *res, const char *text) DMCP_MUST_CHECK;
dmcp_rc dmcp_result_textf(dmcp_result *res, const char *fmt, ...) DMCP_PRINTF(2, 3) DMCP_MUST_CHECK;
dmcp_rc dmcp_result_image(dmcp_result *res, const char *base64, const char *mime) DMCP_MUST_CHECK;
dmcp_rc dmcp_result_audio(dmcp_result *res, const char *base64, const char *mime) DMCP_MUST_CHECK;
dmcp_rc dmcp_result_resource_text(dmcp_result *res, const char *uri, const char *mime,
                                  const char *text) DMCP_MUST_CHECK;
/* Appends any content block; takes ownership of block. */
dmcp_rc dmcp_result_content(dmcp_result *res, json_object *block) DMCP_MUST_CHECK;
/* Sets structuredContent (ownership taken) and appends its JSON text as a text block. The
 * runtime validates it against the tool's output schema when the tool returns. */
dmcp_rc dmcp_result_structured(dmcp_result *res, json_object *obj) DMCP_MUST_CHECK;
/* Marks the result isError:true with one text block; returns DMCP_OK so a tool may
 * `return dmcp_result_error(res, "...")`. See dmcp_fail() for failing from anywhere. */
dmcp_rc dmcp_result_error(dmcp_result *res, const char *fmt, ...) DMCP_PRINTF(2, 3);

/* Fails the call in words, like an exception in the official SDKs: returns DMCP_E_TOOL, and
 * when that code reaches the runtime (return it, or pass it up with DMCP_TRY from a helper
 * that has no dmcp_result), the tool's result is replaced by one with isError: true and this
 * message as its only text block; the run ends as failed with the message as its error.
 * The message is copied (at most 511 bytes; a longer one is cut at a character boundary)
 * and is shown to the client and its model: say what was wrong and what would work,
 *     return dmcp_fail(ctx, "no such host: %s", host);
 * A later dmcp_fail replaces the message of an earlier one. */
dmcp_rc dmcp_fail(dmcp_ctx *ctx, const char *fmt, ...) DMCP_PRINTF(2, 3) DMCP_MUST_CHECK;

/* ---- Durable effects (call only from a tool function) ----------------------------------- */

typedef enum dmcp_action { DMCP_ACCEPT, DMCP_DECLINE, DMCP_CANCEL } dmcp_action;

struct dmcp_elicit_answer {
	dmcp_action action;
	json_object *content; /* borrowed, valid for this step: the accepted form values,
	                         validated against the schema; NULL otherwise */
};

/* Ask the user to fill in the tool's elicitation schema schema_name (form mode). Returns
 * DMCP_OK with the answer once the client has answered, DMCP_SUSPENDED before that (the
 * request is recorded and sent after this step commits), DMCP_E_CAPABILITY when the client
 * declared no form elicitation, DMCP_E_ANSWER when the answer does not fit the schema. */
dmcp_rc dmcp_elicit(dmcp_ctx *ctx, const char *schema_name, const char *message,
                    struct dmcp_elicit_answer *out) DMCP_MUST_CHECK;

/* URL mode: ask the user to open url (for what must not pass through the client: credentials,
 * payments). Every "{elicitationId}" in url is replaced by the request's elicitationId, so
 * the page can name the elicitation it completes. DMCP_OK once the client answered (accept
 * means the user agreed to open it, not that the interaction is done). A client that did
 * not declare URL mode makes the whole tools/call fail with the JSON-RPC error -32042
 * listing this elicitation (DMCP_E_URL_REQUIRED: return it). */
dmcp_rc dmcp_elicit_url(dmcp_ctx *ctx, const char *url, const char *message,
                        struct dmcp_elicit_answer *out) DMCP_MUST_CHECK;

/* notifications/elicitation/complete for the run's latest URL elicitation: call it once the
 * out-of-band interaction is known to be done. Numbered like progress: sent once. */
dmcp_rc dmcp_elicit_url_complete(dmcp_ctx *ctx) DMCP_MUST_CHECK;

struct dmcp_sample_req {
	const char *key;           /* names the request on the 2026-07-28 wire (inputRequests and
	                              inputResponses); NULL: "sample_<effect number>" */
	const char *prompt;        /* one user text message, or NULL when messages is set */
	json_object *messages;     /* borrowed: array of SamplingMessage, or NULL */
	const char *system_prompt; /* or NULL */
	int max_tokens;            /* required, > 0 */
	json_object *tools;        /* borrowed: array of Tool, or NULL; sent only when the client
	                              declared sampling.tools, else DMCP_E_CAPABILITY */
	json_object *tool_choice;  /* borrowed, or NULL */
};

struct dmcp_sample_answer {
	const char *text;        /* the first text block, or NULL; valid for this step */
	const char *model;       /* as the client said */
	const char *stop_reason; /* or NULL */
	json_object *result;     /* borrowed: the whole CreateMessageResult */
	int64_t tokens;          /* tokens the sampling used: the result's usage (inputTokens +
	                            outputTokens, in "usage" or "_meta.usage") when it reports
	                            one, else an estimate (a token per 4 bytes of text) */
};

/* Ask the client's LLM (sampling/createMessage). When the client declared no sampling, the
 * configured fallback provider answers within this step; with none, DMCP_E_NO_SAMPLING.
 * A malformed answer gives DMCP_E_ANSWER, a client error DMCP_E_REJECTED. */
dmcp_rc dmcp_sample(dmcp_ctx *ctx, const struct dmcp_sample_req *req,
                    struct dmcp_sample_answer *out) DMCP_MUST_CHECK;

/* The client's roots (roots/list). On the 2026-07-28 wire the request is named key (NULL:
 * "roots_<effect number>"). DMCP_E_CAPABILITY when the client declared no roots. */
struct dmcp_roots_answer {
	json_object *roots; /* borrowed, valid for this step: array of Root ({uri, name?}) */
};
dmcp_rc dmcp_roots(dmcp_ctx *ctx, const char *key, struct dmcp_roots_answer *out) DMCP_MUST_CHECK;

/* Several requests at once: on the 2026-07-28 wire they are listed together in one
 * input_required result; on the 2025-11-25 wire they go out together on the call's stream.
 * The tool goes on once every one is answered; each ask's rc then says how (DMCP_OK,
 * DMCP_E_REJECTED, DMCP_E_ANSWER). The call returns DMCP_SUSPENDED before, and
 * DMCP_E_CAPABILITY or DMCP_E_PARAMS when an ask cannot be made (keys must be unique). */
enum dmcp_ask_kind { DMCP_ASK_ELICIT, DMCP_ASK_SAMPLE, DMCP_ASK_ROOTS };

struct dmcp_ask {
	enum dmcp_ask_kind kind;
	const char *key;                      /* required: names the request, unique in the call */
	const char *schema;                   /* DMCP_ASK_ELICIT: the tool's elicitation schema */
	const char *message;                  /* DMCP_ASK_ELICIT */
	const struct dmcp_sample_req *sample; /* DMCP_ASK_SAMPLE */
	dmcp_rc rc;                           /* out: how this one was answered */
	struct dmcp_elicit_answer elicit;     /* out, DMCP_ASK_ELICIT */
	struct dmcp_sample_answer sampled;    /* out, DMCP_ASK_SAMPLE */
	struct dmcp_roots_answer roots;       /* out, DMCP_ASK_ROOTS */
};

#define DMCP_MAX_ASKS 16 /* asks one dmcp_ask_all may make */
dmcp_rc dmcp_ask_all(dmcp_ctx *ctx, struct dmcp_ask *asks, int n) DMCP_MUST_CHECK;

/* What the client of this call declared it can answer (a tool may choose another way). */
enum dmcp_client_cap {
	DMCP_CAN_ELICIT_FORM, DMCP_CAN_ELICIT_URL, DMCP_CAN_SAMPLE, DMCP_CAN_SAMPLE_TOOLS,
	DMCP_CAN_ROOTS
};
int dmcp_client_can(const dmcp_ctx *ctx, enum dmcp_client_cap cap);

typedef enum dmcp_level {
	DMCP_LOG_DEBUG, DMCP_LOG_INFO, DMCP_LOG_NOTICE, DMCP_LOG_WARNING,
	DMCP_LOG_ERROR, DMCP_LOG_CRITICAL, DMCP_LOG_ALERT, DMCP_LOG_EMERGENCY
} dmcp_level;

/* notifications/progress with the call's progressToken; nothing when the call has none.
 * progress must increase strictly (else DMCP_E_PARAMS); total < 0 means unknown. The
 * notification is committed to the event log, then delivered, while the tool keeps running.
 * On replay, notifications already in the log are not emitted again. */
dmcp_rc dmcp_progress(dmcp_ctx *ctx, double progress, double total,
                      const char *message) DMCP_MUST_CHECK;

/* notifications/message, sent when level is at or above the session's logging/setLevel. */
dmcp_rc dmcp_log(dmcp_ctx *ctx, dmcp_level level, const char *logger,
                 const char *fmt, ...) DMCP_PRINTF(4, 5) DMCP_MUST_CHECK;

/* SSE polling: end the HTTP connection that carries the run's stream once the events so far
 * are delivered, with retry: retry_ms; the client comes back with GET and Last-Event-ID and
 * receives the rest. Numbered like progress: done once. */
dmcp_rc dmcp_stream_break(dmcp_ctx *ctx, int retry_ms) DMCP_MUST_CHECK;

/* Run fn once per run and journal what it gives; on replay, return the journaled value.
 * *out is borrowed (valid for this step). fn receives arg and must set *out (owned by the
 * runtime afterwards). Use it for time, randomness and calls to the outside world. */
typedef dmcp_rc (*dmcp_memo_fn)(void *arg, json_object **out);
dmcp_rc dmcp_memo(dmcp_ctx *ctx, dmcp_memo_fn fn, void *arg, json_object **out) DMCP_MUST_CHECK;

/* Memoized wall-clock time in milliseconds since the epoch. */
dmcp_rc dmcp_now_ms(dmcp_ctx *ctx, int64_t *out) DMCP_MUST_CHECK;

/* Longest single dmcp_sleep_ms(): a tool that waits longer should suspend instead. */
#define DMCP_SLEEP_MAX_MS 10000

/* Sleep ms milliseconds (at most DMCP_SLEEP_MAX_MS), skipped while the step replays work
 * already done. A cancellation that arrives meanwhile is reported by the next progress or
 * log call (DMCP_CANCELLED). */
dmcp_rc dmcp_sleep_ms(dmcp_ctx *ctx, int ms) DMCP_MUST_CHECK;

/* ---- Time as data: durable timers, deadlines, tasks -------------------------------------
 * A run that waits on time holds no thread, no process and no connection: it is a row with a
 * due time, and whichever dmcp process is up when it falls due takes its next step (the
 * scheduler of every FastCGI process, or `sweep` from cron under plain CGI). */

/* Wait ms milliseconds (no upper bound), durably: the first time, the step ends and the run
 * is due again at now + ms (the time is journaled, so replays agree); once due, the call
 * returns DMCP_OK. Cancelling the run meanwhile ends it. On the 2026-07-28 wire a call that
 * is not a task cannot outlive its request: there the call becomes a task when its tool
 * supports tasks and the client declared the tasks extension, else it sleeps in the thread
 * for at most DMCP_SLEEP_MAX_MS (DMCP_E_LIMIT beyond). */
dmcp_rc dmcp_sleep(dmcp_ctx *ctx, int64_t ms) DMCP_MUST_CHECK;

/* Give the next request (dmcp_elicit, dmcp_elicit_url, dmcp_sample, dmcp_roots or
 * dmcp_ask_all) a deadline ms milliseconds from the time it is recorded: without an answer
 * by then, that call returns DMCP_E_TIMEOUT (journaled: every replay agrees, and a late answer
 * is ignored). ms <= 0 clears it. The run is due at the deadline, so the timeout is noticed
 * with nobody connected. */
dmcp_rc dmcp_deadline(dmcp_ctx *ctx, int64_t ms) DMCP_MUST_CHECK;

/* From here on the call runs as a task, when it can be one: on the 2026-07-28 wire, for a tool
 * with task support called by a client that declared the tasks extension, the client now
 * receives a task handle (CreateTaskResult) and the rest of the run continues in the
 * background; what the tool asked before (input_required rounds) stays on the request. A call
 * that is already a task (2025-11-25 params.task) or cannot be one goes on at once. Journaled:
 * DMCP_OK on replay. */
dmcp_rc dmcp_task_start(dmcp_ctx *ctx) DMCP_MUST_CHECK;

/* 1 when the run is a task (its client polls it by id). */
int dmcp_is_task(const dmcp_ctx *ctx);

/* ---- Sub-branches --------------------------------------------------------------------------
 * A branch runs a child tool function inside the parent's step: its effects (elicitations,
 * samplings, memos, timers, its own branches) are journaled under the parent's entry for the
 * branch and replay like the parent's; once it has finished, its outcome is journaled and
 * replays without running it again. Branches nest up to a depth limit, and every sampling in
 * the tree counts against the token budgets of the branches it runs in. */

/* Branches nested by default (the parent tool is depth 0). */
#define DMCP_BRANCH_DEPTH 4

struct dmcp_branch {
	const char *name;     /* names the branch in the journal and the log; required */
	dmcp_tool_fn run;     /* the child */
	json_object *args;    /* borrowed: its arguments, or NULL for {} */
	int max_depth;        /* deepest nesting allowed under this call (0: DMCP_BRANCH_DEPTH,
	                         or the enclosing branch's limit, whichever is smaller) */
	int64_t token_budget; /* sampling tokens this branch and everything under it may use,
	                         within what the enclosing branches have left; 0: no own budget */
};

struct dmcp_branch_result {
	dmcp_rc rc;           /* how the child ended: DMCP_OK, DMCP_E_DEPTH, DMCP_E_BUDGET, ... */
	int is_error;         /* its result is isError: true (rc != DMCP_OK implies it) */
	const char *text;     /* its first text block, or its error message, or ""; valid for
	                         the step */
	json_object *result;  /* borrowed, valid for the step: its CallToolResult */
	int64_t tokens;       /* sampling tokens the branch's tree used */
};

/* Run b->run as a branch. DMCP_OK once the child has ended, whatever its outcome (look at
 * out->rc); DMCP_SUSPENDED while it waits (pass it up with DMCP_TRY); DMCP_E_DEPTH, without
 * running it, when it would nest deeper than allowed; DMCP_E_BUDGET when the tree's budget
 * is used up before it starts; DMCP_CANCELLED. out->rc is DMCP_E_BUDGET for a child whose
 * sampling crossed a budget: the branch that crossed it fails, and its parent decides. */
dmcp_rc dmcp_branch(dmcp_ctx *ctx, const struct dmcp_branch *b,
                    struct dmcp_branch_result *out) DMCP_MUST_CHECK;

/* Branch depth of the calling function (0: the tool itself) and the sampling tokens the
 * whole call has used so far. */
int dmcp_branch_depth(const dmcp_ctx *ctx);
int64_t dmcp_tokens_used(const dmcp_ctx *ctx);

/* The run's id (32 hex chars) and the number the next effect will get: together an
 * idempotency key for side effects outside PostgreSQL, which are at-least-once. */
const char *dmcp_run_id(const dmcp_ctx *ctx);
int dmcp_effect_seq(const dmcp_ctx *ctx);

/* The call's progressToken as JSON text ("null" when absent); borrowed, valid for the step. */
const char *dmcp_progress_token(const dmcp_ctx *ctx);

/* Who made the call, as DMCP_AUTH authenticated it: the web server's REMOTE_USER, the
 * principal of a dmcp token, or a JWT's principal claim ("sub" by default); "anonymous"
 * when the only method is remote-user and the web server passed no user. Every step of the
 * run, and every answer to it, is made by the same principal (others get 404). Borrowed,
 * valid for the step. */
const char *dmcp_principal(const dmcp_ctx *ctx);
/* The OAuth scopes the caller was granted, space-separated ("" when none: REMOTE_USER
 * grants none; a token grants its --scope, a JWT its scope claim). They are those of the
 * request that started the call, kept with the run: every step sees the same, whoever's
 * token answers later. Borrowed, valid for the step. */
const char *dmcp_scopes(const dmcp_ctx *ctx);
/* 1 when the caller was granted scope (one scope, compared exactly), else 0. */
int dmcp_has_scope(const dmcp_ctx *ctx, const char *scope);
/* The MCP session the call belongs to (32 hex chars). Borrowed, valid for the step. A later
 * revision of MCP may allow calls without a session: then it is "" (never NULL). */
const char *dmcp_session_id(const dmcp_ctx *ctx);

/* Tell clients that a list changed: list is "tools", "prompts" or "resources". Every
 * subscriptions/listen stream that asked for that list, and every 2025-11-25 session's
 * standalone GET stream, receives notifications/<list>/list_changed. A hint, numbered like
 * progress (sent once per run). DMCP_E_PARAMS for another list name. */
dmcp_rc dmcp_list_changed(dmcp_ctx *ctx, const char *list) DMCP_MUST_CHECK;

/* Tell clients that the resource uri changed: notifications/resources/updated reaches the
 * listen streams that watch uri and the standalone streams of the sessions subscribed to
 * it. Numbered like progress. DMCP_E_LIMIT for a URI of DMCP_MAX_URI bytes or more (the
 * announcement travels between processes as a short PostgreSQL NOTIFY payload). */
#define DMCP_MAX_URI 2000
dmcp_rc dmcp_resource_updated(dmcp_ctx *ctx, const char *uri) DMCP_MUST_CHECK;

/* ---- Resources, prompts, completion ---------------------------------------------------- */

struct dmcp_resource {
	const char *uri;         /* exact URI */
	const char *name;        /* required */
	const char *title;       /* or NULL */
	const char *description; /* or NULL */
	const char *mime_type;   /* or NULL */
	const char *text;        /* the content: text ... */
	const char *blob;        /* ... or base64 (exactly one of the two) */
};

/* Reads a templated resource: append ResourceContents objects to contents. vars holds the
 * template's variables as strings. DMCP_E_NOT_FOUND when there is no such resource. */
typedef dmcp_rc (*dmcp_read_fn)(const char *uri, json_object *vars, json_object *contents);

struct dmcp_resource_template {
	const char *uri_template; /* RFC 6570 level 1: {name} matches one path segment */
	const char *name;
	const char *title;
	const char *description;
	const char *mime_type;
	dmcp_read_fn read;
};

struct dmcp_prompt_arg {
	const char *name;
	const char *description;
	int required;
};

/* Appends PromptMessage objects to messages. args is an object of strings, checked for the
 * required arguments before the call. */
typedef dmcp_rc (*dmcp_prompt_fn)(json_object *args, json_object *messages);

/* A prompt that asks before it answers: it runs like a tool (durable effects, replay, the
 * same journal), and appends PromptMessage objects to messages once it has what it needs.
 * args is an object of strings, checked for the required arguments before the call. */
typedef dmcp_rc (*dmcp_prompt_run_fn)(dmcp_ctx *ctx, json_object *args, json_object *messages);

struct dmcp_prompt {
	const char *name;
	const char *title;
	const char *description;
	const struct dmcp_prompt_arg *args;    /* ended by a NULL name, or NULL */
	dmcp_prompt_fn get;                    /* a prompt that answers at once ... */
	dmcp_prompt_run_fn run;                /* ... or one that may ask (exactly one of the two) */
	const struct dmcp_schema_def *elicits; /* run: its elicitation schemas, or NULL */
	int version;                           /* run: as a tool's .version */
};

/* Appends candidate strings for argument arg_name, given its current value, to values. */
typedef dmcp_rc (*dmcp_complete_fn)(const char *arg_name, const char *value,
                                    json_object *values);

struct dmcp_completion {
	const char *ref_type; /* "ref/prompt" or "ref/resource" */
	const char *ref;      /* the prompt name or the resource template */
	dmcp_complete_fn complete;
};

dmcp_rc dmcp_register_resource(dmcp_registry *reg, const struct dmcp_resource *r,
                               char *err, size_t errlen) DMCP_MUST_CHECK;
dmcp_rc dmcp_register_template(dmcp_registry *reg, const struct dmcp_resource_template *t,
                               char *err, size_t errlen) DMCP_MUST_CHECK;
dmcp_rc dmcp_register_prompt(dmcp_registry *reg, const struct dmcp_prompt *p,
                             char *err, size_t errlen) DMCP_MUST_CHECK;
dmcp_rc dmcp_register_completion(dmcp_registry *reg, const struct dmcp_completion *c,
                                 char *err, size_t errlen) DMCP_MUST_CHECK;

/* Content blocks for resources and prompts (new objects, owned by the caller). */
json_object *dmcp_text_block(const char *text);
json_object *dmcp_image_block(const char *base64, const char *mime);
json_object *dmcp_message(const char *role, json_object *content); /* takes content */

/* ---- Sampling fallback ------------------------------------------------------------------ */

/* Answers sampling/createMessage when the client cannot. params is the request's params
 * (borrowed); set *result to a new CreateMessageResult. Called inside a step, so it should
 * be quick and must be safe to call from several threads at once. */
struct dmcp_sampling_provider {
	const char *name;
	dmcp_rc (*create_message)(void *state, json_object *params, json_object **result);
	void *state;
};

/* The deterministic mock used by demos and tests: it answers "mock response to: <text of
 * the last user message>" with model "dmcp-mock". */
const struct dmcp_sampling_provider *dmcp_mock_sampling_provider(void);
void dmcp_set_sampling_provider(dmcp_registry *reg, const struct dmcp_sampling_provider *p);

#endif
