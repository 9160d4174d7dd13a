/* sqltool.h — PostgreSQL functions as MCP tools. The catalog's description of one schema's
 * functions (store_tool_catalog) becomes tool definitions: the input schema from the named
 * arguments, the description, title and annotations from the comment and the volatility; a
 * step calls the function inside the step's transaction through the store, so its writes
 * commit with the run's result, exactly once.
 * Knows nothing of HTTP or libpq (the store builds and runs the SQL). MCP 2025-11-25
 * server/tools. */
#ifndef DMCP_SQLTOOL_H
#define DMCP_SQLTOOL_H

#include "cfg.h"
#include "dmcp.h"
#include "registry.h"
#include "store.h"

/* Bytes of a function's result (its text, or the JSON of its rows): results larger than
 * this belong in resources, not in a tool's answer. */
#define SQLT_MAX_RESULT (1u << 20)

/* Register into reg (a view) every function that catalog (the JSON text of
 * store_tool_catalog) describes and that can be a tool; each one that cannot (a name that is
 * not a tool name, an argument type dmcp cannot map, an overloaded name, a procedure, a
 * duplicate of another tool's name, ...) is skipped with one log line naming it and why.
 * *added counts the tools registered. DMCP_E_PARSE when catalog is not a JSON array. */
dmcp_rc sqlt_register(dmcp_registry *reg, const char *catalog, const struct cfg *cfg,
                      int *added) DMCP_MUST_CHECK;

/* Read the catalog of cfg->sql_schema through st and register it (sqlt_register). */
dmcp_rc sqlt_load(dmcp_registry *reg, struct store *st, const struct cfg *cfg,
                  int *added) DMCP_MUST_CHECK;

#endif
