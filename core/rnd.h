/* rnd.h — ids from the operating system's secure random source (getrandom(2)).
 * Knows nothing else. MCP 2025-11-25 basic/transports: session ids are cryptographically
 * secure; security best practices: not sequential, not guessable. */
#ifndef DMCP_RND_H
#define DMCP_RND_H

#include "dmcp.h"

/* Length of an id (sessions, runs): 128 random bits as lowercase hex. */
#define RND_ID_LEN 32

/* An id as text, RND_ID_LEN lowercase hex digits and a NUL: the type of every session and run
 * id dmcp holds (rows, streams, waiters, calls). An array type: sizeof gives its size where
 * it is declared, and as a parameter it is a pointer to at least that many bytes. */
typedef char rnd_hex_id[RND_ID_LEN + 1];

/* 128 random bits as RND_ID_LEN lowercase hex digits (and a NUL) into out. */
dmcp_rc rnd_id(rnd_hex_id out) DMCP_MUST_CHECK;

/* 1 when s has the shape of an id rnd_id makes (RND_ID_LEN lowercase hex digits); NULL is
 * not. Every id that comes from a client, or goes into SQL text, is checked with it. */
int rnd_id_ok(const char *s);

#endif
