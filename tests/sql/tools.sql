-- tools.sql — SQL functions the tests of SQL tools call (tests/tools.bats installs them after
-- the migrations, with examples/sql/): every argument type dmcp maps, every result shape,
-- errors, limits, writes (with and without confirmation), and hostile definitions that must
-- be skipped with a log line while the rest load.

CREATE SCHEMA IF NOT EXISTS dmcp_test;
CREATE TABLE IF NOT EXISTS dmcp_test.writes (
    id        bigserial PRIMARY KEY,
    note      text NOT NULL,
    principal text NOT NULL,
    run_id    text NOT NULL
);
GRANT USAGE ON SCHEMA dmcp_test TO dmcp_tools;
GRANT SELECT, INSERT ON dmcp_test.writes TO dmcp_tools;
GRANT USAGE ON SEQUENCE dmcp_test.writes_id_seq TO dmcp_tools;

CREATE TYPE dmcp_tools.mood AS ENUM ('calm', 'busy', 'away');
CREATE DOMAIN dmcp_tools.percent AS integer CHECK (VALUE BETWEEN 0 AND 100);

-- Every argument type, echoed back.
CREATE FUNCTION dmcp_tools.t_types(t text, v varchar, i2 smallint, i4 integer, i8 bigint,
    n numeric, r real, d double precision, b boolean, j json, jb jsonb, ai integer[],
    at text[], aj jsonb[], e dmcp_tools.mood, ae dmcp_tools.mood[], p dmcp_tools.percent,
    opt text DEFAULT 'the default')
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('t', t, 'v', v, 'i2', i2, 'i4', i4, 'i8', i8, 'n', n, 'r', r,
        'd', d, 'b', b, 'j', j, 'jb', jb, 'ai', ai, 'at', at, 'aj', aj, 'e', e, 'ae', ae,
        'p', p, 'opt', opt)
$$;
COMMENT ON FUNCTION dmcp_tools.t_types IS 'Echoes every argument type
@title Every type';

-- Every result shape.
CREATE FUNCTION dmcp_tools.t_scalar() RETURNS integer LANGUAGE sql AS $$ SELECT 42 $$;
CREATE FUNCTION dmcp_tools.t_text() RETURNS text LANGUAGE sql AS $$ SELECT 'plain text' $$;
CREATE FUNCTION dmcp_tools.t_json() RETURNS json LANGUAGE sql AS $$ SELECT '{"a": [1, 2]}'::json $$;
CREATE FUNCTION dmcp_tools.t_composite(OUT x integer, OUT y text) LANGUAGE sql AS $$ SELECT 1, 'one' $$;
CREATE FUNCTION dmcp_tools.t_table(n integer) RETURNS TABLE (i integer, sq integer)
    LANGUAGE sql STABLE AS $$ SELECT g, g * g FROM generate_series(1, n) g $$;
CREATE FUNCTION dmcp_tools.t_setof() RETURNS SETOF text LANGUAGE sql AS $$ VALUES ('a'), ('b') $$;
CREATE FUNCTION dmcp_tools.t_void() RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION dmcp_tools.t_null() RETURNS text LANGUAGE sql AS $$ SELECT NULL::text $$;
CREATE FUNCTION dmcp_tools.t_array() RETURNS integer[] LANGUAGE sql AS $$ SELECT ARRAY[1, 2, 3] $$;

-- Errors and limits.
CREATE FUNCTION dmcp_tools.t_raise(msg text) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', msg USING DETAIL = 'the detail of it', HINT = 'a hint';
END $$;
CREATE FUNCTION dmcp_tools.t_sleep(seconds double precision) RETURNS text LANGUAGE sql AS $$
    SELECT pg_sleep(seconds)::text || 'slept' $$;
CREATE FUNCTION dmcp_tools.t_many() RETURNS SETOF integer LANGUAGE sql AS $$
    SELECT generate_series(1, 100000) $$;
CREATE FUNCTION dmcp_tools.t_big() RETURNS text LANGUAGE sql AS $$ SELECT repeat('x', 2000000) $$;
CREATE FUNCTION dmcp_tools.t_whoami() RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('principal', current_setting('dmcp.principal'),
        'session', current_setting('dmcp.session_id'), 'run', current_setting('dmcp.run_id'),
        'user', current_user, 'timeout', current_setting('statement_timeout')) $$;
CREATE FUNCTION dmcp_tools.t_peek() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM dmcp_sessions $$;

-- Writes.
CREATE FUNCTION dmcp_tools.t_write(note text) RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO dmcp_test.writes (note, principal, run_id)
    VALUES (note, current_setting('dmcp.principal'), current_setting('dmcp.run_id'))
    RETURNING id $$;
CREATE FUNCTION dmcp_tools.t_write_fail(note text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dmcp_test.writes (note, principal, run_id)
    VALUES (note, current_setting('dmcp.principal'), current_setting('dmcp.run_id'));
    RAISE EXCEPTION 'refused after writing' USING DETAIL = 'the write is undone';
END $$;
-- A write behind a confirmation, with a pause between the write and the commit (the tests
-- kill every worker there).
CREATE FUNCTION dmcp_tools.t_write_confirm(note text, pause double precision DEFAULT 0)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    INSERT INTO dmcp_test.writes (note, principal, run_id)
    VALUES (note, current_setting('dmcp.principal'), current_setting('dmcp.run_id'))
    RETURNING id INTO new_id;
    PERFORM pg_sleep(pause);
    RETURN new_id;
END $$;
COMMENT ON FUNCTION dmcp_tools.t_write_confirm IS 'Writes a note once the user confirms
@confirm';

-- Hostile definitions: each is skipped with a log line; the rest load.
CREATE FUNCTION dmcp_tools."drop table x; --"() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION dmcp_tools."has space"() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION dmcp_tools.t_point(p point) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION dmcp_tools.t_bytes(b bytea) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION dmcp_tools.t_overloaded(a integer) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION dmcp_tools.t_overloaded(a text) RETURNS integer LANGUAGE sql AS $$ SELECT 2 $$;
CREATE FUNCTION dmcp_tools.t_variadic(VARIADIC a integer[]) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION dmcp_tools.t_unnamed(integer) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION dmcp_tools.t_typo() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
COMMENT ON FUNCTION dmcp_tools.t_typo IS '@confrim';
CREATE FUNCTION dmcp_tools.t_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE PROCEDURE dmcp_tools.t_procedure() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION dmcp_tools.echo() RETURNS text LANGUAGE sql AS $$ SELECT 'not the demo echo' $$;
