/* dynreg.h — the tools that come and go while the program serves: SQL functions (the
 * catalog of DMCP_SQL_TOOLS_SCHEMA) and programs (DMCP_EXEC_TOOLS_DIR). They live in a view
 * of the program's registry (registry.h: its entries borrowed, these added), built by one
 * thread when told that something changed, and swapped in whole. Each request holds the view
 * it started with (a reference), so it never meets a half-built or freed one, and a lookup
 * costs what it always did. Knows nothing of HTTP; reaches PostgreSQL through sqltool.c. */
#ifndef DMCP_DYNREG_H
#define DMCP_DYNREG_H

#include "cfg.h"
#include "dmcp.h"
#include "registry.h"
#include "store.h"

struct dyn;

/* The tools of cfg's kinds over base (both borrowed; they outlive it). *out is NULL when
 * cfg asks for no kind (no SQL schema, no program directory): base is all there is. Nothing
 * is built yet (dyn_rescan, then dyn_build or the first dyn_acquire). */
dmcp_rc dyn_new(dmcp_registry *base, const struct cfg *cfg, struct dyn **out) DMCP_MUST_CHECK;
/* Frees every view; none may be held. NULL is fine. */
void dyn_free(struct dyn *d);

/* The registry to use now: the current view, rebuilt first (through st, the caller's
 * connection, outside any transaction) when it is stale and no other thread is rebuilding
 * it. Give it back with dyn_release. d NULL: never (the caller uses base). */
const dmcp_registry *dyn_acquire(struct dyn *d, struct store *st);
void dyn_release(struct dyn *d, const dmcp_registry *view);

/* The SQL catalog changed (the NOTIFY 'l:tools', or the listener came back and may have
 * missed one): rebuild before the next request. Safe from any thread. */
void dyn_stale(struct dyn *d);
/* Describe the programs again (SIGHUP; at start with announce 0): runs each with
 * --mcp-describe, then marks the view stale; with announce, the rebuild that follows tells
 * every process and client that the tool list changed (NOTIFY 'l:tools'). */
void dyn_rescan(struct dyn *d, int announce);
/* Build the view now (start-up, sweep): DMCP_E_DB when the catalog could not be read (the
 * view then has no SQL tools, and stays stale). */
dmcp_rc dyn_build(struct dyn *d, struct store *st) DMCP_MUST_CHECK;

#endif
