/* js.h — strict JSON parsing with limits, typed getters over json-c trees, the one JSON
 * equality, and the constructors core/ builds trees with. Knows nothing of JSON-RPC or MCP.
 * RFC 8259; json-c 0.16 (strict mode, UTF-8 validation).
 *
 * Out-of-memory policy for json-c: a failed json-c allocation is fatal. core/ makes and
 * links every json-c node through js_new_*, js_object_add and js_array_add (and serializes
 * through js_text); when json-c fails there, one function logs a line and calls abort(), as
 * Redis's zmalloc does. Why not an error path: json-c reports these failures in ways that
 * are easy to miss (a NULL node is stored as JSON null, a failed add returns -1 and drops
 * the member), so a half-built message would go out looking well-formed, and that must never
 * happen; checking every one of some 270 calls would bury the code for a case that Linux's
 * overcommit makes nearly unreachable (the OOM killer comes first). Everything else keeps
 * its error path: our own malloc, strdup and buffers, and json-c's tokenizer, report
 * DMCP_E_NOMEM and the worker serves the next request. `make check` refuses the raw json-c
 * constructors and adds in core/ outside this module. */
#ifndef DMCP_JS_H
#define DMCP_JS_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "dmcp.h"

/* Deepest nesting of arrays and objects accepted in one message: MCP messages nest about
 * ten levels (tool arguments included); 64 leaves room and stops stack-eating inputs. */
#define JS_MAX_DEPTH 64
/* Objects and arrays in one untrusted message. json-c gives each object a 16-slot hash table
 * and each array a slot array as it parses: about 780 bytes of heap for "{}", two bytes of
 * text, so a 1 MiB body of empty objects cost 260 MB before any other check could run. MCP
 * messages hold tens; 4096 leaves room for tool arguments that are lists of a few thousand
 * records, and caps their tables at about 3 MB. */
#define JS_MAX_CONTAINERS 4096
/* Values in one untrusted message: array items and object members (containers included).
 * Each costs json-c 70-180 bytes of heap (a member also a key copy and hash slots) for 2-6
 * bytes of text ("0,", "\"a\":0,"). With JS_MAX_CONTAINERS, this bounds a message's tree to
 * about 7 MB whatever its size: 4096 records of 8 fields fit. */
#define JS_MAX_VALUES 32768

/* Parse exactly len bytes of an untrusted message as one JSON value. Strict RFC 8259 (no NaN,
 * no trailing bytes), valid UTF-8, at most max_depth levels, at most JS_MAX_CONTAINERS and
 * JS_MAX_VALUES (counted before json-c allocates anything), and no U+0000 in any string or
 * key (C tools take strings as C strings; a NUL would silently cut them). On failure *out is
 * NULL, err holds one line, and the result is DMCP_E_PARSE (not JSON), DMCP_E_LIMIT (too
 * deep, too many values or containers; checked first, so a text over the counts that is
 * not JSON either receives DMCP_E_LIMIT) or DMCP_E_INVALID_REQUEST (JSON, but with a NUL or a
 * non-finite number). */
dmcp_rc js_parse(const char *data, size_t len, int max_depth, json_object **out,
                 char *err, size_t errlen) DMCP_MUST_CHECK;

/* The member key of obj if it exists and has type t, else NULL. Borrowed. */
json_object *js_get(json_object *obj, const char *key, json_type t);
/* The string member key, or NULL when absent or not a string. Borrowed. */
const char *js_str(json_object *obj, const char *key);
/* 1 when obj has member key (of any type, null included). */
int js_has(json_object *obj, const char *key);
/* Compact JSON text of o ("null" for NULL); borrowed from o, valid until o changes. Never
 * NULL (out of memory aborts). */
const char *js_text(json_object *o);
/* 1 when o is a number with an integral value in [-(2^53-1), 2^53-1]; *v receives it. */
int js_int53(json_object *o, int64_t *v);
/* Parse trusted JSON text (from our own database or a definition) with js_parse's strictness
 * but without its count limits (a run's journal gathers many messages); NULL on failure. */
json_object *js_parse_trusted(const char *text);

/* ---- Building trees. json-c's constructors and adds under the policy above: none returns
 * NULL or fails. Each new node is owned by the caller (one reference) until an add takes it. */

json_object *js_new_object(void);
json_object *js_new_array(void);
/* A copy of the C string s (not NULL). */
json_object *js_new_string(const char *s);
/* A copy of s[0..len), which may hold U+0000. */
json_object *js_new_string_len(const char *s, int len);
json_object *js_new_int(int32_t v);
json_object *js_new_int64(int64_t v);
json_object *js_new_boolean(int b);
json_object *js_new_double(double d);
/* A finite number as an author writes it: integral values within 2^53 as integers (30, not
 * 30.0), others in the shortest text that reads back the same (0.1, not json-c's
 * 0.10000000000000001). */
json_object *js_new_number(double d);
/* Sets member key of obj (an object) to val, replacing any old value. Takes over the
 * caller's reference to val; val NULL stores JSON null. */
void js_object_add(json_object *obj, const char *key, json_object *val);
/* Appends val to arr (an array). Takes over the caller's reference; NULL appends null. */
void js_array_add(json_object *arr, json_object *val);

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
