/* ops.c — the operator's commands (see ops.h): check, status, runs list|show|cancel,
 * sessions list|end. Knows nothing of FastCGI or requests. Every value that came from a
 * client (names, arguments, messages) is escaped before it reaches the terminal; --json
 * prints one document, with the JSON the database keeps (arguments, journals, events)
 * embedded as JSON. Commands and their options are dispatched from tables. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "js.h"
#include "log.h"
#include "migrations.h"
#include "ops.h"
#include "rnd.h"
#include "runtime.h"
#include "store.h"

/* Bytes of one table cell shown (longer values are cut with "..."; --json has them whole). */
#define OPS_CELL_MAX 64
/* Bytes of an event body, and of a run's arguments and journal, shown by `runs show`. */
#define OPS_BODY_MAX 120
#define OPS_TEXT_MAX 400
/* Bytes of --reason (it becomes the run's error and the client's message). */
#define OPS_REASON_MAX 200
/* Seconds --since may reach back: ten years, as DURATION. */
#define OPS_MAX_SINCE_S (10LL * 366 * 86400)

const char ops_usage[] =
	" check [--json]\n"
	" status [--json]\n"
	" runs list [--status S] [--tool T] [--principal P] [--since WHEN] [--limit N] [--json]\n"
	" runs show ID [--json]\n"
	" runs cancel ID [--reason TEXT] [--json]\n"
	" sessions list [--principal P] [--all] [--limit N] [--json]\n"
	" sessions end ID [--reason TEXT] [--json]\n";

/* ---- options --------------------------------------------------------------------------- */

enum opt_bit {
	O_JSON = 1 << 0, O_STATUS = 1 << 1, O_TOOL = 1 << 2, O_PRINCIPAL = 1 << 3,
	O_SINCE = 1 << 4, O_LIMIT = 1 << 5, O_ALL = 1 << 6, O_REASON = 1 << 7
};

struct opts {
	int json, all, limit;
	const char *status, *tool, *principal, *reason;
	char since[24];   /* --since as seconds since the epoch (text), or "" */
	const char *id;   /* the one positional argument (ID), or NULL */
};

/* DURATION: digits and a unit, s m h d or w ("90m"), into seconds. */
static int parse_duration(const char *s, long long *secs)
{
	static const struct { char unit; long long secs; } units[] = {
		{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400},
	};
	char *end = NULL;
	long long n;
	size_t i;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end[0] == '\0' || end[1] != '\0')
		return 0;
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (units[i].unit == end[0] && n <= OPS_MAX_SINCE_S / units[i].secs) {
			*secs = n * units[i].secs;
			return 1;
		}
	}
	return 0;
}

/* n digits at s as a number in [lo, hi]. */
static int digits(const char *s, int n, int lo, int hi, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return v >= lo && v <= hi;
}

int ops_parse_time(const char *s, long long *t)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, zh = 0, zm = 0, sign = 0;
	const char *p = s + 10;

	memset(&tm, 0, sizeof tm);
	if (strlen(s) < 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, 1970, 9999, &y) ||
	    !digits(s + 5, 2, 1, 12, &mo) || !digits(s + 8, 2, 1, 31, &d))
		return 0;
	if (*p == 'T' || *p == ' ') {
		if (!digits(p + 1, 2, 0, 23, &h) || p[3] != ':' || !digits(p + 4, 2, 0, 59, &mi))
			return 0;
		p += 6;
		if (*p == ':') {
			if (!digits(p + 1, 2, 0, 60, &sec))
				return 0;
			p += 3;
		}
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (!digits(p + 1, 2, 0, 23, &zh) || p[3] != ':' || !digits(p + 4, 2, 0, 59, &zm))
			return 0;
		p += 6;
	}
	if (*p != '\0')
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*t = (long long)timegm(&tm) - sign * (zh * 3600 + zm * 60);
	return tm.tm_mday == d; /* timegm turned Feb 30 into March: refuse it */
}

static int parse_since(const char *s, char out[24])
{
	long long secs, t;

	if (parse_duration(s, &secs))
		t = (long long)time(NULL) - secs;
	else if (!ops_parse_time(s, &t))
		return 0;
	snprintf(out, 24, "%lld", t);
	return 1;
}

static int parse_limit(const char *s, int *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > OPS_MAX_LIMIT)
		return 0;
	*out = (int)v;
	return 1;
}

/* One option that takes a value: its bit and where it goes. */
static int take_value(struct opts *o, enum opt_bit bit, const char *v)
{
	switch (bit) {
	case O_STATUS: o->status = v; return 1;
	case O_TOOL: o->tool = v; return 1;
	case O_PRINCIPAL: o->principal = v; return 1;
	case O_SINCE: return parse_since(v, o->since);
	case O_LIMIT: return parse_limit(v, &o->limit);
	case O_REASON: o->reason = v; return strlen(v) <= OPS_REASON_MAX;
	default: return 0;
	}
}

/* Read the words after a command's name: the options in allowed, and want_id positional
 * arguments (0 or 1). 0 after a message. */
static int parse_opts(int argc, char **argv, const char *cmd, unsigned allowed, int want_id,
                      struct opts *o)
{
	static const struct { const char *name; enum opt_bit bit; int value; } table[] = {
		{"--json", O_JSON, 0},       {"--all", O_ALL, 0},       {"--status", O_STATUS, 1},
		{"--tool", O_TOOL, 1},       {"--principal", O_PRINCIPAL, 1},
		{"--since", O_SINCE, 1},     {"--limit", O_LIMIT, 1},   {"--reason", O_REASON, 1},
	};
	int i;
	size_t k;

	memset(o, 0, sizeof o[0]);
	o->limit = OPS_DEFAULT_LIMIT;
	for (i = 0; i < argc; i++) {
		for (k = 0; k < sizeof table / sizeof table[0]; k++)
			if (strcmp(argv[i], table[k].name) == 0 && (allowed & table[k].bit))
				break;
		if (k == sizeof table / sizeof table[0]) {
			if (argv[i][0] == '-' || !want_id || o->id != NULL) {
				fprintf(stderr, "dmcp %s: unexpected argument '%s'\n", cmd, argv[i]);
				return 0;
			}
			o->id = argv[i];
		} else if (!table[k].value) {
			o->json |= table[k].bit == O_JSON;
			o->all |= table[k].bit == O_ALL;
		} else if (i + 1 == argc || !take_value(o, table[k].bit, argv[i + 1])) {
			fprintf(stderr, "dmcp %s: %s needs a %s\n", cmd, argv[i],
			        table[k].bit == O_SINCE ? "DURATION (90s, 15m, 2h, 7d, 2w) or a TIME "
			                                  "(2026-01-31, 2026-01-31T18:00:00Z)"
			        : table[k].bit == O_LIMIT ? "number from 1 to 100000"
			        : table[k].bit == O_REASON ? "text of at most 200 bytes" : "value");
			return 0;
		} else {
			i++;
		}
	}
	if (want_id && o->id == NULL) {
		fprintf(stderr, "dmcp %s: which one? give its ID\n", cmd);
		return 0;
	}
	return 1;
}

/* ---- output ---------------------------------------------------------------------------- */

/* A table under construction: every cell an escaped copy. */
struct table {
	int cols, rows, cap;
	const char *const *heads;
	char **cells;
	int failed;
};

/* s for a terminal: printable ASCII, cut at max bytes; NULL as "-". Owned by the caller. */
static char *shown(const char *s, size_t max)
{
	char *out;

	if (s == NULL)
		return strdup("-");
	out = malloc(max + 1);
	if (out != NULL)
		log_escape(out, max + 1, s, strlen(s));
	return out;
}

static void table_row(struct table *t, const char *const *row, size_t max)
{
	char **more;
	int k;

	if (t->failed)
		return;
	if (t->rows == t->cap) {
		more = realloc(t->cells, (size_t)(t->cap ? t->cap * 2 : 16) * (size_t)t->cols *
		                         sizeof *more);
		if (more == NULL) {
			t->failed = 1;
			return;
		}
		t->cells = more;
		t->cap = t->cap ? t->cap * 2 : 16;
	}
	for (k = 0; k < t->cols; k++) {
		t->cells[t->rows * t->cols + k] = shown(row[k], max);
		if (t->cells[t->rows * t->cols + k] == NULL)
			t->failed = 1;
	}
	t->rows++;
}

/* Print the heads and the rows, columns two spaces apart (the last one not padded), and
 * free the cells. */
static void table_print(struct table *t)
{
	int widths[16] = {0}, i, k;

	for (k = 0; k < t->cols && k < 16; k++) {
		widths[k] = (int)strlen(t->heads[k]);
		for (i = 0; i < t->rows; i++) {
			const char *c = t->cells[i * t->cols + k];
			if (c != NULL && (int)strlen(c) > widths[k])
				widths[k] = (int)strlen(c);
		}
	}
	for (i = -1; i < t->rows; i++) {
		for (k = 0; k < t->cols; k++) {
			const char *c = i < 0 ? t->heads[k] : t->cells[i * t->cols + k];
			if (k + 1 < t->cols)
				printf("%-*s  ", widths[k < 16 ? k : 15], c != NULL ? c : "");
			else
				printf("%s\n", c != NULL ? c : "");
		}
	}
	for (i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = t->cap = 0;
}

/* "label  value" lines of a record, the value escaped and cut at max bytes. */
static void field(const char *label, const char *value, size_t max)
{
	char *v = shown(value, max);

	printf("%-12s %s\n", label, v != NULL ? v : "-");
	free(v);
}

/* Seconds as "3d 4h", "5h 12m", "4m 3s" or "12s". */
static const char *age_text(const char *secs, char *out, size_t cap)
{
	long long s = secs != NULL ? strtoll(secs, NULL, 10) : 0;

	if (s >= 86400)
		snprintf(out, cap, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, cap, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, cap, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(out, cap, "%llds", s);
	return out;
}

/* The column index of name in g, or -1. */
static int col(const struct store_grid *g, const char *name)
{
	int k;

	for (k = 0; k < g->cols; k++)
		if (strcmp(g->names[k], name) == 0)
			return k;
	return -1;
}

static const char *cell(const struct store_grid *g, int row, const char *name)
{
	return store_cell(g, row, col(g, name));
}

/* Columns that hold JSON text: --json embeds them as JSON. */
static int json_column(const char *name)
{
	static const char *const names[] = {"arguments", "journal", "body", "request_id",
	                                    "progress_token", "client_info"};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* One cell as a JSON value: null, a number, a boolean, embedded JSON, or a string. */
static json_object *json_cell(const struct store_grid *g, int row, int k)
{
	const char *v = store_cell(g, row, k);
	json_object *o;

	if (v == NULL)
		return NULL;
	if (g->types[k] == 'b')
		return js_new_boolean(strcmp(v, "t") == 0);
	if (g->types[k] == 'n')
		return strpbrk(v, ".eEna") == NULL ? js_new_int64(strtoll(v, NULL, 10))
		                                  : js_new_number(strtod(v, NULL));
	if (json_column(g->names[k]) && v[0] != '\0') {
		o = js_parse_trusted(v);
		if (o != NULL)
			return o;
	}
	return js_new_string(v);
}

static json_object *json_row(const struct store_grid *g, int row)
{
	json_object *o = js_new_object();
	int k;

	for (k = 0; k < g->cols; k++)
		js_object_add(o, g->names[k], json_cell(g, row, k));
	return o;
}

static json_object *json_rows(const struct store_grid *g)
{
	json_object *a = js_new_array();
	int i;

	for (i = 0; i < g->rows; i++)
		js_array_add(a, json_row(g, i));
	return a;
}

/* Print o (taken) as one line; OPS_OK unless stdout failed. */
static int print_json(json_object *o)
{
	printf("%s\n", js_text(o));
	json_object_put(o);
	return fflush(stdout) == 0 ? OPS_OK : OPS_DB;
}

static int done(void)
{
	return fflush(stdout) == 0 ? OPS_OK : OPS_DB;
}

/* ---- the database ---------------------------------------------------------------------- */

/* Connect; with ready, also set the connection up for the runtime's statements. NULL after a
 * message. */
static struct store *open_db(const struct cfg *cfg, const char *cmd, int ready)
{
	struct store *st = NULL;
	char err[400];

	if (store_open(cfg->database_url, &st, err, sizeof err) != DMCP_OK) {
		fprintf(stderr, "dmcp %s: %s\n", cmd, err);
		return NULL;
	}
	if (ready && store_ready(st) != DMCP_OK) {
		fprintf(stderr, "dmcp %s: the database is not usable (has `migrate` run?)\n", cmd);
		store_close(st);
		return NULL;
	}
	return st;
}

/* A report into g; 0 after a message. */
static int report(struct store *st, enum store_report q, const char *const *p,
                  struct store_grid *g, const char *cmd)
{
	if (store_report(st, q, p, g) == DMCP_OK)
		return 1;
	fprintf(stderr, "dmcp %s: database error (see the log above; has `migrate` run?)\n", cmd);
	return 0;
}

/* One report on a connection of its own (opened, read, closed): OPS_OK with g filled, or
 * OPS_DB after a message. */
static int report_once(const struct cfg *cfg, const char *cmd, enum store_report q,
                       const char *const *p, struct store_grid *g)
{
	struct store *st = open_db(cfg, cmd, 0);
	int rc;

	if (st == NULL)
		return OPS_DB;
	rc = report(st, q, p, g, cmd) ? OPS_OK : OPS_DB;
	store_close(st);
	return rc;
}

/* ---- check ----------------------------------------------------------------------------- */

/* What the database has applied, against what this program carries. */
struct levels {
	int applied;     /* migrations the database has */
	int missing;     /* of this program's, not applied */
	int unknown;     /* applied, but not this program's */
	json_object *missing_names, *unknown_names; /* owned arrays */
};

static int known_version(int version)
{
	size_t i;

	for (i = 0; i < dmcp_migrations_count; i++)
		if (dmcp_migrations[i].version == version)
			return 1;
	return 0;
}

static void compare_levels(const struct store_grid *g, struct levels *lv)
{
	size_t i;
	int r, found;

	lv->applied = g->rows;
	for (i = 0; i < dmcp_migrations_count; i++) {
		for (found = 0, r = 0; r < g->rows && !found; r++)
			found = store_cell(g, r, 0) != NULL &&
			        strtol(store_cell(g, r, 0), NULL, 10) == dmcp_migrations[i].version;
		if (!found) {
			lv->missing++;
			js_array_add(lv->missing_names, js_new_string(dmcp_migrations[i].name));
		}
	}
	for (r = 0; r < g->rows; r++) {
		const char *v = store_cell(g, r, 0);
		if (v != NULL && !known_version((int)strtol(v, NULL, 10))) {
			lv->unknown++;
			js_array_add(lv->unknown_names, js_new_string(store_cell(g, r, 1) != NULL
			                                              ? store_cell(g, r, 1) : "?"));
		}
	}
}

/* The migrations the database has (none when the table is missing); 0 on a database error. */
static int read_levels(struct store *st, struct levels *lv)
{
	struct store_grid g;
	int present, ok = 1;

	if (store_report(st, STORE_R_HAS_MIGRATIONS, NULL, &g) != DMCP_OK)
		return 0;
	present = strcmp(store_cell(&g, 0, 0) != NULL ? store_cell(&g, 0, 0) : "f", "t") == 0;
	store_grid_free(&g);
	memset(&g, 0, sizeof g);
	if (present && store_report(st, STORE_R_MIGRATIONS, NULL, &g) != DMCP_OK)
		ok = 0;
	if (ok)
		compare_levels(&g, lv);
	store_grid_free(&g);
	return ok;
}

static void names_text(json_object *names, char *out, size_t cap)
{
	size_t i, n = json_object_array_length(names), o = 0;

	out[0] = '\0';
	for (i = 0; i < n && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i > 0 ? ", " : "",
		                      json_object_get_string(json_object_array_get_idx(names, i)));
}

/* The outcome of check, as text lines and as JSON. */
static int check_report(int json, int tools, const char *db_err, const char *version,
                        const struct levels *lv, int db_ok)
{
	int rc = tools < 0 ? OPS_USAGE : !db_ok ? OPS_DB : lv->missing > 0 ? OPS_BEHIND
	       : lv->unknown > 0 ? OPS_AHEAD : OPS_OK;
	char names[600];
	json_object *o, *sub;

	if (json) {
		o = js_new_object();
		js_object_add(o, "ready", js_new_boolean(rc == OPS_OK));
		js_object_add(o, "exit", js_new_int(rc));
		sub = js_new_object();
		js_object_add(sub, "ok", js_new_boolean(tools >= 0));
		js_object_add(sub, "tools", tools >= 0 ? js_new_int(tools) : NULL);
		js_object_add(o, "configuration", sub);
		sub = js_new_object();
		js_object_add(sub, "ok", js_new_boolean(tools >= 0 && db_ok));
		js_object_add(sub, "server_version", version ? js_new_string(version) : NULL);
		js_object_add(sub, "error", db_err != NULL ? js_new_string(db_err) : NULL);
		js_object_add(o, "database", sub);
		sub = js_new_object();
		js_object_add(sub, "program", js_new_int((int)dmcp_migrations_count));
		js_object_add(sub, "applied", js_new_int(lv->applied));
		js_object_add(sub, "missing", json_object_get(lv->missing_names));
		js_object_add(sub, "unknown", json_object_get(lv->unknown_names));
		js_object_add(o, "migrations", sub);
		return print_json(o) == OPS_OK ? rc : OPS_DB;
	}
	if (tools < 0) {
		printf("configuration  not valid: the tools could not be registered (see the log)\n");
		return done() == OPS_OK ? rc : OPS_DB;
	}
	printf("configuration  ok (%d tools)\n", tools);
	if (!db_ok) {
		printf("database       cannot be reached: %s\n", db_err != NULL ? db_err : "error");
		return done() == OPS_OK ? rc : OPS_DB;
	}
	printf("database       ok (PostgreSQL %s)\n", version != NULL ? version : "?");
	if (lv->missing > 0) {
		names_text(lv->missing_names, names, sizeof names);
		printf("migrations     behind: %s not applied (run migrate)\n", names);
	} else if (lv->unknown > 0) {
		names_text(lv->unknown_names, names, sizeof names);
		printf("migrations     ahead: the database has %s, which this program does not "
		       "know (upgrade the program)\n", names);
	} else {
		printf("migrations     ok (%d of %d applied)\n", lv->applied,
		       (int)dmcp_migrations_count);
	}
	return done() == OPS_OK ? rc : OPS_DB;
}

static int cmd_check(int argc, char **argv, const struct cfg *cfg, int tools)
{
	struct opts o;
	struct store *st = NULL;
	struct store_grid g;
	struct levels lv;
	char err[400], version[64];
	int db_ok = 0, rc;

	if (!parse_opts(argc, argv, "check", O_JSON, 0, &o))
		return OPS_USAGE;
	memset(&lv, 0, sizeof lv);
	memset(&g, 0, sizeof g);
	lv.missing_names = js_new_array();
	lv.unknown_names = js_new_array();
	err[0] = version[0] = '\0';
	if (tools >= 0 && store_open(cfg->database_url, &st, err, sizeof err) == DMCP_OK) {
		if (store_report(st, STORE_R_VERSION, NULL, &g) == DMCP_OK && g.rows == 1) {
			snprintf(version, sizeof version, "%s", store_cell(&g, 0, 0));
			db_ok = read_levels(st, &lv);
		}
		if (!db_ok)
			snprintf(err, sizeof err, "a statement failed (see the log above)");
		store_grid_free(&g);
	}
	store_close(st);
	rc = check_report(o.json, tools, err[0] ? err : NULL, version[0] ? version : NULL, &lv,
	                  db_ok);
	json_object_put(lv.missing_names);
	json_object_put(lv.unknown_names);
	return rc;
}

/* ---- status ---------------------------------------------------------------------------- */

/* The reports `status` reads, in the order of its output. */
static const enum store_report status_reports[] = {
	STORE_R_SESSION_COUNTS, STORE_R_RUN_COUNTS, STORE_R_EVENTS, STORE_R_OLDEST, STORE_R_WAITING,
};
#define NSTATUS ((int)(sizeof status_reports / sizeof status_reports[0]))

static int status_json(struct store_grid *g)
{
	json_object *o = js_new_object(), *runs = js_new_object();
	int i;

	js_object_add(o, "sessions", json_row(&g[0], 0));
	for (i = 0; i < g[1].rows; i++)
		js_object_add(runs, store_cell(&g[1], i, 0), json_cell(&g[1], i, 1));
	js_object_add(o, "runs", runs);
	js_object_add(o, "events", json_row(&g[2], 0));
	js_object_add(o, "oldest_waiting", g[3].rows > 0 ? json_row(&g[3], 0) : NULL);
	js_object_add(o, "waiting_by_tool", json_rows(&g[4]));
	return print_json(o);
}

static int status_text(struct store_grid *g)
{
	static const char *const heads[] = {"TOOL", "WAITING", "OLDEST SINCE", "AGE"};
	struct table t = {4, 0, 0, heads, NULL, 0};
	char age[32], *tool;
	int i;

	printf("sessions  %s live, %s ended\n", cell(&g[0], 0, "live"), cell(&g[0], 0, "ended"));
	printf("runs      ");
	for (i = 0; i < g[1].rows; i++)
		printf("%s%s %s", i > 0 ? ", " : "", store_cell(&g[1], i, 1), store_cell(&g[1], i, 0));
	printf("\nevents    %s, %s bytes of messages (%s bytes on disk, every dmcp table)\n",
	       cell(&g[2], 0, "events"), cell(&g[2], 0, "bytes"),
	       cell(&g[2], 0, "disk_bytes") ? cell(&g[2], 0, "disk_bytes") : "0");
	if (g[3].rows == 0) {
		printf("oldest    no run waits\n");
		return done();
	}
	tool = shown(cell(&g[3], 0, "tool"), OPS_CELL_MAX);
	printf("oldest    run %s (%s) waiting since %s (%s)\n\n", cell(&g[3], 0, "id"),
	       tool != NULL ? tool : "-", cell(&g[3], 0, "waiting_since"),
	       age_text(cell(&g[3], 0, "age_s"), age, sizeof age));
	free(tool);
	for (i = 0; i < g[4].rows; i++) {
		const char *row[4] = {cell(&g[4], i, "tool"), cell(&g[4], i, "waiting"),
		                      cell(&g[4], i, "oldest_since"),
		                      age_text(cell(&g[4], i, "oldest_age_s"), age, sizeof age)};
		table_row(&t, row, OPS_CELL_MAX);
	}
	table_print(&t);
	return done();
}

static int cmd_status(int argc, char **argv, const struct cfg *cfg, int tools)
{
	struct store_grid g[NSTATUS];
	struct opts o;
	struct store *st;
	int i, ok = 1, rc;

	(void)tools;
	if (!parse_opts(argc, argv, "status", O_JSON, 0, &o))
		return OPS_USAGE;
	st = open_db(cfg, "status", 0);
	if (st == NULL)
		return OPS_DB;
	memset(g, 0, sizeof g);
	for (i = 0; i < NSTATUS && ok; i++)
		ok = report(st, status_reports[i], NULL, &g[i], "status");
	store_close(st);
	rc = !ok ? OPS_DB : g[0].rows != 1 || g[2].rows != 1 ? OPS_DB
	   : o.json ? status_json(g) : status_text(g);
	for (i = 0; i < NSTATUS; i++)
		store_grid_free(&g[i]);
	return rc;
}

/* ---- runs ------------------------------------------------------------------------------ */

static int runs_list(int argc, char **argv, const struct cfg *cfg)
{
	static const char *const heads[] = {"ID", "TOOL", "STATUS", "STEPS", "EVENTS",
	                                    "PRINCIPAL", "SESSION", "CREATED", "UPDATED",
	                                    "WAITS FOR"};
	static const char *const cols[] = {"id", "tool", "status", "steps", "events", "principal",
	                                   "session_id", "created", "updated", "pending_method"};
	struct table t = {10, 0, 0, heads, NULL, 0};
	struct store_grid g;
	struct opts o;
	char limit[16];
	const char *p[5];
	int i, k, rc;

	if (!parse_opts(argc, argv, "runs list", O_JSON | O_STATUS | O_TOOL | O_PRINCIPAL |
	                O_SINCE | O_LIMIT, 0, &o))
		return OPS_USAGE;
	snprintf(limit, sizeof limit, "%d", o.limit);
	p[0] = o.status;
	p[1] = o.tool;
	p[2] = o.principal;
	p[3] = o.since[0] ? o.since : NULL;
	p[4] = limit;
	rc = report_once(cfg, "runs list", STORE_R_RUNS, p, &g);
	if (rc != OPS_OK)
		return rc;
	if (o.json) {
		rc = print_json(json_rows(&g));
	} else if (g.rows == 0) {
		printf("no runs\n");
		rc = done();
	} else {
		for (i = 0; i < g.rows; i++) {
			const char *row[10];
			for (k = 0; k < 10; k++)
				row[k] = cell(&g, i, cols[k]);
			table_row(&t, row, OPS_CELL_MAX);
		}
		table_print(&t);
		rc = t.failed ? OPS_DB : done();
	}
	store_grid_free(&g);
	return rc;
}

static void show_run_text(const struct store_grid *r, const struct store_grid *ev)
{
	static const char *const heads[] = {"LSN", "KIND", "CREATED", "BODY"};
	struct table t = {4, 0, 0, heads, NULL, 0};
	char line[400];
	const char *pm = cell(r, 0, "pending_method");
	int i;

	field("id", cell(r, 0, "id"), OPS_CELL_MAX);
	snprintf(line, sizeof line, "%.200s (version %s)", cell(r, 0, "tool"),
	         cell(r, 0, "tool_version"));
	field("tool", line, OPS_CELL_MAX * 2);
	field("status", cell(r, 0, "status"), OPS_CELL_MAX);
	field("principal", cell(r, 0, "principal"), OPS_CELL_MAX * 4);
	field("session", cell(r, 0, "session_id") ? cell(r, 0, "session_id")
	                                          : "none (2026-07-28 wire)", OPS_CELL_MAX);
	field("request id", cell(r, 0, "request_id"), OPS_CELL_MAX);
	field("steps", cell(r, 0, "steps"), OPS_CELL_MAX);
	field("events", cell(r, 0, "events"), OPS_CELL_MAX);
	if (pm != NULL) {
		snprintf(line, sizeof line, "%.100s (request %.100s)", pm,
		         cell(r, 0, "pending_id") ? cell(r, 0, "pending_id") : "-");
		field("waits for", line, OPS_CELL_MAX * 4);
	} else {
		field("waits for", NULL, 0);
	}
	field("error", cell(r, 0, "error"), OPS_TEXT_MAX);
	field("created", cell(r, 0, "created"), OPS_CELL_MAX);
	field("updated", cell(r, 0, "updated"), OPS_CELL_MAX);
	field("arguments", cell(r, 0, "arguments"), OPS_TEXT_MAX);
	field("journal", cell(r, 0, "journal"), OPS_TEXT_MAX);
	if (ev->rows == 0)
		return;
	printf("\n");
	for (i = 0; i < ev->rows; i++) {
		const char *row[4] = {cell(ev, i, "lsn"), cell(ev, i, "kind"), cell(ev, i, "created"),
		                      cell(ev, i, "body")};
		table_row(&t, row, OPS_BODY_MAX);
	}
	table_print(&t);
}

static int runs_show(int argc, char **argv, const struct cfg *cfg)
{
	struct store_grid r, ev;
	struct opts o;
	struct store *st;
	const char *p[1];
	int rc = OPS_OK;
	json_object *j;

	if (!parse_opts(argc, argv, "runs show", O_JSON, 1, &o))
		return OPS_USAGE;
	p[0] = o.id;
	st = open_db(cfg, "runs show", 0);
	if (st == NULL)
		return OPS_DB;
	memset(&ev, 0, sizeof ev);
	if (!report(st, STORE_R_RUN, p, &r, "runs show") ||
	    !report(st, STORE_R_RUN_EVENTS, p, &ev, "runs show"))
		rc = OPS_DB;
	store_close(st);
	if (rc == OPS_OK && r.rows == 0) {
		fprintf(stderr, "dmcp runs show: no run %s\n", o.id);
		rc = OPS_NOT_DONE;
	} else if (rc == OPS_OK && o.json) {
		j = js_new_object();
		js_object_add(j, "run", json_row(&r, 0));
		js_object_add(j, "events", json_rows(&ev));
		rc = print_json(j);
	} else if (rc == OPS_OK) {
		show_run_text(&r, &ev);
		rc = done();
	}
	store_grid_free(&r);
	store_grid_free(&ev);
	return rc;
}

/* The operator's reason, as the client reads it. */
static void reason_text(const char *reason, const char *what, char *out, size_t cap)
{
	if (reason != NULL && reason[0] != '\0')
		snprintf(out, cap, "%s by the operator: %s", what, reason);
	else
		snprintf(out, cap, "%s by the operator", what);
}

/* Cancel one run (its row's session and principal given); prints nothing. */
static int cancel_one(struct store *st, const char *id, const char *sid, const char *principal,
                      const char *why, enum run_status *was)
{
	dmcp_rc rc = rt_cancel_run(st, id, sid, principal, why, was);

	return rc == DMCP_OK ? OPS_OK : rc == DMCP_E_CONFLICT || rc == DMCP_E_NOT_FOUND
	                                    ? OPS_NOT_DONE : OPS_DB;
}

static int runs_cancel(int argc, char **argv, const struct cfg *cfg)
{
	struct store_grid r;
	struct opts o;
	struct store *st;
	enum run_status was = RUN_RUNNING;
	const char *p[1];
	char why[OPS_REASON_MAX + 64], *tool;
	int rc;
	json_object *j;

	if (!parse_opts(argc, argv, "runs cancel", O_JSON | O_REASON, 1, &o))
		return OPS_USAGE;
	p[0] = o.id;
	st = open_db(cfg, "runs cancel", 1);
	if (st == NULL)
		return OPS_DB;
	if (!report(st, STORE_R_RUN, p, &r, "runs cancel")) {
		store_close(st);
		return OPS_DB;
	}
	reason_text(o.reason, "cancelled", why, sizeof why);
	rc = r.rows == 0 ? OPS_NOT_DONE
	   : cancel_one(st, o.id, cell(&r, 0, "session_id") ? cell(&r, 0, "session_id") : "",
	                cell(&r, 0, "principal"), why, &was);
	store_close(st);
	tool = shown(cell(&r, 0, "tool"), OPS_CELL_MAX);
	if (r.rows == 0)
		fprintf(stderr, "dmcp runs cancel: no run %s\n", o.id);
	else if (rc == OPS_NOT_DONE)
		fprintf(stderr, "dmcp runs cancel: run %s is %s already\n", o.id, row_status_name(was));
	else if (rc == OPS_DB)
		fprintf(stderr, "dmcp runs cancel: database error (see the log above)\n");
	else if (o.json) {
		j = js_new_object();
		js_object_add(j, "id", js_new_string(o.id));
		js_object_add(j, "tool", js_new_string(cell(&r, 0, "tool")));
		js_object_add(j, "was", js_new_string(row_status_name(was)));
		js_object_add(j, "status", js_new_string("cancelled"));
		rc = print_json(j);
	} else {
		printf("run %s (%s) cancelled; it was %s\n", o.id, tool != NULL ? tool : "-",
		       row_status_name(was));
		rc = done();
	}
	free(tool);
	store_grid_free(&r);
	return rc;
}

/* ---- sessions -------------------------------------------------------------------------- */

/* "name version" of a session's client_info, escaped, into out. */
static const char *client_text(const char *info, char *out, size_t cap)
{
	json_object *o = info != NULL ? js_parse_trusted(info) : NULL;
	const char *name = js_str(o, "name"), *version = js_str(o, "version");
	char both[300];

	snprintf(both, sizeof both, "%.140s%s%.140s", name != NULL ? name : "-",
	         version != NULL ? " " : "", version != NULL ? version : "");
	json_object_put(o);
	snprintf(out, cap, "%s", both);
	return out;
}

static int sessions_list(int argc, char **argv, const struct cfg *cfg)
{
	static const char *const heads[] = {"ID", "PRINCIPAL", "PROTOCOL", "CLIENT", "RUNS",
	                                    "CREATED", "LAST SEEN", "ENDED"};
	struct table t = {7, 0, 0, heads, NULL, 0};
	struct store_grid g;
	struct opts o;
	char limit[16], client[300];
	const char *p[3];
	int i, rc;

	if (!parse_opts(argc, argv, "sessions list", O_JSON | O_PRINCIPAL | O_ALL | O_LIMIT, 0, &o))
		return OPS_USAGE;
	snprintf(limit, sizeof limit, "%d", o.limit);
	p[0] = o.principal;
	p[1] = o.all ? "all" : NULL;
	p[2] = limit;
	rc = report_once(cfg, "sessions list", STORE_R_SESSIONS, p, &g);
	if (rc != OPS_OK)
		return rc;
	if (o.json) {
		rc = print_json(json_rows(&g));
	} else if (g.rows == 0) {
		printf("no sessions\n");
		rc = done();
	} else {
		t.cols = o.all ? 8 : 7;
		for (i = 0; i < g.rows; i++) {
			const char *row[8] = {cell(&g, i, "id"), cell(&g, i, "principal"),
			                      cell(&g, i, "protocol"),
			                      client_text(cell(&g, i, "client_info"), client, sizeof client),
			                      cell(&g, i, "live_runs"), cell(&g, i, "created"),
			                      cell(&g, i, "last_seen"), cell(&g, i, "ended")};
			table_row(&t, row, OPS_CELL_MAX);
		}
		table_print(&t);
		rc = t.failed ? OPS_DB : done();
	}
	store_grid_free(&g);
	return rc;
}

/* Cancel every unfinished run of the session as `runs cancel` does (each client is told on
 * its stream); the count into *n. */
static int cancel_session_runs(struct store *st, const char *sid, const char *why, int *n)
{
	struct store_grid g;
	const char *p[1] = {sid};
	enum run_status was;
	int i, rc = OPS_OK;

	*n = 0;
	if (!report(st, STORE_R_SESSION_RUNS, p, &g, "sessions end"))
		return OPS_DB;
	for (i = 0; i < g.rows && rc != OPS_DB; i++) {
		rc = cancel_one(st, store_cell(&g, i, 0), store_cell(&g, i, 1), store_cell(&g, i, 2),
		                why, &was);
		if (rc == OPS_OK)
			(*n)++;
	}
	store_grid_free(&g);
	return rc == OPS_DB ? OPS_DB : OPS_OK;
}

static int sessions_end(int argc, char **argv, const struct cfg *cfg)
{
	struct store_grid s;
	struct opts o;
	struct store *st;
	const char *p[1];
	char why[OPS_REASON_MAX + 64];
	int rc, n = 0;
	json_object *j;

	if (!parse_opts(argc, argv, "sessions end", O_JSON | O_REASON, 1, &o))
		return OPS_USAGE;
	p[0] = o.id;
	st = open_db(cfg, "sessions end", 1);
	if (st == NULL)
		return OPS_DB;
	if (!report(st, STORE_R_SESSION, p, &s, "sessions end")) {
		store_close(st);
		return OPS_DB;
	}
	rc = s.rows == 0 || cell(&s, 0, "ended") != NULL ? OPS_NOT_DONE : OPS_OK;
	reason_text(o.reason, "the session was ended", why, sizeof why);
	if (rc == OPS_OK)
		rc = cancel_session_runs(st, o.id, why, &n);
	if (rc == OPS_OK) {
		reason_text(o.reason, "session ended", why, sizeof why);
		rc = store_session_end(st, o.id, cell(&s, 0, "principal"), why) == DMCP_OK
		     ? OPS_OK : OPS_DB;
	}
	store_close(st);
	if (rc == OPS_NOT_DONE)
		fprintf(stderr, "dmcp sessions end: %s session %s\n",
		        s.rows == 0 ? "no" : "already ended:", o.id);
	else if (rc == OPS_DB)
		fprintf(stderr, "dmcp sessions end: database error (see the log above)\n");
	else if (o.json) {
		j = js_new_object();
		js_object_add(j, "id", js_new_string(o.id));
		js_object_add(j, "runs_cancelled", js_new_int(n));
		rc = print_json(j);
	} else {
		printf("session %s ended; %d unfinished runs cancelled\n", o.id, n);
		rc = done();
	}
	store_grid_free(&s);
	return rc;
}

/* ---- dispatch -------------------------------------------------------------------------- */

/* A subcommand of runs or sessions. */
struct sub {
	const char *name;
	int (*run)(int argc, char **argv, const struct cfg *cfg);
};

static const struct sub run_subs[] = {
	{"list", runs_list}, {"show", runs_show}, {"cancel", runs_cancel}, {NULL, NULL},
};
static const struct sub session_subs[] = {
	{"list", sessions_list}, {"end", sessions_end}, {NULL, NULL},
};

static int dispatch_sub(const struct sub *subs, const char *cmd, int argc, char **argv,
                        const struct cfg *cfg)
{
	int i;

	for (i = 0; argc > 0 && subs[i].name != NULL; i++)
		if (strcmp(argv[0], subs[i].name) == 0)
			return subs[i].run(argc - 1, argv + 1, cfg);
	fprintf(stderr, "dmcp %s: say ", cmd);
	for (i = 0; subs[i].name != NULL; i++)
		fprintf(stderr, "%s%s", i == 0 ? "" : subs[i + 1].name == NULL ? " or " : ", ",
		        subs[i].name);
	fprintf(stderr, "\n");
	return OPS_USAGE;
}

static int cmd_runs(int argc, char **argv, const struct cfg *cfg, int tools)
{
	(void)tools;
	return dispatch_sub(run_subs, "runs", argc, argv, cfg);
}

static int cmd_sessions(int argc, char **argv, const struct cfg *cfg, int tools)
{
	(void)tools;
	return dispatch_sub(session_subs, "sessions", argc, argv, cfg);
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv, const struct cfg *cfg, int tools);
} commands[] = {
	{"check", cmd_check},
	{"status", cmd_status},
	{"runs", cmd_runs},
	{"sessions", cmd_sessions},
};

int ops_is_command(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(word, commands[i].name) == 0)
			return 1;
	return 0;
}

int ops_main(int argc, char **argv, const struct cfg *cfg, int tools)
{
	size_t i;

	for (i = 0; argc > 0 && i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1, cfg, tools);
	return OPS_USAGE;
}
