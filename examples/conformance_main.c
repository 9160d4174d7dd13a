/* conformance_main.c — dmcp-conformance.fcgi, the fixtures of the official MCP conformance
 * suite (conformance.c) and nothing else; only the tests serve it. Knows nothing but dmcp.h. */
#include "examples.h"

int main(int argc, char **argv) { return dmcp_main(argc, argv, examples_conformance_register); }
