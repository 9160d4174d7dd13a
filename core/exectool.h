/* exectool.h — executables as MCP tools. Every executable file of DMCP_EXEC_TOOLS_DIR
 * describes itself (PROG --mcp-describe prints its definition as JSON) and becomes a tool; a
 * step runs it (proc.h: no shell, a clean environment, limits) with one JSON object on stdin
 * ({"arguments": ..., "answers": [...]}) and reads JSON lines from its stdout: progress and
 * log lines, then one final line — a result, an error, or a request that suspends the run
 * through the durable effects. After the answer the program runs again from the top with one
 * more answer: the replay model of a C tool, with the answers as the journal.
 * Knows nothing of HTTP or the database. MCP 2025-11-25 server/tools, client/elicitation,
 * client/sampling. */
#ifndef DMCP_EXECTOOL_H
#define DMCP_EXECTOOL_H

#include "cfg.h"
#include "dmcp.h"
#include "registry.h"

/* The first argument that asks a program for its definition. */
#define EXEC_DESCRIBE_ARG "--mcp-describe"

struct exec_scan; /* the programs of a directory, with what each said of itself */

/* Describe every executable of cfg->exec_dir (each run with --mcp-describe under the limits
 * of cfg); one that fails to describe itself is logged and left out, as is the whole
 * directory when it cannot be read. NULL only when out of memory. Free with
 * exec_scan_free. Takes as long as the programs do: call it outside any request. */
struct exec_scan *exec_scan(const struct cfg *cfg);
void exec_scan_free(struct exec_scan *s);
/* Programs in the scan. */
int exec_scan_count(const struct exec_scan *s);

/* Register the scan's programs into reg (a view); one that cannot be a tool (a bad name, a
 * schema that does not compile, a name another tool has) is logged and skipped. *added
 * counts the tools registered. */
dmcp_rc exec_register(dmcp_registry *reg, const struct exec_scan *s, const struct cfg *cfg,
                      int *added) DMCP_MUST_CHECK;

#endif
