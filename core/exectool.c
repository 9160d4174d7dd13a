/* exectool.c — executables as MCP tools (see exectool.h): the directory scan, definitions
 * from --mcp-describe, and the adapter (exec_run) that a step of such a tool runs.
 * Knows nothing of HTTP or the database. MCP 2025-11-25 server/tools.
 *
 * The contract with a program, in full (README, "Programs as tools"):
 *   PROG --mcp-describe   prints one JSON object: name (default: the file's name), title,
 *                         description (required), inputSchema, outputSchema, annotations,
 *                         elicitations ({name: form schema}), version (default 1), confirm.
 *   PROG                  reads {"arguments": {...}, "answers": [...]} on stdin and writes
 *                         JSON lines: {"progress": n, "total"?: n, "message"?: s} and
 *                         {"log": s, "level"?: s, "logger"?: s}, any number, then one of
 *                         {"result": CallToolResult | object | string}, {"error": "message"},
 *                         {"elicit": {"schema": "name" | {...}, "message": s}},
 *                         {"elicit_url": {"url": s, "message": s}},
 *                         {"sample": {"prompt" | "messages", "maxTokens", "systemPrompt"?}}.
 * A request suspends the run; its answer (the client's result object, or {"error": {...}}
 * for a request the client refused) is appended to "answers", and the program runs again
 * from the top. Exit status 0 is required; anything else, a timeout, too much output or a
 * line that breaks the contract is an isError result with the end of its stderr. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "exectool.h"
#include "js.h"
#include "log.h"
#include "proc.h"
#include "rtint.h"
#include "utf8.h"

/* Programs one directory may hold (the registry's limit of tools). */
#define EXEC_MAX_PROGRAMS REG_MAX_ENTRIES
/* Bytes of a program's path. */
#define EXEC_MAX_PATH 1200
/* The PATH a program receives: the system's directories, nothing of dmcp's environment. */
#define EXEC_PATH "PATH=/usr/local/bin:/usr/bin:/bin"
/* Bytes of stderr's end shown in an error result (the log receives more). */
#define EXEC_ERR_SHOWN 300
/* Bytes of stderr's end logged with a failure. */
#define EXEC_ERR_LOGGED 1000
/* Milliseconds one --mcp-describe may take (DMCP_EXEC_TIMEOUT_MS when that is shorter): the
 * programs are described one after the other before serving starts, so one that hangs must
 * not hold it up for long. */
#define EXEC_DESCRIBE_MS 5000

/* ---- the scan --------------------------------------------------------------------------- */

struct exec_prog {
	char *path;     /* owned */
	char *file;     /* owned: its name in the directory */
	char *desc;     /* owned: what --mcp-describe printed (a JSON object) */
};

struct exec_scan {
	int n;
	struct exec_prog progs[EXEC_MAX_PROGRAMS];
};

void exec_scan_free(struct exec_scan *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->progs[i].path);
		free(s->progs[i].file);
		free(s->progs[i].desc);
	}
	free(s);
}

int exec_scan_count(const struct exec_scan *s)
{
	return s != NULL ? s->n : 0;
}

/* A copy of s with what cannot go into a JSON string or a log line as it is (invalid UTF-8,
 * control characters but newline and tab) replaced by '?'. */
static void clean_text(char *s)
{
	size_t n = strlen(s), i = 0, len;
	uint32_t cp;

	while (i < n) {
		len = utf8_decode(s + i, n - i, &cp);
		if (len == 0) {
			s[i++] = '?';
			continue;
		}
		if (len == 1 && cp < 0x20 && cp != '\n' && cp != '\t')
			s[i] = '?';
		i += len;
	}
}

/* The last lines of stderr, at most max bytes, from a line's start when there is one; into
 * out[cap], cleaned. */
static const char *err_end(const char *tail, size_t max, char *out, size_t cap)
{
	size_t n = strlen(tail);
	const char *p = n > max ? tail + n - max : tail, *nl;

	if (p != tail && (nl = strchr(p, '\n')) != NULL && nl[1] != '\0')
		p = nl + 1;
	snprintf(out, cap, "%s", p);
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	clean_text(out);
	return out;
}

/* Lines of stdout gathered into a buffer. */
static dmcp_rc gather(void *arg, const char *line, size_t len)
{
	struct buf *b = arg;

	(void)buf_add(b, line, len);
	return buf_adds(b, "\n");
}

/* Run PROG --mcp-describe: its output into *desc (owned) or a log line saying why not. */
static int describe_one(const struct cfg *cfg, const char *path, const char *file, char **desc)
{
	char *argv[] = {(char *)path, EXEC_DESCRIBE_ARG, NULL};
	char *envp[] = {EXEC_PATH, NULL};
	struct proc_spec s;
	struct proc_result r;
	struct buf out;
	json_object *o = NULL;
	char why[200], how[120], err[EXEC_ERR_LOGGED + 1], name[200];
	int ok = 0;

	memset(&s, 0, sizeof s);
	s.path = path;
	s.argv = argv;
	s.envp = envp;
	s.dir = cfg->exec_dir;
	s.timeout_ms = cfg->exec_timeout_ms < EXEC_DESCRIBE_MS ? cfg->exec_timeout_ms
	                                                      : EXEC_DESCRIBE_MS;
	s.max_out = cfg->exec_max_output;
	s.line = gather;
	s.arg = &out;
	buf_init(&out, cfg->exec_max_output + 1);
	log_escape(name, sizeof name, file, strlen(file));
	if (proc_run(&s, &r) != DMCP_OK || r.end != PROC_EXITED || r.status != 0) {
		log_msg(LOG_WARN, "program %s skipped: %s %s %s; its stderr ends: %s", name, file,
		        EXEC_DESCRIBE_ARG, proc_end_text(&r, &s, how, sizeof how),
		        err_end(r.err_tail, EXEC_ERR_LOGGED, err, sizeof err));
	} else if (js_parse(buf_cstr(&out), out.len, JS_MAX_DEPTH, &o, why, sizeof why) != DMCP_OK ||
	           !json_object_is_type(o, json_type_object)) {
		log_msg(LOG_WARN, "program %s skipped: %s %s did not print one JSON object (%s)",
		        name, file, EXEC_DESCRIBE_ARG, o == NULL ? why : "another JSON value");
	} else {
		*desc = strdup(js_text(o));
		ok = *desc != NULL;
	}
	json_object_put(o);
	buf_free(&out);
	return ok;
}

/* 1 when d names a program to describe: not hidden, an executable regular file. */
static int program_at(const char *dir, const char *file, char *path, size_t cap)
{
	struct stat sb;
	int n;

	if (file[0] == '.')
		return 0;
	n = snprintf(path, cap, "%s/%s", dir, file);
	return n > 0 && (size_t)n < cap && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	       access(path, X_OK) == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory's entries that name programs, sorted (owned strings), count in *n. */
static char **list_programs(const char *dir, int *n)
{
	char **names = calloc(EXEC_MAX_PROGRAMS, sizeof *names), path[EXEC_MAX_PATH];
	DIR *d = opendir(dir);
	struct dirent *e;

	*n = 0;
	if (d == NULL || names == NULL) {
		if (d == NULL)
			log_msg(LOG_WARN, "DMCP_EXEC_TOOLS_DIR %s cannot be read: no programs", dir);
		if (d != NULL)
			closedir(d);
		return names;
	}
	while ((e = readdir(d)) != NULL) {
		if (!program_at(dir, e->d_name, path, sizeof path))
			continue;
		if (*n >= EXEC_MAX_PROGRAMS) {
			log_msg(LOG_WARN, "DMCP_EXEC_TOOLS_DIR holds more than %d programs: the rest are "
			        "left out", EXEC_MAX_PROGRAMS);
			break;
		}
		names[*n] = strdup(e->d_name);
		if (names[*n] != NULL)
			(*n)++;
	}
	closedir(d);
	qsort(names, (size_t)*n, sizeof *names, by_name);
	return names;
}

struct exec_scan *exec_scan(const struct cfg *cfg)
{
	struct exec_scan *s = calloc(1, sizeof *s);
	char path[EXEC_MAX_PATH], **names;
	int n = 0, i;

	if (s == NULL || cfg->exec_dir == NULL)
		return s;
	names = list_programs(cfg->exec_dir, &n);
	for (i = 0; names != NULL && i < n; i++) {
		struct exec_prog *p = &s->progs[s->n];
		snprintf(path, sizeof path, "%s/%s", cfg->exec_dir, names[i]);
		if (!describe_one(cfg, path, names[i], &p->desc))
			continue;
		p->path = strdup(path);
		p->file = strdup(names[i]);
		if (p->path == NULL || p->file == NULL) {
			free(p->path);
			free(p->file);
			free(p->desc);
			continue;
		}
		s->n++;
	}
	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	return s;
}

/* ---- definitions ------------------------------------------------------------------------ */

/* One tool's data (reg_tool.impl); def lives here. */
struct exec_impl {
	struct dmcp_tool def; /* def.run = exec_run; its strings are the fields below */
	char *name, *title, *description, *input_schema, *output_schema, *annotations;
	struct dmcp_schema_def forms[REG_MAX_ELICITS + 1];
	char *form_names[REG_MAX_ELICITS], *form_texts[REG_MAX_ELICITS];
	char *path;           /* the program */
	char *dir;            /* its working directory: DMCP_EXEC_TOOLS_DIR */
	int timeout_ms;       /* DMCP_EXEC_TIMEOUT_MS */
	size_t max_out;       /* DMCP_EXEC_MAX_OUTPUT */
	int max_answers;      /* DMCP_MAX_EVENTS_PER_RUN: requests one run may make */
};

static void impl_free(void *p)
{
	struct exec_impl *im = p;
	int i;

	if (im == NULL)
		return;
	for (i = 0; i < REG_MAX_ELICITS; i++) {
		free(im->form_names[i]);
		free(im->form_texts[i]);
	}
	free(im->name);
	free(im->title);
	free(im->description);
	free(im->input_schema);
	free(im->output_schema);
	free(im->annotations);
	free(im->path);
	free(im->dir);
	free(im);
}

/* The members a definition may have. */
static const char *const desc_keys[] = {"name", "title", "description", "inputSchema",
                                        "outputSchema", "annotations", "elicitations",
                                        "version", "confirm"};

/* A string member (copied into *out, NULL when absent); 0 with why when of another type. */
static int text_member(json_object *d, const char *key, char **out, char *why, size_t len)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(d, key, &v))
		return 1;
	if (json_object_is_type(v, json_type_string))
		*out = strdup(json_object_get_string(v));
	else if (json_object_is_type(v, json_type_object) && strcmp(key, "title") != 0 &&
	         strcmp(key, "name") != 0 && strcmp(key, "description") != 0)
		*out = strdup(js_text(v));
	else
		snprintf(why, len, "\"%s\" has the wrong type", key);
	return *out != NULL;
}

/* The named forms of "elicitations". */
static int forms_of(struct exec_impl *im, json_object *d, char *why, size_t len)
{
	json_object *f = js_get(d, "elicitations", json_type_object);
	int n = 0;

	if (f == NULL && js_has(d, "elicitations")) {
		snprintf(why, len, "\"elicitations\" must map names to form schemas");
		return 0;
	}
	if (f == NULL)
		return 1;
	json_object_object_foreach(f, key, val) {
		if (n >= REG_MAX_ELICITS || !json_object_is_type(val, json_type_object)) {
			snprintf(why, len, "\"elicitations\" holds at most %d form schemas (objects)",
			         REG_MAX_ELICITS);
			return 0;
		}
		im->form_names[n] = strdup(key);
		im->form_texts[n] = strdup(js_text(val));
		if (im->form_names[n] == NULL || im->form_texts[n] == NULL)
			return 0;
		im->forms[n].name = im->form_names[n];
		im->forms[n].schema = im->form_texts[n];
		n++;
	}
	im->def.elicits = im->forms;
	return 1;
}

/* The members other than strings and forms: version, confirm; and no unknown one. */
static int scalars_of(struct exec_impl *im, json_object *d, char *why, size_t len)
{
	json_object *v;
	int64_t ver = 1;
	size_t i;

	json_object_object_foreach(d, key, val) {
		(void)val;
		for (i = 0; i < sizeof desc_keys / sizeof desc_keys[0]; i++)
			if (strcmp(key, desc_keys[i]) == 0)
				break;
		if (i == sizeof desc_keys / sizeof desc_keys[0]) {
			snprintf(why, len, "its definition has an unknown member \"%.40s\"", key);
			return 0;
		}
	}
	if (json_object_object_get_ex(d, "version", &v) &&
	    (!js_int53(v, &ver) || ver < 0 || ver > 2147483647)) {
		snprintf(why, len, "\"version\" must be an integer from 0 to 2147483647");
		return 0;
	}
	im->def.version = (int)ver;
	if (json_object_object_get_ex(d, "confirm", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			snprintf(why, len, "\"confirm\" must be true or false");
			return 0;
		}
		im->def.confirm = json_object_get_boolean(v);
	}
	return 1;
}

static dmcp_rc exec_run(dmcp_ctx *ctx, json_object *args, dmcp_result *res);

/* The tool a program's description defines, or NULL with why. */
static struct exec_impl *define(const struct exec_prog *p, const struct cfg *cfg, char *why,
                                size_t len)
{
	json_object *d = js_parse_trusted(p->desc);
	struct exec_impl *im = calloc(1, sizeof *im);
	int ok = d != NULL && im != NULL;

	snprintf(why, len, "out of memory");
	ok = ok && scalars_of(im, d, why, len) && forms_of(im, d, why, len) &&
	     text_member(d, "name", &im->name, why, len) &&
	     text_member(d, "title", &im->title, why, len) &&
	     text_member(d, "description", &im->description, why, len) &&
	     text_member(d, "inputSchema", &im->input_schema, why, len) &&
	     text_member(d, "outputSchema", &im->output_schema, why, len) &&
	     text_member(d, "annotations", &im->annotations, why, len);
	json_object_put(d);
	if (ok && im->name == NULL)
		im->name = strdup(p->file); /* no name: the file's */
	if (ok && (im->description == NULL || im->description[0] == '\0')) {
		snprintf(why, len, "its definition has no \"description\"");
		ok = 0;
	}
	if (ok) {
		im->path = strdup(p->path);
		im->dir = strdup(cfg->exec_dir);
		ok = im->name != NULL && im->path != NULL && im->dir != NULL;
	}
	if (!ok) {
		impl_free(im);
		return NULL;
	}
	im->timeout_ms = cfg->exec_timeout_ms;
	im->max_out = cfg->exec_max_output;
	im->max_answers = cfg->max_events;
	im->def.name = im->name;
	im->def.title = im->title;
	im->def.description = im->description;
	im->def.input_schema = im->input_schema;
	im->def.output_schema = im->output_schema;
	im->def.annotations = im->annotations;
	im->def.run = exec_run;
	return im;
}

dmcp_rc exec_register(dmcp_registry *reg, const struct exec_scan *s, const struct cfg *cfg,
                      int *added)
{
	char why[300], name[200];
	int i;

	*added = 0;
	for (i = 0; s != NULL && i < s->n; i++) {
		struct exec_impl *im = define(&s->progs[i], cfg, why, sizeof why);
		log_escape(name, sizeof name, s->progs[i].file, strlen(s->progs[i].file));
		if (im == NULL) {
			log_msg(LOG_WARN, "program %s skipped: %s", name, why);
			continue;
		}
		if (reg_add_tool(reg, &im->def, im, impl_free, why, sizeof why) != DMCP_OK) {
			log_msg(LOG_WARN, "program %s skipped: %s", name, why);
			continue;
		}
		(*added)++;
	}
	return DMCP_OK;
}

/* ---- one run of the program ------------------------------------------------------------- */

/* What one run of the program said. */
struct said {
	dmcp_ctx *ctx;
	json_object *final;  /* owned: the final line's object, or NULL */
	int lines;           /* lines read */
	char bad[RT_ERR_LEN];/* why its output broke the contract, or "" */
};

static const char *const final_keys[] = {"result", "error", "elicit", "elicit_url", "sample"};

/* 1 when o (an object of one line) holds exactly one member, named key, with the optional
 * members extra (NULL-ended) beside it. */
static int only(json_object *o, const char *key, const char *const *extra)
{
	const char *const *x;
	int found = 0;

	json_object_object_foreach(o, k, v) {
		(void)v;
		if (strcmp(k, key) == 0) {
			found = 1;
			continue;
		}
		for (x = extra; x != NULL && *x != NULL; x++)
			if (strcmp(k, *x) == 0)
				break;
		if (x == NULL || *x == NULL)
			return 0;
	}
	return found;
}

/* A progress or log line: the notification goes out now. Errors of the notification itself
 * (a progress that does not rise, the events limit) only drop it; a cancellation or a lost
 * run stops the program. */
static dmcp_rc notify_line(struct said *sd, json_object *o)
{
	static const char *const prog_extra[] = {"total", "message", NULL};
	static const char *const log_extra[] = {"level", "logger", NULL};
	json_object *v = NULL, *t = js_get(o, "total", json_type_double);
	dmcp_rc rc;
	int level;

	if (json_object_object_get_ex(o, "progress", &v) && only(o, "progress", prog_extra) &&
	    js_is_num(v)) {
		if (t == NULL)
			t = js_get(o, "total", json_type_int);
		rc = dmcp_progress(sd->ctx, json_object_get_double(v),
		                   t != NULL ? json_object_get_double(t) : -1, js_str(o, "message"));
	} else if (js_str(o, "log") != NULL && only(o, "log", log_extra)) {
		level = rt_level_parse(js_str(o, "level"));
		rc = dmcp_log(sd->ctx, level >= 0 ? (dmcp_level)level : DMCP_LOG_INFO,
		              js_str(o, "logger"), "%s", js_str(o, "log"));
	} else {
		return DMCP_E_PARSE;
	}
	return rc == DMCP_E_PARAMS || rc == DMCP_E_LIMIT ? DMCP_OK : rc;
}

/* One stdout line (proc's callback). */
static dmcp_rc on_line(void *arg, const char *line, size_t len)
{
	struct said *sd = arg;
	json_object *o = NULL;
	char why[160];
	size_t i;
	dmcp_rc rc;

	sd->lines++;
	if (strspn(line, " \t\r") >= len)
		return DMCP_OK; /* a blank line */
	if (js_parse(line, len, JS_MAX_DEPTH, &o, why, sizeof why) != DMCP_OK ||
	    !json_object_is_type(o, json_type_object)) {
		snprintf(sd->bad, sizeof sd->bad, "wrote line %d, which is not a JSON object%s%s%s",
		         sd->lines, o == NULL ? " (" : "", o == NULL ? why : "", o == NULL ? ")" : "");
		json_object_put(o);
		return DMCP_E_TOOL;
	}
	if (sd->final != NULL) {
		snprintf(sd->bad, sizeof sd->bad, "wrote line %d after its final line", sd->lines);
		json_object_put(o);
		return DMCP_E_TOOL;
	}
	for (i = 0; i < sizeof final_keys / sizeof final_keys[0]; i++)
		if (only(o, final_keys[i], NULL)) {
			sd->final = o;
			return DMCP_OK;
		}
	rc = notify_line(sd, o);
	json_object_put(o);
	if (rc == DMCP_E_PARSE) {
		snprintf(sd->bad, sizeof sd->bad, "wrote line %d, which is none of progress, log, "
		         "result, error, elicit, elicit_url, sample", sd->lines);
		return DMCP_E_TOOL;
	}
	return rc;
}

/* The program failed: one log line with more of its stderr, and the tool's error. */
static dmcp_rc run_failed(dmcp_ctx *ctx, const struct exec_impl *im, const char *what,
                          const struct proc_result *r)
{
	char shown[EXEC_ERR_SHOWN + 1], logged[EXEC_ERR_LOGGED + 1], line[EXEC_ERR_LOGGED * 4];

	err_end(r->err_tail, EXEC_ERR_SHOWN, shown, sizeof shown);
	err_end(r->err_tail, EXEC_ERR_LOGGED, logged, sizeof logged);
	log_msg(LOG_WARN, "run %s: program %s %s; its stderr ends: %s", ctx->run->id, im->name,
	        what, log_escape(line, sizeof line, logged, strlen(logged)));
	return dmcp_fail(ctx, "the program %s %s%s%s", im->name, what,
	                 shown[0] != '\0' ? "; its stderr ends: " : "", shown);
}

/* The environment of one run: PATH, and who and what the run is. */
struct run_env {
	char run[64], principal[ROW_MAX_PRINCIPAL + 32], session[64];
	char *envp[5];
};

static void make_env(dmcp_ctx *ctx, struct run_env *e)
{
	snprintf(e->run, sizeof e->run, "DMCP_RUN_ID=%s", ctx->run->id);
	snprintf(e->principal, sizeof e->principal, "DMCP_PRINCIPAL=%s", ctx->run->principal);
	snprintf(e->session, sizeof e->session, "DMCP_SESSION_ID=%s", ctx->run->session_id);
	e->envp[0] = EXEC_PATH;
	e->envp[1] = e->run;
	e->envp[2] = e->principal;
	e->envp[3] = e->session;
	e->envp[4] = NULL;
}

/* Run the program once with the answers so far; sd->final holds its final line. DMCP_OK,
 * DMCP_E_TOOL (ctx->err) when it failed, or what stopped it (a cancellation, a lost run). */
static dmcp_rc run_once(dmcp_ctx *ctx, const struct exec_impl *im, json_object *args,
                        json_object *answers, struct said *sd)
{
	char *argv[] = {im->path, NULL};
	json_object *in = js_new_object();
	struct proc_spec s;
	struct proc_result r;
	struct run_env env;
	char how[160];
	dmcp_rc rc;

	js_object_add(in, "arguments", json_object_get(args));
	js_object_add(in, "answers", json_object_get(answers));
	make_env(ctx, &env);
	memset(&s, 0, sizeof s);
	s.path = im->path;
	s.argv = argv;
	s.envp = env.envp;
	s.dir = im->dir;
	s.input = js_text(in);
	s.input_len = strlen(s.input);
	s.timeout_ms = im->timeout_ms;
	s.max_out = im->max_out;
	s.line = on_line;
	s.arg = sd;
	rc = proc_run(&s, &r);
	json_object_put(in);
	if (rc != DMCP_OK)
		return rc;
	if (r.end == PROC_STOPPED && r.stop != DMCP_E_TOOL)
		return r.stop; /* cancelled meanwhile, or the run moved on */
	if (r.end == PROC_STOPPED)
		return run_failed(ctx, im, sd->bad, &r);
	proc_end_text(&r, &s, how, sizeof how);
	if (r.end == PROC_TIMEOUT)
		snprintf(how, sizeof how, "did not finish within DMCP_EXEC_TIMEOUT_MS (%d ms)",
		         im->timeout_ms);
	else if (r.end == PROC_TOO_MUCH)
		snprintf(how, sizeof how, "wrote more than DMCP_EXEC_MAX_OUTPUT (%zu bytes)",
		         im->max_out);
	if (r.end != PROC_EXITED || r.status != 0)
		return run_failed(ctx, im, how, &r);
	if (sd->final == NULL)
		return run_failed(ctx, im, "ended without a final line ({\"result\": ...}, "
		                  "{\"error\": ...} or a request)", &r);
	return DMCP_OK;
}

/* ---- what the final line asks ----------------------------------------------------------- */

/* {"result": ...}: a CallToolResult (an object with a "content" array), a structured object,
 * or anything else as text. */
static dmcp_rc give_result(dmcp_ctx *ctx, json_object *v, dmcp_result *res)
{
	json_object *content = js_get(v, "content", json_type_array), *sc, *err;
	size_t i, n;

	if (content == NULL && json_object_is_type(v, json_type_object))
		return dmcp_result_structured(res, json_object_get(v));
	if (content == NULL)
		return dmcp_result_text(res, json_object_is_type(v, json_type_string) ?
		                             json_object_get_string(v) : js_text(v));
	n = json_object_array_length(content);
	for (i = 0; i < n; i++) {
		json_object *b = json_object_array_get_idx(content, i);
		if (js_str(b, "type") == NULL)
			return dmcp_fail(ctx, "the program's result has a content block without a "
			                 "\"type\"");
		DMCP_TRY(dmcp_result_content(res, json_object_get(b)));
	}
	sc = js_get(v, "structuredContent", json_type_object);
	if (sc != NULL) {
		json_object_put(res->structured);
		res->structured = json_object_get(sc);
	}
	err = js_get(v, "isError", json_type_boolean);
	res->is_error = err != NULL && json_object_get_boolean(err);
	return DMCP_OK;
}

static dmcp_rc ask_elicit(dmcp_ctx *ctx, json_object *v)
{
	struct dmcp_elicit_answer ans;
	json_object *schema;
	const char *name = js_str(v, "schema"), *msg = js_str(v, "message");

	if (name != NULL)
		return dmcp_elicit(ctx, name, msg, &ans);
	schema = js_get(v, "schema", json_type_object);
	if (schema == NULL)
		return dmcp_fail(ctx, "the program's elicit line needs \"schema\": a form's name or "
		                 "a form schema");
	return rt_elicit_inline(ctx, schema, NULL, msg, &ans);
}

static dmcp_rc ask_url(dmcp_ctx *ctx, json_object *v)
{
	struct dmcp_elicit_answer ans;
	const char *url = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
	                                                          : js_str(v, "url");

	if (url == NULL)
		return dmcp_fail(ctx, "the program's elicit_url line needs a \"url\"");
	return dmcp_elicit_url(ctx, url, js_str(v, "message"), &ans);
}

static dmcp_rc ask_sample(dmcp_ctx *ctx, json_object *v)
{
	struct dmcp_sample_req req;
	struct dmcp_sample_answer ans;
	json_object *max = js_get(v, "maxTokens", json_type_int);

	memset(&req, 0, sizeof req);
	req.prompt = js_str(v, "prompt");
	req.messages = js_get(v, "messages", json_type_array);
	req.system_prompt = js_str(v, "systemPrompt");
	req.max_tokens = max != NULL ? json_object_get_int(max) : 0;
	if (req.max_tokens <= 0 || (req.prompt == NULL) == (req.messages == NULL))
		return dmcp_fail(ctx, "the program's sample line needs \"maxTokens\" (a positive "
		                 "integer) and one of \"prompt\" or \"messages\"");
	return dmcp_sample(ctx, &req, &ans);
}

/* Act on the final line. *again: a request was answered within this step (the sampling
 * fallback), so the program runs again. */
static dmcp_rc act(dmcp_ctx *ctx, json_object *final, dmcp_result *res, int *again)
{
	json_object *v;
	dmcp_rc rc;

	*again = 0;
	if (json_object_object_get_ex(final, "result", &v))
		return give_result(ctx, v, res);
	if (json_object_object_get_ex(final, "error", &v))
		return dmcp_fail(ctx, "%s", json_object_is_type(v, json_type_string) ?
		                            json_object_get_string(v) : js_text(v));
	if (json_object_object_get_ex(final, "elicit", &v))
		rc = ask_elicit(ctx, v);
	else if (json_object_object_get_ex(final, "elicit_url", &v))
		rc = ask_url(ctx, v);
	else if (json_object_object_get_ex(final, "sample", &v))
		rc = ask_sample(ctx, v);
	else
		return DMCP_E_INTERNAL;
	if (rc == DMCP_OK) {
		*again = 1;
		rt_effect_back(ctx); /* the answer is the journal's now: read it as a replay */
	}
	return rc;
}

/* The adapter: every program's def.run. Each round hands the program the answers the
 * journal holds, runs it, and acts on its final line. */
static dmcp_rc exec_run(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	const struct exec_impl *im = ctx->tool->impl;
	json_object *answers = js_new_array(), *a;
	struct said sd;
	int again = 1;
	dmcp_rc rc = DMCP_OK;

	memset(&sd, 0, sizeof sd);
	sd.ctx = ctx;
	while (again && rc == DMCP_OK) {
		while ((rc = rt_next_answer(ctx, &a)) == DMCP_OK && a != NULL)
			js_array_add(answers, json_object_get(a));
		if (rc == DMCP_OK && (int)json_object_array_length(answers) >= im->max_answers)
			rc = dmcp_fail(ctx, "the program %s asked %d questions, the limit of one run "
			               "(DMCP_MAX_EVENTS_PER_RUN)", im->name, im->max_answers);
		json_object_put(sd.final);
		sd.final = NULL;
		sd.lines = 0;
		if (rc == DMCP_OK)
			rc = run_once(ctx, im, args, answers, &sd);
		if (rc == DMCP_OK)
			rc = act(ctx, sd.final, res, &again);
		else
			again = 0;
	}
	json_object_put(sd.final);
	json_object_put(answers);
	return rc;
}
