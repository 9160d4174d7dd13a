/* rnd.h — ids from the operating system's secure random source (getrandom(2)).
 * Knows nothing else. MCP 2025-11-25 basic/transports: session ids are cryptographically
 * secure; security best practices: not sequential, not guessable. */
#ifndef DMCP_RND_H
#define DMCP_RND_H

#include "dmcp.h"

/* 128 random bits as 32 lowercase hex digits into out[33]. */
dmcp_rc rnd_id(char *out) DMCP_MUST_CHECK;

#endif
