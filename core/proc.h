/* proc.h — run a program under limits: posix_spawn (no shell), a clean environment given by
 * the caller, stdin from a buffer, stdout read line by line as it comes, the tail of stderr
 * kept, a time limit and a stdout limit; the program runs in a process group of its own, and
 * that whole group is killed when the program ends, times out or writes too much, so its
 * children cannot outlive it (unless they leave the group: setsid).
 * Knows nothing of MCP, JSON or the database. POSIX.1-2008 posix_spawn; Linux pidfd. */
#ifndef DMCP_PROC_H
#define DMCP_PROC_H

#include <stddef.h>
#include "dmcp.h"

/* Bytes of stderr kept: the last ones, for the error a failing program produces. */
#define PROC_ERR_TAIL 4096

/* How a run ended. */
enum proc_end {
	PROC_EXITED,   /* it exited by itself: status holds its exit status */
	PROC_SIGNALED, /* a signal killed it: status holds the signal */
	PROC_TIMEOUT,  /* it ran past timeout_ms and was killed */
	PROC_TOO_MUCH, /* it wrote more than max_out bytes to stdout and was killed */
	PROC_STOPPED,  /* the line callback asked to stop, and it was killed */
	PROC_NOSPAWN   /* it could not be started: status holds errno */
};

struct proc_spec {
	const char *path;           /* the program, run directly (no shell, no PATH search) */
	char *const *argv;          /* NULL-ended; argv[0] included */
	char *const *envp;          /* NULL-ended: its whole environment */
	const char *dir;            /* its working directory, or NULL: ours */
	const char *input;          /* stdin: these bytes, then end of file */
	size_t input_len;
	int timeout_ms;             /* from the start until the end of its output */
	size_t max_out;             /* bytes of stdout */
	/* Called for each line of stdout (without its newline; a last line without one too) as
	 * it arrives; anything but DMCP_OK stops the program (PROC_STOPPED) and is kept in
	 * proc_result.stop. NULL: stdout is read and dropped. */
	dmcp_rc (*line)(void *arg, const char *line, size_t len);
	void *arg;
};

struct proc_result {
	enum proc_end end;
	int status;                       /* see enum proc_end */
	dmcp_rc stop;                     /* PROC_STOPPED: what the callback returned */
	size_t out_bytes;                 /* stdout bytes read */
	char err_tail[PROC_ERR_TAIL + 1]; /* the last bytes of stderr, NUL-terminated (a NUL
	                                     byte the program wrote shows as '?') */
	long elapsed_ms;                  /* from start to end */
};

/* Run s to its end (whatever ends it; see enum proc_end) and fill r. The process group is
 * killed and the program reaped before this returns. DMCP_OK whenever r says what happened;
 * DMCP_E_NOMEM and the like when the run could not be set up. Safe in several threads at
 * once; the caller's process must ignore SIGPIPE (dmcp_main does). */
dmcp_rc proc_run(const struct proc_spec *s, struct proc_result *r) DMCP_MUST_CHECK;

/* A message naming how r ended, for a log or an error: "exited with status 3", "killed by
 * signal 9", "ran longer than 5000 ms", ...; into out[cap]. */
const char *proc_end_text(const struct proc_result *r, const struct proc_spec *s, char *out,
                          size_t cap);

#endif
