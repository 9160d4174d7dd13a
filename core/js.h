/* js.h — strict JSON parsing with limits, and typed getters over json-c trees.
 * Knows nothing of JSON-RPC or MCP. RFC 8259; json-c 0.16 (strict mode, UTF-8 validation). */
#ifndef DMCP_JS_H
#define DMCP_JS_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "dmcp.h"

/* Deepest nesting of arrays and objects accepted in one message: MCP messages nest about
 * ten levels (tool arguments included); 64 leaves room and stops stack-eating inputs. */
#define JS_MAX_DEPTH 64

/* Parse exactly len bytes as one JSON value. Strict RFC 8259 (no NaN, no trailing bytes),
 * valid UTF-8, at most max_depth levels, and no U+0000 in any string or key (C tools take
 * strings as C strings; a NUL would silently cut them). On failure *out is NULL, err holds
 * one line, and the result is DMCP_E_PARSE (not JSON), DMCP_E_LIMIT (too deep) or
 * DMCP_E_INVALID_REQUEST (JSON, but with a NUL or a non-finite number). */
dmcp_rc js_parse(const char *data, size_t len, int max_depth, json_object **out,
                 char *err, size_t errlen) DMCP_MUST_CHECK;

/* The member key of obj if it exists and has type t, else NULL. Borrowed. */
json_object *js_get(json_object *obj, const char *key, json_type t);
/* The string member key, or NULL when absent or not a string. Borrowed. */
const char *js_str(json_object *obj, const char *key);
/* 1 when obj has member key (of any type, null included). */
int js_has(json_object *obj, const char *key);
/* Compact JSON text of o ("null" for NULL); borrowed from o, valid until o changes. */
const char *js_text(json_object *o);
/* 1 when o is a number with an integral value in [-(2^53-1), 2^53-1]; *v receives it. */
int js_int53(json_object *o, int64_t *v);
/* Parse trusted JSON text (from our own database or a definition); NULL on failure. */
json_object *js_parse_trusted(const char *text);

/* ---- Numbers and equality: the one JSON equality of the tree (JSON Schema's "const",
 * "enum" and "uniqueItems" use it too). */

/* Which field of a js_num holds the value. */
enum js_num_kind { JS_NUM_INT, JS_NUM_UINT, JS_NUM_DOUBLE };

/* A JSON number exactly as json-c holds it: no int64 or uint64 is rounded through double. */
struct js_num {
	enum js_num_kind kind; /* which field holds the value */
	int64_t i;             /* JS_NUM_INT: the value */
	uint64_t u;            /* JS_NUM_UINT: the value, above INT64_MAX */
	double d;              /* JS_NUM_DOUBLE: the value, finite */
};

/* 1 when o is a JSON number (json-c int or double). */
int js_is_num(json_object *o);
/* The number o holds; o must be a number (js_is_num). */
struct js_num js_num_of(json_object *o);
/* -1, 0 or 1 as a <, == or > b by mathematical value, exactly: 1 == 1.0, and
 * 9007199254740993 > 9007199254740992.0 (which a comparison through double calls equal). */
int js_num_cmp(struct js_num a, struct js_num b);
/* Deep equality as JSON Schema defines it: numbers by value (js_num_cmp), strings byte for
 * byte, arrays item by item, objects with the same members regardless of order. The
 * recursion follows the values' nesting: give it trees of bounded depth (js_parse's limit). */
int js_equal(json_object *a, json_object *b);
/* A hash that agrees with js_equal: equal values hash alike (1 and 1.0 included). */
uint64_t js_hash(json_object *o);

#endif
