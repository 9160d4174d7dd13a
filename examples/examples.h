/* examples.h — the tools, resources and prompts that ship with dmcp: the demo tools and the
 * fixtures the official MCP conformance suite expects, each set a dmcp_register_fn of its own
 * program (demo_main.c, conformance_main.c). Written only against dmcp.h. */
#ifndef DMCP_EXAMPLES_H
#define DMCP_EXAMPLES_H

#include "dmcp.h"

/* Register both sets into reg: the registry of the unit tests (no program has both). */
dmcp_rc dmcp_examples_register(dmcp_registry *reg, char *err, size_t errlen) DMCP_MUST_CHECK;

dmcp_rc examples_demo_register(dmcp_registry *reg, char *err, size_t errlen) DMCP_MUST_CHECK;
dmcp_rc examples_conformance_register(dmcp_registry *reg, char *err,
                                      size_t errlen) DMCP_MUST_CHECK;
dmcp_rc examples_mrtr_register(dmcp_registry *reg, char *err, size_t errlen) DMCP_MUST_CHECK;

#endif
