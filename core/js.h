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
/* Deep equality: numbers by value, objects regardless of key order. */
int js_equal(json_object *a, json_object *b);

#endif
