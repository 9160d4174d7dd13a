/* registry.h — what the server offers: tools (with compiled schemas), resources, resource
 * templates, prompts, completions, and the sampling fallback. Built before serving, then
 * read-only, so worker threads share it without locks. Tools made at run time (SQL
 * functions, programs) go into a view: a copy of the registry that borrows its entries and
 * owns only what was added to it (reg_view_new; dynreg.c swaps views while serving).
 * Knows nothing of HTTP or the database. MCP 2025-11-25 server/tools, server/resources,
 * server/prompts, completion. */
#ifndef DMCP_REGISTRY_H
#define DMCP_REGISTRY_H

#include <json-c/json.h>
#include "dmcp.h"
#include "schema.h"

/* Entries of each kind one registry holds: a server with more tools than this is a
 * configuration mistake, and lists stay cheap to build. */
#define REG_MAX_ENTRIES 256
/* Characters of a tool or prompt name (the MCP spec asks for 1 to 128). */
#define REG_MAX_NAME 128
/* Named elicitation schemas per tool. */
#define REG_MAX_ELICITS 16
/* Items per page of tools/list, resources/list, resources/templates/list, prompts/list. */
#define REG_PAGE_SIZE 50

struct reg_elicit {
	const char *name;    /* borrowed from the definition */
	const struct dmcp_param *fields; /* borrowed: the form's fields, or NULL (schema text) */
	json_object *schema; /* owned: the requestedSchema; read-only after registration */
	char *schema_text;   /* owned: its JSON text (json-c objects are not shared across
	                        threads: each request parses its own copy from this) */
	struct schema *check;/* owned: validates answers */
};

struct reg_tool {
	const struct dmcp_tool *def; /* borrowed; for a prompt that runs, made here (owned); for
	                                a tool made at run time, it lives in impl (owned) */
	void *impl;                  /* a tool made at run time: what the adapter in def->run
	                                reads (its kind's data), owned; NULL for a C tool */
	void (*impl_free)(void *impl); /* frees impl (def with it) */
	const struct dmcp_prompt *prompt; /* a prompt that runs as a run (dmcp_prompt.run), or
	                                     NULL for a tool */
	char *listing;               /* owned: the Tool object for tools/list, as JSON text */
	struct schema *input;        /* owned */
	struct schema *output;       /* owned, or NULL */
	int n_elicits;
	struct reg_elicit elicits[REG_MAX_ELICITS];
};

struct dmcp_registry {
	int n_tools, n_resources, n_templates, n_prompts, n_completions, n_prompt_runs;
	struct reg_tool tools[REG_MAX_ENTRIES];
	struct reg_tool prompt_runs[REG_MAX_ENTRIES]; /* prompts with .run, as runnable entries */
	const struct dmcp_resource *resources[REG_MAX_ENTRIES];          /* borrowed */
	const struct dmcp_resource_template *templates[REG_MAX_ENTRIES]; /* borrowed */
	const struct dmcp_prompt *prompts[REG_MAX_ENTRIES];              /* borrowed */
	const struct dmcp_completion *completions[REG_MAX_ENTRIES];      /* borrowed */
	const struct dmcp_sampling_provider *sampling;                   /* borrowed, or NULL */
	int view;       /* a view (reg_view_new): every entry below n_borrowed, and every prompt
	                   run, belongs to the registry it was copied from */
	int n_borrowed; /* a view: tools[0..n_borrowed) are the base's */
	int refs;       /* a view: references to it (dynreg.c counts them under its lock) */
};

/* A view of base: a copy that borrows base's entries (base must outlive it, read-only), to
 * which reg_add_tool adds tools made at run time. dmcp_registry_free frees only what was
 * added. NULL when out of memory. */
dmcp_registry *reg_view_new(const dmcp_registry *base);
/* Register def, a tool made at run time, with its kind's data impl: the entry owns impl from
 * now on (impl_free(impl) frees it with the entry, or at once when registration fails, with
 * the reason in err). def usually lives in impl. */
dmcp_rc reg_add_tool(dmcp_registry *reg, const struct dmcp_tool *def, void *impl,
                     void (*impl_free)(void *impl), char *err, size_t errlen) DMCP_MUST_CHECK;
/* 1 when name can name a tool (1-128 of [A-Za-z0-9_.-]). */
int reg_name_ok(const char *name);
/* Compile schema (a JSON tree, borrowed) as an elicitation form, with the checks a
 * registered form receives (an object root, flat primitives): for forms that arrive while
 * serving. *check is the caller's (schema_free). DMCP_E_SCHEMA with the reason in err. */
dmcp_rc reg_form_compile(json_object *schema, struct schema **check, char *err,
                         size_t errlen) DMCP_MUST_CHECK;

const struct reg_tool *reg_tool(const dmcp_registry *reg, const char *name);
const struct reg_elicit *reg_elicit(const struct reg_tool *t, const char *name);
/* Name prefix of the runs of prompts: a run of prompt P records its tool as "prompt:P". */
#define REG_PROMPT_PREFIX "prompt:"
/* What a run's tool column names: a tool, or REG_PROMPT_PREFIX + a prompt with .run. */
const struct reg_tool *reg_runnable(const dmcp_registry *reg, const char *name);
/* The runnable entry of a prompt with .run, or NULL. */
const struct reg_tool *reg_prompt_run(const dmcp_registry *reg, const char *name);
const struct dmcp_prompt *reg_prompt(const dmcp_registry *reg, const char *name);

/* tools/call: checks args (an object, borrowed) against the tool's input schema, then adds
 * the defaults of the typed parameters it lacks, in place, so that the run stores them.
 * DMCP_E_VALIDATION with the validator's one-line message in err; DMCP_E_NOMEM. */
dmcp_rc reg_args_check(const struct reg_tool *t, json_object *args, char *err,
                       size_t errlen) DMCP_MUST_CHECK;

/* One page of a list method as a new result object, or DMCP_E_PARAMS for a bad cursor.
 * kind: "tools", "resources", "resourceTemplates", "prompts". */
dmcp_rc reg_list(const dmcp_registry *reg, const char *kind, const char *cursor,
                 json_object **result) DMCP_MUST_CHECK;
/* resources/read: append the contents for uri to contents. DMCP_E_NOT_FOUND if none. */
dmcp_rc reg_read(const dmcp_registry *reg, const char *uri, json_object *contents) DMCP_MUST_CHECK;
/* 1 when uri names a static resource or matches a template. */
int reg_has_resource(const dmcp_registry *reg, const char *uri);
/* completion/complete: the completer for (ref_type, ref), or NULL. */
const struct dmcp_completion *reg_completion(const dmcp_registry *reg, const char *ref_type,
                                             const char *ref);
/* Match uri against template tmpl; on a match fill vars (an object) and return 1. */
int reg_template_match(const char *tmpl, const char *uri, json_object *vars);

#endif
