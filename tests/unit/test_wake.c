/* test_wake.c — the in-process side of wake-ups: the table of waiting threads and their
 * doorbells (no database: the listener thread is not started; notifications are delivered
 * by hand, as the listener would), and the change payloads queued for change streams. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "t.h"
#include "wake.h"

static const char run_a[] = "0123456789abcdef0123456789abcdef";
static const char run_b[] = "fedcba9876543210fedcba9876543210";

static int hook_calls;

static void hook(void *arg, int *woke)
{
	hook_calls++;
	*woke = *(int *)arg;
}

/* Take what c holds: the count, the payloads joined by spaces into out, *missed. */
static int take(struct wake *w, struct waiter *c, char *out, size_t cap, int *missed)
{
	char *got[WAKE_MAX_PENDING];
	int n = wake_take_changes(w, c, got, missed), i;
	size_t len = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		int k = snprintf(out + len, cap - len, "%s%s", i > 0 ? " " : "", got[i]);
		if (k > 0 && (size_t)k < cap - len)
			len += (size_t)k;
		free(got[i]);
	}
	return n;
}

static void test_changes(struct wake *w)
{
	struct waiter c, r;
	char got[256];
	int woke = -1, missed = -1, i;

	T_EQ_INT(waiter_init(&c), DMCP_OK, "a change waiter");
	T_EQ_INT(waiter_init(&r), DMCP_OK, "a run waiter");
	wake_register_changes(w, &c);
	wake_register(w, &r, run_a);
	wake_notify(w, "l:tools");
	wake_notify(w, "r:test://x");
	T_EQ_INT(waiter_wait(w, &c, 1000, -1, &woke), DMCP_OK, "changes ring");
	T_EQ_INT(woke, 1, "... the change waiter");
	T_EQ_INT(waiter_wait(w, &r, 10, -1, &woke), DMCP_OK, "a run waiter");
	T_EQ_INT(woke, 0, "... is not rung by a change");
	T_EQ_INT(take(w, &c, got, sizeof got, &missed), 2, "both payloads are queued");
	T_EQ_STR(got, "l:tools r:test://x", "... in order");
	T_EQ_INT(missed, 0, "... none missed");
	T_EQ_INT(take(w, &c, got, sizeof got, &missed), 0, "taken once");
	wake_notify(w, run_a);
	T_EQ_INT(waiter_wait(w, &c, 10, -1, &woke), DMCP_OK, "a run id");
	T_EQ_INT(woke, 0, "... does not ring a change waiter");
	T_EQ_INT(take(w, &c, got, sizeof got, &missed), 0, "... nor queue on it");
	T_EQ_INT(waiter_wait(w, &r, 1000, -1, &woke), DMCP_OK, "wake_notify of a run id");
	T_EQ_INT(woke, 1, "... rings the run's waiter");
	for (i = 0; i < WAKE_MAX_PENDING + 3; i++)
		wake_notify(w, "l:prompts");
	T_EQ_INT(take(w, &c, got, sizeof got, &missed), WAKE_MAX_PENDING,
	         "a full queue keeps WAKE_MAX_PENDING payloads");
	T_EQ_INT(missed, 1, "... and says some were missed");
	T_EQ_INT(take(w, &c, got, sizeof got, &missed), 0, "the next take is empty");
	T_EQ_INT(missed, 0, "... and the flag was cleared");
	wake_deliver(w, NULL);
	(void)take(w, &c, got, sizeof got, &missed);
	T_EQ_INT(missed, 1, "a reconnect of the listener counts as missed changes");
	wake_notify(w, "l:tools");
	wake_unregister(w, &c);
	wake_register_changes(w, &c);
	T_EQ_INT(take(w, &c, got, sizeof got, &missed), 0, "unregistering drops what was queued");
	wake_notify(w, "l:tools");
	wake_unregister(w, &c);
	wake_unregister(w, &r);
	waiter_close(&c);
	waiter_close(&r);
	T_OK(1, "a queue dropped at unregister leaks nothing (see valgrind)");
}

int main(void)
{
	struct wake *w = wake_new();
	struct waiter a, b;
	int woke = -1, sv[2], two = 2, zero = 0;

	T_OK(w != NULL, "wake_new");
	T_OK(!wake_listening(w), "no listener thread until wake_listen");
	T_EQ_INT(waiter_init(&a), DMCP_OK, "waiter_init a");
	T_EQ_INT(waiter_init(&b), DMCP_OK, "waiter_init b");
	wake_register(w, &a, run_a);
	wake_register(w, &b, run_b);

	wake_deliver(w, run_a);
	T_EQ_INT(waiter_wait(w, &a, 1000, -1, &woke), DMCP_OK, "wait a");
	T_EQ_INT(woke, 1, "a notification for run a rings a");
	T_EQ_INT(waiter_wait(w, &b, 10, -1, &woke), DMCP_OK, "wait b");
	T_EQ_INT(woke, 0, "... not b (timeout)");
	T_EQ_INT(waiter_wait(w, &a, 10, -1, &woke), DMCP_OK, "wait a again");
	T_EQ_INT(woke, 0, "a doorbell rings once per notification (drained)");

	wake_deliver(w, run_a);
	wake_deliver(w, run_a);
	T_EQ_INT(waiter_wait(w, &a, 1000, -1, &woke), DMCP_OK, "two notifications");
	T_EQ_INT(woke, 1, "... wake a");
	T_EQ_INT(waiter_wait(w, &a, 10, -1, &woke), DMCP_OK, "and are one wake-up");
	T_EQ_INT(woke, 0, "... coalesced");

	wake_deliver(w, NULL);
	T_EQ_INT(waiter_wait(w, &a, 1000, -1, &woke), DMCP_OK, "deliver(NULL)");
	T_EQ_INT(woke, 1, "... rings a");
	T_EQ_INT(waiter_wait(w, &b, 1000, -1, &woke), DMCP_OK, "deliver(NULL) b");
	T_EQ_INT(woke, 1, "... and b (after a reconnect, everyone re-reads)");

	wake_deliver(w, "00000000000000000000000000000000");
	T_EQ_INT(waiter_wait(w, &a, 10, -1, &woke), DMCP_OK, "another run");
	T_EQ_INT(woke, 0, "a notification for nobody rings nobody");

	wake_unregister(w, &a);
	wake_deliver(w, run_a);
	T_EQ_INT(waiter_wait(w, &a, 10, -1, &woke), DMCP_OK, "unregistered");
	T_EQ_INT(woke, 0, "an unregistered waiter is not rung");
	wake_register(w, &a, run_b);
	wake_deliver(w, run_b);
	T_EQ_INT(waiter_wait(w, &a, 1000, -1, &woke), DMCP_OK, "re-registered on run b");
	T_EQ_INT(woke, 1, "a waiter is reused for another run");
	T_EQ_INT(waiter_wait(w, &b, 1000, -1, &woke), DMCP_OK, "b too");
	T_EQ_INT(woke, 1, "two waiters on one run both ring");

	T_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair (a client connection)");
	T_EQ_INT(waiter_wait(w, &a, 10, sv[0], &woke), DMCP_OK, "client still there");
	T_EQ_INT(woke, 0, "... timeout");
	close(sv[1]);
	T_EQ_INT(waiter_wait(w, &a, 1000, sv[0], &woke), DMCP_OK, "client gone");
	T_EQ_INT(woke, 2, "... a hang-up ends the wait (woke 2)");
	close(sv[0]);

	wake_on_wait(w, hook, &two);
	T_EQ_INT(waiter_wait(w, &a, 1000, -1, &woke), DMCP_OK, "test seam");
	T_OK(woke == 2 && hook_calls == 1, "the hook runs first and may end the wait");
	wake_on_wait(w, hook, &zero);
	T_EQ_INT(waiter_wait(w, &a, 10, -1, &woke), DMCP_OK, "hook that does not end it");
	T_OK(woke == 0 && hook_calls == 2, "... then the wait goes on");
	wake_on_wait(w, NULL, NULL);

	/* the mailbox: a step of this process hands its committed events to the follower */
	{
		enum event_kind kinds[WAKE_MAIL_MAX + 1];
		const char *bodies[WAKE_MAIL_MAX + 1];
		struct event_row ev[WAKE_MAIL_MAX];
		int i, n;
		for (i = 0; i <= WAKE_MAIL_MAX; i++) {
			kinds[i] = EV_NOTIFICATION;
			bodies[i] = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}";
		}
		kinds[1] = EV_RESPONSE;
		wake_register(w, &a, run_a);
		wake_post(w, run_a, 5, 2, kinds, bodies);
		T_EQ_INT(waiter_wait(w, &a, 1000, -1, &woke), DMCP_OK, "post: wait");
		T_EQ_INT(woke, 1, "post rings the follower at once");
		n = waiter_take_mail(w, &a, ev);
		T_EQ_INT(n, 2, "post: two events in the mailbox");
		T_OK(n == 2 && ev[0].lsn == 5 && ev[1].lsn == 6 && ev[1].kind == EV_RESPONSE &&
		     strcmp(ev[0].body, bodies[0]) == 0, "post: LSNs, kinds and bodies as committed");
		row_events_clear(ev, n > 0 ? n : 0);
		T_EQ_INT(waiter_take_mail(w, &a, ev), 0, "post: taken once");
		wake_post(w, run_b, 1, 1, kinds, bodies);
		T_EQ_INT(waiter_take_mail(w, &a, ev), 0, "post: another run's events are not ours");
		wake_post(w, run_a, 1, WAKE_MAIL_MAX, kinds, bodies);
		wake_post(w, run_a, WAKE_MAIL_MAX + 1, 1, kinds, bodies);
		T_EQ_INT(waiter_take_mail(w, &a, ev), -1, "post: more than WAKE_MAIL_MAX events: "
		         "lost, the follower reads the table");
		wake_post(w, run_a, 9, 1, kinds, bodies);
		wake_unregister(w, &a);
		T_EQ_INT(waiter_take_mail(w, &a, ev), 0, "post: unregistering drops the mail");
		T_EQ_INT(waiter_wait(w, &b, 10, -1, &woke), DMCP_OK, "post: b");
	}

	wake_unregister(w, &a);
	wake_unregister(w, &b);
	wake_unregister(w, &b);
	T_OK(1, "unregistering twice is harmless");
	test_changes(w);
	waiter_close(&a);
	waiter_close(&b);
	wake_free(w);
	return t_done();
}
