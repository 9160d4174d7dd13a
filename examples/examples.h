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
/* The conformance fixtures without the tasks extension's greet (the demo has one). */
dmcp_rc examples_conformance_register_beside_demo(dmcp_registry *reg, char *err,
                                                  size_t errlen) DMCP_MUST_CHECK;
/* The tasks extension's fixtures (tasks.c); with_greet 0 leaves its greet out. */
dmcp_rc examples_tasks_register(dmcp_registry *reg, int with_greet, char *err,
                                size_t errlen) DMCP_MUST_CHECK;
/* The demo's timers and branches (longrun.c), registered with the demo tools. */
dmcp_rc examples_longrun_register(dmcp_registry *reg, char *err, size_t errlen) DMCP_MUST_CHECK;

#endif
