/* token.h — the operator's `dmcp.fcgi token` commands: create a bearer token for a
 * principal (printed once, kept only as its SHA-256), revoke one, list them. Knows nothing
 * of FastCGI or requests; the database through store.h; prints to stdout and stderr.
 * RFC 6750 (bearer tokens). */
#ifndef DMCP_TOKEN_H
#define DMCP_TOKEN_H

#include "cfg.h"

/* The usage lines of the commands (for --help). */
extern const char token_usage[];

/* Run `token ARGS...`: argv[0..argc) are the words after "token" (create, revoke or list
 * and their options). Returns the exit status: 0 done, 1 failed (database, no such token),
 * 2 usage error. */
int token_cli(int argc, char **argv, const struct cfg *cfg);

#endif
