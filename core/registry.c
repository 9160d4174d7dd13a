/* registry.c — registration and lookup of tools, resources, prompts and completions (see
 * registry.h). Knows nothing of HTTP or the database. Definitions are checked once, at
 * registration, so a request never meets a malformed schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "js.h"
#include "param.h"
#include "registry.h"

/* Bytes of a variable name in a URI template ("{id}"): a longer one never matches. */
#define REG_MAX_VAR 64

dmcp_registry *dmcp_registry_new(void)
{
	return calloc(1, sizeof(struct dmcp_registry));
}

static void free_tool(struct reg_tool *t)
{
	int i;

	if (t->impl_free != NULL)
		t->impl_free(t->impl);
	free(t->listing);
	schema_free(t->input);
	schema_free(t->output);
	for (i = 0; i < t->n_elicits; i++) {
		json_object_put(t->elicits[i].schema);
		free(t->elicits[i].schema_text);
		schema_free(t->elicits[i].check);
	}
	memset(t, 0, sizeof *t);
}

void dmcp_registry_free(dmcp_registry *reg)
{
	int i;

	if (reg == NULL)
		return;
	for (i = reg->view ? reg->n_borrowed : 0; i < reg->n_tools; i++)
		free_tool(&reg->tools[i]);
	for (i = 0; !reg->view && i < reg->n_prompt_runs; i++) {
		struct dmcp_tool *made = (struct dmcp_tool *)(void *)reg->prompt_runs[i].def;
		free_tool(&reg->prompt_runs[i]);
		free(made);
	}
	free(reg);
}

static dmcp_rc fail(char *err, size_t errlen, dmcp_rc rc, const char *what, const char *name)
{
	snprintf(err, errlen, "%s: %s", name != NULL ? name : "(unnamed)", what);
	return rc;
}

dmcp_registry *reg_view_new(const dmcp_registry *base)
{
	dmcp_registry *v = malloc(sizeof *v);

	if (v == NULL)
		return NULL;
	memcpy(v, base, sizeof *v);
	v->view = 1;
	v->n_borrowed = base->n_tools;
	return v;
}

int reg_name_ok(const char *name)
{
	size_t i, n;

	if (name == NULL)
		return 0;
	n = strlen(name);
	if (n == 0 || n > REG_MAX_NAME)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* Check tree t (borrowed) as a schema, with an object root type when need_object. */
static dmcp_rc compile_tree(json_object *t, int need_object, struct schema **out, char *err,
                            size_t errlen)
{
	const char *type;

	*out = NULL;
	if (t == NULL || !json_object_is_type(t, json_type_object)) {
		snprintf(err, errlen, "schema is not a JSON object");
		return DMCP_E_SCHEMA;
	}
	type = js_str(t, "type");
	if (need_object && (type == NULL || strcmp(type, "object") != 0)) {
		snprintf(err, errlen, "schema root must have \"type\": \"object\"");
		return DMCP_E_SCHEMA;
	}
	return schema_new(t, out, err, errlen);
}

/* Parse a schema text, check it, and require an object root type when need_object. */
static dmcp_rc compile(const char *text, int need_object, json_object **tree,
                       struct schema **out, char *err, size_t errlen)
{
	json_object *t = js_parse_trusted(text);
	dmcp_rc rc;

	*tree = NULL;
	rc = compile_tree(t, need_object, out, err, errlen);
	if (rc != DMCP_OK) {
		json_object_put(t);
		return rc;
	}
	*tree = t;
	return DMCP_OK;
}

/* Elicitation schemas must be flat: every property a primitive or an enum of strings. */
static int flat_schema(json_object *schema)
{
	json_object *props = js_get(schema, "properties", json_type_object);

	if (props == NULL)
		return 1;
	json_object_object_foreach(props, key, p) {
		const char *type = js_str(p, "type");
		(void)key;
		if (type == NULL)
			return 0;
		if (strcmp(type, "array") == 0) {
			json_object *items = js_get(p, "items", json_type_object);
			if (items == NULL || (js_get(items, "enum", json_type_array) == NULL &&
			                      js_get(items, "anyOf", json_type_array) == NULL))
				return 0;
		} else if (strcmp(type, "string") != 0 && strcmp(type, "number") != 0 &&
		           strcmp(type, "integer") != 0 && strcmp(type, "boolean") != 0) {
			return 0;
		}
	}
	return 1;
}

dmcp_rc reg_form_compile(json_object *schema, struct schema **check, char *err,
                         size_t errlen)
{
	DMCP_TRY(compile_tree(schema, 1, check, err, errlen));
	if (!flat_schema(schema)) {
		schema_free(*check);
		*check = NULL;
		snprintf(err, errlen, "an elicitation form must be a flat object of primitives");
		return DMCP_E_SCHEMA;
	}
	return DMCP_OK;
}

/* The schema text of a form: its own, or generated from its fields (*gen, freed by the
 * caller). */
static dmcp_rc form_text(const struct dmcp_schema_def *e, const char **text, char **gen,
                         char *err, size_t errlen)
{
	*gen = NULL;
	*text = e->schema;
	if ((e->schema == NULL) == (e->fields == NULL)) {
		snprintf(err, errlen, "give .schema or .fields (exactly one)");
		return DMCP_E_PARAMS;
	}
	if (e->fields == NULL)
		return DMCP_OK;
	DMCP_TRY(param_schema(e->fields, PARAM_FORM, gen, err, errlen));
	*text = *gen;
	return DMCP_OK;
}

static dmcp_rc add_elicits(struct reg_tool *t, char *err, size_t errlen)
{
	const struct dmcp_schema_def *e;
	const char *text;
	char sub[200], *gen;
	dmcp_rc rc;

	for (e = t->def->elicits; e != NULL && e->name != NULL; e++) {
		struct reg_elicit *r;
		if (t->n_elicits >= REG_MAX_ELICITS)
			return fail(err, errlen, DMCP_E_LIMIT, "too many elicitation schemas",
			            t->def->name);
		r = &t->elicits[t->n_elicits];
		rc = form_text(e, &text, &gen, sub, sizeof sub);
		if (rc == DMCP_OK)
			rc = compile(text, 1, &r->schema, &r->check, sub, sizeof sub);
		free(gen);
		if (rc != DMCP_OK) {
			snprintf(err, errlen, "%s: elicitation schema %s: %s", t->def->name, e->name, sub);
			return rc;
		}
		r->name = e->name;
		r->fields = e->fields;
		r->schema_text = strdup(js_text(r->schema));
		t->n_elicits++;
		if (r->schema_text == NULL)
			return DMCP_E_NOMEM;
		if (!flat_schema(r->schema)) {
			snprintf(err, errlen, "%s: elicitation schema %s must be a flat object of "
			         "primitives", t->def->name, e->name);
			return DMCP_E_SCHEMA;
		}
	}
	return DMCP_OK;
}

static json_object *new_string_or_null(const char *s)
{
	return s != NULL ? js_new_string(s) : NULL;
}

/* The Tool object of tools/list, with input (the input schema's text). */
static dmcp_rc build_listing(struct reg_tool *t, const char *input, char *err, size_t errlen)
{
	const struct dmcp_tool *d = t->def;
	json_object *o = js_new_object(), *ann;

	js_object_add(o, "name", js_new_string(d->name));
	if (d->title != NULL)
		js_object_add(o, "title", new_string_or_null(d->title));
	js_object_add(o, "description", js_new_string(d->description));
	js_object_add(o, "inputSchema", js_parse_trusted(input));
	if (d->output_schema != NULL)
		js_object_add(o, "outputSchema", js_parse_trusted(d->output_schema));
	if (d->annotations != NULL) {
		ann = js_parse_trusted(d->annotations);
		if (ann == NULL || !json_object_is_type(ann, json_type_object)) {
			json_object_put(ann);
			json_object_put(o);
			return fail(err, errlen, DMCP_E_SCHEMA, "annotations are not a JSON object",
			            d->name);
		}
		js_object_add(o, "annotations", ann);
	}
	if (d->task_support != DMCP_TASK_FORBIDDEN) {
		/* Tool.execution.taskSupport (absent means forbidden). */
		json_object *ex = js_new_object();
		js_object_add(ex, "taskSupport", js_new_string(d->task_support == DMCP_TASK_REQUIRED
		                                               ? "required" : "optional"));
		js_object_add(o, "execution", ex);
	}
	t->listing = strdup(js_text(o));
	json_object_put(o);
	return t->listing != NULL ? DMCP_OK : DMCP_E_NOMEM;
}

/* The input schema's text: the tool's own, generated from its params (*gen, freed by the
 * caller), or the empty object schema. */
static dmcp_rc input_text(const struct dmcp_tool *d, const char **text, char **gen, char *err,
                          size_t errlen)
{
	*gen = NULL;
	*text = d->input_schema != NULL ? d->input_schema : "{\"type\":\"object\"}";
	if (d->params == NULL)
		return DMCP_OK;
	if (d->input_schema != NULL) {
		snprintf(err, errlen, "give .params or .input_schema, not both");
		return DMCP_E_PARAMS;
	}
	DMCP_TRY(param_schema(d->params, PARAM_ARGS, gen, err, errlen));
	*text = *gen;
	return DMCP_OK;
}

/* 1 when annotations (JSON text, or NULL) say "destructiveHint": true. */
static int destructive(const char *annotations)
{
	json_object *a = annotations != NULL ? js_parse_trusted(annotations) : NULL;
	json_object *d = js_get(a, "destructiveHint", json_type_boolean);
	int yes = d != NULL && json_object_get_boolean(d);

	json_object_put(a);
	return yes;
}

/* Register d in reg's next tool entry; on success the entry is reg->tools[n_tools - 1]. */
static dmcp_rc add_tool(dmcp_registry *reg, const struct dmcp_tool *d, char *err,
                        size_t errlen)
{
	struct reg_tool *t;
	json_object *tree = NULL;
	const char *in;
	char sub[200], *gen = NULL;
	dmcp_rc rc;

	if (!reg_name_ok(d->name))
		return fail(err, errlen, DMCP_E_PARAMS, "tool names are 1-128 of [A-Za-z0-9_.-]",
		            d->name);
	if (reg_tool(reg, d->name) != NULL)
		return fail(err, errlen, DMCP_E_PARAMS, "a tool with this name exists", d->name);
	if (d->description == NULL || d->description[0] == '\0' || d->run == NULL)
		return fail(err, errlen, DMCP_E_PARAMS, "a tool needs a description and a function",
		            d->name);
	if ((int)d->task_support < (int)DMCP_TASK_FORBIDDEN ||
	    (int)d->task_support > (int)DMCP_TASK_REQUIRED)
		return fail(err, errlen, DMCP_E_PARAMS, "task_support is DMCP_TASK_FORBIDDEN, "
		            "DMCP_TASK_OPTIONAL or DMCP_TASK_REQUIRED", d->name);
	if (d->confirm && !destructive(d->annotations))
		return fail(err, errlen, DMCP_E_PARAMS, "a tool that asks for confirmation (.confirm) "
		            "needs \"destructiveHint\": true in its annotations", d->name);
	if (reg->n_tools >= REG_MAX_ENTRIES)
		return fail(err, errlen, DMCP_E_LIMIT, "too many tools", d->name);
	t = &reg->tools[reg->n_tools];
	memset(t, 0, sizeof *t);
	t->def = d;
	rc = input_text(d, &in, &gen, sub, sizeof sub);
	if (rc == DMCP_OK)
		rc = compile(in, 1, &tree, &t->input, sub, sizeof sub);
	json_object_put(tree);
	if (rc == DMCP_OK && d->output_schema != NULL) {
		rc = compile(d->output_schema, 1, &tree, &t->output, sub, sizeof sub);
		json_object_put(tree);
	}
	if (rc != DMCP_OK) {
		snprintf(err, errlen, "%s: %s", d->name, sub);
		free(gen);
		free_tool(t);
		return rc;
	}
	rc = add_elicits(t, err, errlen);
	if (rc == DMCP_OK)
		rc = build_listing(t, in, err, errlen);
	free(gen);
	if (rc != DMCP_OK) {
		free_tool(t);
		return rc;
	}
	reg->n_tools++;
	return DMCP_OK;
}

dmcp_rc dmcp_register_tool(dmcp_registry *reg, const struct dmcp_tool *d, char *err,
                           size_t errlen)
{
	return add_tool(reg, d, err, errlen);
}

dmcp_rc reg_add_tool(dmcp_registry *reg, const struct dmcp_tool *def, void *impl,
                     void (*impl_free)(void *impl), char *err, size_t errlen)
{
	dmcp_rc rc = add_tool(reg, def, err, errlen);

	if (rc != DMCP_OK) {
		if (impl_free != NULL)
			impl_free(impl);
		return rc;
	}
	reg->tools[reg->n_tools - 1].impl = impl;
	reg->tools[reg->n_tools - 1].impl_free = impl_free;
	return DMCP_OK;
}

const struct reg_tool *reg_tool(const dmcp_registry *reg, const char *name)
{
	int i;

	for (i = 0; i < reg->n_tools; i++)
		if (strcmp(reg->tools[i].def->name, name) == 0)
			return &reg->tools[i];
	return NULL;
}

const struct reg_elicit *reg_elicit(const struct reg_tool *t, const char *name)
{
	int i;

	for (i = 0; name != NULL && i < t->n_elicits; i++)
		if (strcmp(t->elicits[i].name, name) == 0)
			return &t->elicits[i];
	return NULL;
}

dmcp_rc reg_args_check(const struct reg_tool *t, json_object *args, char *err, size_t errlen)
{
	DMCP_TRY(schema_validate(t->input, args, err, errlen));
	param_fill_defaults(t->def->params, args);
	return DMCP_OK;
}

const struct dmcp_prompt *reg_prompt(const dmcp_registry *reg, const char *name)
{
	int i;

	for (i = 0; i < reg->n_prompts; i++)
		if (strcmp(reg->prompts[i]->name, name) == 0)
			return reg->prompts[i];
	return NULL;
}

dmcp_rc dmcp_register_resource(dmcp_registry *reg, const struct dmcp_resource *r, char *err,
                               size_t errlen)
{
	if (r->uri == NULL || r->name == NULL || (r->text == NULL) == (r->blob == NULL))
		return fail(err, errlen, DMCP_E_PARAMS, "a resource needs a uri, a name, and text "
		            "or blob", r->uri);
	if (reg->n_resources >= REG_MAX_ENTRIES)
		return fail(err, errlen, DMCP_E_LIMIT, "too many resources", r->uri);
	reg->resources[reg->n_resources++] = r;
	return DMCP_OK;
}

dmcp_rc dmcp_register_template(dmcp_registry *reg, const struct dmcp_resource_template *t,
                               char *err, size_t errlen)
{
	if (t->uri_template == NULL || t->name == NULL || t->read == NULL)
		return fail(err, errlen, DMCP_E_PARAMS, "a template needs uri_template, name, read",
		            t->uri_template);
	if (reg->n_templates >= REG_MAX_ENTRIES)
		return fail(err, errlen, DMCP_E_LIMIT, "too many templates", t->uri_template);
	reg->templates[reg->n_templates++] = t;
	return DMCP_OK;
}

/* A prompt with .run becomes a runnable entry: a tool definition made here from it (never
 * listed as a tool, never callable by tools/call), with its elicitation schemas compiled. */
static dmcp_rc add_prompt_run(dmcp_registry *reg, const struct dmcp_prompt *p, char *err,
                              size_t errlen)
{
	struct reg_tool *t = &reg->prompt_runs[reg->n_prompt_runs];
	struct dmcp_tool *d = calloc(1, sizeof *d);
	dmcp_rc rc;

	if (d == NULL)
		return DMCP_E_NOMEM;
	d->name = p->name;
	d->description = p->description;
	d->elicits = p->elicits;
	d->version = p->version;
	memset(t, 0, sizeof *t);
	t->def = d;
	t->prompt = p;
	rc = add_elicits(t, err, errlen);
	if (rc != DMCP_OK) {
		free_tool(t);
		free(d);
		return rc;
	}
	reg->n_prompt_runs++;
	return DMCP_OK;
}

dmcp_rc dmcp_register_prompt(dmcp_registry *reg, const struct dmcp_prompt *p, char *err,
                             size_t errlen)
{
	if (!reg_name_ok(p->name) || (p->get == NULL) == (p->run == NULL) || p->description == NULL)
		return fail(err, errlen, DMCP_E_PARAMS, "a prompt needs a name, a description and "
		            "one function (get or run)", p->name);
	if (reg_prompt(reg, p->name) != NULL)
		return fail(err, errlen, DMCP_E_PARAMS, "a prompt with this name exists", p->name);
	if (reg->n_prompts >= REG_MAX_ENTRIES)
		return fail(err, errlen, DMCP_E_LIMIT, "too many prompts", p->name);
	if (p->run != NULL)
		DMCP_TRY(add_prompt_run(reg, p, err, errlen));
	reg->prompts[reg->n_prompts++] = p;
	return DMCP_OK;
}

const struct reg_tool *reg_prompt_run(const dmcp_registry *reg, const char *name)
{
	int i;

	for (i = 0; i < reg->n_prompt_runs; i++)
		if (strcmp(reg->prompt_runs[i].prompt->name, name) == 0)
			return &reg->prompt_runs[i];
	return NULL;
}

const struct reg_tool *reg_runnable(const dmcp_registry *reg, const char *name)
{
	size_t n = sizeof REG_PROMPT_PREFIX - 1;

	if (strncmp(name, REG_PROMPT_PREFIX, n) == 0)
		return reg_prompt_run(reg, name + n);
	return reg_tool(reg, name);
}

dmcp_rc dmcp_register_completion(dmcp_registry *reg, const struct dmcp_completion *c,
                                 char *err, size_t errlen)
{
	if (c->ref_type == NULL || c->ref == NULL || c->complete == NULL ||
	    (strcmp(c->ref_type, "ref/prompt") != 0 && strcmp(c->ref_type, "ref/resource") != 0))
		return fail(err, errlen, DMCP_E_PARAMS, "a completion needs ref_type ref/prompt or "
		            "ref/resource, a ref and a function", c->ref);
	if (reg->n_completions >= REG_MAX_ENTRIES)
		return fail(err, errlen, DMCP_E_LIMIT, "too many completions", c->ref);
	reg->completions[reg->n_completions++] = c;
	return DMCP_OK;
}

void dmcp_set_sampling_provider(dmcp_registry *reg, const struct dmcp_sampling_provider *p)
{
	reg->sampling = p;
}

const struct dmcp_completion *reg_completion(const dmcp_registry *reg, const char *ref_type,
                                             const char *ref)
{
	int i;

	for (i = 0; i < reg->n_completions; i++)
		if (strcmp(reg->completions[i]->ref_type, ref_type) == 0 &&
		    strcmp(reg->completions[i]->ref, ref) == 0)
			return reg->completions[i];
	return NULL;
}

/* ---- lists ----------------------------------------------------------------------------- */

static void add_opt(json_object *o, const char *key, const char *val)
{
	if (val != NULL)
		js_object_add(o, key, js_new_string(val));
}

static json_object *resource_item(const struct dmcp_resource *r)
{
	json_object *o = js_new_object();

	add_opt(o, "uri", r->uri);
	add_opt(o, "name", r->name);
	add_opt(o, "title", r->title);
	add_opt(o, "description", r->description);
	add_opt(o, "mimeType", r->mime_type);
	return o;
}

static json_object *template_item(const struct dmcp_resource_template *t)
{
	json_object *o = js_new_object();

	add_opt(o, "uriTemplate", t->uri_template);
	add_opt(o, "name", t->name);
	add_opt(o, "title", t->title);
	add_opt(o, "description", t->description);
	add_opt(o, "mimeType", t->mime_type);
	return o;
}

static json_object *prompt_item(const struct dmcp_prompt *p)
{
	json_object *o = js_new_object(), *args = js_new_array();
	const struct dmcp_prompt_arg *a;

	add_opt(o, "name", p->name);
	add_opt(o, "title", p->title);
	add_opt(o, "description", p->description);
	for (a = p->args; a != NULL && a->name != NULL; a++) {
		json_object *x = js_new_object();
		add_opt(x, "name", a->name);
		add_opt(x, "description", a->description);
		js_object_add(x, "required", js_new_boolean(a->required));
		js_array_add(args, x);
	}
	js_object_add(o, "arguments", args);
	return o;
}

/* Cursors are "c" + the decimal offset of the page's first item. */
static dmcp_rc parse_cursor(const char *cursor, int total, int *start)
{
	int v = 0;
	const char *p;

	*start = 0;
	if (cursor == NULL)
		return DMCP_OK;
	if (cursor[0] != 'c' || cursor[1] == '\0' || strlen(cursor) > 6)
		return DMCP_E_PARAMS;
	for (p = cursor + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return DMCP_E_PARAMS;
		v = v * 10 + (*p - '0');
	}
	if (v <= 0 || v >= total)
		return DMCP_E_PARAMS;
	*start = v;
	return DMCP_OK;
}

static json_object *list_item(const dmcp_registry *reg, const char *kind, int i)
{
	if (strcmp(kind, "tools") == 0)
		return js_parse_trusted(reg->tools[i].listing);
	if (strcmp(kind, "resources") == 0)
		return resource_item(reg->resources[i]);
	if (strcmp(kind, "resourceTemplates") == 0)
		return template_item(reg->templates[i]);
	return prompt_item(reg->prompts[i]);
}

static int list_total(const dmcp_registry *reg, const char *kind)
{
	if (strcmp(kind, "tools") == 0)
		return reg->n_tools;
	if (strcmp(kind, "resources") == 0)
		return reg->n_resources;
	if (strcmp(kind, "resourceTemplates") == 0)
		return reg->n_templates;
	return reg->n_prompts;
}

dmcp_rc reg_list(const dmcp_registry *reg, const char *kind, const char *cursor,
                 json_object **result)
{
	int total = list_total(reg, kind), start, i;
	json_object *items, *res;
	char next[16];

	*result = NULL;
	if (parse_cursor(cursor, total, &start) != DMCP_OK)
		return DMCP_E_PARAMS;
	items = js_new_array();
	for (i = start; i < total && i < start + REG_PAGE_SIZE; i++)
		js_array_add(items, list_item(reg, kind, i));
	res = js_new_object();
	js_object_add(res, kind, items);
	if (i < total) {
		snprintf(next, sizeof next, "c%d", i);
		js_object_add(res, "nextCursor", js_new_string(next));
	}
	*result = res;
	return DMCP_OK;
}

/* ---- resources ------------------------------------------------------------------------- */

int reg_template_match(const char *tmpl, const char *uri, json_object *vars)
{
	const char *t = tmpl, *u = uri;

	while (*t != '\0') {
		if (*t == '{') {
			const char *close = strchr(t, '}');
			size_t vlen = strcspn(u, "/?#");
			char name[REG_MAX_VAR];
			if (close == NULL || (size_t)(close - t - 1) >= sizeof name || vlen == 0)
				return 0;
			memcpy(name, t + 1, (size_t)(close - t - 1));
			name[close - t - 1] = '\0';
			js_object_add(vars, name, js_new_string_len(u, (int)vlen));
			u += vlen;
			t = close + 1;
		} else if (*t++ != *u++) {
			return 0;
		}
	}
	return *u == '\0';
}

static dmcp_rc read_static(const struct dmcp_resource *r, json_object *contents)
{
	json_object *o = js_new_object();

	add_opt(o, "uri", r->uri);
	add_opt(o, "mimeType", r->mime_type);
	if (r->text != NULL)
		add_opt(o, "text", r->text);
	else
		add_opt(o, "blob", r->blob);
	js_array_add(contents, o);
	return DMCP_OK;
}

dmcp_rc reg_read(const dmcp_registry *reg, const char *uri, json_object *contents)
{
	int i;

	for (i = 0; i < reg->n_resources; i++)
		if (strcmp(reg->resources[i]->uri, uri) == 0)
			return read_static(reg->resources[i], contents);
	for (i = 0; i < reg->n_templates; i++) {
		json_object *vars = js_new_object();
		if (reg_template_match(reg->templates[i]->uri_template, uri, vars)) {
			dmcp_rc rc = reg->templates[i]->read(uri, vars, contents);
			json_object_put(vars);
			return rc;
		}
		json_object_put(vars);
	}
	return DMCP_E_NOT_FOUND;
}

int reg_has_resource(const dmcp_registry *reg, const char *uri)
{
	int i, hit = 0;

	for (i = 0; i < reg->n_resources; i++)
		if (strcmp(reg->resources[i]->uri, uri) == 0)
			return 1;
	for (i = 0; i < reg->n_templates && !hit; i++) {
		json_object *vars = js_new_object();
		hit = reg_template_match(reg->templates[i]->uri_template, uri, vars);
		json_object_put(vars);
	}
	return hit;
}

/* ---- content helpers (public) ---------------------------------------------------------- */

json_object *dmcp_text_block(const char *text)
{
	json_object *o = js_new_object();

	js_object_add(o, "type", js_new_string("text"));
	js_object_add(o, "text", js_new_string(text));
	return o;
}

json_object *dmcp_image_block(const char *base64, const char *mime)
{
	json_object *o = js_new_object();

	js_object_add(o, "type", js_new_string("image"));
	js_object_add(o, "data", js_new_string(base64));
	js_object_add(o, "mimeType", js_new_string(mime));
	return o;
}

json_object *dmcp_message(const char *role, json_object *content)
{
	json_object *o = js_new_object();

	js_object_add(o, "role", js_new_string(role));
	js_object_add(o, "content", content);
	return o;
}
