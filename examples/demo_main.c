/* demo_main.c — dmcp-demo.fcgi, the program `make run` serves: the demo tools of demo.c.
 * Knows nothing but dmcp.h. */
#include "examples.h"

int main(int argc, char **argv) { return dmcp_main(argc, argv, examples_demo_register); }
