/* rnd.h — ids from the operating system's secure random source (getrandom(2)).
 * Knows nothing else. MCP 2025-11-25 basic/transports: session ids are cryptographically
 * secure; security best practices: not sequential, not guessable. */
#ifndef DMCP_RND_H
#define DMCP_RND_H

#include "dmcp.h"

/* Length of an id (sessions, runs): 128 random bits as lowercase hex. */
#define RND_ID_LEN 32

/* 128 random bits as 32 lowercase hex digits into out[RND_ID_LEN + 1]. */
dmcp_rc rnd_id(char *out) DMCP_MUST_CHECK;

/* 1 when s has the shape of an id rnd_id makes (RND_ID_LEN lowercase hex digits); NULL is
 * not. Every id that comes from a client, or goes into SQL text, is checked with it. */
int rnd_id_ok(const char *s);

#endif
