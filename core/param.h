/* param.h — typed parameters (struct dmcp_param, declared in dmcp.h): the JSON Schema a list
 * stands for, the defaults it fills in, and the getters that read arguments and answers.
 * Knows nothing of HTTP, the database or the registry's tables. JSON Schema 2020-12; MCP
 * 2025-11-25 server/tools (inputSchema) and client/elicitation (requestedSchema). */
#ifndef DMCP_PARAM_H
#define DMCP_PARAM_H

#include <stddef.h>
#include <json-c/json.h>
#include "dmcp.h"

/* Parameters in one list: a tool with more arguments than this is hard for a model to call
 * right, and a form with more fields is not one a user fills in. */
#define PARAM_MAX 64
/* Values of one enum: room for a list of countries or currencies, and it bounds the
 * duplicate check (quadratic) and the listing's size. */
#define PARAM_MAX_VALUES 1024
/* Longest parameter name: LLM tool APIs accept property names of 1-64 [A-Za-z0-9_.-]. */
#define PARAM_MAX_NAME 64

/* What a list describes. A tool's arguments: an object that allows no other property (with
 * no parameters, the empty object MCP recommends). An elicitation form: a flat object of
 * primitives, as MCP elicitation requires (no "pattern", arrays only as multi-selects), and
 * no "additionalProperties" (not part of a requestedSchema). */
enum param_use { PARAM_ARGS, PARAM_FORM };

/* Checks params (see dmcp.h for the rules) and sets *text to the JSON Schema they stand for,
 * compact JSON with keys in the order an author writes them (type, title, description,
 * constraints, default). *text is malloc'd: the caller frees it. On failure *text is NULL
 * and err holds one line naming the parameter: DMCP_E_PARAMS for a bad definition,
 * DMCP_E_SCHEMA for a pattern the validator cannot compile, DMCP_E_LIMIT past PARAM_MAX or
 * PARAM_MAX_VALUES, DMCP_E_NOMEM. */
dmcp_rc param_schema(const struct dmcp_param *params, enum param_use use, char **text,
                     char *err, size_t errlen) DMCP_MUST_CHECK;

/* Adds to obj (an object that passed the list's schema) every parameter it lacks that has a
 * default, as the JSON value the schema shows. Members already there are left alone; a NULL
 * list or an obj that is not an object is left as it is. */
void param_fill_defaults(const struct dmcp_param *params, json_object *obj);

#endif
