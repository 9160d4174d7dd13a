#!/usr/bin/env python3
"""seeds.py — writes the seed corpus fuzz/corpus/<target>/ from the inputs the tests use
(tests/*.bats, tests/unit/test_js.c, test_http.c, test_sse.c, tests/schema/2020-12/*.json).
Run from the tree's root: python3 fuzz/seeds.py. Knows nothing of the fuzz targets' code,
only the shape of their inputs (see the comment at the top of each fuzz/fuzz_<target>.c)."""
import base64, glob, hashlib, hmac, json, os, struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")

def write(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def suite():
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/schema/2020-12/*.json"))):
        for g in json.load(open(path)):
            yield os.path.basename(path)[:-5], g

# ---- json: request bodies, good and bad (hostile.bats, transport.bats, test_js.c) ----------
bodies = {
    "initialize": '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{}},"clientInfo":{"name":"bats","version":"1"}}}',
    "initialized": '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    "ping": '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    "tools-call": '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"over cgi","uppercase":true}}}',
    "answer": '{"jsonrpc":"2.0","id":"06a2bd904cdd2f488d6f7fa88c59a8a7/0","result":{"action":"accept","content":{"ok":true}}}',
    "error-response": '{"jsonrpc":"2.0","id":"nope","error":{"code":-1,"message":"no"}}',
    "response-no-id": '{"jsonrpc":"2.0","result":{}}',
    "id-quoted": '{"jsonrpc":"2.0","id":"a \\"quoted\\" \\u00e9 id","method":"ping"}',
    "id-min": '{"jsonrpc":"2.0","id":-9007199254740991,"method":"ping"}',
    "id-big": '{"jsonrpc":"2.0","id":18446744073709551616,"method":"ping"}',
    "id-float": '{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
    "id-null": '{"jsonrpc":"2.0","id":null,"method":"ping"}',
    "version-1": '{"jsonrpc":"1.0","id":1,"method":"ping"}',
    "method-empty": '{"jsonrpc":"2.0","id":1,"method":""}',
    "method-number": '{"jsonrpc":"2.0","id":1,"method":7}',
    "request-with-result": '{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}',
    "params-array": '{"jsonrpc":"2.0","id":1,"method":"ping","params":[]}',
    "batch": '[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
    "nul-escape": '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"a\\u0000b"}}',
    "nul-escape-key": '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a\\u0000b":1}}',
    "backslash-u0000": '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\\\\u0000"}}',
    "surrogate-pair": '"\\u00e9\\ud83d\\ude00"',
    "lone-surrogate": '"\\udc00"',
    "nan": '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":NaN}}',
    "minus-infinity": '{"x":-Infinity}',
    "1e999": '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":1e999}}',
    "trailing": '{"jsonrpc":"2.0","id":1,"method":"ping"} {}',
    "single-quotes": "{'jsonrpc':'2.0','id':1,'method':'ping'}",
    "cut": '{"jsonrpc":"2.0","id":1,"method":"ping"',
    "numbers": '[-0.0e-0,1E+2,0.5,-1.5e-3,9223372036854775807,-9223372036854775808]',
    "loose-numbers": '[1.,-01,.5,+1,0x10]',
    "escapes": '"\\"\\\\\\/\\b\\f\\n\\r\\t"',
    "nested-64": "[" * 64 + "]" * 64,
    "nested-65": "[" * 65 + "]" * 65,
    "objects": '{"a":1,"b":[true,false,null],"c":{"d":"x"}}',
    "trailing-comma": '{"a":1,}',
    "comment": '[1/*c*/]',
    "bom": '\ufeff{}',
}
for name, text in bodies.items():
    write("json", name, text)
raw = {
    "utf8-ff": b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"a\xffb"}}',
    "utf8-overlong": b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"a\xc0\xafb"}}',
    "utf8-surrogate": b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"a\xed\xa0\x80b"}}',
    "utf8-cut": b'{"x":"\xe2\x82"}',
    "nul-byte": b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"a\x00b"}}',
    "raw-newline": b'"a\nb"',
}
for name, data in raw.items():
    write("json", name, data)

# ---- http: header values (transport.bats, test_http.c), then NUL and an allowlist --------
values = [
    "application/json, text/event-stream", "text/event-stream, application/json",
    "application/json;q=0.9, text/event-stream;q=0", "*/*", "application/*, text/*",
    "APPLICATION/JSON , TEXT/EVENT-STREAM", "text/event-stream;q=0.000", "application/json;q=0.",
    "application/json; charset=utf-8", " application/json ;", "application/jsonx",
    "localhost", "localhost:3001", "127.0.0.1:8080", "[::1]:443", "[::1]", "LOCALHOST",
    "evil.example", "localhost:", "localhost:123456", "[::1", "example.org:8443",
    "http://localhost:3001", "https://[::1]", "null", "ftp://localhost",
    "1048576", "0", "18446744073709551616", "-1", " 40", "0x28", "999999999999999999",
    "06a2bd904cdd2f488d6f7fa88c59a8a7:1", "06a2bd904cdd2f488d6f7fa88c59a8a7:0",
    "06A2BD904CDD2F488D6F7FA88C59A8A7:1", "06a2bd904cdd2f488d6f7fa88c59a8a7:",
    "06a2bd904cdd2f488d6f7fa88c59a8a7:9999999999999999999", "5b64e8de88bb19b7e01419301d36c848",
    "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
]
for i, v in enumerate(values):
    write("http", "value-%02d" % i, v)
for i, (v, hosts) in enumerate([("localhost:3001", "localhost,example.com:80"),
                                ("Example.COM:80", "example.com:80,*"),
                                ("[::1]:9", "[::1],127.0.0.1:9"),
                                ("a", "*")]):
    write("http", "allowlist-%d" % i, v.encode() + b"\0" + hosts.encode())

# ---- schema: instances and schemas of the schema tests -----------------------------------
seen = set()
for name, g in suite():
    for k, data in enumerate([g["schema"]] + [t["data"] for t in g.get("tests", [])]):
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        h = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        if h in seen or len(seen) >= 60:
            continue
        seen.add(h)
        write("schema", "%s-%s" % (name, h), text)

# ---- regex: raw mode (even first byte): pattern NUL subject, from patterns.json ----------
n = 0
for name, g in suite():
    if name != "patterns":
        continue
    pats = [g["schema"]["pattern"]] if isinstance(g["schema"].get("pattern"), str) else []
    pats += list(g["schema"].get("patternProperties", {}).keys())
    for p in pats:
        subjects = [t["data"] for t in g.get("tests", []) if isinstance(t["data"], str)] or [""]
        for s in subjects[:2]:
            write("regex", "raw-%02d" % n, b"\0" + p.encode("utf-8", "surrogatepass") + b"\0" +
                  s.encode("utf-8", "surrogatepass"))
            n += 1
# differential mode (odd first byte): bytes that drive the generator
for i in range(12):
    write("regex", "gen-%02d" % i, bytes([1]) + hashlib.sha256(b"regex%d" % i).digest())

# ---- sse: flags, run id bytes, LSN bytes, data NUL comment NUL data (test_sse.c, README) --
datas = ['{"a":1}', "d", "", "a\nb", "a\r\nb", "a\rb", "a\n\nb", "a\r\rb", "a\n\rb", "a\n",
         "\n", "x\r\n\r\ny", "id: forged\n\nevent: x", "0123456789"]
events = [(d, "keepalive" if i % 3 else "a\nb", datas[(i + 5) % len(datas)])
          for i, d in enumerate(datas)] + [
    ("", "keepalive", ""),
    ('{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"{\\"accepted\\":true}"}]}}', "keepalive", "1000"),
    ("line one\nline two", "", "a\r\nb\rc"),
    ("\r\n\r\n", "a\ndata: x", "\n"),
    ("data: not a field", ": colon", "id: 5"),
    ("\u00e9\u2028x", "\r", "trailing\n"),
]
for i, (a, c, b) in enumerate(events):
    head = bytes([i % 4]) + hashlib.md5(b"run%d" % i).digest() + struct.pack(">q", i * 1000 + 7)
    write("sse", "events-%d" % i, head + a.encode() + b"\0" + c.encode() + b"\0" + b.encode())

# ---- state: the requestState of the 2026-07-28 wire and base64url (fuzz_state.c) ----------
# text mode (even first byte): states signed with the target's fixed key for "alice", valid
# at its clock (1000) or expired, and base64url texts; fields mode (odd first byte): bytes.
state_key = bytes(range(32))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


for i, (lsn, expiry) in enumerate([(0, 1000), (7, 4102444800), (123456789, 999), (1, 10**18)]):
    run = hashlib.md5(b"state%d" % i).hexdigest()
    fields = b"v1.%s.%d.%d" % (run.encode(), lsn, expiry)
    mac = hmac.new(state_key, fields + b".alice", hashlib.sha256).digest()
    write("state", "signed-%d" % i, b"\0" + fields + b"." + b64url(mac))
for i, t in enumerate([b"", b"QQ", b"QUI", b"QUJD", b"QQ==", b"QUI=", b"-_-_", b"QR", b"a+b/",
                       b64url(hashlib.sha256(b"x").digest())]):
    write("state", "b64-%d" % i, b"\0" + t)
for i, t in enumerate([b"Zm9vYmE=", b"+/8=", b"QUJD"]):
    write("state", "std-%d" % i, b"\0" + t)
for i in range(8):
    d = hashlib.sha256(b"fields%d" % i).digest() + hashlib.sha256(b"more%d" % i).digest()
    write("state", "fields-%d" % i, bytes([1]) + d[:41] + [b"alice", b"", b"bob.x", "\u00e9".encode(),
                                                            b"a" * 300, b"p\0q", b"1", b"."][i])
