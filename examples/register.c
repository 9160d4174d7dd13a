/* register.c — registers every example (demo tools and conformance fixtures) into one
 * registry, for the unit tests; the programs register one set each. Knows nothing but dmcp.h. */
#include "examples.h"

dmcp_rc dmcp_examples_register(dmcp_registry *reg, char *err, size_t errlen)
{
	DMCP_TRY(examples_demo_register(reg, err, errlen));
	/* With mrtr.c's and tasks.c's fixtures, but the demo's greet. */
	DMCP_TRY(examples_conformance_register_beside_demo(reg, err, errlen));
	return DMCP_OK;
}
