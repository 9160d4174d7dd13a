/* test_proc.c — TAP tests of core/proc.c: programs run under limits. Runs /bin/sh scripts:
 * lines as they come, exit statuses and signals, the clean environment, stdin, the time
 * limit, the stdout limit, stderr's tail, a stop asked by the line callback, children that
 * would outlive the program (killed with its group), a program that never reads its stdin,
 * and one that cannot be started. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "proc.h"
#include "t.h"

/* Lines one test keeps. */
#define MAX_LINES 16

struct seen {
	int n;
	char lines[MAX_LINES][256];
	int stop_at; /* return DMCP_E_TOOL at this line (1-based); 0: never */
};

static dmcp_rc on_line(void *arg, const char *line, size_t len)
{
	struct seen *s = arg;

	if (s->n < MAX_LINES)
		snprintf(s->lines[s->n], sizeof s->lines[0], "%.*s", (int)len, line);
	s->n++;
	return s->stop_at != 0 && s->n >= s->stop_at ? DMCP_E_TOOL : DMCP_OK;
}

static char *envp_clean[] = {"PATH=/usr/bin:/bin", "DMCP_RUN_ID=abc", NULL};

/* Run script under /bin/sh -c with input, timeout and output limit. */
static void sh(const char *script, const char *input, int timeout_ms, size_t max_out,
               struct seen *seen, struct proc_result *r)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	struct proc_spec s;

	memset(&s, 0, sizeof s);
	s.path = "/bin/sh";
	s.argv = argv;
	s.envp = envp_clean;
	s.dir = "/";
	s.input = input;
	s.input_len = input != NULL ? strlen(input) : 0;
	s.timeout_ms = timeout_ms;
	s.max_out = max_out;
	s.line = on_line;
	s.arg = seen;
	T_OK(proc_run(&s, r) == DMCP_OK, "proc_run: %.40s", script);
}

static int alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno != ESRCH;
}

static void test_lines_and_status(void)
{
	struct seen s = {0};
	struct proc_result r;

	sh("echo one; printf 'two\\nthree'; echo oops >&2; exit 3", NULL, 5000, 1 << 20, &s, &r);
	T_EQ_INT(r.end, PROC_EXITED, "it exited");
	T_EQ_INT(r.status, 3, "with its status");
	T_EQ_INT(s.n, 3, "three lines, the last without a newline");
	T_EQ_STR(s.lines[0], "one", "line 1");
	T_EQ_STR(s.lines[2], "three", "line 3");
	T_EQ_STR(r.err_tail, "oops\n", "stderr's tail");
	memset(&s, 0, sizeof s);
	sh("kill -TERM $$", NULL, 5000, 1 << 20, &s, &r);
	T_OK(r.end == PROC_SIGNALED && r.status == SIGTERM, "a signal that kills it is reported "
	     "(end %d, status %d)", r.end, r.status);
}

static void test_environment_and_input(void)
{
	struct seen s = {0};
	struct proc_result r;

	sh("env | sort", NULL, 5000, 1 << 20, &s, &r);
	T_OK(r.end == PROC_EXITED && r.status == 0, "env ran");
	T_OK(s.n >= 2 && strcmp(s.lines[0], "DMCP_RUN_ID=abc") == 0, "the environment is the "
	     "given one: %s", s.lines[0]);
	T_OK(s.n <= 4, "and nothing of ours (%d variables; sh adds PWD at most)", s.n);
	memset(&s, 0, sizeof s);
	sh("cat; echo; pwd", "{\"arguments\":{}}", 5000, 1 << 20, &s, &r);
	T_EQ_STR(s.lines[0], "{\"arguments\":{}}", "stdin is the input");
	T_EQ_STR(s.lines[1], "/", "the working directory is dir");
	memset(&s, 0, sizeof s);
	sh("ls /proc/self/fd | wc -l", NULL, 5000, 1 << 20, &s, &r);
	T_OK(s.n == 1 && strtol(s.lines[0], NULL, 10) <= 5, "no file descriptor of ours leaks into it "
	     "(%s open)", s.lines[0]);
}

static void test_time_limit(void)
{
	struct seen s = {0};
	struct proc_result r;

	sh("echo started; sleep 30", NULL, 300, 1 << 20, &s, &r);
	T_EQ_INT(r.end, PROC_TIMEOUT, "a program that runs too long is killed");
	T_OK(r.elapsed_ms >= 300 && r.elapsed_ms < 3000, "at its time limit (%ld ms)",
	     r.elapsed_ms);
	T_EQ_INT(s.n, 1, "what it printed before came through");
	memset(&s, 0, sizeof s);
	sh("exec >&- 2>&-; sleep 30", NULL, 300, 1 << 20, &s, &r);
	T_EQ_INT(r.end, PROC_TIMEOUT, "one that closed its output and goes on is killed too");
	T_OK(r.elapsed_ms < 3000, "at its time limit (%ld ms)", r.elapsed_ms);
}

static void test_output_limit(void)
{
	struct seen s = {0};
	struct proc_result r;

	sh("while :; do echo 0123456789012345678901234567890123456789; done", NULL, 10000, 100000,
	   &s, &r);
	T_EQ_INT(r.end, PROC_TOO_MUCH, "a program that writes too much is killed");
	T_OK(r.out_bytes > 100000 && r.out_bytes < 400000, "soon after the limit (%zu bytes)",
	     r.out_bytes);
	memset(&s, 0, sizeof s);
	sh("head -c 5000000 /dev/zero", NULL, 10000, 100000, &s, &r);
	T_EQ_INT(r.end, PROC_TOO_MUCH, "a single line of megabytes too");
	T_EQ_INT(s.n, 0, "and no line of it reached the callback");
	memset(&s, 0, sizeof s);
	sh("head -c 100000 /dev/zero | tr '\\0' x >&2; echo fine", NULL, 10000, 1000, &s, &r);
	T_OK(r.end == PROC_EXITED && strlen(r.err_tail) == PROC_ERR_TAIL, "stderr is not limited, "
	     "only its tail kept (%zu bytes)", strlen(r.err_tail));
}

static void test_stop(void)
{
	struct seen s = {.stop_at = 2};
	struct proc_result r;

	sh("echo a; echo b; sleep 30; echo c", NULL, 10000, 1 << 20, &s, &r);
	T_EQ_INT(r.end, PROC_STOPPED, "the callback stops the program");
	T_EQ_INT(r.stop, DMCP_E_TOOL, "and its code is kept");
	T_OK(r.elapsed_ms < 3000, "at once (%ld ms)", r.elapsed_ms);
}

/* Read the pid a script wrote to path. */
static pid_t pid_in(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;

	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

static void test_children(void)
{
	struct seen s = {0};
	struct proc_result r;
	char script[256], path[64];
	pid_t child;
	int i;

	snprintf(path, sizeof path, "/tmp/test_proc.%ld", (long)getpid());
	snprintf(script, sizeof script, "sleep 60 & echo $! > %s; echo done", path);
	sh(script, NULL, 5000, 1 << 20, &s, &r);
	T_OK(r.end == PROC_EXITED && r.status == 0, "the program exited, leaving a child");
	T_OK(r.elapsed_ms < 3000, "its child holding stdout did not keep us waiting (%ld ms)",
	     r.elapsed_ms);
	child = pid_in(path);
	for (i = 0; i < 100 && child > 0 && alive(child); i++)
		usleep(20000);
	T_OK(child > 0 && !alive(child), "the child died with the program's group (pid %ld)",
	     (long)child);
	memset(&s, 0, sizeof s);
	snprintf(script, sizeof script, "(sleep 60; echo late) & echo $! > %s; sleep 60", path);
	sh(script, NULL, 300, 1 << 20, &s, &r);
	T_EQ_INT(r.end, PROC_TIMEOUT, "a program that times out with children");
	child = pid_in(path);
	for (i = 0; i < 100 && child > 0 && alive(child); i++)
		usleep(20000);
	T_OK(child > 0 && !alive(child), "loses them too");
	unlink(path);
}

static void test_stdin_unread(void)
{
	struct seen s = {0};
	struct proc_result r;
	size_t n = 1 << 20;
	char *big = malloc(n + 1);

	memset(big, 'x', n);
	big[n] = '\0';
	sh("echo ignoring; exit 0", big, 5000, 1 << 20, &s, &r);
	T_OK(r.end == PROC_EXITED && r.status == 0, "a program that never reads a megabyte of "
	     "stdin does not block us");
	free(big);
}

static void test_nospawn(void)
{
	char *argv[] = {"nothing", NULL};
	struct proc_spec s;
	struct proc_result r;
	char text[200];

	memset(&s, 0, sizeof s);
	s.path = "/nonexistent/program";
	s.argv = argv;
	s.envp = envp_clean;
	s.timeout_ms = 1000;
	s.max_out = 1000;
	T_OK(proc_run(&s, &r) == DMCP_OK, "proc_run of a missing program returns");
	/* glibc reports the failed exec; under valgrind, posix_spawn forks, and the child exits
	 * with 127 as a shell would. */
	T_OK(r.end == PROC_NOSPAWN || (r.end == PROC_EXITED && r.status == 127),
	     "and says it could not start it (end %d, status %d)", r.end, r.status);
	proc_end_text(&r, &s, text, sizeof text);
	T_OK(strstr(text, "could not be started") != NULL || strstr(text, "status 127") != NULL,
	     "in words: %s", text);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_lines_and_status();
	test_environment_and_input();
	test_time_limit();
	test_output_limit();
	test_stop();
	test_children();
	test_stdin_unread();
	test_nospawn();
	return t_done();
}
