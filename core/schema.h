/* schema.h — checks JSON Schemas once and validates JSON values against them.
 * Knows nothing of HTTP, FastCGI or PostgreSQL. Follows JSON Schema 2020-12 core and
 * validation, as MCP 2025-11-25 requires: a schema without "$schema" is 2020-12. */
#ifndef DMCP_SCHEMA_H
#define DMCP_SCHEMA_H

#include <stddef.h>
#include <json-c/json.h>
#include "dmcp.h"

struct schema; /* a checked schema; owns a reference to its json tree */

/* Checks a schema (takes a new reference to root via json_object_get; the caller keeps its
 * own). Fails with DMCP_E_SCHEMA and a one-line message in err when root is not an object or
 * a boolean, when "$schema" names a dialect other than 2020-12 (or draft-07, checked with
 * 2020-12 semantics): "unsupported JSON Schema dialect: <value>", when a supported keyword
 * has a value of the wrong type, or when a "$ref" is not a local JSON pointer ("#",
 * "#/$defs/...") or does not resolve. Unknown keywords are annotations and are ignored.
 * DMCP_E_NOMEM when memory runs out. The tree must not change while the schema lives. */
dmcp_rc schema_new(json_object *root, struct schema **out, char *err,
                   size_t errlen) DMCP_MUST_CHECK;

/* Frees s (NULL is fine) and drops its reference to the json tree. */
void schema_free(struct schema *s);

/* DMCP_OK when instance (NULL is JSON null) is valid; DMCP_E_VALIDATION with a one-line
 * message naming the JSON-pointer location and the failed keyword, e.g.
 * "/address/city: expected string, got integer"; DMCP_E_NOMEM when memory runs out. Safe to
 * call from several threads at once on the same schema. */
dmcp_rc schema_validate(const struct schema *s, json_object *instance, char *err,
                        size_t errlen) DMCP_MUST_CHECK;

/* Convenience: parses text (strict JSON, valid UTF-8) and checks it as a schema. A parse
 * failure is DMCP_E_SCHEMA too. */
dmcp_rc schema_new_text(const char *text, struct schema **out, char *err,
                        size_t errlen) DMCP_MUST_CHECK;

#endif
