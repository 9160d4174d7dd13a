/* sampling.c — the deterministic mock sampling provider, the fallback for clients that did
 * not declare sampling (demos and tests). Knows nothing of HTTP or the database.
 * MCP 2025-11-25 client/sampling (CreateMessageResult). */
#include <stdio.h>
#include <string.h>
#include "buf.h"
#include "js.h"

/* Bytes of the mock's answer text. */
#define MOCK_MAX_TEXT 4096
/* Bytes of text per token the mock reports as its usage. */
#define MOCK_BYTES_PER_TOKEN 4

/* The text of the last user message (its first text block), or "". */
static const char *last_user_text(json_object *params)
{
	json_object *msgs = js_get(params, "messages", json_type_array);
	size_t n = msgs != NULL ? json_object_array_length(msgs) : 0;

	while (n-- > 0) {
		json_object *m = json_object_array_get_idx(msgs, n), *c;
		const char *role = js_str(m, "role");
		if (role == NULL || strcmp(role, "user") != 0)
			continue;
		c = js_get(m, "content", json_type_object);
		if (c == NULL) {
			json_object *arr = js_get(m, "content", json_type_array);
			c = arr != NULL && json_object_array_length(arr) > 0
			        ? json_object_array_get_idx(arr, 0) : NULL;
		}
		if (c != NULL && js_str(c, "text") != NULL)
			return js_str(c, "text");
	}
	return "";
}

/* _meta.usage, as a provider reports what a sampling cost: a token per MOCK_BYTES_PER_TOKEN
 * bytes of the prompt (in) and of the answer (out). */
static json_object *mock_usage(const char *prompt, const char *answer)
{
	json_object *meta = js_new_object(), *usage = js_new_object();

	js_object_add(usage, "inputTokens", js_new_int64((int64_t)((strlen(prompt) +
	              MOCK_BYTES_PER_TOKEN - 1) / MOCK_BYTES_PER_TOKEN)));
	js_object_add(usage, "outputTokens", js_new_int64((int64_t)((strlen(answer) +
	              MOCK_BYTES_PER_TOKEN - 1) / MOCK_BYTES_PER_TOKEN)));
	js_object_add(meta, "usage", usage);
	return meta;
}

static dmcp_rc mock_create(void *state, json_object *params, json_object **result)
{
	char text[MOCK_MAX_TEXT];
	json_object *r = js_new_object(), *content = js_new_object();

	(void)state;
	snprintf(text, sizeof text, "mock response to: %s", last_user_text(params));
	js_object_add(r, "_meta", mock_usage(last_user_text(params), text));
	js_object_add(content, "type", js_new_string("text"));
	js_object_add(content, "text", js_new_string(text));
	js_object_add(r, "role", js_new_string("assistant"));
	js_object_add(r, "content", content);
	js_object_add(r, "model", js_new_string("dmcp-mock"));
	js_object_add(r, "stopReason", js_new_string("endTurn"));
	*result = r;
	return DMCP_OK;
}

static const struct dmcp_sampling_provider mock = {"mock", mock_create, NULL};

const struct dmcp_sampling_provider *dmcp_mock_sampling_provider(void)
{
	return &mock;
}
