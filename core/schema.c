/* schema.c — checks a JSON Schema once into a graph of nodes, then validates values with it.
 * Knows nothing of HTTP, FastCGI or PostgreSQL. Follows JSON Schema 2020-12 core and
 * validation (MCP 2025-11-25: a schema without "$schema" is 2020-12); "pattern" is the
 * ECMA-262 subset core/rx.h states. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "js.h"
#include "rx.h"
#include "schema.h"
#include "utf8.h"

/* Nesting of schema evaluation: each subschema applied and each "$ref" followed is a level.
 * A self-referencing schema cannot loop past it; deeper is DMCP_E_VALIDATION "too deep".
 * Tool arguments are shallow; 64 leaves room for recursive (tree) schemas. */
#define SCHEMA_MAX_DEPTH 64
/* Nesting of any JSON value walked recursively (schemas, equality, hashing). json-c's parser
 * stops at 32 levels by default, so only trees built by hand come near it. */
#define SCHEMA_MAX_JSON_DEPTH 128
/* Subschemas in one schema: bounds compile memory and time ("$ref" lookup is linear).
 * MCP tool schemas have tens. */
#define SCHEMA_MAX_NODES 4096
/* Subschema evaluations in one schema_validate() call: anyOf/oneOf over recursive "$ref"s
 * can be exponential in the instance's depth; this bounds the CPU one call may take. */
#define SCHEMA_MAX_STEPS 1000000L
/* Longest number as text in a message: %.17g needs 24 bytes, PRIu64 20. */
#define SCHEMA_NUM_TEXT 32
/* Longest "expected ..." type list: all seven names joined by " or " take 62 bytes. */
#define SCHEMA_TYPE_TEXT 96

/* ---- Messages --------------------------------------------------------------------------- */

struct msg {
	char *p;    /* the caller's buffer, or NULL to write nothing */
	size_t cap; /* its size in bytes */
	size_t len; /* bytes written, not counting the NUL */
};

static void msg_init(struct msg *m, char *p, size_t cap)
{
	m->p = cap > 0 ? p : NULL;
	m->cap = cap;
	m->len = 0;
	if (m->p != NULL)
		m->p[0] = '\0';
}

static void msg_vadd(struct msg *m, const char *fmt, va_list ap)
{
	size_t room;
	int n;

	if (m->p == NULL || m->len + 1 >= m->cap)
		return;
	room = m->cap - m->len;
	n = vsnprintf(m->p + m->len, room, fmt, ap);
	if (n < 0) {
		m->p[m->len] = '\0';
		return;
	}
	m->len += (size_t)n < room ? (size_t)n : room - 1;
}

DMCP_PRINTF(2, 3)
static void msg_add(struct msg *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vadd(m, fmt, ap);
	va_end(ap);
}

static void msg_addc(struct msg *m, char c)
{
	if (m->p == NULL || m->len + 1 >= m->cap)
		return;
	m->p[m->len++] = c;
	m->p[m->len] = '\0';
}

/* Keeps the message one line of valid UTF-8: control bytes become '?', and a multibyte
 * character cut by truncation (or otherwise malformed at the end) is dropped. */
static void msg_finish(struct msg *m)
{
	size_t i, lead;
	uint32_t cp;
	unsigned char c;

	if (m->p == NULL)
		return;
	for (i = 0; i < m->len; i++) {
		c = (unsigned char)m->p[i];
		if (c < 0x20 || c == 0x7f)
			m->p[i] = '?';
	}
	lead = m->len;
	while (lead > 0 && m->len - lead < UTF8_MAX_SEQ &&
	       ((unsigned char)m->p[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (lead == 0 || (unsigned char)m->p[lead - 1] < 0x80)
		return;
	if (utf8_decode(m->p + lead - 1, m->len - (lead - 1), &cp) != m->len - (lead - 1)) {
		m->len = lead - 1;
		m->p[m->len] = '\0';
	}
}

/* One step of a JSON pointer: an object member or an array index. */
struct seg {
	const char *key; /* member name, or NULL for an array index */
	size_t idx;      /* the index when key is NULL */
};

/* Appends "/a/0/b~1c" for segs (RFC 6901 escapes ~ and /). */
static void msg_pointer(struct msg *m, const struct seg *segs, int n)
{
	const char *k;
	int i;

	for (i = 0; i < n; i++) {
		msg_addc(m, '/');
		if (segs[i].key == NULL) {
			msg_add(m, "%zu", segs[i].idx);
			continue;
		}
		for (k = segs[i].key; *k != '\0'; k++) {
			if (*k == '~')
				msg_add(m, "~0");
			else if (*k == '/')
				msg_add(m, "~1");
			else
				msg_addc(m, *k);
		}
	}
}

/* ---- Numbers ---------------------------------------------------------------------------- */

static int num_is_integer(struct js_num n)
{
	return n.kind != JS_NUM_DOUBLE || n.d == trunc(n.d);
}

static double num_double(struct js_num n)
{
	if (n.kind == JS_NUM_INT)
		return (double)n.i;
	if (n.kind == JS_NUM_UINT)
		return (double)n.u;
	return n.d;
}

/* |n| for an integer kind. */
static uint64_t num_magnitude(struct js_num n)
{
	if (n.kind == JS_NUM_UINT)
		return n.u;
	if (n.i >= 0)
		return (uint64_t)n.i;
	return (uint64_t)(-(n.i + 1)) + 1;
}

/* multipleOf: exact for integers, x / m integral for the rest (m > 0). */
static int num_multiple(struct js_num x, struct js_num m)
{
	double q;

	if (x.kind != JS_NUM_DOUBLE && m.kind != JS_NUM_DOUBLE)
		return num_magnitude(x) % num_magnitude(m) == 0;
	q = num_double(x) / num_double(m);
	return isfinite(q) && q == trunc(q);
}

static void num_text(struct js_num n, char *out, size_t len)
{
	if (n.kind == JS_NUM_INT) {
		snprintf(out, len, "%lld", (long long)n.i);
		return;
	}
	if (n.kind == JS_NUM_UINT) {
		snprintf(out, len, "%llu", (unsigned long long)n.u);
		return;
	}
	snprintf(out, len, "%.15g", n.d);
	if (strtod(out, NULL) != n.d)
		snprintf(out, len, "%.17g", n.d);
}

/* ---- JSON values ------------------------------------------------------------------------ */

/* What json_insane() finds wrong with a value. */
enum { JSON_SANE, JSON_TOO_DEEP, JSON_NOT_FINITE };

/* JSON_SANE when o nests at most depth levels more and holds finite numbers only (json-c
 * parses NaN and Infinity when not strict; JSON has neither). */
static int json_insane(json_object *o, int depth)
{
	struct json_object_iterator it, end;
	size_t i, n;
	int bad = JSON_SANE;

	if (depth < 0)
		return JSON_TOO_DEEP;
	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o)) ? JSON_SANE : JSON_NOT_FINITE;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n && bad == JSON_SANE; i++)
			bad = json_insane(json_object_array_get_idx(o, i), depth - 1);
		return bad;
	case json_type_object:
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; bad == JSON_SANE && !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
			bad = json_insane(json_object_iter_peek_value(&it), depth - 1);
		return bad;
	default:
		return JSON_SANE;
	}
}

/* Says what json_insane() found, about what (the schema, the value). */
static void msg_insane(struct msg *m, const char *what, int bad)
{
	if (bad == JSON_TOO_DEEP)
		msg_add(m, "too deep: %s nests more than %d levels", what, SCHEMA_MAX_JSON_DEPTH);
	else
		msg_add(m, "%s holds a number that is not finite (JSON has no NaN or Infinity)", what);
	msg_finish(m);
}

/* ---- Compiled schemas ------------------------------------------------------------------- */

enum {
	TYPE_NULL = 1u << 0,
	TYPE_BOOLEAN = 1u << 1,
	TYPE_OBJECT = 1u << 2,
	TYPE_ARRAY = 1u << 3,
	TYPE_NUMBER = 1u << 4,
	TYPE_STRING = 1u << 5,
	TYPE_INTEGER = 1u << 6
};

static const struct {
	const char *name; /* the "type" keyword's name for it */
	unsigned bit;     /* its TYPE_* bit */
} type_names[] = {
	{"null", TYPE_NULL},     {"boolean", TYPE_BOOLEAN}, {"object", TYPE_OBJECT},
	{"array", TYPE_ARRAY},   {"number", TYPE_NUMBER},   {"string", TYPE_STRING},
	{"integer", TYPE_INTEGER},
};

/* The "$schema" values accepted; all are checked with 2020-12 semantics. */
static const char *const schema_dialects[] = {
	"https://json-schema.org/draft/2020-12/schema",
	"https://json-schema.org/draft/2020-12/schema#",
	"http://json-schema.org/draft-07/schema#",
	"http://json-schema.org/draft-07/schema",
};

struct sprop {
	const char *name;   /* property name, borrowed from the schema tree */
	struct snode *node; /* its schema */
};

struct spattern {
	struct rx *rx;      /* the compiled property-name pattern */
	struct snode *node; /* schema for the properties whose names match */
};

struct slimit {
	int set;        /* the keyword is present */
	struct js_num val; /* its value */
};

struct slist {
	struct snode **v; /* the subschemas, owned array */
	size_t n;         /* how many */
};

/* One compiled (sub)schema. */
struct snode {
	json_object *json;        /* the schema value, borrowed from the tree */
	int is_bool;              /* a boolean schema */
	int bool_val;             /* for a boolean schema: 1 accepts all, 0 nothing */
	unsigned types;           /* TYPE_* bits of "type"; 0 when absent */
	const char *ref;          /* "$ref" text, or NULL */
	struct snode *ref_node;   /* what "$ref" resolves to, set after the tree is compiled */
	json_object *enum_vals;   /* "enum" array, or NULL */
	int has_const;            /* "const" is present (its value may be null) */
	json_object *const_val;   /* the "const" value */
	struct slimit minimum;    /* "minimum" */
	struct slimit maximum;    /* "maximum" */
	struct slimit xminimum;   /* "exclusiveMinimum" */
	struct slimit xmaximum;   /* "exclusiveMaximum" */
	struct slimit multiple;   /* "multipleOf", > 0 */
	int64_t min_length;       /* "minLength" in code points, -1 when absent */
	int64_t max_length;       /* "maxLength" in code points, -1 when absent */
	int64_t min_items;        /* "minItems", -1 when absent */
	int64_t max_items;        /* "maxItems", -1 when absent */
	int64_t min_props;        /* "minProperties", -1 when absent */
	int64_t max_props;        /* "maxProperties", -1 when absent */
	int unique;               /* "uniqueItems": true */
	struct rx *pattern;       /* "pattern", or NULL */
	const char *pattern_text; /* its source, for messages */
	json_object *props_json;  /* "properties", to look names up; or NULL */
	struct sprop *props;      /* "properties" in schema order */
	size_t nprops;            /* how many */
	struct spattern *pprops;  /* "patternProperties" */
	size_t npprops;           /* how many */
	struct snode *additional; /* "additionalProperties", or NULL */
	const char **required;    /* "required" names, borrowed from the tree */
	size_t nrequired;         /* how many */
	struct slist prefix;      /* "prefixItems" (or "items" given as an array) */
	struct snode *items;      /* "items" after the prefix (or draft-07 "additionalItems") */
	struct slist all_of;      /* "allOf" */
	struct slist any_of;      /* "anyOf" */
	struct slist one_of;      /* "oneOf" */
	struct snode *not_node;   /* "not", or NULL */
};

struct schema {
	json_object *root;    /* our reference to the schema tree */
	struct snode **nodes; /* every node; nodes[0] is the root */
	size_t nnodes;        /* nodes in use */
	size_t cap;           /* nodes allocated */
};

static void node_free(struct snode *n)
{
	size_t i;

	free(n->props);
	for (i = 0; i < n->npprops; i++)
		rx_free(n->pprops[i].rx);
	free(n->pprops);
	free(n->required);
	free(n->prefix.v);
	free(n->all_of.v);
	free(n->any_of.v);
	free(n->one_of.v);
	rx_free(n->pattern);
	free(n);
}

void schema_free(struct schema *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nnodes; i++)
		node_free(s->nodes[i]);
	free(s->nodes);
	json_object_put(s->root);
	free(s);
}

/* ---- Checking a schema ------------------------------------------------------------------ */

struct compile {
	struct schema *s;                          /* what is being built */
	struct msg *m;                             /* where the message goes */
	const char *base;                          /* pointer of the subtree being compiled */
	struct seg path[SCHEMA_MAX_JSON_DEPTH + 2]; /* location below base */
	int npath;                                 /* segments in path */
};

DMCP_PRINTF(2, 3)
static dmcp_rc compile_fail(struct compile *c, const char *fmt, ...)
{
	va_list ap;

	msg_init(c->m, c->m->p, c->m->cap);
	if (c->npath > 0 || strcmp(c->base, "#") != 0) {
		msg_add(c->m, "%s", c->base);
		msg_pointer(c->m, c->path, c->npath);
		msg_add(c->m, ": ");
	}
	va_start(ap, fmt);
	msg_vadd(c->m, fmt, ap);
	va_end(ap);
	msg_finish(c->m);
	return DMCP_E_SCHEMA;
}

static void path_push(struct compile *c, const char *key, size_t idx)
{
	c->path[c->npath].key = key;
	c->path[c->npath].idx = idx;
	c->npath++;
}

static dmcp_rc compile_node(struct compile *c, json_object *j, struct snode **out);

/* Compiles the subschema j found at keyword kw (and name or index below it). */
static dmcp_rc compile_at(struct compile *c, json_object *j, const char *kw, const char *name,
                          size_t idx, int has_idx, struct snode **out)
{
	int saved = c->npath;
	dmcp_rc rc;

	if (c->npath + 2 > (int)(sizeof c->path / sizeof c->path[0]))
		return compile_fail(c, "schema nests too deeply");
	path_push(c, kw, 0);
	if (name != NULL || has_idx)
		path_push(c, name, idx);
	rc = compile_node(c, j, out);
	c->npath = saved;
	return rc;
}

static dmcp_rc kw_dialect(struct compile *c, json_object *j)
{
	json_object *v;
	const char *text;
	size_t i;

	if (!json_object_object_get_ex(j, "$schema", &v))
		return DMCP_OK;
	if (!json_object_is_type(v, json_type_string))
		return compile_fail(c, "\"$schema\" must be a string");
	text = json_object_get_string(v);
	for (i = 0; i < sizeof schema_dialects / sizeof schema_dialects[0]; i++)
		if (strcmp(text, schema_dialects[i]) == 0)
			return DMCP_OK;
	return compile_fail(c, "unsupported JSON Schema dialect: %s", text);
}

static unsigned type_bit(json_object *v)
{
	size_t i;

	if (!json_object_is_type(v, json_type_string))
		return 0;
	for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (strcmp(json_object_get_string(v), type_names[i].name) == 0)
			return type_names[i].bit;
	return 0;
}

static dmcp_rc kw_type(struct compile *c, json_object *j, struct snode *n)
{
	json_object *v;
	unsigned bit;
	size_t i, len;

	if (!json_object_object_get_ex(j, "type", &v))
		return DMCP_OK;
	if (json_object_is_type(v, json_type_string)) {
		n->types = type_bit(v);
		if (n->types == 0)
			return compile_fail(c, "\"type\": unknown type \"%s\"", json_object_get_string(v));
		return DMCP_OK;
	}
	len = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
	if (len == 0)
		return compile_fail(c, "\"type\" must be a type name or a non-empty array of them");
	for (i = 0; i < len; i++) {
		bit = type_bit(json_object_array_get_idx(v, i));
		if (bit == 0 || (n->types & bit) != 0)
			return compile_fail(c, "\"type\": item %zu is not a type name, or repeats one", i);
		n->types |= bit;
	}
	return DMCP_OK;
}

static dmcp_rc kw_ref(struct compile *c, json_object *j, struct snode *n)
{
	json_object *v;
	const char *ref;

	if (!json_object_object_get_ex(j, "$ref", &v))
		return DMCP_OK;
	if (!json_object_is_type(v, json_type_string))
		return compile_fail(c, "\"$ref\" must be a string");
	ref = json_object_get_string(v);
	if (ref[0] != '#' || (ref[1] != '\0' && ref[1] != '/'))
		return compile_fail(c, "unsupported \"$ref\": %s (only local JSON pointers such as "
		                    "\"#/$defs/name\" are supported)", ref);
	n->ref = ref;
	return DMCP_OK;
}

static dmcp_rc kw_values(struct compile *c, json_object *j, struct snode *n)
{
	json_object *v;

	if (json_object_object_get_ex(j, "enum", &v)) {
		if (!json_object_is_type(v, json_type_array))
			return compile_fail(c, "\"enum\" must be an array");
		n->enum_vals = v;
	}
	if (json_object_object_get_ex(j, "const", &v)) {
		n->has_const = 1;
		n->const_val = v;
	}
	return DMCP_OK;
}

static dmcp_rc get_limit(struct compile *c, json_object *j, const char *kw, struct slimit *out)
{
	json_object *v;

	if (!json_object_object_get_ex(j, kw, &v))
		return DMCP_OK;
	if (!js_is_num(v))
		return compile_fail(c, "\"%s\" must be a number", kw);
	out->set = 1;
	out->val = js_num_of(v);
	return DMCP_OK;
}

static dmcp_rc kw_numbers(struct compile *c, json_object *j, struct snode *n)
{
	dmcp_rc rc;
	struct js_num zero = {JS_NUM_INT, 0, 0, 0.0};

	rc = get_limit(c, j, "minimum", &n->minimum);
	if (rc == DMCP_OK)
		rc = get_limit(c, j, "maximum", &n->maximum);
	if (rc == DMCP_OK)
		rc = get_limit(c, j, "exclusiveMinimum", &n->xminimum);
	if (rc == DMCP_OK)
		rc = get_limit(c, j, "exclusiveMaximum", &n->xmaximum);
	if (rc == DMCP_OK)
		rc = get_limit(c, j, "multipleOf", &n->multiple);
	if (rc == DMCP_OK && n->multiple.set && js_num_cmp(n->multiple.val, zero) <= 0)
		rc = compile_fail(c, "\"multipleOf\" must be greater than 0");
	return rc;
}

/* A non-negative integer keyword (1.0 counts as an integer) into *out, -1 when absent. */
static dmcp_rc get_count(struct compile *c, json_object *j, const char *kw, int64_t *out)
{
	json_object *v;
	struct js_num x;

	*out = -1;
	if (!json_object_object_get_ex(j, kw, &v))
		return DMCP_OK;
	if (!js_is_num(v) || !num_is_integer(js_num_of(v)) || num_double(js_num_of(v)) < 0)
		return compile_fail(c, "\"%s\" must be a non-negative integer", kw);
	x = js_num_of(v);
	if (x.kind == JS_NUM_UINT || (x.kind == JS_NUM_DOUBLE && x.d >= 9223372036854775807.0))
		*out = INT64_MAX;
	else
		*out = x.kind == JS_NUM_INT ? x.i : (int64_t)x.d;
	return DMCP_OK;
}

static dmcp_rc kw_counts(struct compile *c, json_object *j, struct snode *n)
{
	static const char *const kws[] = {"minLength", "maxLength", "minItems",
	                                  "maxItems", "minProperties", "maxProperties"};
	int64_t *fields[] = {&n->min_length, &n->max_length, &n->min_items,
	                     &n->max_items, &n->min_props, &n->max_props};
	json_object *v;
	dmcp_rc rc = DMCP_OK;
	size_t i;

	for (i = 0; i < sizeof kws / sizeof kws[0] && rc == DMCP_OK; i++)
		rc = get_count(c, j, kws[i], fields[i]);
	if (rc != DMCP_OK || !json_object_object_get_ex(j, "uniqueItems", &v))
		return rc;
	if (!json_object_is_type(v, json_type_boolean))
		return compile_fail(c, "\"uniqueItems\" must be a boolean");
	n->unique = json_object_get_boolean(v);
	return DMCP_OK;
}

static dmcp_rc compile_rx(struct compile *c, const char *text, size_t len, const char *what,
                          struct rx **out)
{
	const char *why = NULL;
	dmcp_rc rc;

	rc = rx_compile(text, len, out, &why);
	if (rc == DMCP_E_PARAMS)
		return compile_fail(c, "%s \"%s\" is not a supported regular expression: %s", what,
		                    text, why);
	return rc;
}

static dmcp_rc kw_pattern(struct compile *c, json_object *j, struct snode *n)
{
	json_object *v;

	if (!json_object_object_get_ex(j, "pattern", &v))
		return DMCP_OK;
	if (!json_object_is_type(v, json_type_string))
		return compile_fail(c, "\"pattern\" must be a string");
	n->pattern_text = json_object_get_string(v);
	return compile_rx(c, n->pattern_text, (size_t)json_object_get_string_len(v), "\"pattern\"",
	                  &n->pattern);
}

/* A schema-valued keyword (absent leaves *out NULL). */
static dmcp_rc kw_schema(struct compile *c, json_object *j, const char *kw, struct snode **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(j, kw, &v))
		return DMCP_OK;
	return compile_at(c, v, kw, NULL, 0, 0, out);
}

/* An array of schemas; empty arrays are refused (the meta-schema says minItems 1). */
static dmcp_rc schema_array(struct compile *c, json_object *v, const char *kw, struct slist *out)
{
	size_t i, len;
	dmcp_rc rc = DMCP_OK;

	len = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
	if (len == 0)
		return compile_fail(c, "\"%s\" must be a non-empty array of schemas", kw);
	out->v = calloc(len, sizeof *out->v);
	if (out->v == NULL)
		return DMCP_E_NOMEM;
	out->n = len;
	for (i = 0; i < len && rc == DMCP_OK; i++)
		rc = compile_at(c, json_object_array_get_idx(v, i), kw, NULL, i, 1, &out->v[i]);
	return rc;
}

static dmcp_rc kw_list(struct compile *c, json_object *j, const char *kw, struct slist *out)
{
	json_object *v;

	if (!json_object_object_get_ex(j, kw, &v))
		return DMCP_OK;
	return schema_array(c, v, kw, out);
}

static dmcp_rc kw_items(struct compile *c, json_object *j, struct snode *n)
{
	json_object *v;
	dmcp_rc rc;

	rc = kw_list(c, j, "prefixItems", &n->prefix);
	if (rc != DMCP_OK || !json_object_object_get_ex(j, "items", &v))
		return rc;
	if (!json_object_is_type(v, json_type_array))
		return kw_schema(c, j, "items", &n->items);
	/* The draft-07 tuple form: "items" is the prefix, "additionalItems" the rest. */
	if (n->prefix.n > 0)
		return compile_fail(c, "\"items\" as an array cannot be combined with \"prefixItems\"");
	rc = schema_array(c, v, "items", &n->prefix);
	if (rc == DMCP_OK)
		rc = kw_schema(c, j, "additionalItems", &n->items);
	return rc;
}

/* An object whose members are schemas: "properties", "$defs", ... each passes through fn. */
typedef dmcp_rc (*member_fn)(struct compile *c, struct snode *n, size_t i, const char *name,
                             json_object *value);

static dmcp_rc kw_members(struct compile *c, json_object *j, struct snode *n, const char *kw,
                          member_fn fn)
{
	struct json_object_iterator it, end;
	json_object *v;
	struct snode *unused;
	dmcp_rc rc = DMCP_OK;
	size_t i = 0;

	if (!json_object_object_get_ex(j, kw, &v))
		return DMCP_OK;
	if (!json_object_is_type(v, json_type_object))
		return compile_fail(c, "\"%s\" must be an object", kw);
	it = json_object_iter_begin(v);
	end = json_object_iter_end(v);
	for (; rc == DMCP_OK && !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		json_object *sub = json_object_iter_peek_value(&it);

		if (fn != NULL)
			rc = fn(c, n, i++, name, sub);
		else
			rc = compile_at(c, sub, kw, name, 0, 0, &unused);
	}
	return rc;
}

static dmcp_rc add_prop(struct compile *c, struct snode *n, size_t i, const char *name,
                        json_object *value)
{
	n->props[i].name = name;
	n->nprops = i + 1;
	return compile_at(c, value, "properties", name, 0, 0, &n->props[i].node);
}

static dmcp_rc add_pprop(struct compile *c, struct snode *n, size_t i, const char *name,
                         json_object *value)
{
	dmcp_rc rc;

	n->npprops = i + 1;
	path_push(c, "patternProperties", 0);
	rc = compile_rx(c, name, strlen(name), "property pattern", &n->pprops[i].rx);
	c->npath--;
	if (rc != DMCP_OK)
		return rc;
	return compile_at(c, value, "patternProperties", name, 0, 0, &n->pprops[i].node);
}

/* Allocates room for an object keyword's members (none when absent or not an object). */
static dmcp_rc member_room(json_object *j, const char *kw, size_t size, void **out)
{
	json_object *v;
	int len;

	*out = NULL;
	if (!json_object_object_get_ex(j, kw, &v) || !json_object_is_type(v, json_type_object))
		return DMCP_OK;
	len = json_object_object_length(v);
	if (len == 0)
		return DMCP_OK;
	*out = calloc((size_t)len, size);
	return *out == NULL ? DMCP_E_NOMEM : DMCP_OK;
}

static dmcp_rc kw_required(struct compile *c, json_object *j, struct snode *n)
{
	json_object *v;
	size_t i, len;

	if (!json_object_object_get_ex(j, "required", &v))
		return DMCP_OK;
	if (!json_object_is_type(v, json_type_array))
		return compile_fail(c, "\"required\" must be an array of strings");
	len = json_object_array_length(v);
	for (i = 0; i < len; i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
			return compile_fail(c, "\"required\" must be an array of strings");
	if (len == 0)
		return DMCP_OK;
	n->required = calloc(len, sizeof *n->required);
	if (n->required == NULL)
		return DMCP_E_NOMEM;
	for (i = 0; i < len; i++)
		n->required[i] = json_object_get_string(json_object_array_get_idx(v, i));
	n->nrequired = len;
	return DMCP_OK;
}

static dmcp_rc kw_objects(struct compile *c, json_object *j, struct snode *n)
{
	void *room;
	dmcp_rc rc;

	rc = member_room(j, "properties", sizeof *n->props, &room);
	n->props = room;
	if (rc == DMCP_OK)
		rc = kw_members(c, j, n, "properties", add_prop);
	if (rc == DMCP_OK)
		rc = member_room(j, "patternProperties", sizeof *n->pprops, &room);
	if (rc == DMCP_OK)
		n->pprops = room;
	if (rc == DMCP_OK)
		rc = kw_members(c, j, n, "patternProperties", add_pprop);
	if (rc == DMCP_OK && !json_object_object_get_ex(j, "properties", &n->props_json))
		n->props_json = NULL;
	if (rc == DMCP_OK)
		rc = kw_schema(c, j, "additionalProperties", &n->additional);
	if (rc == DMCP_OK)
		rc = kw_required(c, j, n);
	return rc;
}

static dmcp_rc kw_applicators(struct compile *c, json_object *j, struct snode *n)
{
	dmcp_rc rc;

	rc = kw_items(c, j, n);
	if (rc == DMCP_OK)
		rc = kw_list(c, j, "allOf", &n->all_of);
	if (rc == DMCP_OK)
		rc = kw_list(c, j, "anyOf", &n->any_of);
	if (rc == DMCP_OK)
		rc = kw_list(c, j, "oneOf", &n->one_of);
	if (rc == DMCP_OK)
		rc = kw_schema(c, j, "not", &n->not_node);
	if (rc == DMCP_OK)
		rc = kw_members(c, j, n, "$defs", NULL);
	if (rc == DMCP_OK)
		rc = kw_members(c, j, n, "definitions", NULL);
	return rc;
}

static dmcp_rc new_node(struct compile *c, json_object *j, struct snode **out)
{
	struct schema *s = c->s;
	struct snode **grown;
	struct snode *n;

	*out = NULL;
	if (s->nnodes >= SCHEMA_MAX_NODES)
		return compile_fail(c, "schema has more than %d subschemas", SCHEMA_MAX_NODES);
	if (s->nnodes == s->cap) {
		grown = realloc(s->nodes, (s->cap ? s->cap * 2 : 16) * sizeof *grown);
		if (grown == NULL)
			return DMCP_E_NOMEM;
		s->nodes = grown;
		s->cap = s->cap ? s->cap * 2 : 16;
	}
	n = calloc(1, sizeof *n);
	if (n == NULL)
		return DMCP_E_NOMEM;
	n->json = j;
	n->min_length = n->max_length = n->min_items = n->max_items = -1;
	n->min_props = n->max_props = -1;
	s->nodes[s->nnodes++] = n;
	*out = n;
	return DMCP_OK;
}

/* Keywords that constrain values but that this validator does not implement: a schema that
 * uses one is refused, so that nothing it forbids slips through as valid (fail closed). */
static dmcp_rc kw_unsupported(struct compile *c, json_object *j, struct snode *n)
{
	static const char *const kws[] = {"if", "then", "else", "contains", "minContains",
	                                  "maxContains", "dependentRequired", "dependentSchemas",
	                                  "dependencies", "propertyNames", "unevaluatedProperties",
	                                  "unevaluatedItems", "$dynamicRef", "$recursiveRef"};
	size_t i;

	(void)n;
	for (i = 0; i < sizeof kws / sizeof kws[0]; i++)
		if (json_object_object_get_ex(j, kws[i], NULL))
			return compile_fail(c, "keyword \"%s\" is not supported by dmcp's validator",
			                    kws[i]);
	return DMCP_OK;
}

static dmcp_rc compile_node(struct compile *c, json_object *j, struct snode **out)
{
	typedef dmcp_rc (*kw_fn)(struct compile *, json_object *, struct snode *);
	static const kw_fn kws[] = {kw_unsupported, kw_type, kw_ref, kw_values, kw_numbers,
	                            kw_counts, kw_pattern, kw_objects, kw_applicators};
	struct snode *n;
	dmcp_rc rc;
	size_t i;

	*out = NULL;
	if (!json_object_is_type(j, json_type_object) && !json_object_is_type(j, json_type_boolean))
		return compile_fail(c, "a schema must be an object or a boolean");
	rc = new_node(c, j, &n);
	if (rc != DMCP_OK)
		return rc;
	*out = n;
	if (json_object_is_type(j, json_type_boolean)) {
		n->is_bool = 1;
		n->bool_val = json_object_get_boolean(j);
		return DMCP_OK;
	}
	rc = kw_dialect(c, j);
	for (i = 0; i < sizeof kws / sizeof kws[0] && rc == DMCP_OK; i++)
		rc = kws[i](c, j, n);
	return rc;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decodes a URI fragment into out (room for strlen(in) + 1); 0 when malformed. */
static int fragment_decode(const char *in, char *out)
{
	size_t len = 0;
	int hi, lo;

	for (; *in != '\0'; in++) {
		if (*in != '%') {
			out[len++] = *in;
			continue;
		}
		hi = hex_digit(in[1]);
		lo = hi < 0 ? -1 : hex_digit(in[2]);
		if (lo < 0 || (hi == 0 && lo == 0))
			return 0;
		out[len++] = (char)(hi * 16 + lo);
		in += 2;
	}
	out[len] = '\0';
	return 1;
}

/* Cuts the reference token at *p (up to the next '/') and undoes ~1 and ~0 in place;
 * *p moves past it, *more says whether a '/' followed. NULL when a '~' is not followed by
 * 0 or 1. */
static char *pointer_token(char **p, int *more)
{
	char *tok = *p, *r, *w;

	for (r = w = tok; *r != '\0' && *r != '/'; r++) {
		if (*r != '~') {
			*w++ = *r;
			continue;
		}
		if (r[1] != '0' && r[1] != '1')
			return NULL;
		*w++ = r[1] == '0' ? '~' : '/';
		r++;
	}
	*more = *r == '/';
	*p = *more ? r + 1 : r;
	*w = '\0';
	return tok;
}

/* One token applied to cur: a member of an object, an index of an array. */
static json_object *pointer_step(json_object *cur, const char *tok)
{
	json_object *next = NULL;
	char *end;
	unsigned long long i;

	if (json_object_is_type(cur, json_type_object)) {
		if (!json_object_object_get_ex(cur, tok, &next))
			return NULL;
		return next;
	}
	if (!json_object_is_type(cur, json_type_array) || tok[0] < '0' || tok[0] > '9' ||
	    (tok[0] == '0' && tok[1] != '\0'))
		return NULL;
	i = strtoull(tok, &end, 10);
	if (*end != '\0' || i >= json_object_array_length(cur))
		return NULL;
	return json_object_array_get_idx(cur, (size_t)i);
}

/* Resolves "#" or "#/a/b" (RFC 6901 in a URI fragment) against root; *out is NULL when it
 * does not resolve. */
static dmcp_rc resolve_pointer(json_object *root, const char *ref, json_object **out)
{
	json_object *cur = root;
	char *dec, *p, *tok;
	int more;

	*out = NULL;
	dec = malloc(strlen(ref) + 1);
	if (dec == NULL)
		return DMCP_E_NOMEM;
	if (!fragment_decode(ref + 1, dec) || (dec[0] != '\0' && dec[0] != '/'))
		cur = NULL;
	p = dec[0] == '/' ? dec + 1 : dec;
	more = dec[0] == '/';
	while (cur != NULL && more) {
		tok = pointer_token(&p, &more);
		cur = tok != NULL ? pointer_step(cur, tok) : NULL;
	}
	free(dec);
	*out = cur;
	return DMCP_OK;
}

/* Points every "$ref" at its node, compiling targets outside the keywords walked so far
 * (which may add nodes with more refs: the loop takes them too). */
static dmcp_rc resolve_refs(struct compile *c)
{
	struct schema *s = c->s;
	json_object *target;
	struct snode *n;
	dmcp_rc rc;
	size_t i, k;

	for (i = 0; i < s->nnodes; i++) {
		n = s->nodes[i];
		if (n->ref == NULL)
			continue;
		rc = resolve_pointer(s->root, n->ref, &target);
		if (rc != DMCP_OK)
			return rc;
		if (target == NULL) {
			c->base = "#";
			c->npath = 0;
			return compile_fail(c, "\"$ref\" %s does not resolve", n->ref);
		}
		for (k = 0; k < s->nnodes && n->ref_node == NULL; k++)
			if (s->nodes[k]->json == target)
				n->ref_node = s->nodes[k];
		if (n->ref_node != NULL)
			continue;
		c->base = n->ref;
		c->npath = 0;
		rc = compile_node(c, target, &n->ref_node);
		if (rc != DMCP_OK)
			return rc;
	}
	return DMCP_OK;
}

static const char *json_type_word(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_int: return "integer";
	case json_type_double: return "number";
	case json_type_object: return "object";
	case json_type_array: return "array";
	case json_type_string: return "string";
	}
	return "unknown";
}

dmcp_rc schema_new(json_object *root, struct schema **out, char *err, size_t errlen)
{
	struct compile c;
	struct msg m;
	struct snode *top;
	dmcp_rc rc;
	int bad;

	msg_init(&m, err, errlen);
	memset(&c, 0, sizeof c);
	c.m = &m;
	c.base = "#";
	if (out == NULL)
		return compile_fail(&c, "schema_new: no place for the result");
	*out = NULL;
	if (!json_object_is_type(root, json_type_object) && !json_object_is_type(root, json_type_boolean))
		return compile_fail(&c, "a schema must be an object or a boolean, not %s",
		                    json_type_word(root));
	bad = json_insane(root, SCHEMA_MAX_JSON_DEPTH);
	if (bad != JSON_SANE) {
		msg_insane(&m, "the schema", bad);
		return DMCP_E_SCHEMA;
	}
	c.s = calloc(1, sizeof *c.s);
	if (c.s == NULL) {
		rc = DMCP_E_NOMEM;
		goto fail;
	}
	c.s->root = json_object_get(root);
	rc = compile_node(&c, root, &top);
	if (rc == DMCP_OK)
		rc = resolve_refs(&c);
	if (rc != DMCP_OK)
		goto fail;
	*out = c.s;
	return DMCP_OK;
fail:
	if (rc == DMCP_E_NOMEM)
		compile_fail(&c, "out of memory");
	schema_free(c.s);
	return rc;
}

dmcp_rc schema_new_text(const char *text, struct schema **out, char *err, size_t errlen)
{
	json_tokener *tok = NULL;
	json_object *root = NULL;
	enum json_tokener_error jerr;
	struct msg m;
	size_t len;
	dmcp_rc rc = DMCP_E_SCHEMA;

	msg_init(&m, err, errlen);
	if (out != NULL)
		*out = NULL;
	len = text != NULL ? strlen(text) : 0;
	if (text == NULL || len >= INT_MAX) {
		msg_add(&m, "schema text is missing or too long");
		goto done;
	}
	tok = json_tokener_new();
	if (tok == NULL) {
		rc = DMCP_E_NOMEM;
		goto done;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, text, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	if (jerr != json_tokener_success) {
		msg_add(&m, "schema is not valid JSON: %s at offset %zu", json_tokener_error_desc(jerr),
		        json_tokener_get_parse_end(tok));
		msg_finish(&m);
		goto done;
	}
	rc = schema_new(root, out, err, errlen);
done:
	json_object_put(root);
	if (tok != NULL)
		json_tokener_free(tok);
	return rc;
}

/* ---- Validating ------------------------------------------------------------------------- */

struct vctx {
	struct msg m;                         /* where the message goes */
	int quiet;                            /* > 0 inside anyOf/oneOf/not: failing is expected */
	int depth;                            /* current evaluation nesting */
	long steps;                           /* evaluations so far */
	struct seg path[SCHEMA_MAX_DEPTH + 1]; /* the instance location */
	int npath;                            /* segments in path */
};

static void vmsg(struct vctx *v, const char *fmt, va_list ap)
{
	msg_init(&v->m, v->m.p, v->m.cap);
	if (v->npath == 0)
		msg_addc(&v->m, '/');
	msg_pointer(&v->m, v->path, v->npath);
	msg_add(&v->m, ": ");
	msg_vadd(&v->m, fmt, ap);
	msg_finish(&v->m);
}

/* A keyword failed: DMCP_E_VALIDATION, with the message unless the failure is expected. */
DMCP_PRINTF(2, 3)
static dmcp_rc vfail(struct vctx *v, const char *fmt, ...)
{
	va_list ap;

	if (v->quiet > 0)
		return DMCP_E_VALIDATION;
	va_start(ap, fmt);
	vmsg(v, fmt, ap);
	va_end(ap);
	return DMCP_E_VALIDATION;
}

/* A limit was hit: DMCP_E_LIMIT, which no anyOf/not may turn into success; schema_validate
 * reports it as DMCP_E_VALIDATION. */
DMCP_PRINTF(2, 3)
static dmcp_rc vlimit(struct vctx *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(v, fmt, ap);
	va_end(ap);
	return DMCP_E_LIMIT;
}

static dmcp_rc eval_node(struct vctx *v, const struct snode *n, json_object *inst);

static dmcp_rc eval(struct vctx *v, const struct snode *n, json_object *inst)
{
	dmcp_rc rc;

	if (v->depth >= SCHEMA_MAX_DEPTH)
		return vlimit(v, "too deep: schema evaluation nests more than %d levels",
		              SCHEMA_MAX_DEPTH);
	v->steps++;
	if (v->steps > SCHEMA_MAX_STEPS)
		return vlimit(v, "too complex: more than %ld subschema evaluations", SCHEMA_MAX_STEPS);
	v->depth++;
	rc = eval_node(v, n, inst);
	v->depth--;
	return rc;
}

/* Evaluates n against inst, the member key (or item idx) of the current value. */
static dmcp_rc eval_at(struct vctx *v, const struct snode *n, json_object *inst, const char *key,
                       size_t idx)
{
	dmcp_rc rc;

	if (v->npath > SCHEMA_MAX_DEPTH)
		return vlimit(v, "too deep: the value nests more than %d levels", SCHEMA_MAX_DEPTH);
	v->path[v->npath].key = key;
	v->path[v->npath].idx = idx;
	v->npath++;
	rc = eval(v, n, inst);
	v->npath--;
	return rc;
}

static unsigned instance_types(json_object *inst)
{
	switch (json_object_get_type(inst)) {
	case json_type_null: return TYPE_NULL;
	case json_type_boolean: return TYPE_BOOLEAN;
	case json_type_object: return TYPE_OBJECT;
	case json_type_array: return TYPE_ARRAY;
	case json_type_string: return TYPE_STRING;
	case json_type_int: return TYPE_NUMBER | TYPE_INTEGER;
	case json_type_double:
		return num_is_integer(js_num_of(inst)) ? TYPE_NUMBER | TYPE_INTEGER : TYPE_NUMBER;
	}
	return 0;
}

static dmcp_rc check_type(struct vctx *v, const struct snode *n, json_object *inst)
{
	struct msg want;
	char text[SCHEMA_TYPE_TEXT];
	size_t i;

	if (n->types == 0 || (n->types & instance_types(inst)) != 0)
		return DMCP_OK;
	msg_init(&want, text, sizeof text);
	for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (n->types & type_names[i].bit)
			msg_add(&want, "%s%s", want.len > 0 ? " or " : "", type_names[i].name);
	return vfail(v, "expected %s, got %s", text, json_type_word(inst));
}

static dmcp_rc check_ref(struct vctx *v, const struct snode *n, json_object *inst)
{
	return n->ref_node != NULL ? eval(v, n->ref_node, inst) : DMCP_OK;
}

static dmcp_rc check_values(struct vctx *v, const struct snode *n, json_object *inst)
{
	size_t i, len;

	if (n->has_const && !js_equal(n->const_val, inst))
		return vfail(v, "value does not equal the const value");
	if (n->enum_vals == NULL)
		return DMCP_OK;
	len = json_object_array_length(n->enum_vals);
	for (i = 0; i < len; i++)
		if (js_equal(json_object_array_get_idx(n->enum_vals, i), inst))
			return DMCP_OK;
	return vfail(v, "value is not one of the enum values");
}

/* 1 when x passes l; kind 0 minimum, 1 exclusiveMinimum, 2 maximum, 3 exclusiveMaximum. */
static int limit_ok(const struct slimit *l, struct js_num x, int kind)
{
	int c;

	if (!l->set)
		return 1;
	c = js_num_cmp(x, l->val);
	switch (kind) {
	case 0: return c >= 0;  /* minimum */
	case 1: return c > 0;   /* exclusiveMinimum */
	case 2: return c <= 0;  /* maximum */
	default: return c < 0;  /* exclusiveMaximum */
	}
}

static dmcp_rc check_number(struct vctx *v, const struct snode *n, json_object *inst)
{
	static const char *const what[] = {
		"less than the minimum",
		"not greater than the exclusiveMinimum",
		"greater than the maximum",
		"not less than the exclusiveMaximum",
	};
	const struct slimit *limits[] = {&n->minimum, &n->xminimum, &n->maximum, &n->xmaximum};
	char xs[SCHEMA_NUM_TEXT], ls[SCHEMA_NUM_TEXT];
	struct js_num x;
	int i;

	if (!js_is_num(inst))
		return DMCP_OK;
	x = js_num_of(inst);
	for (i = 0; i < 4; i++) {
		if (limit_ok(limits[i], x, i))
			continue;
		num_text(x, xs, sizeof xs);
		num_text(limits[i]->val, ls, sizeof ls);
		return vfail(v, "%s is %s %s", xs, what[i], ls);
	}
	if (n->multiple.set && !num_multiple(x, n->multiple.val)) {
		num_text(x, xs, sizeof xs);
		num_text(n->multiple.val, ls, sizeof ls);
		return vfail(v, "%s is not a multiple of %s (multipleOf)", xs, ls);
	}
	return DMCP_OK;
}

static dmcp_rc check_string(struct vctx *v, const struct snode *n, json_object *inst)
{
	const char *s;
	size_t len, count;
	dmcp_rc rc;
	int found;

	if (!json_object_is_type(inst, json_type_string))
		return DMCP_OK;
	s = json_object_get_string(inst);
	len = (size_t)json_object_get_string_len(inst);
	count = utf8_count(s, len);
	if (n->min_length >= 0 && count < (uint64_t)n->min_length)
		return vfail(v, "string has %zu characters, fewer than minLength %lld", count,
		             (long long)n->min_length);
	if (n->max_length >= 0 && count > (uint64_t)n->max_length)
		return vfail(v, "string has %zu characters, more than maxLength %lld", count,
		             (long long)n->max_length);
	if (n->pattern == NULL)
		return DMCP_OK;
	rc = rx_search(n->pattern, s, len, &found);
	if (rc != DMCP_OK || found)
		return rc;
	return vfail(v, "string does not match the pattern %s", n->pattern_text);
}

struct hitem {
	uint64_t h; /* json_hash of the item */
	size_t i;   /* its index */
};

static int hitem_cmp(const void *a, const void *b)
{
	const struct hitem *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* uniqueItems in O(n log n): sort by hash, compare only items whose hashes are equal. */
static dmcp_rc check_unique(struct vctx *v, json_object *inst, size_t len)
{
	struct hitem *t;
	size_t i, k, dup_a = 0, dup_b = 0;
	int dup = 0;

	t = malloc(len * sizeof *t);
	if (t == NULL)
		return DMCP_E_NOMEM;
	for (i = 0; i < len; i++) {
		t[i].h = js_hash(json_object_array_get_idx(inst, i));
		t[i].i = i;
	}
	qsort(t, len, sizeof *t, hitem_cmp);
	for (i = 0; i < len && !dup; i++) {
		for (k = i + 1; k < len && t[k].h == t[i].h && !dup; k++) {
			dup = js_equal(json_object_array_get_idx(inst, t[i].i),
			                 json_object_array_get_idx(inst, t[k].i));
			dup_a = t[i].i;
			dup_b = t[k].i;
		}
	}
	free(t);
	if (!dup)
		return DMCP_OK;
	return vfail(v, "items %zu and %zu are equal, but uniqueItems is true", dup_a, dup_b);
}

static dmcp_rc check_array(struct vctx *v, const struct snode *n, json_object *inst)
{
	size_t i, len;
	dmcp_rc rc = DMCP_OK;

	if (!json_object_is_type(inst, json_type_array))
		return DMCP_OK;
	len = json_object_array_length(inst);
	if (n->min_items >= 0 && len < (uint64_t)n->min_items)
		return vfail(v, "array has %zu items, fewer than minItems %lld", len,
		             (long long)n->min_items);
	if (n->max_items >= 0 && len > (uint64_t)n->max_items)
		return vfail(v, "array has %zu items, more than maxItems %lld", len,
		             (long long)n->max_items);
	if (n->unique && len > 1)
		rc = check_unique(v, inst, len);
	for (i = 0; i < len && i < n->prefix.n && rc == DMCP_OK; i++)
		rc = eval_at(v, n->prefix.v[i], json_object_array_get_idx(inst, i), NULL, i);
	for (i = n->prefix.n; i < len && n->items != NULL && rc == DMCP_OK; i++)
		rc = eval_at(v, n->items, json_object_array_get_idx(inst, i), NULL, i);
	return rc;
}

/* patternProperties and additionalProperties for one member. */
static dmcp_rc check_member(struct vctx *v, const struct snode *n, const char *key,
                            json_object *val)
{
	int matched, found;
	size_t i;
	dmcp_rc rc;

	matched = n->props_json != NULL && json_object_object_get_ex(n->props_json, key, NULL);
	for (i = 0; i < n->npprops; i++) {
		rc = rx_search(n->pprops[i].rx, key, strlen(key), &found);
		if (rc == DMCP_OK && found)
			rc = eval_at(v, n->pprops[i].node, val, key, 0);
		if (rc != DMCP_OK)
			return rc;
		matched |= found;
	}
	if (matched || n->additional == NULL)
		return DMCP_OK;
	if (n->additional->is_bool && !n->additional->bool_val)
		return vfail(v, "property \"%s\" is not allowed (additionalProperties is false)", key);
	return eval_at(v, n->additional, val, key, 0);
}

static dmcp_rc check_object(struct vctx *v, const struct snode *n, json_object *inst)
{
	struct json_object_iterator it, end;
	json_object *val;
	size_t i, count;
	dmcp_rc rc = DMCP_OK;

	if (!json_object_is_type(inst, json_type_object))
		return DMCP_OK;
	count = (size_t)json_object_object_length(inst);
	if (n->min_props >= 0 && count < (uint64_t)n->min_props)
		return vfail(v, "object has %zu properties, fewer than minProperties %lld", count,
		             (long long)n->min_props);
	if (n->max_props >= 0 && count > (uint64_t)n->max_props)
		return vfail(v, "object has %zu properties, more than maxProperties %lld", count,
		             (long long)n->max_props);
	for (i = 0; i < n->nrequired; i++)
		if (!json_object_object_get_ex(inst, n->required[i], NULL))
			return vfail(v, "missing required property \"%s\"", n->required[i]);
	for (i = 0; i < n->nprops && rc == DMCP_OK; i++)
		if (json_object_object_get_ex(inst, n->props[i].name, &val))
			rc = eval_at(v, n->props[i].node, val, n->props[i].name, 0);
	if (n->npprops == 0 && n->additional == NULL)
		return rc;
	it = json_object_iter_begin(inst);
	end = json_object_iter_end(inst);
	for (; rc == DMCP_OK && !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		rc = check_member(v, n, json_object_iter_peek_name(&it), json_object_iter_peek_value(&it));
	return rc;
}

static dmcp_rc check_all_of(struct vctx *v, const struct snode *n, json_object *inst)
{
	dmcp_rc rc = DMCP_OK;
	size_t i;

	for (i = 0; i < n->all_of.n && rc == DMCP_OK; i++)
		rc = eval(v, n->all_of.v[i], inst);
	return rc;
}

/* How many of list accept inst, counting no further than stop (at most 2); which[] receives
 * their indexes. Failures are expected here, so no message; a limit or out-of-memory
 * comes back as the return code. */
static dmcp_rc count_matches(struct vctx *v, const struct slist *list, json_object *inst,
                             size_t stop, size_t *matches, size_t which[2])
{
	dmcp_rc rc;
	size_t i;

	*matches = 0;
	v->quiet++;
	for (i = 0; i < list->n && *matches < stop; i++) {
		rc = eval(v, list->v[i], inst);
		if (rc != DMCP_OK && rc != DMCP_E_VALIDATION) {
			v->quiet--;
			return rc;
		}
		if (rc == DMCP_OK)
			which[(*matches)++] = i;
	}
	v->quiet--;
	return DMCP_OK;
}

static dmcp_rc check_any_of(struct vctx *v, const struct snode *n, json_object *inst)
{
	size_t matches, which[2];
	dmcp_rc rc;

	if (n->any_of.n == 0)
		return DMCP_OK;
	rc = count_matches(v, &n->any_of, inst, 1, &matches, which);
	if (rc != DMCP_OK || matches > 0)
		return rc;
	return vfail(v, "value matches none of the anyOf schemas");
}

static dmcp_rc check_one_of(struct vctx *v, const struct snode *n, json_object *inst)
{
	size_t matches, which[2];
	dmcp_rc rc;

	if (n->one_of.n == 0)
		return DMCP_OK;
	rc = count_matches(v, &n->one_of, inst, 2, &matches, which);
	if (rc != DMCP_OK || matches == 1)
		return rc;
	if (matches == 0)
		return vfail(v, "value matches none of the oneOf schemas");
	return vfail(v, "value matches more than one of the oneOf schemas (#%zu and #%zu)",
	             which[0], which[1]);
}

static dmcp_rc check_not(struct vctx *v, const struct snode *n, json_object *inst)
{
	dmcp_rc rc;

	if (n->not_node == NULL)
		return DMCP_OK;
	v->quiet++;
	rc = eval(v, n->not_node, inst);
	v->quiet--;
	if (rc == DMCP_E_VALIDATION)
		return DMCP_OK;
	if (rc != DMCP_OK)
		return rc;
	return vfail(v, "value matches the \"not\" schema");
}

static dmcp_rc eval_node(struct vctx *v, const struct snode *n, json_object *inst)
{
	typedef dmcp_rc (*check_fn)(struct vctx *, const struct snode *, json_object *);
	static const check_fn checks[] = {check_type, check_values, check_number, check_string,
	                                  check_array, check_object, check_ref, check_all_of,
	                                  check_any_of, check_one_of, check_not};
	dmcp_rc rc = DMCP_OK;
	size_t i;

	if (n->is_bool)
		return n->bool_val ? DMCP_OK : vfail(v, "no value is allowed here (false schema)");
	for (i = 0; i < sizeof checks / sizeof checks[0] && rc == DMCP_OK; i++)
		rc = checks[i](v, n, inst);
	return rc;
}

dmcp_rc schema_validate(const struct schema *s, json_object *instance, char *err, size_t errlen)
{
	struct vctx *v;
	dmcp_rc rc;
	struct msg m;
	int bad;

	msg_init(&m, err, errlen);
	if (s == NULL) {
		msg_add(&m, "schema_validate: no schema");
		return DMCP_E_INTERNAL;
	}
	bad = json_insane(instance, SCHEMA_MAX_JSON_DEPTH);
	if (bad != JSON_SANE) {
		msg_add(&m, "/: ");
		msg_insane(&m, "the value", bad);
		return DMCP_E_VALIDATION;
	}
	v = calloc(1, sizeof *v);
	if (v == NULL) {
		msg_add(&m, "out of memory");
		return DMCP_E_NOMEM;
	}
	v->m = m;
	rc = eval(v, s->nodes[0], instance);
	if (rc == DMCP_E_LIMIT)
		rc = DMCP_E_VALIDATION;
	if (rc == DMCP_E_NOMEM) {
		msg_init(&v->m, err, errlen);
		msg_add(&v->m, "out of memory");
	}
	free(v);
	return rc;
}
