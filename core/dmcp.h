/* dmcp.h — the one public header for tool authors: define tools, resources, prompts and
 * completions, and use the durable effects (elicit, sample, progress, log, memo) from a tool.
 * Knows nothing of HTTP, FastCGI or PostgreSQL. Follows MCP 2025-11-25: server/tools,
 * server/resources, server/prompts, client/elicitation, client/sampling, basic/utilities. */
#ifndef DMCP_H
#define DMCP_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#if defined(__GNUC__)
#define DMCP_MUST_CHECK __attribute__((warn_unused_result))
#define DMCP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DMCP_MUST_CHECK
#define DMCP_PRINTF(a, b)
#endif

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

/* ---- Tools ------------------------------------------------------------------------------ */

/* A tool function. It runs from the top at every step of its run and must be deterministic
 * given args and what the effects below return: everything that varies (time, randomness,
 * calls to the outside world) goes through dmcp_memo(). args is borrowed for the call. */
typedef dmcp_rc (*dmcp_tool_fn)(dmcp_ctx *ctx, json_object *args, dmcp_result *res);

/* A named elicitation schema: a flat object of primitives (MCP elicitation requestedSchema). */
struct dmcp_schema_def {
	const char *name;   /* what the tool passes to dmcp_elicit() */
	const char *schema; /* JSON text */
};

struct dmcp_tool {
	const char *name;          /* 1-128 chars of [A-Za-z0-9_.-], unique in the registry */
	const char *title;         /* display name, or NULL */
	const char *description;   /* required, non-empty */
	const char *input_schema;  /* JSON Schema text (2020-12 by default); NULL: {"type":"object"} */
	const char *output_schema; /* JSON Schema text with an object root, or NULL; when set,
	                              results must carry structuredContent that conforms */
	const char *annotations;   /* ToolAnnotations JSON text, or NULL */
	const struct dmcp_schema_def *elicits; /* array ended by a NULL name, or NULL */
	int version;               /* runs record it; bump it when old journals would replay wrong */
	dmcp_tool_fn run;
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
 * `return dmcp_result_error(res, "...")`. */
dmcp_rc dmcp_result_error(dmcp_result *res, const char *fmt, ...) DMCP_PRINTF(2, 3);

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
};

/* Ask the client's LLM (sampling/createMessage). When the client declared no sampling, the
 * configured fallback provider answers within this step; with none, DMCP_E_NO_SAMPLING.
 * A malformed answer gives DMCP_E_ANSWER, a client error DMCP_E_REJECTED. */
dmcp_rc dmcp_sample(dmcp_ctx *ctx, const struct dmcp_sample_req *req,
                    struct dmcp_sample_answer *out) DMCP_MUST_CHECK;

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

/* The run's id (32 hex chars) and the number the next effect will get: together an
 * idempotency key for side effects outside PostgreSQL, which are at-least-once. */
const char *dmcp_run_id(const dmcp_ctx *ctx);
int dmcp_effect_seq(const dmcp_ctx *ctx);

/* The call's progressToken as JSON text ("null" when absent); borrowed, valid for the step. */
const char *dmcp_progress_token(const dmcp_ctx *ctx);

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

struct dmcp_prompt {
	const char *name;
	const char *title;
	const char *description;
	const struct dmcp_prompt_arg *args; /* ended by a NULL name, or NULL */
	dmcp_prompt_fn get;
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
