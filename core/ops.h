/* ops.h — the operator's commands of every dmcp program: check, status, runs list|show|cancel,
 * sessions list|end. Human tables on stdout by default, one JSON document with --json;
 * messages on stderr. Knows nothing of FastCGI or requests: the database through store.h
 * (reports, and the client's own statements where a command changes something), a
 * cancellation through the runtime, the same compare-and-set a client's answer takes. */
#ifndef DMCP_OPS_H
#define DMCP_OPS_H

#include "cfg.h"

/* Exit statuses of the commands (dmcp.fcgi(8), EXIT STATUS). */
enum ops_exit {
	OPS_OK = 0,       /* done; check: ready to serve */
	OPS_NOT_DONE = 1, /* no such run or session, or it was over already */
	OPS_USAGE = 2,    /* bad arguments; check: the configuration is not valid */
	OPS_DB = 3,       /* the database cannot be reached, or a statement failed */
	OPS_BEHIND = 4,   /* check: the database lacks migrations of this program (migrate) */
	OPS_AHEAD = 5     /* check: the database has migrations this program does not know */
};

/* Runs listed by `runs list` and sessions by `sessions list` unless --limit says otherwise,
 * and the most --limit may ask for. */
#define OPS_DEFAULT_LIMIT 100
#define OPS_MAX_LIMIT 100000

/* The usage lines of the commands (after the program's name), for --help. */
extern const char ops_usage[];

/* 1 when word names one of these commands. */
int ops_is_command(const char *word);

/* TIME as the commands take it: YYYY-MM-DD, then optionally THH:MM[:SS] (or a space for T),
 * then optionally Z or +HH:MM / -HH:MM (UTC without one), into seconds since the epoch; 0
 * when s is not such a time (Feb 30 included). */
int ops_parse_time(const char *s, long long *t);

/* Run command argv[0] with its words argv[1..argc). tools: how many tools the program
 * registered (check reports it), or -1 when their registration failed (check: the
 * configuration is not valid). Returns an ops_exit. */
int ops_main(int argc, char **argv, const struct cfg *cfg, int tools);

#endif
