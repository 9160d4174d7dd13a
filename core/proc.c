/* proc.c — run a program under limits (see proc.h).
 * Knows nothing of MCP, JSON or the database. POSIX.1-2008 posix_spawn; Linux pidfd_open.
 *
 * The program is the leader of a new process group. When it ends (however: by itself, past
 * its time, or for writing too much) the whole group is sent SIGKILL before the leader is
 * reaped, so that the group id cannot have been reused: a child it forked and left running
 * dies with it, and its pipes close. A child that calls setsid() leaves the group and
 * escapes; containing that takes cgroups (systemd's KillMode=control-group does it for the
 * whole service, deploy/systemd).
 *
 * Rejected: waitpid() in a loop with a timer. Several threads may run programs at once, and
 * the exit of one must wake only its own runner: a pidfd in the runner's poll set does that
 * (a 20 ms tick replaces it where the kernel has no pidfd_open). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "proc.h"

/* Bytes read from a pipe at once. */
#define PROC_CHUNK 65536
/* Milliseconds between checks for the program's exit where there is no pidfd. */
#define PROC_TICK_MS 20

/* What one run keeps while it goes. */
struct run {
	const struct proc_spec *s;
	struct proc_result *r;
	pid_t pid;
	int fd_in, fd_out, fd_err, pidfd;
	size_t in_done;     /* stdin bytes written */
	struct buf line;    /* the stdout line being read */
	size_t tail_len;    /* bytes in r->err_tail */
	int exited;         /* the leader ended (and was reaped) */
	int killed;         /* the group was killed by us: r->end says why */
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/* ---- starting -------------------------------------------------------------------------- */

/* Signals that get their default action in the program (it inherits ignored ones, and our
 * threads block the ones the front end waits for). */
static const int reset_signals[] = {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1,
                                    SIGUSR2, SIGCHLD};

static int spawn(struct run *u, int in[2], int out[2], int err[2])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	size_t i;
	int rc;

	sigemptyset(&none);
	sigemptyset(&dflt);
	for (i = 0; i < sizeof reset_signals / sizeof reset_signals[0]; i++)
		sigaddset(&dflt, reset_signals[i]);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* Nothing else of ours (FastCGI connections, database sockets) reaches the program. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
	if (u->s->dir != NULL)
		posix_spawn_file_actions_addchdir_np(&fa, u->s->dir);
#endif
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	                                  POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	rc = posix_spawn(&u->pid, u->s->path, &fa, &at, u->s->argv, u->s->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc;
}

static int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

/* Pipes, the spawn, our ends made non-blocking. 0 with r->end = PROC_NOSPAWN on failure. */
static int start(struct run *u)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, rc = 0;

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
		rc = errno;
	if (rc == 0)
		rc = spawn(u, in, out, err);
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	u->fd_in = in[1];
	u->fd_out = out[0];
	u->fd_err = err[0];
	if (rc == 0 && (!nonblock(u->fd_in) || !nonblock(u->fd_out) || !nonblock(u->fd_err)))
		rc = errno;
	if (rc != 0) {
		u->r->end = PROC_NOSPAWN;
		u->r->status = rc;
		if (u->pid > 0) {
			kill(-u->pid, SIGKILL);
			waitpid(u->pid, NULL, 0);
			u->pid = 0;
		}
		return 0;
	}
	u->pidfd = pidfd_of(u->pid);
	if (u->s->input_len == 0)
		close_fd(&u->fd_in);
	return 1;
}

/* ---- while it runs ---------------------------------------------------------------------- */

/* End the run now: kill the whole group (the leader is not reaped yet, so its id still
 * names the group), and remember why. Once the leader was reaped its group was killed
 * already (leader_ended), and its id may name another group by now: nothing more. */
static void kill_group(struct run *u, enum proc_end why)
{
	if (u->exited)
		return;
	if (!u->killed) {
		u->killed = 1;
		u->r->end = why;
	}
	kill(-u->pid, SIGKILL);
}

/* The leader ended (seen without reaping it): kill what is left of its group, then reap. */
static void leader_ended(struct run *u)
{
	int status = 0;

	kill(-u->pid, SIGKILL);
	while (waitpid(u->pid, &status, 0) < 0 && errno == EINTR)
		;
	u->exited = 1;
	if (u->killed)
		return;
	if (WIFSIGNALED(status)) {
		u->r->end = PROC_SIGNALED;
		u->r->status = WTERMSIG(status);
	} else {
		u->r->end = PROC_EXITED;
		u->r->status = WEXITSTATUS(status);
	}
}

/* 1 when the leader has ended (it stays a zombie until leader_ended reaps it). */
static int leader_gone(struct run *u)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)u->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
		return errno == ECHILD;
	return si.si_pid == u->pid;
}

static void feed_stdin(struct run *u)
{
	size_t left = u->s->input_len - u->in_done;
	ssize_t n = write(u->fd_in, u->s->input + u->in_done, left > PROC_CHUNK ? PROC_CHUNK : left);

	if (n > 0)
		u->in_done += (size_t)n;
	if ((n < 0 && errno != EAGAIN && errno != EINTR) || u->in_done == u->s->input_len)
		close_fd(&u->fd_in); /* done, or the program closed its stdin (EPIPE) */
}

/* Hand the complete lines in u->line to the callback; keep the rest. */
static void take_lines(struct run *u, int at_eof)
{
	struct buf *b = &u->line;
	size_t start = 0, i;
	dmcp_rc rc = DMCP_OK;

	for (i = 0; i < b->len && rc == DMCP_OK; i++) {
		if (b->data[i] != '\n')
			continue;
		if (u->s->line != NULL)
			rc = u->s->line(u->s->arg, b->data + start, i - start);
		start = i + 1;
	}
	if (rc == DMCP_OK && at_eof && start < b->len && u->s->line != NULL) {
		rc = u->s->line(u->s->arg, b->data + start, b->len - start);
		start = b->len;
	}
	if (rc != DMCP_OK) {
		u->r->stop = rc;
		kill_group(u, PROC_STOPPED);
		close_fd(&u->fd_out);
		return;
	}
	if (b->len > start) /* b->data is NULL before the first byte */
		memmove(b->data, b->data + start, b->len - start);
	b->len -= start;
}

static void read_stdout(struct run *u)
{
	char chunk[PROC_CHUNK];
	ssize_t n = read(u->fd_out, chunk, sizeof chunk);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		take_lines(u, 1);
		close_fd(&u->fd_out);
		return;
	}
	u->r->out_bytes += (size_t)n;
	if (u->r->out_bytes > u->s->max_out || buf_add(&u->line, chunk, (size_t)n) != DMCP_OK) {
		kill_group(u, PROC_TOO_MUCH);
		close_fd(&u->fd_out);
		return;
	}
	take_lines(u, 0);
}

/* Keep the last PROC_ERR_TAIL bytes of stderr. */
static void read_stderr(struct run *u)
{
	char chunk[PROC_CHUNK], *t = u->r->err_tail;
	ssize_t n = read(u->fd_err, chunk, sizeof chunk);
	size_t k, keep;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_fd(&u->fd_err);
		return;
	}
	k = (size_t)n > PROC_ERR_TAIL ? PROC_ERR_TAIL : (size_t)n;
	keep = u->tail_len + k > PROC_ERR_TAIL ? PROC_ERR_TAIL - k : u->tail_len;
	memmove(t, t + u->tail_len - keep, keep);
	memcpy(t + keep, chunk + (size_t)n - k, k);
	u->tail_len = keep + k;
	for (k = 0; k < u->tail_len; k++)
		if (t[k] == '\0')
			t[k] = '?';
	t[u->tail_len] = '\0';
}

/* One wait for whatever comes first, until deadline. */
static void wait_once(struct run *u, long deadline)
{
	struct pollfd p[4];
	int n = 0, i_out = -1, i_err = -1, i_in = -1, i_pid = -1;
	long wait = deadline - now_ms();

	if (u->fd_out >= 0)
		p[i_out = n++] = (struct pollfd){.fd = u->fd_out, .events = POLLIN};
	if (u->fd_err >= 0)
		p[i_err = n++] = (struct pollfd){.fd = u->fd_err, .events = POLLIN};
	if (u->fd_in >= 0)
		p[i_in = n++] = (struct pollfd){.fd = u->fd_in, .events = POLLOUT};
	if (u->pidfd >= 0 && !u->exited)
		p[i_pid = n++] = (struct pollfd){.fd = u->pidfd, .events = POLLIN};
	if (u->pidfd < 0 && !u->exited && wait > PROC_TICK_MS)
		wait = PROC_TICK_MS;
	if (poll(p, (nfds_t)n, (int)(wait > 0 ? wait : 0)) < 0)
		return; /* EINTR: the loop comes back */
	if (i_out >= 0 && p[i_out].revents != 0)
		read_stdout(u);
	if (i_err >= 0 && p[i_err].revents != 0)
		read_stderr(u);
	if (i_in >= 0 && p[i_in].revents != 0)
		feed_stdin(u);
	if (!u->exited && (i_pid < 0 || p[i_pid].revents != 0) && leader_gone(u))
		leader_ended(u);
}

dmcp_rc proc_run(const struct proc_spec *s, struct proc_result *r)
{
	struct run u;
	long started = now_ms(), deadline = started + s->timeout_ms;

	memset(r, 0, sizeof *r);
	memset(&u, 0, sizeof u);
	u.s = s;
	u.r = r;
	u.fd_in = u.fd_out = u.fd_err = u.pidfd = -1;
	buf_init(&u.line, s->max_out + 1);
	if (start(&u)) {
		while (!u.exited || u.fd_out >= 0 || u.fd_err >= 0) {
			if (now_ms() >= deadline) {
				kill_group(&u, PROC_TIMEOUT);
				close_fd(&u.fd_out);
				close_fd(&u.fd_err);
			}
			if (u.killed && !u.exited) {
				leader_ended(&u);
				continue;
			}
			wait_once(&u, deadline);
		}
	}
	close_fd(&u.fd_in);
	close_fd(&u.fd_out);
	close_fd(&u.fd_err);
	close_fd(&u.pidfd);
	buf_free(&u.line);
	r->elapsed_ms = now_ms() - started;
	return DMCP_OK;
}

const char *proc_end_text(const struct proc_result *r, const struct proc_spec *s, char *out,
                          size_t cap)
{
	char e[128];

	switch (r->end) {
	case PROC_EXITED:
		snprintf(out, cap, "exited with status %d", r->status);
		break;
	case PROC_SIGNALED:
		snprintf(out, cap, "was killed by signal %d", r->status);
		break;
	case PROC_TIMEOUT:
		snprintf(out, cap, "did not finish within %d ms", s->timeout_ms);
		break;
	case PROC_TOO_MUCH:
		snprintf(out, cap, "wrote more than %zu bytes to stdout", s->max_out);
		break;
	case PROC_STOPPED:
		snprintf(out, cap, "was stopped");
		break;
	case PROC_NOSPAWN:
		snprintf(out, cap, "could not be started: %s", strerror_r(r->status, e, sizeof e));
		break;
	}
	return out;
}
