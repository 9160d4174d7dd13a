/* mcp.c — MCP methods with one JSON result (see mcp.h).
 * Knows nothing of HTTP framing or SSE. Every handler checks param types before reading
 * them (json-c coerces) and answers -32602 with a one-line reason when they are wrong. */
#include <stdio.h>
#include <string.h>
#include "err.h"
#include "http.h"
#include "js.h"
#include "mcp.h"
#include "rnd.h"
#include "runtime.h"
#include "task.h"

/* Candidates one completion/complete answer carries (the spec's maximum is 100). */
#define MCP_MAX_COMPLETIONS 100
/* Bytes of clientInfo and capabilities kept per session. */
#define MCP_MAX_CLIENT_JSON 16384

typedef dmcp_rc (*mcp_fn)(struct mcp_call *c, json_object **result);

static dmcp_rc bad_params(struct mcp_call *c, const char *why)
{
	snprintf(c->err, sizeof c->err, "Invalid params: %s", why);
	return DMCP_E_PARAMS;
}

/* 1 when a tool may run as a task: the server then declares tasks (2025-11-25). */
static int has_tasks(const dmcp_registry *reg)
{
	int i;

	for (i = 0; i < reg->n_tools; i++)
		if (reg->tools[i].def->task_support != DMCP_TASK_FORBIDDEN)
			return 1;
	return 0;
}

/* Revisions of the sessionless era dmcp speaks, newest first. */
static const char *const modern_versions[] = {"2026-07-28"};

/* What initialize and server/discover tell the client. */
static const char instructions[] =
	"dmcp keeps every tool call in PostgreSQL: a call that waits for you survives "
	"restarts and can be resumed on any worker.";

int mcp_modern_version(const char *v)
{
	size_t i;

	for (i = 0; v != NULL && i < sizeof modern_versions / sizeof modern_versions[0]; i++)
		if (strcmp(v, modern_versions[i]) == 0)
			return 1;
	return 0;
}

json_object *mcp_modern_versions(void)
{
	json_object *a = js_new_array();
	size_t i;

	for (i = 0; i < sizeof modern_versions / sizeof modern_versions[0]; i++)
		js_array_add(a, js_new_string(modern_versions[i]));
	return a;
}

static json_object *flags(const char *name, int on, const char *name2, int on2)
{
	json_object *o = js_new_object();

	js_object_add(o, name, js_new_boolean(on));
	if (name2 != NULL)
		js_object_add(o, name2, js_new_boolean(on2));
	return o;
}

json_object *mcp_server_caps(const dmcp_registry *reg, int notifies, int modern)
{
	json_object *caps = js_new_object();

	js_object_add(caps, "tools", flags("listChanged", notifies, NULL, 0));
	if (reg->n_resources + reg->n_templates > 0)
		js_object_add(caps, "resources", flags("subscribe", notifies, "listChanged",
		                                                notifies));
	if (reg->n_prompts > 0)
		js_object_add(caps, "prompts", flags("listChanged", notifies, NULL, 0));
	js_object_add(caps, "logging", js_new_object());
	js_object_add(caps, "completions", js_new_object());
	if (has_tasks(reg) && !modern) {
		js_object_add(caps, "tasks", task_legacy_caps());
	} else if (has_tasks(reg)) {
		/* 2026-07-28: tasks are the extension, declared under extensions (SEP-2663). */
		json_object *ext = js_new_object();
		js_object_add(ext, TASK_EXT, js_new_object());
		js_object_add(caps, "extensions", ext);
	}
	return caps;
}

static json_object *server_info(void)
{
	json_object *si = js_new_object();

	js_object_add(si, "name", js_new_string(MCP_SERVER_NAME));
	js_object_add(si, "version", js_new_string(MCP_SERVER_VERSION));
	return si;
}

void mcp_modern_result(json_object *result, const char *type)
{
	json_object *meta = js_get(result, "_meta", json_type_object);

	js_object_add(result, "resultType", js_new_string(type));
	if (meta == NULL) {
		meta = js_new_object();
		js_object_add(result, "_meta", meta);
	}
	js_object_add(meta, "io.modelcontextprotocol/serverInfo", server_info());
}

static dmcp_rc do_initialize(struct mcp_call *c, json_object **result)
{
	json_object *p = c->msg->params, *caps, *info, *r, *si;
	const char *want = js_str(p, "protocolVersion"), *caps_text, *info_text;
	struct session_row s;
	dmcp_rc rc;

	caps = js_get(p, "capabilities", json_type_object);
	info = js_get(p, "clientInfo", json_type_object);
	if (want == NULL || caps == NULL || info == NULL)
		return bad_params(c, "initialize needs protocolVersion, capabilities and clientInfo");
	caps_text = js_text(caps);
	info_text = js_text(info);
	if (strlen(caps_text) > MCP_MAX_CLIENT_JSON || strlen(info_text) > MCP_MAX_CLIENT_JSON)
		return bad_params(c, "capabilities or clientInfo larger than 16 KiB");
	memset(&s, 0, sizeof s);
	rc = rnd_id(s.id);
	if (rc != DMCP_OK)
		return rc;
	snprintf(s.principal, sizeof s.principal, "%s", c->principal);
	snprintf(s.protocol, sizeof s.protocol, "%s", http_version_negotiate(want));
	s.client_caps = (char *)caps_text;
	rc = store_session_create(c->st, &s, info_text, c->cfg->max_sessions);
	if (rc == DMCP_E_LIMIT) {
		snprintf(c->err, sizeof c->err, "%.80s has %d live sessions, the limit "
		         "(DMCP_MAX_SESSIONS_PER_PRINCIPAL): end one (HTTP DELETE) or wait until idle "
		         "ones expire", c->principal, c->cfg->max_sessions);
		c->rpc_code = RPC_SERVER_ERROR;
	}
	if (rc != DMCP_OK)
		return rc;
	memcpy(c->new_session, s.id, sizeof s.id);
	s.log_level = 1; /* the column's default ("info"): the insert leaves it to the table */
	c->created = s;
	r = js_new_object();
	js_object_add(r, "protocolVersion", js_new_string(s.protocol));
	js_object_add(r, "capabilities", mcp_server_caps(c->reg, c->notifies, 0));
	si = server_info();
	js_object_add(r, "serverInfo", si);
	js_object_add(r, "instructions", js_new_string(instructions));
	*result = r;
	return DMCP_OK;
}

static dmcp_rc do_discover(struct mcp_call *c, json_object **result)
{
	json_object *r = js_new_object();

	js_object_add(r, "supportedVersions", mcp_modern_versions());
	js_object_add(r, "capabilities", mcp_server_caps(c->reg, c->notifies, 1));
	js_object_add(r, "instructions", js_new_string(instructions));
	*result = r;
	return DMCP_OK;
}

static dmcp_rc do_ping(struct mcp_call *c, json_object **result)
{
	(void)c;
	*result = js_new_object();
	return DMCP_OK;
}

static dmcp_rc do_set_level(struct mcp_call *c, json_object **result)
{
	int level = rt_level_parse(js_str(c->msg->params, "level"));
	dmcp_rc rc;

	if (level < 0)
		return bad_params(c, "level must be one of debug, info, notice, warning, error, "
		                  "critical, alert, emergency");
	rc = store_session_set_level(c->st, c->sess->id, level);
	if (rc != DMCP_OK)
		return rc;
	*result = js_new_object();
	return DMCP_OK;
}

static dmcp_rc cursor_of(struct mcp_call *c, const char **cursor)
{
	*cursor = NULL;
	if (!js_has(c->msg->params, "cursor"))
		return DMCP_OK;
	*cursor = js_str(c->msg->params, "cursor");
	if (*cursor == NULL)
		return bad_params(c, "cursor must be a string");
	return DMCP_OK;
}

static dmcp_rc list_of(struct mcp_call *c, const char *kind, json_object **result)
{
	const char *cursor;
	dmcp_rc rc = cursor_of(c, &cursor);

	if (rc != DMCP_OK)
		return rc;
	rc = reg_list(c->reg, kind, cursor, result);
	if (rc != DMCP_OK)
		return bad_params(c, "unknown or expired cursor");
	return DMCP_OK;
}

static dmcp_rc do_tools_list(struct mcp_call *c, json_object **result)
{
	return list_of(c, "tools", result);
}

static dmcp_rc do_resources_list(struct mcp_call *c, json_object **result)
{
	return list_of(c, "resources", result);
}

static dmcp_rc do_templates_list(struct mcp_call *c, json_object **result)
{
	return list_of(c, "resourceTemplates", result);
}

static dmcp_rc do_prompts_list(struct mcp_call *c, json_object **result)
{
	return list_of(c, "prompts", result);
}

/* 2025-11-25: -32002; 2026-07-28 (SEP-2164): -32602. Both with data.uri. */
static dmcp_rc resource_missing(struct mcp_call *c, const char *uri)
{
	c->rpc_code = c->modern ? RPC_INVALID_PARAMS : RPC_RESOURCE_NOT_FOUND;
	c->error_data = js_new_object();
	js_object_add(c->error_data, "uri", js_new_string(uri));
	snprintf(c->err, sizeof c->err, "Resource not found");
	return DMCP_E_NOT_FOUND;
}

static int is_static(const dmcp_registry *reg, const char *uri)
{
	int i;

	for (i = 0; i < reg->n_resources; i++)
		if (strcmp(reg->resources[i]->uri, uri) == 0)
			return 1;
	return 0;
}

static dmcp_rc do_resources_read(struct mcp_call *c, json_object **result)
{
	const char *uri = js_str(c->msg->params, "uri");
	json_object *contents;
	dmcp_rc rc;

	if (uri == NULL)
		return bad_params(c, "uri must be a string");
	contents = js_new_array();
	rc = reg_read(c->reg, uri, contents);
	if (rc != DMCP_OK) {
		json_object_put(contents);
		return rc == DMCP_E_NOT_FOUND ? resource_missing(c, uri) : rc;
	}
	*result = js_new_object();
	js_object_add(*result, "contents", contents);
	if (!is_static(c->reg, uri)) {
		c->ttl_ms = 0; /* computed at each read */
		c->cache_public = 0;
	}
	return DMCP_OK;
}

static dmcp_rc subscription(struct mcp_call *c, int on, json_object **result)
{
	const char *uri = js_str(c->msg->params, "uri");
	dmcp_rc rc;

	if (uri == NULL)
		return bad_params(c, "uri must be a string");
	if (!reg_has_resource(c->reg, uri))
		return resource_missing(c, uri);
	rc = store_subscribe(c->st, c->sess->id, uri, on, c->cfg->max_subs);
	if (rc == DMCP_E_LIMIT) {
		snprintf(c->err, sizeof c->err, "this session holds %d subscriptions, the limit "
		         "(DMCP_MAX_SUBSCRIPTIONS)", c->cfg->max_subs);
		c->rpc_code = RPC_SERVER_ERROR;
		return rc;
	}
	if (rc != DMCP_OK)
		return rc;
	*result = js_new_object();
	return DMCP_OK;
}

static dmcp_rc do_subscribe(struct mcp_call *c, json_object **result)
{
	return subscription(c, 1, result);
}

static dmcp_rc do_unsubscribe(struct mcp_call *c, json_object **result)
{
	return subscription(c, 0, result);
}

/* DMCP_E_PARAMS with "Invalid params: <why>" in err. */
static dmcp_rc refuse(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "Invalid params: %s", why);
	return DMCP_E_PARAMS;
}

dmcp_rc mcp_prompt_call(const dmcp_registry *reg, json_object *params,
                        const struct dmcp_prompt **prompt, json_object **args,
                        json_object **owned, char *err, size_t errlen)
{
	const char *name = js_str(params, "name");
	const struct dmcp_prompt_arg *a;
	json_object *v;
	char why[200];

	*owned = NULL;
	if (name == NULL)
		return refuse(err, errlen, "name must be a string");
	*prompt = reg_prompt(reg, name);
	if (*prompt == NULL)
		return refuse(err, errlen, "unknown prompt");
	*args = js_get(params, "arguments", json_type_object);
	if (*args == NULL && json_object_object_get_ex(params, "arguments", &v) &&
	    !json_object_is_type(v, json_type_null))
		return refuse(err, errlen, "arguments must be an object");
	if (*args == NULL)
		*args = *owned = js_new_object();
	json_object_object_foreach(*args, key, val) {
		(void)key;
		if (!json_object_is_type(val, json_type_string))
			return refuse(err, errlen, "prompt arguments must be strings");
	}
	for (a = (*prompt)->args; a != NULL && a->name != NULL; a++) {
		if (a->required && js_str(*args, a->name) == NULL) {
			snprintf(why, sizeof why, "missing required argument %.100s", a->name);
			return refuse(err, errlen, why);
		}
	}
	return DMCP_OK;
}

static dmcp_rc do_prompts_get(struct mcp_call *c, json_object **result)
{
	const struct dmcp_prompt *p;
	json_object *args, *messages, *owned = NULL;
	dmcp_rc rc;

	rc = mcp_prompt_call(c->reg, c->msg->params, &p, &args, &owned, c->err, sizeof c->err);
	if (rc == DMCP_OK && p->get == NULL) {
		snprintf(c->err, sizeof c->err, "this prompt runs as a call"); /* server.c runs it */
		rc = DMCP_E_INTERNAL;
	}
	if (rc == DMCP_OK) {
		messages = js_new_array();
		rc = p->get(args, messages);
		if (rc == DMCP_OK) {
			*result = js_new_object();
			if (p->description != NULL)
				js_object_add(*result, "description", js_new_string(p->description));
			js_object_add(*result, "messages", messages);
		} else {
			json_object_put(messages);
			snprintf(c->err, sizeof c->err, "the prompt failed");
		}
	}
	json_object_put(owned);
	return rc;
}

static dmcp_rc do_complete(struct mcp_call *c, json_object **result)
{
	json_object *ref = js_get(c->msg->params, "ref", json_type_object);
	json_object *arg = js_get(c->msg->params, "argument", json_type_object);
	const char *type = js_str(ref, "type"), *an = js_str(arg, "name"), *av = js_str(arg, "value");
	const char *key = NULL;
	const struct dmcp_completion *comp;
	json_object *values = js_new_array(), *compl;
	size_t total;

	if (type == NULL || an == NULL || av == NULL) {
		json_object_put(values);
		return bad_params(c, "completion needs ref.type, argument.name and argument.value");
	}
	if (strcmp(type, "ref/prompt") == 0)
		key = js_str(ref, "name");
	else if (strcmp(type, "ref/resource") == 0)
		key = js_str(ref, "uri");
	if (key == NULL) {
		json_object_put(values);
		return bad_params(c, "ref must be ref/prompt with a name or ref/resource with a uri");
	}
	comp = reg_completion(c->reg, type, key);
	if (comp != NULL && comp->complete(an, av, values) != DMCP_OK) {
		json_object_put(values);
		snprintf(c->err, sizeof c->err, "completion failed");
		return DMCP_E_TOOL;
	}
	total = json_object_array_length(values);
	if (total > MCP_MAX_COMPLETIONS)
		json_object_array_del_idx(values, MCP_MAX_COMPLETIONS, total - MCP_MAX_COMPLETIONS);
	compl = js_new_object();
	js_object_add(compl, "values", values);
	js_object_add(compl, "total", js_new_int64((int64_t)total));
	js_object_add(compl, "hasMore", js_new_boolean(total > MCP_MAX_COMPLETIONS));
	*result = js_new_object();
	js_object_add(*result, "completion", compl);
	return DMCP_OK;
}

/* One method of an era. cap names what the capabilities must declare for the method to be
 * served ("prompts", "resources.subscribe", ...; "changes": any listChanged or subscribe),
 * so that what is declared is served and what is not declared is -32601. */
struct mcp_method {
	const char *method;
	mcp_fn fn;         /* NULL: the transport streams it */
	const char *cap;   /* or NULL: always served */
	int cacheable;     /* 2026-07-28 CacheableResult: ttlMs and cacheScope */
};

/* MCP 2025-11-25, with a session. */
static const struct mcp_method legacy_methods[] = {
	{"initialize", do_initialize, NULL, 0},
	{"ping", do_ping, NULL, 0},
	{"logging/setLevel", do_set_level, "logging", 0},
	{"tools/list", do_tools_list, "tools", 0},
	{"tools/call", NULL, "tools", 0},
	{"resources/list", do_resources_list, "resources", 0},
	{"resources/templates/list", do_templates_list, "resources", 0},
	{"resources/read", do_resources_read, "resources", 0},
	{"resources/subscribe", do_subscribe, "resources.subscribe", 0},
	{"resources/unsubscribe", do_unsubscribe, "resources.subscribe", 0},
	{"prompts/list", do_prompts_list, "prompts", 0},
	{"prompts/get", do_prompts_get, "prompts", 0},
	{"completion/complete", do_complete, "completions", 0},
};

/* MCP 2026-07-28, sessionless: no initialize, ping, logging/setLevel or subscribe. */
static const struct mcp_method modern_methods[] = {
	{"server/discover", do_discover, NULL, 1},
	{"tools/list", do_tools_list, "tools", 1},
	{"tools/call", NULL, "tools", 0},
	{"resources/list", do_resources_list, "resources", 1},
	{"resources/templates/list", do_templates_list, "resources", 1},
	{"resources/read", do_resources_read, "resources", 1},
	{"prompts/list", do_prompts_list, "prompts", 1},
	{"prompts/get", do_prompts_get, "prompts", 0},
	{"completion/complete", do_complete, "completions", 0},
	{"subscriptions/listen", NULL, "changes", 0},
};

/* 1 when caps declares cap ("a" or "a.b" with b true; "changes": any delivered change). */
static int declared(json_object *caps, const char *cap)
{
	const char *dot = strchr(cap, '.');
	char head[32];
	json_object *o;

	if (strcmp(cap, "changes") == 0)
		return declared(caps, "tools.listChanged") || declared(caps, "prompts.listChanged") ||
		       declared(caps, "resources.listChanged") || declared(caps, "resources.subscribe");
	snprintf(head, sizeof head, "%.*s", (int)(dot != NULL ? (size_t)(dot - cap) : strlen(cap)),
	         cap);
	o = js_get(caps, head, json_type_object);
	if (o == NULL || dot == NULL)
		return o != NULL;
	o = js_get(o, dot + 1, json_type_boolean);
	return o != NULL && json_object_get_boolean(o);
}

static const struct mcp_method *find_method(const struct mcp_call *c, const char *method)
{
	const struct mcp_method *t = c->modern ? modern_methods : legacy_methods;
	size_t n = c->modern ? sizeof modern_methods / sizeof modern_methods[0]
	                     : sizeof legacy_methods / sizeof legacy_methods[0];
	const struct mcp_method *hit = NULL;
	json_object *caps;
	size_t i;

	for (i = 0; i < n && hit == NULL; i++)
		if (strcmp(t[i].method, method) == 0)
			hit = &t[i];
	if (hit == NULL || hit->cap == NULL)
		return hit;
	caps = mcp_server_caps(c->reg, c->notifies, c->modern);
	if (!declared(caps, hit->cap))
		hit = NULL;
	json_object_put(caps);
	return hit;
}

enum mcp_kind mcp_method_kind(const struct mcp_call *c, const char *method)
{
	const struct mcp_method *m = find_method(c, method);

	if (m == NULL)
		return MCP_UNKNOWN;
	return m->fn != NULL ? MCP_JSON : MCP_STREAM;
}

dmcp_rc mcp_dispatch(struct mcp_call *c, json_object **result)
{
	const struct mcp_method *m = find_method(c, c->msg->method);
	dmcp_rc rc;

	*result = NULL;
	if (m == NULL || m->fn == NULL) {
		snprintf(c->err, sizeof c->err, "Method not found");
		return DMCP_E_METHOD;
	}
	c->ttl_ms = MCP_LIST_TTL_MS;
	c->cache_public = 1;
	rc = m->fn(c, result);
	if (rc != DMCP_OK || !c->modern)
		return rc;
	if (m->cacheable) {
		js_object_add(*result, "ttlMs", js_new_int(c->ttl_ms));
		js_object_add(*result, "cacheScope",
		                       js_new_string(c->cache_public ? "public" : "private"));
	}
	mcp_modern_result(*result, "complete");
	return DMCP_OK;
}
