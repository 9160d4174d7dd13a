/* main.c — dmcp.fcgi, the program with no C tools of its own: migrate, sweep, and an MCP
 * endpoint that lists only what later configuration adds. Everything is dmcp_main's (front.c).
 * Knows nothing but dmcp.h. */
#include "dmcp.h"

int main(int argc, char **argv) { return dmcp_main(argc, argv, NULL); }
