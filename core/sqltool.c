/* sqltool.c — PostgreSQL functions as MCP tools (see sqltool.h): definitions from the
 * catalog, and the adapter (sqlt_run) that a step of such a tool runs.
 * Knows nothing of HTTP or libpq: the SQL text is the store's. MCP 2025-11-25 server/tools.
 *
 * A function's comment is its description; lines that start with '@' say more:
 *   @title <text>   the tool's title          @readonly     readOnlyHint (STABLE and
 *   @destructive    destructiveHint           IMMUTABLE functions have it anyway)
 *   @idempotent     idempotentHint            @openworld    openWorldHint (else false: a
 *   @confirm        ask the user first (.confirm; destructiveHint too)   function acts on
 *                                                                        the database)
 * An unknown '@' word makes the function's registration fail (a misspelt @confirm must not
 * pass silently). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "js.h"
#include "log.h"
#include "rtint.h"
#include "sqltool.h"

/* Input arguments one tool may have (PostgreSQL's FUNC_MAX_ARGS). */
#define SQLT_MAX_ARGS 100
/* Characters of an argument name that clients accept as a property name (LLM APIs). */
#define SQLT_MAX_ARG_NAME 64
/* Bytes of a generated description or title. */
#define SQLT_MAX_TEXT 8192

/* How an argument's JSON value becomes the text the store sends. */
enum sqlt_value {
	SQLT_STRING, /* a string: its characters */
	SQLT_PLAIN,  /* a number or a boolean: its JSON text */
	SQLT_JSON    /* any JSON, and arrays: the JSON text */
};

/* What the function gives back, and how the result is shown. */
enum sqlt_shape {
	SQLT_VOID,   /* nothing: "done" */
	SQLT_SCALAR, /* a scalar: its text */
	SQLT_DOC,    /* json, jsonb, an array or a composite: JSON (an object is structured) */
	SQLT_ROWS    /* a set: a JSON array of row objects, structured as {"rows": [...]} */
};

struct sqlt_arg {
	char *name;               /* the argument's name, the property's */
	char *ident;              /* quoted for SQL */
	char *type;               /* its declared type as SQL */
	enum store_arg_form form; /* how the store passes it */
	enum sqlt_value value;    /* how its JSON becomes text */
};

/* One tool's data (reg_tool.impl); def lives here. */
struct sqlt_impl {
	struct dmcp_tool def;   /* def.run = sqlt_run; its strings are the fields below */
	char *name, *title, *description, *input_schema, *output_schema, *annotations;
	char *ident;            /* the function, schema-qualified and quoted */
	enum sqlt_shape shape;
	int n_args;
	struct sqlt_arg args[SQLT_MAX_ARGS];
	char *role;             /* DMCP_SQL_TOOLS_ROLE */
	int timeout_ms;         /* DMCP_SQL_TOOLS_TIMEOUT_MS */
	int max_rows;           /* DMCP_SQL_TOOLS_MAX_ROWS */
};

static void impl_free(void *p)
{
	struct sqlt_impl *im = p;
	int i;

	if (im == NULL)
		return;
	for (i = 0; i < im->n_args; i++) {
		free(im->args[i].name);
		free(im->args[i].ident);
		free(im->args[i].type);
	}
	free(im->name);
	free(im->title);
	free(im->description);
	free(im->input_schema);
	free(im->output_schema);
	free(im->annotations);
	free(im->ident);
	free(im->role);
	free(im);
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* ---- types ------------------------------------------------------------------------------ */

/* A scalar type dmcp maps, by its name in pg_type (after domains are resolved). */
struct scalar_map {
	const char *pg;          /* typname */
	const char *type;        /* JSON Schema type */
	const char *format;      /* "format", or NULL */
	int64_t min, max;        /* integer bounds (0, 0: none) */
	enum sqlt_value value;
};

static const struct scalar_map scalars[] = {
	{"text", "string", NULL, 0, 0, SQLT_STRING},
	{"varchar", "string", NULL, 0, 0, SQLT_STRING},
	{"bpchar", "string", NULL, 0, 0, SQLT_STRING},
	{"name", "string", NULL, 0, 0, SQLT_STRING},
	{"citext", "string", NULL, 0, 0, SQLT_STRING},
	{"uuid", "string", "uuid", 0, 0, SQLT_STRING},
	{"date", "string", "date", 0, 0, SQLT_STRING},
	{"timestamptz", "string", "date-time", 0, 0, SQLT_STRING},
	{"timestamp", "string", "date-time", 0, 0, SQLT_STRING},
	{"int2", "integer", NULL, -32768, 32767, SQLT_PLAIN},
	{"int4", "integer", NULL, -2147483647 - 1, 2147483647, SQLT_PLAIN},
	{"int8", "integer", NULL, INT64_MIN, INT64_MAX, SQLT_PLAIN},
	{"numeric", "number", NULL, 0, 0, SQLT_PLAIN},
	{"float4", "number", NULL, 0, 0, SQLT_PLAIN},
	{"float8", "number", NULL, 0, 0, SQLT_PLAIN},
	{"bool", "boolean", NULL, 0, 0, SQLT_PLAIN},
	{"json", NULL, NULL, 0, 0, SQLT_JSON},
	{"jsonb", NULL, NULL, 0, 0, SQLT_JSON},
};

static const struct scalar_map *scalar_of(const char *pg)
{
	size_t i;

	for (i = 0; pg != NULL && i < sizeof scalars / sizeof scalars[0]; i++)
		if (strcmp(scalars[i].pg, pg) == 0)
			return &scalars[i];
	return NULL;
}

/* The JSON Schema of one value of the element type t (a catalog type object): new, or NULL
 * when dmcp cannot map it. *value: how it is sent. */
static json_object *element_schema(json_object *t, enum sqlt_value *value)
{
	const char *kind = js_str(t, "kind"), *name = js_str(t, "name");
	json_object *labels = js_get(t, "enum", json_type_array), *o;
	const struct scalar_map *m;

	if (kind != NULL && strcmp(kind, "e") == 0 && labels != NULL) {
		o = js_new_object();
		js_object_add(o, "type", js_new_string("string"));
		js_object_add(o, "enum", json_object_get(labels));
		*value = SQLT_STRING;
		return o;
	}
	m = kind != NULL && strcmp(kind, "b") == 0 ? scalar_of(name) : NULL;
	if (m == NULL)
		return NULL;
	*value = m->value;
	o = js_new_object();
	if (m->type != NULL)
		js_object_add(o, "type", js_new_string(m->type));
	if (m->format != NULL)
		js_object_add(o, "format", js_new_string(m->format));
	if (m->min != 0 || m->max != 0) {
		js_object_add(o, "minimum", js_new_int64(m->min));
		js_object_add(o, "maximum", js_new_int64(m->max));
	}
	return o;
}

/* The property of an argument of type t (arrays included), or NULL with why. */
static json_object *arg_schema(json_object *t, struct sqlt_arg *a, char *why, size_t len)
{
	json_object *item, *o;
	json_object *arr = js_get(t, "array", json_type_boolean);
	const char *sql = js_str(t, "sql");
	enum sqlt_value v = SQLT_STRING;

	item = element_schema(t, &v);
	if (item == NULL || sql == NULL) {
		snprintf(why, len, "argument %.64s has the type %.100s, which dmcp cannot map to JSON "
		         "(use text, varchar, integer types, numeric, real, double precision, boolean, "
		         "json, jsonb, an enum, a domain over one of these, or an array of them)",
		         a->name, sql != NULL ? sql : "?");
		json_object_put(item);
		return NULL;
	}
	a->type = strdup(sql);
	a->value = v;
	a->form = STORE_ARG_SCALAR;
	if (arr == NULL || !json_object_get_boolean(arr))
		return item;
	a->value = SQLT_JSON;
	a->form = v == SQLT_JSON ? STORE_ARG_JSONS : STORE_ARG_ARRAY;
	o = js_new_object();
	js_object_add(o, "type", js_new_string("array"));
	js_object_add(o, "items", item);
	return o;
}

/* 1 when an argument name is usable as a property name by clients and LLM APIs. */
static int arg_name_ok(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > SQLT_MAX_ARG_NAME)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

/* One catalog argument into im (when it is an input) and the input schema. */
static dmcp_rc add_arg(struct sqlt_impl *im, json_object *ca, json_object *props,
                       json_object *required, char *why, size_t len)
{
	const char *mode = js_str(ca, "mode"), *name = js_str(ca, "name");
	json_object *dflt = js_get(ca, "default", json_type_boolean), *schema;
	struct sqlt_arg *a;

	if (mode != NULL && (strcmp(mode, "o") == 0 || strcmp(mode, "t") == 0))
		return DMCP_OK; /* an output column */
	if (mode == NULL || (strcmp(mode, "i") != 0 && strcmp(mode, "b") != 0)) {
		snprintf(why, len, "it takes VARIADIC arguments, which dmcp cannot map");
		return DMCP_E_SCHEMA;
	}
	if (!arg_name_ok(name)) {
		snprintf(why, len, name == NULL || name[0] == '\0' ? "an argument has no name: name "
		         "every argument" : "the argument name %.64s is not 1-64 of [A-Za-z0-9_.-]",
		         name);
		return DMCP_E_SCHEMA;
	}
	if (im->n_args >= SQLT_MAX_ARGS) {
		snprintf(why, len, "more than %d arguments", SQLT_MAX_ARGS);
		return DMCP_E_LIMIT;
	}
	a = &im->args[im->n_args++];
	a->name = strdup(name);
	a->ident = dup_or_null(js_str(ca, "ident"));
	schema = arg_schema(js_get(ca, "type", json_type_object), a, why, len);
	if (schema == NULL)
		return DMCP_E_SCHEMA;
	if (a->name == NULL || a->ident == NULL || a->type == NULL) {
		json_object_put(schema);
		return DMCP_E_NOMEM;
	}
	js_object_add(props, name, schema);
	if (dflt == NULL || !json_object_get_boolean(dflt))
		js_array_add(required, js_new_string(name));
	return DMCP_OK;
}

/* The input schema from the catalog's arguments. */
static dmcp_rc input_schema(struct sqlt_impl *im, json_object *fn, char *why, size_t len)
{
	json_object *args = js_get(fn, "args", json_type_array);
	json_object *o = js_new_object(), *props = js_new_object(), *req = js_new_array();
	size_t i, n = args != NULL ? json_object_array_length(args) : 0;
	dmcp_rc rc = DMCP_OK;

	for (i = 0; i < n && rc == DMCP_OK; i++)
		rc = add_arg(im, json_object_array_get_idx(args, i), props, req, why, len);
	js_object_add(o, "type", js_new_string("object"));
	js_object_add(o, "properties", props);
	if (json_object_array_length(req) > 0)
		js_object_add(o, "required", req);
	else
		json_object_put(req);
	js_object_add(o, "additionalProperties", js_new_boolean(0));
	if (rc == DMCP_OK) {
		im->input_schema = strdup(js_text(o));
		if (im->input_schema == NULL)
			rc = DMCP_E_NOMEM;
	}
	json_object_put(o);
	return rc;
}

/* What the function returns: its shape, and an output schema for sets. */
static dmcp_rc result_shape(struct sqlt_impl *im, json_object *fn, char *why, size_t len)
{
	json_object *ret = js_get(fn, "returns", json_type_object);
	json_object *t = js_get(ret, "type", json_type_object);
	json_object *set = js_get(ret, "set", json_type_boolean);
	json_object *arr = js_get(t, "array", json_type_boolean);
	const char *kind = js_str(t, "kind"), *name = js_str(t, "name");
	enum sqlt_value v;
	json_object *probe;

	if (kind == NULL || name == NULL) {
		snprintf(why, len, "the catalog does not say what it returns");
		return DMCP_E_SCHEMA;
	}
	if (set != NULL && json_object_get_boolean(set)) {
		im->shape = SQLT_ROWS;
		im->output_schema = strdup("{\"type\":\"object\",\"properties\":{\"rows\":{\"type\":"
		                           "\"array\",\"items\":{\"type\":\"object\"}}},"
		                           "\"required\":[\"rows\"]}");
		return im->output_schema != NULL ? DMCP_OK : DMCP_E_NOMEM;
	}
	if (strcmp(kind, "p") == 0 && strcmp(name, "void") == 0) {
		im->shape = SQLT_VOID;
		return DMCP_OK;
	}
	if (strcmp(kind, "c") == 0 || (strcmp(kind, "p") == 0 && strcmp(name, "record") == 0)) {
		im->shape = SQLT_DOC;
		return DMCP_OK;
	}
	probe = element_schema(t, &v);
	json_object_put(probe);
	if (probe == NULL) {
		snprintf(why, len, "it returns %.100s, which dmcp cannot map to a result",
		         js_str(t, "sql") != NULL ? js_str(t, "sql") : name);
		return DMCP_E_SCHEMA;
	}
	im->shape = (arr != NULL && json_object_get_boolean(arr)) || v == SQLT_JSON ? SQLT_DOC
	                                                                          : SQLT_SCALAR;
	return DMCP_OK;
}

/* ---- the comment ------------------------------------------------------------------------ */

/* The hints the comment and the volatility give. */
struct hints {
	int readonly, destructive, idempotent, openworld, confirm;
	char title[256];
};

/* One '@' line (without the '@'); DMCP_E_SCHEMA with why for an unknown word. */
static dmcp_rc directive(const char *line, size_t n, struct hints *h, char *why, size_t len)
{
	static const struct {
		const char *word;
		size_t off;
	} flags[] = {
		{"readonly", offsetof(struct hints, readonly)},
		{"destructive", offsetof(struct hints, destructive)},
		{"idempotent", offsetof(struct hints, idempotent)},
		{"openworld", offsetof(struct hints, openworld)},
		{"confirm", offsetof(struct hints, confirm)},
	};
	size_t w = strcspn(line, " \t"), i;

	if (w > n)
		w = n;
	for (i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (strlen(flags[i].word) == w && strncmp(line, flags[i].word, w) == 0) {
			*(int *)(void *)((char *)h + flags[i].off) = 1;
			return DMCP_OK;
		}
	if (w == 5 && strncmp(line, "title", 5) == 0) {
		const char *t = line + w;
		size_t tn = n - w;
		while (tn > 0 && (*t == ' ' || *t == '\t')) {
			t++;
			tn--;
		}
		snprintf(h->title, sizeof h->title, "%.*s", (int)tn, t);
		return DMCP_OK;
	}
	snprintf(why, len, "its comment says @%.*s, which is not one of @title, @readonly, "
	         "@destructive, @idempotent, @openworld, @confirm", (int)(w > 40 ? 40 : w), line);
	return DMCP_E_SCHEMA;
}

/* Split the comment into directives (h) and the description (b). */
static dmcp_rc read_comment(const char *comment, struct hints *h, struct buf *b, char *why,
                            size_t len)
{
	const char *p = comment;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n"), lead = strspn(p, " \t");
		size_t end = n;
		while (end > lead && (p[end - 1] == ' ' || p[end - 1] == '\t' || p[end - 1] == '\r'))
			end--;
		if (lead < end && p[lead] == '@') {
			DMCP_TRY(directive(p + lead + 1, end - lead - 1, h, why, len));
		} else if (lead < end || b->len > 0) {
			if (b->len > 0)
				(void)buf_adds(b, "\n");
			(void)buf_add(b, p + lead, end - lead);
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	while (b->len > 0 && b->data[b->len - 1] == '\n')
		b->data[--b->len] = '\0';
	return DMCP_OK;
}

/* Title, description and annotations from the comment and the volatility. */
static dmcp_rc describe(struct sqlt_impl *im, json_object *fn, char *why, size_t len)
{
	const char *vol = js_str(fn, "volatility");
	struct hints h;
	struct buf b;
	json_object *ann;
	dmcp_rc rc;

	memset(&h, 0, sizeof h);
	buf_init(&b, SQLT_MAX_TEXT);
	rc = read_comment(js_str(fn, "comment"), &h, &b, why, len);
	if (rc == DMCP_OK && b.len == 0)
		(void)buf_addf(&b, "Calls the SQL function %s", im->ident);
	if (rc == DMCP_OK)
		rc = b.fail;
	if (rc != DMCP_OK) {
		buf_free(&b);
		return rc;
	}
	im->description = buf_take(&b);
	if (vol != NULL && (strcmp(vol, "s") == 0 || strcmp(vol, "i") == 0))
		h.readonly = 1;
	if (h.confirm)
		h.destructive = 1;
	ann = js_new_object();
	if (h.title[0] != '\0') {
		im->title = strdup(h.title);
		js_object_add(ann, "title", js_new_string(h.title));
	}
	js_object_add(ann, "readOnlyHint", js_new_boolean(h.readonly));
	js_object_add(ann, "destructiveHint", js_new_boolean(h.destructive));
	js_object_add(ann, "idempotentHint", js_new_boolean(h.idempotent));
	js_object_add(ann, "openWorldHint", js_new_boolean(h.openworld));
	im->annotations = strdup(js_text(ann));
	json_object_put(ann);
	im->def.confirm = h.confirm;
	return im->description != NULL && im->annotations != NULL &&
	       (h.title[0] == '\0' || im->title != NULL) ? DMCP_OK : DMCP_E_NOMEM;
}

/* ---- definitions ------------------------------------------------------------------------ */

static dmcp_rc sqlt_run(dmcp_ctx *ctx, json_object *args, dmcp_result *res);

/* A version that changes when what a call sends or receives changes (arguments, result), so a
 * call that waits (for its confirmation) while the function is replaced by an incompatible
 * one fails cleanly. FNV-1a over the input schema and the shape. */
static int version_of(const struct sqlt_impl *im)
{
	uint32_t h = 2166136261u;
	const char *p;
	int i;

	for (p = im->input_schema; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (i = 0; i < im->n_args; i++)
		for (p = im->args[i].type; *p != '\0'; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ (unsigned)im->shape) * 16777619u;
	return (int)(h & 0x7fffffff) | 1;
}

/* The reason a catalog entry cannot be a tool before its types are looked at, or NULL. */
static const char *refused(json_object *fn)
{
	const char *kind = js_str(fn, "kind");
	json_object *over = js_get(fn, "overloaded", json_type_boolean);

	if (!reg_name_ok(js_str(fn, "name")))
		return "its name is not a tool name (1-128 of [A-Za-z0-9_.-])";
	if (kind == NULL || strcmp(kind, "f") != 0)
		return "it is a procedure, an aggregate or a window function: only plain functions "
		       "can be tools";
	if (over != NULL && json_object_get_boolean(over))
		return "the name is overloaded (several functions have it): give each its own name";
	return NULL;
}

/* The tool one catalog entry describes, or NULL with why. */
static struct sqlt_impl *define(json_object *fn, const struct cfg *cfg, char *why, size_t len)
{
	struct sqlt_impl *im;
	const char *no = refused(fn);
	dmcp_rc rc;

	if (no != NULL) {
		snprintf(why, len, "%s", no);
		return NULL;
	}
	im = calloc(1, sizeof *im);
	if (im == NULL) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	im->name = strdup(js_str(fn, "name"));
	im->ident = dup_or_null(js_str(fn, "ident"));
	im->role = strdup(cfg->sql_role != NULL ? cfg->sql_role : "");
	im->timeout_ms = cfg->sql_timeout_ms;
	im->max_rows = cfg->sql_max_rows;
	rc = im->name != NULL && im->ident != NULL && im->role != NULL ? DMCP_OK : DMCP_E_NOMEM;
	if (rc == DMCP_OK)
		rc = input_schema(im, fn, why, len);
	if (rc == DMCP_OK)
		rc = result_shape(im, fn, why, len);
	if (rc == DMCP_OK)
		rc = describe(im, fn, why, len);
	if (rc != DMCP_OK) {
		if (rc == DMCP_E_NOMEM)
			snprintf(why, len, "out of memory");
		impl_free(im);
		return NULL;
	}
	im->def.name = im->name;
	im->def.title = im->title;
	im->def.description = im->description;
	im->def.input_schema = im->input_schema;
	im->def.output_schema = im->output_schema;
	im->def.annotations = im->annotations;
	im->def.version = version_of(im);
	im->def.run = sqlt_run;
	return im;
}

static const char *schema_of(const struct cfg *cfg)
{
	return cfg->sql_schema != NULL ? cfg->sql_schema : "";
}

dmcp_rc sqlt_register(dmcp_registry *reg, const char *catalog, const struct cfg *cfg,
                      int *added)
{
	json_object *all = js_parse_trusted(catalog);
	size_t i, n;
	char why[400], name[160];

	*added = 0;
	if (all == NULL || !json_object_is_type(all, json_type_array)) {
		json_object_put(all);
		log_msg(LOG_ERROR, "SQL tools: the catalog is not a JSON array");
		return DMCP_E_PARSE;
	}
	n = json_object_array_length(all);
	for (i = 0; i < n; i++) {
		json_object *fn = json_object_array_get_idx(all, i);
		const char *fname = js_str(fn, "name");
		struct sqlt_impl *im = define(fn, cfg, why, sizeof why);
		log_escape(name, sizeof name, fname != NULL ? fname : "?",
		           fname != NULL ? strlen(fname) : 1);
		if (im == NULL) {
			log_msg(LOG_WARN, "SQL tool %s.%s skipped: %s", schema_of(cfg), name, why);
			continue;
		}
		if (reg_add_tool(reg, &im->def, im, impl_free, why, sizeof why) != DMCP_OK) {
			log_msg(LOG_WARN, "SQL tool %s.%s skipped: %s", schema_of(cfg), name, why);
			continue;
		}
		(*added)++;
	}
	json_object_put(all);
	return DMCP_OK;
}

dmcp_rc sqlt_load(dmcp_registry *reg, struct store *st, const struct cfg *cfg, int *added)
{
	char *catalog = NULL;
	dmcp_rc rc;

	*added = 0;
	rc = store_tool_catalog(st, cfg->sql_schema, &catalog);
	if (rc == DMCP_OK)
		rc = sqlt_register(reg, catalog, cfg, added);
	free(catalog);
	return rc;
}

/* ---- a step ----------------------------------------------------------------------------- */

/* The arguments given, as the store sends them; their texts go into texts (owned by the
 * caller, freed with free_texts). */
static dmcp_rc call_args(const struct sqlt_impl *im, json_object *args, struct store_arg *out,
                         char **texts, int *n)
{
	int i;

	*n = 0;
	for (i = 0; i < im->n_args; i++) {
		json_object *v;
		const char *t;
		if (!json_object_object_get_ex(args, im->args[i].name, &v))
			continue; /* not given: the function's DEFAULT */
		if (im->args[i].value == SQLT_STRING && json_object_is_type(v, json_type_string))
			t = json_object_get_string(v);
		else
			t = js_text(v);
		texts[*n] = strdup(t);
		if (texts[*n] == NULL)
			return DMCP_E_NOMEM;
		out[*n].ident = im->args[i].ident;
		out[*n].type = im->args[i].type;
		out[*n].form = im->args[i].form;
		out[*n].value = texts[*n];
		(*n)++;
	}
	return DMCP_OK;
}

/* The function failed: its message, detail and hint as the tool's error. */
static dmcp_rc failed(dmcp_ctx *ctx, const struct sqlt_impl *im, const struct store_call_out *o)
{
	char timeout[96] = "";

	if (strcmp(o->sqlstate, "57014") == 0)
		snprintf(timeout, sizeof timeout, " (DMCP_SQL_TOOLS_TIMEOUT_MS is %d)", im->timeout_ms);
	return dmcp_fail(ctx, "%s%s%s%s%s%s", o->message, timeout,
	                 o->detail[0] ? "\nDETAIL: " : "", o->detail,
	                 o->hint[0] ? "\nHINT: " : "", o->hint);
}

/* The result as JSON: structured when it is an object (rows: {"rows": [...]}), else text. */
static dmcp_rc json_result(dmcp_result *res, const char *text, int rows)
{
	json_object *v = NULL, *wrap;
	char why[100];
	dmcp_rc rc;

	if (js_parse(text, strlen(text), JS_MAX_DEPTH, &v, why, sizeof why) != DMCP_OK)
		return dmcp_result_text(res, text); /* JSON PostgreSQL wrote that dmcp refuses */
	if (json_object_is_type(v, json_type_object) && !rows)
		return dmcp_result_structured(res, v);
	rc = dmcp_result_text(res, js_text(v));
	if (rows && rc == DMCP_OK) {
		wrap = js_new_object();
		js_object_add(wrap, "rows", v);
		json_object_put(res->structured);
		res->structured = wrap;
	} else {
		json_object_put(v);
	}
	return rc;
}

static dmcp_rc show(dmcp_ctx *ctx, const struct sqlt_impl *im, const struct store_call_out *o,
                    dmcp_result *res)
{
	if (o->failed)
		return failed(ctx, im, o);
	if (o->too_big && im->shape == SQLT_ROWS)
		return dmcp_fail(ctx, "%s returned more than %d rows (DMCP_SQL_TOOLS_MAX_ROWS) or "
		                 "more than %u bytes: ask for fewer", im->name, im->max_rows,
		                 (unsigned)SQLT_MAX_RESULT);
	if (o->too_big)
		return dmcp_fail(ctx, "%s returned more than %u bytes, the most one result holds: "
		                 "ask for less", im->name, (unsigned)SQLT_MAX_RESULT);
	if (im->shape == SQLT_VOID)
		return dmcp_result_text(res, "done");
	if (o->value == NULL)
		return dmcp_result_text(res, "null");
	if (im->shape == SQLT_SCALAR)
		return dmcp_result_text(res, o->value);
	return json_result(res, o->value, im->shape == SQLT_ROWS);
}

static const enum store_ret store_rets[] = {
	[SQLT_VOID] = STORE_RET_VOID, [SQLT_SCALAR] = STORE_RET_TEXT,
	[SQLT_DOC] = STORE_RET_JSON, [SQLT_ROWS] = STORE_RET_ROWS,
};

/* The adapter: every SQL tool's def.run. It calls the function once, in the transaction the
 * run's save commits (rtint.h: ctx->tool->impl, ctx->env->st). */
static dmcp_rc sqlt_run(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	const struct sqlt_impl *im = ctx->tool->impl;
	struct store_arg a[SQLT_MAX_ARGS];
	char *texts[SQLT_MAX_ARGS];
	struct store_call c;
	struct store_call_out out;
	int n = 0, i;
	dmcp_rc rc;

	memset(&out, 0, sizeof out);
	rc = call_args(im, args, a, texts, &n);
	if (rc == DMCP_OK) {
		memset(&c, 0, sizeof c);
		c.function = im->ident;
		c.args = a;
		c.n_args = n;
		c.ret = store_rets[im->shape];
		c.max_rows = im->max_rows;
		c.max_bytes = SQLT_MAX_RESULT;
		c.role = im->role;
		c.timeout_ms = im->timeout_ms;
		c.principal = ctx->run->principal;
		c.session_id = ctx->run->session_id;
		c.run_id = ctx->run->id;
		rc = store_tool_call(ctx->env->st, &c, &out);
		if (rc == DMCP_E_DB)
			rc = dmcp_fail(ctx, "the function %s could not be called: the database refused "
			               "dmcp's own statements (the server's log says why)", im->ident);
		else if (rc == DMCP_OK)
			rc = show(ctx, im, &out, res);
	}
	for (i = 0; i < n; i++)
		free(texts[i]);
	store_call_out_clear(&out);
	return rc;
}
