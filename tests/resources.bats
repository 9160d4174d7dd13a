#!/usr/bin/env bats
# resources.bats — resources, prompts and completion in a session, through nginx, served by
# the conformance fixture program (dmcp-conformance.fcgi): resources/read, prompts/get and
# completion/complete answer, and refuse bad params with a JSON-RPC error; the program lists
# its fixtures and no demo tool. MCP 2025-11-25 server/resources, server/prompts,
# server/utilities/completion.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"

setup_file() {
	DMCP_BIN=$(stack_program dmcp-conformance.fcgi)
	export DMCP_BIN
	stack_file_up
}

teardown_file() {
	stack_file_down
}

setup() {
	mcp_init
}

# rpc ID METHOD [PARAMS] — a request in the session.
rpc() {
	if [ $# -ge 3 ]; then
		mcp_call '{"jsonrpc":"2.0","id":'"$1"',"method":"'"$2"'","params":'"$3"'}'
	else
		mcp_call '{"jsonrpc":"2.0","id":'"$1"',"method":"'"$2"'"}'
	fi
}

@test "initialize declares resources (with subscribe) and prompts: the program registers some" {
	mcp_post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'
	assert_status 200
	assert_rpc_result 1 'r["capabilities"]["resources"]["subscribe"] is True
		and isinstance(r["capabilities"]["prompts"], dict)
		and isinstance(r["capabilities"]["tools"], dict)'
}

@test "tools/list has exactly the conformance fixtures, and no demo tool" {
	rpc 1 tools/list
	assert_status 200
	assert_rpc_result 1 '{t["name"] for t in r["tools"]} == {"test_simple_text",
		"test_image_content", "test_audio_content", "test_embedded_resource",
		"test_multiple_content_types", "test_error_handling", "test_tool_with_logging",
		"test_tool_with_progress", "test_sampling", "test_elicitation",
		"test_elicitation_sep1034_defaults", "test_elicitation_sep1330_enums",
		"test_reconnection", "json_schema_2020_12_tool",
		"test_input_required_result_elicitation", "test_input_required_result_sampling",
		"test_input_required_result_list_roots", "test_input_required_result_request_state",
		"test_input_required_result_tampered_state",
		"test_input_required_result_multiple_inputs", "test_input_required_result_multi_round",
		"test_input_required_result_capabilities", "test_missing_capability",
		"test_streaming_elicitation", "test_logging_tool", "test_trigger_tool_change",
		"test_trigger_prompt_change", "test_trigger_resource_update", "greet", "slow_compute",
		"failing_job", "protocol_error_job", "confirm_delete", "multi_input",
		"test_tool_with_task"} and "nextCursor" not in r'
}

@test "resources/read of an unknown uri is -32002" {
	rpc 1 resources/read '{"uri":"test://no-such-resource"}'
	assert_status 200
	assert_rpc_error -32002 "Resource not found" 1
	[ "$(json_get error.data.uri)" = test://no-such-resource ] || { _http_show; return 1; }
	rpc 2 resources/read '{}'
	assert_rpc_error -32602 "uri must be a string" 2
}

@test "resources/read of a known uri works" {
	rpc 1 resources/read '{"uri":"test://static-text"}'
	assert_status 200
	assert_rpc_result 1 'r["contents"][0]["uri"] == "test://static-text"
		and r["contents"][0]["text"] == "This is the content of the static text resource."'
}

@test "prompts/get without a required argument, or with arguments of the wrong types, is -32602" {
	rpc 1 prompts/get '{"name":"test_prompt_with_arguments","arguments":{"arg1":"a"}}'
	assert_status 200
	assert_rpc_error -32602 "missing required argument arg2" 1
	rpc 2 prompts/get '{"name":"test_prompt_with_arguments"}'
	assert_rpc_error -32602 "missing required argument arg1" 2
	rpc 3 prompts/get '{"name":"test_prompt_with_arguments","arguments":{"arg1":"a","arg2":2}}'
	assert_rpc_error -32602 "prompt arguments must be strings" 3
	rpc 4 prompts/get '{"name":"no_such_prompt"}'
	assert_rpc_error -32602 "unknown prompt" 4
	rpc 6 prompts/get '{"name":"test_prompt_with_arguments","arguments":["a","b"]}'
	assert_status 200
	assert_rpc_error -32602 "arguments must be an object" 6
	rpc 7 prompts/get '{"name":"test_prompt_with_arguments","arguments":{"arg1":1,"arg2":"b"}}'
	assert_rpc_error -32602 "prompt arguments must be strings" 7
	rpc 5 prompts/get '{"name":"test_prompt_with_arguments","arguments":{"arg1":"a","arg2":"b"}}'
	assert_status 200
	assert_rpc_result 5 'r["messages"][0]["content"]["text"] ==
		"Prompt with arguments: arg1='"'a'"', arg2='"'b'"'"'
}

@test "completion/complete works" {
	rpc 1 completion/complete '{"ref":{"type":"ref/prompt","name":"test_prompt_with_arguments"},"argument":{"name":"arg1","value":"te"}}'
	assert_status 200
	assert_rpc_result 1 'r["completion"] == {"values": ["test", "testing"], "total": 2,
		"hasMore": False}'
	rpc 2 completion/complete '{"ref":{"type":"ref/prompt","name":"test_prompt_with_arguments"},"argument":{"name":"arg1","value":"zz"}}'
	assert_rpc_result 2 'r["completion"]["values"] == [] and r["completion"]["total"] == 0'
	rpc 3 completion/complete '{"ref":{"type":"ref/prompt"},"argument":{"name":"arg1","value":"te"}}'
	assert_rpc_error -32602 "ref must be ref/prompt with a name" 3
	rpc 4 completion/complete '{"argument":{"name":"arg1","value":"te"}}'
	assert_rpc_error -32602 "completion needs ref.type" 4
}
