/* param.c — typed parameters (see param.h): a list of struct dmcp_param becomes the JSON
 * Schema text a careful author would write by hand, which the registry then compiles like any
 * other, so listing and validation go through one path; defaults are filled in from the list;
 * the public getters read arguments and answers. Knows nothing of HTTP, the database or the
 * registry's tables. JSON Schema 2020-12; MCP 2025-11-25 server/tools, client/elicitation.
 *
 * Interface: param_schema, param_fill_defaults, and dmcp_arg_* (public, dmcp.h).
 *
 * The schema is built as a json-c tree and printed, rather than printed directly, so that
 * escaping is json-c's and a name or description can hold any text (json-c's allocations
 * follow js.h's policy: they do not fail here). Defaults are taken
 * from the list, not read back from the schema: the list is typed, and a default that
 * breaks its own parameter's constraints is refused here, once, by the validator itself. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "js.h"
#include "param.h"
#include "schema.h"

/* Bytes of a validator message about a default, before it is put into err. */
#define PARAM_WHY_LEN 256

/* Groups of fields of struct dmcp_param, to refuse a set field that does not apply. */
enum {
	F_LENGTH = 1u << 0,  /* min_length, max_length */
	F_PATTERN = 1u << 1, /* pattern */
	F_FORMAT = 1u << 2,  /* format */
	F_RANGE = 1u << 3,   /* minimum, maximum */
	F_VALUES = 1u << 4,  /* values */
	F_ITEMS = 1u << 5,   /* min_items, max_items */
	F_DSTR = 1u << 6,    /* default_str */
	F_DBOOL = 1u << 7,   /* default_bool */
	F_DINT = 1u << 8,    /* default_int */
	F_DNUM = 1u << 9,    /* default_number */
	F_COUNT = 10
};

/* The fields of each group, as an author writes them, for messages. */
static const char *const field_names[F_COUNT] = {
	".min_length/.max_length", ".pattern", ".format", ".minimum/.maximum", ".values",
	".min_items/.max_items", ".default_str", ".default_bool", ".default_int", ".default_number"};

static const struct kind {
	const char *word;  /* in messages: the macro an author wrote */
	const char *json;  /* its "type" */
	unsigned fields;   /* the groups that apply */
} kinds[] = {
	[DMCP_PARAM_END] = {"DMCP_END", NULL, 0},
	[DMCP_PARAM_STRING] = {"DMCP_STRING", "string", F_LENGTH | F_PATTERN | F_FORMAT | F_DSTR},
	[DMCP_PARAM_BOOL] = {"DMCP_BOOL", "boolean", F_DBOOL},
	[DMCP_PARAM_INT] = {"DMCP_INT", "integer", F_RANGE | F_DINT},
	[DMCP_PARAM_NUMBER] = {"DMCP_NUMBER", "number", F_RANGE | F_DNUM},
	[DMCP_PARAM_ENUM] = {"DMCP_ENUM", "string", F_VALUES | F_DSTR},
	[DMCP_PARAM_STRING_ARRAY] = {"DMCP_STRING_ARRAY", "array",
	                             F_LENGTH | F_PATTERN | F_FORMAT | F_VALUES | F_ITEMS},
};

/* ---- checking a definition ------------------------------------------------------------- */

static dmcp_rc bad(char *err, size_t errlen, dmcp_rc rc, const struct dmcp_param *p,
                   const char *fmt, ...) DMCP_PRINTF(5, 6);
static dmcp_rc bad(char *err, size_t errlen, dmcp_rc rc, const struct dmcp_param *p,
                   const char *fmt, ...)
{
	char what[PARAM_WHY_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "parameter %s: %s", p->name != NULL ? p->name : "(unnamed)", what);
	return rc;
}

static int name_ok(const char *name)
{
	size_t i, n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > PARAM_MAX_NAME)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* The groups of fields p sets. */
static unsigned fields_set(const struct dmcp_param *p)
{
	unsigned f = 0;

	f |= p->min_length != 0 || p->max_length != 0 ? F_LENGTH : 0;
	f |= p->pattern != NULL ? F_PATTERN : 0;
	f |= p->format != NULL ? F_FORMAT : 0;
	f |= p->minimum.set || p->maximum.set ? F_RANGE : 0;
	f |= p->values != NULL ? F_VALUES : 0;
	f |= p->min_items != 0 || p->max_items != 0 ? F_ITEMS : 0;
	f |= p->default_str != NULL ? F_DSTR : 0;
	f |= p->default_bool.set ? F_DBOOL : 0;
	f |= p->default_int.set ? F_DINT : 0;
	f |= p->default_number.set ? F_DNUM : 0;
	return f;
}

static dmcp_rc check_values(const struct dmcp_param *p, char *err, size_t errlen)
{
	size_t i, j;

	if (p->type == DMCP_PARAM_ENUM && (p->values == NULL || p->values[0] == NULL))
		return bad(err, errlen, DMCP_E_PARAMS, p, "an enum needs .values (DMCP_VALUES(...))");
	for (i = 0; p->values != NULL && p->values[i] != NULL; i++) {
		if (i >= PARAM_MAX_VALUES)
			return bad(err, errlen, DMCP_E_LIMIT, p, "more than %d values", PARAM_MAX_VALUES);
		for (j = 0; j < i; j++)
			if (strcmp(p->values[i], p->values[j]) == 0)
				return bad(err, errlen, DMCP_E_PARAMS, p, "the value \"%s\" repeats",
				           p->values[i]);
	}
	if (p->values != NULL && p->values[0] == NULL)
		return bad(err, errlen, DMCP_E_PARAMS, p, ".values is empty");
	return DMCP_OK;
}

/* Numbers: finite, bounds in order. */
static dmcp_rc check_numbers(const struct dmcp_param *p, char *err, size_t errlen)
{
	if ((p->minimum.set && !isfinite(p->minimum.value)) ||
	    (p->maximum.set && !isfinite(p->maximum.value)) ||
	    (p->default_number.set && !isfinite(p->default_number.value)))
		return bad(err, errlen, DMCP_E_PARAMS, p, "a bound or default is not finite");
	if (p->minimum.set && p->maximum.set && p->minimum.value > p->maximum.value)
		return bad(err, errlen, DMCP_E_PARAMS, p, "minimum %g is above maximum %g",
		           p->minimum.value, p->maximum.value);
	if (p->max_length != 0 && p->min_length > p->max_length)
		return bad(err, errlen, DMCP_E_PARAMS, p, "min_length %zu is above max_length %zu",
		           p->min_length, p->max_length);
	if (p->max_items != 0 && p->min_items > p->max_items)
		return bad(err, errlen, DMCP_E_PARAMS, p, "min_items %zu is above max_items %zu",
		           p->min_items, p->max_items);
	return DMCP_OK;
}

/* What a form allows beyond a tool's arguments: no pattern, arrays only as multi-selects. */
static dmcp_rc check_form(const struct dmcp_param *p, char *err, size_t errlen)
{
	if (p->pattern != NULL)
		return bad(err, errlen, DMCP_E_PARAMS, p, "an elicitation form has no pattern");
	if (p->type == DMCP_PARAM_STRING_ARRAY && p->values == NULL)
		return bad(err, errlen, DMCP_E_PARAMS, p, "a string array in an elicitation form is "
		           "a multi-select: it needs .values");
	return DMCP_OK;
}

/* Everything about p that needs no validator; at is its index, for duplicate names. */
static dmcp_rc check_param(const struct dmcp_param *list, size_t at, enum param_use use,
                           char *err, size_t errlen)
{
	const struct dmcp_param *p = &list[at];
	unsigned extra;
	size_t i;
	dmcp_rc rc;

	if ((int)p->type <= DMCP_PARAM_END || (int)p->type > DMCP_PARAM_STRING_ARRAY)
		return bad(err, errlen, DMCP_E_PARAMS, p, "unknown type %d", (int)p->type);
	if (!name_ok(p->name))
		return bad(err, errlen, DMCP_E_PARAMS, p, "names are 1-%d of [A-Za-z0-9_.-]",
		           PARAM_MAX_NAME);
	for (i = 0; i < at; i++)
		if (strcmp(list[i].name, p->name) == 0)
			return bad(err, errlen, DMCP_E_PARAMS, p, "declared twice");
	extra = fields_set(p) & ~kinds[p->type].fields;
	for (i = 0; i < F_COUNT; i++)
		if (extra & (1u << i))
			return bad(err, errlen, DMCP_E_PARAMS, p, "%s does not apply to %s",
			           field_names[i], kinds[p->type].word);
	rc = check_values(p, err, errlen);
	if (rc == DMCP_OK)
		rc = check_numbers(p, err, errlen);
	if (rc == DMCP_OK && use == PARAM_FORM)
		rc = check_form(p, err, errlen);
	return rc;
}

/* ---- building the schema --------------------------------------------------------------- */

static json_object *new_values(const char *const *values)
{
	json_object *a = js_new_array();
	size_t i;

	for (i = 0; values[i] != NULL; i++)
		js_array_add(a, js_new_string(values[i]));
	return a;
}

/* The default of p as JSON, or NULL when it has none. */
static json_object *default_of(const struct dmcp_param *p)
{
	switch (p->type) {
	case DMCP_PARAM_STRING:
	case DMCP_PARAM_ENUM:
		return p->default_str != NULL ? js_new_string(p->default_str) : NULL;
	case DMCP_PARAM_BOOL:
		return p->default_bool.set ? js_new_boolean(p->default_bool.value != 0) : NULL;
	case DMCP_PARAM_INT:
		return p->default_int.set ? js_new_int64(p->default_int.value) : NULL;
	case DMCP_PARAM_NUMBER:
		return p->default_number.set ? js_new_number(p->default_number.value) : NULL;
	default:
		return NULL;
	}
}

static void add_str(json_object *o, const char *key, const char *val)
{
	if (val != NULL)
		js_object_add(o, key, js_new_string(val));
}

static void add_size(json_object *o, const char *key, size_t val)
{
	if (val != 0)
		js_object_add(o, key, js_new_int64((int64_t)val));
}

/* The string constraints of p (a string, or a string array's items) into o. */
static void add_string_rules(json_object *o, const struct dmcp_param *p)
{
	add_str(o, "format", p->format);
	add_size(o, "minLength", p->min_length);
	add_size(o, "maxLength", p->max_length);
	add_str(o, "pattern", p->pattern);
	if (p->values != NULL)
		js_object_add(o, "enum", new_values(p->values));
}

/* The property schema of p: type, title, description, constraints, default. */
static json_object *property(const struct dmcp_param *p)
{
	json_object *o = js_new_object(), *items, *dflt;

	add_str(o, "type", kinds[p->type].json);
	add_str(o, "title", p->title);
	add_str(o, "description", p->description);
	if (p->type == DMCP_PARAM_STRING || p->type == DMCP_PARAM_ENUM) {
		add_string_rules(o, p);
	} else if (p->type == DMCP_PARAM_STRING_ARRAY) {
		items = js_new_object();
		add_str(items, "type", "string");
		add_string_rules(items, p);
		js_object_add(o, "items", items);
		add_size(o, "minItems", p->min_items);
		add_size(o, "maxItems", p->max_items);
	} else if (p->type == DMCP_PARAM_INT || p->type == DMCP_PARAM_NUMBER) {
		if (p->minimum.set)
			js_object_add(o, "minimum", js_new_number(p->minimum.value));
		if (p->maximum.set)
			js_object_add(o, "maximum", js_new_number(p->maximum.value));
	}
	dflt = default_of(p);
	if (dflt != NULL)
		js_object_add(o, "default", dflt);
	return o;
}

/* The default of p must pass p's own schema (an enum default among the values, a string
 * default within its length and pattern, a number within its bounds). */
static dmcp_rc check_default(const struct dmcp_param *p, json_object *prop, char *err,
                             size_t errlen)
{
	struct schema *s = NULL;
	json_object *dflt;
	char why[PARAM_WHY_LEN];
	dmcp_rc rc;

	if (!json_object_object_get_ex(prop, "default", &dflt))
		return DMCP_OK;
	rc = schema_new(prop, &s, why, sizeof why);
	if (rc == DMCP_OK)
		rc = schema_validate(s, dflt, why, sizeof why);
	schema_free(s);
	if (rc == DMCP_E_VALIDATION)
		return bad(err, errlen, DMCP_E_PARAMS, p, "the default %s does not fit: %s",
		           js_text(dflt), strncmp(why, "/: ", 3) == 0 ? why + 3 : why);
	if (rc != DMCP_OK)
		return bad(err, errlen, rc, p, "%s", why);
	return DMCP_OK;
}

/* Adds the property schema of p to props and checks its default against it. */
static dmcp_rc add_property(json_object *props, const struct dmcp_param *p, char *err,
                            size_t errlen)
{
	json_object *prop = property(p);

	js_object_add(props, p->name, prop);
	return check_default(p, prop, err, errlen);
}

/* The object schema of the list, checked, as a tree (owned by the caller). */
static dmcp_rc build(const struct dmcp_param *params, enum param_use use, json_object **out,
                     char *err, size_t errlen)
{
	json_object *root = js_new_object(), *props = js_new_object();
	json_object *required = js_new_array();
	dmcp_rc rc = DMCP_OK;
	size_t n;

	for (n = 0; rc == DMCP_OK && params[n].type != DMCP_PARAM_END; n++) {
		if (n >= PARAM_MAX) {
			snprintf(err, errlen, "more than %d parameters", PARAM_MAX);
			rc = DMCP_E_LIMIT;
			break;
		}
		rc = check_param(params, n, use, err, errlen);
		if (rc == DMCP_OK)
			rc = add_property(props, &params[n], err, errlen);
		if (rc == DMCP_OK && params[n].required)
			js_array_add(required, js_new_string(params[n].name));
	}
	if (rc == DMCP_OK) {
		add_str(root, "type", "object");
		if (n > 0 || use == PARAM_FORM)
			js_object_add(root, "properties", json_object_get(props));
		if (json_object_array_length(required) > 0)
			js_object_add(root, "required", json_object_get(required));
		if (use == PARAM_ARGS)
			js_object_add(root, "additionalProperties", js_new_boolean(0));
	}
	json_object_put(props);
	json_object_put(required);
	if (rc != DMCP_OK) {
		json_object_put(root);
		root = NULL;
	}
	*out = root;
	return rc;
}

dmcp_rc param_schema(const struct dmcp_param *params, enum param_use use, char **text,
                     char *err, size_t errlen)
{
	json_object *root = NULL;
	dmcp_rc rc;

	*text = NULL;
	if (params == NULL) {
		snprintf(err, errlen, "no parameter list");
		return DMCP_E_PARAMS;
	}
	rc = build(params, use, &root, err, errlen);
	if (rc == DMCP_OK) {
		*text = strdup(js_text(root));
		if (*text == NULL)
			rc = DMCP_E_NOMEM;
	}
	if (rc == DMCP_E_NOMEM)
		snprintf(err, errlen, "out of memory");
	json_object_put(root);
	return rc;
}

void param_fill_defaults(const struct dmcp_param *params, json_object *obj)
{
	const struct dmcp_param *p;
	json_object *dflt;

	if (params == NULL || !json_object_is_type(obj, json_type_object))
		return;
	for (p = params; p->type != DMCP_PARAM_END; p++) {
		if (p->name == NULL || json_object_object_get_ex(obj, p->name, NULL))
			continue;
		dflt = default_of(p);
		if (dflt != NULL)
			js_object_add(obj, p->name, dflt);
	}
}

/* ---- getters (public) ------------------------------------------------------------------ */

int dmcp_arg_has(json_object *obj, const char *name)
{
	json_object *v;

	if (obj == NULL || name == NULL || !json_object_is_type(obj, json_type_object))
		return 0;
	return json_object_object_get_ex(obj, name, &v) && v != NULL;
}

const char *dmcp_arg_str(json_object *obj, const char *name)
{
	return name != NULL ? js_str(obj, name) : NULL;
}

int dmcp_arg_bool(json_object *obj, const char *name)
{
	json_object *v = name != NULL ? js_get(obj, name, json_type_boolean) : NULL;

	return v != NULL && json_object_get_boolean(v) ? 1 : 0;
}

/* A JSON number (int or double) member, or NULL. */
static json_object *number_member(json_object *obj, const char *name)
{
	json_object *v;

	if (name == NULL)
		return NULL;
	v = js_get(obj, name, json_type_int);
	return v != NULL ? v : js_get(obj, name, json_type_double);
}

int64_t dmcp_arg_int(json_object *obj, const char *name)
{
	json_object *v = number_member(obj, name);
	double d;

	if (v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v); /* the parser refuses what int64_t cannot hold */
	d = json_object_get_double(v);
	if (d != floor(d))
		return 0; /* not an integer: only a hand-written schema lets one through */
	if (d >= 9223372036854775808.0)
		return INT64_MAX;
	if (d < -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

double dmcp_arg_number(json_object *obj, const char *name)
{
	json_object *v = number_member(obj, name);

	return v != NULL ? json_object_get_double(v) : 0.0;
}

size_t dmcp_arg_count(json_object *obj, const char *name)
{
	json_object *v = name != NULL ? js_get(obj, name, json_type_array) : NULL;

	return v != NULL ? json_object_array_length(v) : 0;
}

const char *dmcp_arg_item(json_object *obj, const char *name, size_t i)
{
	json_object *v = name != NULL ? js_get(obj, name, json_type_array) : NULL, *item;

	if (v == NULL || i >= json_object_array_length(v))
		return NULL;
	item = json_object_array_get_idx(v, i);
	return json_object_is_type(item, json_type_string) ? json_object_get_string(item) : NULL;
}
