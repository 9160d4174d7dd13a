-- mcp.lua — the wrk script of bench/run: MCP over Streamable HTTP as a client that speaks
-- the protocol, for the cheap operations, so that a C load generator and not Node is what
-- drives the servers. It knows nothing of either server: only the wire.
--
--   BENCH_WRK_MODE=echo BENCH_WRK_SIDS=FILE BENCH_WRK_OUT=FILE \
--       wrk -t K -c K -d 5s --timeout 10s -s bench/mcp.lua http://127.0.0.1:PORT/mcp
--
-- One connection per wrk thread (-t K -c K): each thread is one client with its own Lua
-- state, so each connection has its own session. Modes (BENCH_WRK_MODE):
--   echo       tools/call echo {message} in a loop; one operation = one call whose result
--              carries the echoed text. On the session wire (BENCH_WRK_WIRE=session, the
--              default) thread i uses session i of BENCH_WRK_SIDS (lines "SID VERSION",
--              made beforehand by `load.mjs open`: initialize + notifications/initialized).
--   sessions   initialize, then notifications/initialized with the Mcp-Session-Id it got;
--              one operation = one session (two requests; the 202 of the second counts it).
--   roundtrip  only on the modern wire (BENCH_WRK_WIRE=modern): tools/call confirm → a result
--              with resultType "input_required", an elicitation in inputRequests and a
--              requestState → the same call again with inputResponses and that requestState
--              → the result {accepted: true}. One operation = one round trip (two requests).
--              On the session wire a round trip needs an SSE reader: bench/load.mjs does it.
-- BENCH_WRK_WIRE=modern is the 2026-07-28 stateless wire: no session, every request carries
-- MCP-Protocol-Version, Mcp-Method, Mcp-Name and the _meta envelope (protocol version, client
-- capabilities, client info). Written before any server here spoke it: check it against the
-- first one that does.
--
-- Every answer is checked (status, and the body's key fields; JSON or an SSE body alike, by
-- pattern, not by parsing). done() writes one JSON line to BENCH_WRK_OUT: operations,
-- requests, the run's duration, the rate, wrk's per-request latency (p50, p99, max in ms),
-- failed checks and wrk's socket errors, and up to three samples of what failed.

local PROTOCOL = "2025-11-25"
local MODERN = "2026-07-28"
local MESSAGE = "hello, bench"

-- A Lua pattern matching TEXT literally.
local function lit(text)
	return (text:gsub("%p", "%%%0"))
end

local mode = os.getenv("BENCH_WRK_MODE") or "echo"
local wire = os.getenv("BENCH_WRK_WIRE") or "session"

-- ---- the main state: one session per thread, the result line ----

local threads = {}
local sessions = nil

local function read_sessions()
	local list = {}
	local path = os.getenv("BENCH_WRK_SIDS")
	if not path then
		return list
	end
	local f = io.open(path, "r")
	if not f then
		return list
	end
	for line in f:lines() do
		local sid, ver = line:match("^(%S+)%s+(%S+)")
		if sid then
			list[#list + 1] = { sid = sid, ver = ver }
		end
	end
	f:close()
	return list
end

function setup(thread)
	if sessions == nil then
		sessions = read_sessions()
	end
	threads[#threads + 1] = thread
	local s = sessions[#threads]
	if s then
		thread:set("sid", s.sid)
		thread:set("ver", s.ver)
	end
end

local function jstr(s)
	s = tostring(s):gsub('[%c"\\]', function(c)
		if c == '"' then
			return '\\"'
		elseif c == "\\" then
			return "\\\\"
		end
		return string.format("\\u%04x", c:byte())
	end)
	return '"' .. s .. '"'
end

function done(summary, latency, requests)
	local ops, bad, samples = 0, 0, {}
	for _, t in ipairs(threads) do
		ops = ops + (t:get("ops") or 0)
		bad = bad + (t:get("bad") or 0)
		local s = t:get("sample")
		if s and #samples < 3 then
			samples[#samples + 1] = jstr(s)
		end
	end
	local e = summary.errors
	local sock = e.connect + e.read + e.write + e.timeout
	local secs = summary.duration / 1e6
	local ms = function(us) return us / 1000 end
	local line = string.format('{"scenario":%s,"wire":%s,"k":%d,"ops":%d,"requests":%d,' ..
		'"duration_ms":%.1f,"rate":%.3f,"lat_ms":{"n":%d,"p50":%.3f,"p99":%.3f,"max":%.3f},' ..
		'"errors":%d,"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
		'"http_errors":%d,"error_samples":[%s]}\n',
		jstr(mode), jstr(wire), #threads, ops, summary.requests, secs * 1000,
		secs > 0 and ops / secs or 0, summary.requests, ms(latency:percentile(50)),
		ms(latency:percentile(99)), ms(latency.max), bad + sock, e.connect, e.read, e.write,
		e.timeout, e.status, table.concat(samples, ","))
	local path = os.getenv("BENCH_WRK_OUT")
	local f = path and io.open(path, "w")
	if f then
		f:write(line)
		f:close()
	else
		io.write(line)
	end
end

-- ---- each thread: one client ----

ops, bad, sample = 0, 0, nil -- globals: done() reads them with thread:get
local nextid = 0
local step = 1 -- sessions: 1 initialize, 2 initialized; roundtrip: 1 call, 2 retry
local got_sid, state, answer_key = nil, nil, nil

local function fail(what, status, body)
	bad = bad + 1
	if sample == nil then
		sample = string.format("%s: HTTP %d: %s", what, status, (body or ""):sub(1, 200))
	end
end

local function headers(h)
	h["Content-Type"] = "application/json"
	h["Accept"] = "application/json, text/event-stream"
	return h
end

local function session_headers()
	return headers({ ["Mcp-Session-Id"] = sid, ["MCP-Protocol-Version"] = ver or PROTOCOL })
end

local function modern_headers(method, name)
	return headers({ ["MCP-Protocol-Version"] = MODERN, ["Mcp-Method"] = method, ["Mcp-Name"] = name })
end

local ENVELOPE = string.format('{"io.modelcontextprotocol/protocolVersion":"%s",' ..
	'"io.modelcontextprotocol/clientCapabilities":{"elicitation":{"form":{}}},' ..
	'"io.modelcontextprotocol/clientInfo":{"name":"dmcp-bench-wrk","version":"1"}}', MODERN)

local function post(h, body)
	return wrk.format("POST", nil, h, body)
end

local function id()
	nextid = nextid + 1
	return nextid
end

local requesters = {}
local checkers = {}

function requesters.echo()
	local args = string.format('"arguments":{"message":"%s"}', MESSAGE)
	if wire == "modern" then
		return post(modern_headers("tools/call", "echo"), string.format(
			'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo",%s,"_meta":%s}}',
			id(), args, ENVELOPE))
	end
	return post(session_headers(), string.format(
		'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo",%s}}', id(), args))
end

function checkers.echo(status, h, body)
	if status == 200 and body:find('"echoed"%s*:%s*"' .. lit(MESSAGE) .. '"') then
		ops = ops + 1
	else
		fail("echo", status, body)
	end
end

function requesters.sessions()
	if step == 2 then
		return post(headers({ ["Mcp-Session-Id"] = got_sid, ["MCP-Protocol-Version"] = PROTOCOL }),
			'{"jsonrpc":"2.0","method":"notifications/initialized"}')
	end
	return post(headers({}), string.format('{"jsonrpc":"2.0","id":%d,"method":"initialize",' ..
		'"params":{"protocolVersion":"%s","capabilities":{"elicitation":{"form":{}}},' ..
		'"clientInfo":{"name":"dmcp-bench-wrk","version":"1"}}}', id(), PROTOCOL))
end

local function header(h, name)
	for k, v in pairs(h) do
		if k:lower() == name then
			return v
		end
	end
	return nil
end

function checkers.sessions(status, h, body)
	if step == 2 then
		step = 1
		if status == 202 then
			ops = ops + 1
		else
			fail("notifications/initialized", status, body)
		end
		return
	end
	got_sid = header(h, "mcp-session-id")
	if status == 200 and got_sid and body:find('"protocolVersion"%s*:%s*"' .. lit(PROTOCOL) .. '"') then
		step = 2
	else
		fail("initialize", status, body)
	end
end

function requesters.roundtrip()
	local call = '"name":"confirm","arguments":{"question":"Bench?"}'
	if step == 2 then
		return post(modern_headers("tools/call", "confirm"), string.format(
			'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{%s,' ..
			'"inputResponses":{"%s":{"action":"accept","content":{"ok":true}}},' ..
			'"requestState":"%s","_meta":%s}}', id(), call, answer_key, state, ENVELOPE))
	end
	return post(modern_headers("tools/call", "confirm"), string.format(
		'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{%s,"_meta":%s}}',
		id(), call, ENVELOPE))
end

-- The key and the state are copied as they appear between the quotes of the JSON text, escapes
-- and all, and written back into JSON text: no decoding is needed.
function checkers.roundtrip(status, h, body)
	if step == 2 then
		step = 1
		if status == 200 and body:find('"accepted"%s*:%s*true') then
			ops = ops + 1
		else
			fail("confirm, answered", status, body)
		end
		return
	end
	state = body:match('"requestState"%s*:%s*"([^"]*)"')
	answer_key = body:match('"inputRequests"%s*:%s*{%s*"([^"]*)"')
	if status == 200 and body:find('"resultType"%s*:%s*"input_required"') and state and answer_key then
		step = 2
	else
		fail("confirm", status, body)
	end
end

local req_fn, check_fn = requesters[mode], checkers[mode]
if req_fn == nil or (mode == "roundtrip" and wire ~= "modern") then
	error("mcp.lua: unknown mode '" .. mode .. "' on wire '" .. wire .. "'")
end

-- A request lost with its connection is sent again from the same step: the step moves on
-- only when an answer arrived.
function request()
	return req_fn()
end

function response(status, h, body)
	check_fn(status, h, body)
end
