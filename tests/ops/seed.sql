-- seed.sql — a fixed database for the golden outputs of tests/ops.bats: three sessions (two
-- live), six runs in every status (one without a session, as the 2026-07-28 wire makes them),
-- their events. Every id and time is fixed; only ages (now() - ...) change from run to run.
INSERT INTO dmcp_sessions (id, principal, protocol, client_info, client_caps, created_at,
                           last_seen, ended_at, live_runs) VALUES
  ('5e55100000000000000000000000000a', 'alice', '2025-11-25',
   '{"name":"claude-code","version":"2.1.0"}', '{"elicitation":{"form":{}}}',
   '2026-01-02 10:00:00+00', '2026-01-02 10:05:00+00', NULL, 1),
  ('5e55100000000000000000000000000b', 'bob', '2025-06-18', '{"name":"inspector"}', '{}',
   '2026-01-02 11:00:00+00', '2026-01-02 11:30:00+00', NULL, 1),
  ('5e55100000000000000000000000000c', 'alice', '2025-11-25',
   '{"name":"evil\u001b[31m","version":"\n1"}', '{}',
   '2026-01-01 09:00:00+00', '2026-01-01 09:10:00+00', '2026-01-01 09:20:00+00', 0);

INSERT INTO dmcp_runs (id, session_id, principal, request_id, tool, tool_version, arguments,
                       status, journal, last_lsn, pending_id, pending_method, steps, error,
                       created_at, updated_at) VALUES
  ('a0000000000000000000000000000001', '5e55100000000000000000000000000a', 'alice', '7',
   'confirm', 1, '{"question":"Deploy?"}', 'waiting',
   '[{"t":"elicit","key":"confirm","id":"a0000000000000000000000000000001/0","req":{"method":"elicitation/create","params":{"message":"Deploy?"}}}]',
   1, 'a0000000000000000000000000000001/0', 'elicitation/create', 1, NULL,
   '2026-01-02 10:01:00+00', '2026-01-02 10:01:00+00'),
  ('a0000000000000000000000000000002', '5e55100000000000000000000000000b', 'bob', '"b-1"',
   'book_flight', 2, '{"to":"Oslo"}', 'waiting', '[]', 1,
   'a0000000000000000000000000000002/0', 'sampling/createMessage', 1, NULL,
   '2026-01-02 11:01:00+00', '2026-01-02 11:02:00+00'),
  ('a0000000000000000000000000000003', '5e55100000000000000000000000000a', 'alice', '8',
   'echo', 1, '{"message":"hi"}', 'completed', '[]', 1, NULL, NULL, 1, NULL,
   '2026-01-02 10:02:00+00', '2026-01-02 10:02:01+00'),
  ('a0000000000000000000000000000004', '5e55100000000000000000000000000a', 'alice', '9',
   'roll_dice', 1, '{"sides":0}', 'failed', '[]', 1, NULL, NULL, 1, 'sides must be positive',
   '2026-01-02 10:03:00+00', '2026-01-02 10:03:02+00'),
  ('a0000000000000000000000000000005', '5e55100000000000000000000000000c', 'alice', '1',
   'confirm', 1, '{}', 'cancelled', '[]', 0, NULL, NULL, 1, 'session ended by the client',
   '2026-01-01 09:05:00+00', '2026-01-01 09:20:00+00'),
  ('a0000000000000000000000000000006', NULL, 'carol', '3', 'slow_progress', 1, '{"n":5}',
   'running', '[]', 0, NULL, NULL, 1, NULL, '2026-01-03 08:00:00+00', '2026-01-03 08:00:00+00');

INSERT INTO dmcp_events (run_id, lsn, kind, body, created_at) VALUES
  ('a0000000000000000000000000000001', 1, 'request',
   '{"jsonrpc":"2.0","id":"a0000000000000000000000000000001/0","method":"elicitation/create","params":{"message":"Deploy?"}}',
   '2026-01-02 10:01:00+00'),
  ('a0000000000000000000000000000002', 1, 'request',
   '{"jsonrpc":"2.0","id":"a0000000000000000000000000000002/0","method":"sampling/createMessage","params":{}}',
   '2026-01-02 11:02:00+00'),
  ('a0000000000000000000000000000003', 1, 'response',
   '{"jsonrpc":"2.0","id":8,"result":{"content":[{"type":"text","text":"hi"}]}}',
   '2026-01-02 10:02:01+00'),
  ('a0000000000000000000000000000004', 1, 'response',
   '{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"sides must be positive"}],"isError":true}}',
   '2026-01-02 10:03:02+00');
