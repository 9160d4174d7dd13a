-- 005_sql_tools: PostgreSQL functions as MCP tools. Every function of one schema
-- (DMCP_SQL_TOOLS_SCHEMA, default dmcp_tools) is a tool, called inside the step's transaction
-- as a role with no rights beyond that schema (DMCP_SQL_TOOLS_ROLE, default dmcp_tools).
-- dmcp_tool_catalog() tells the program what the functions look like; an event trigger, where
-- the migrating role may create one, announces changes to them ('l:tools' on the channel).

-- The role the functions run as: no login, and nothing beyond what is granted to it (the
-- README says what to grant). Roles belong to the cluster: one that exists is kept as it is.
-- Creating it needs CREATEROLE; without it, the migration goes on, and the operator creates
-- the role (or names another with DMCP_SQL_TOOLS_ROLE).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dmcp_tools') THEN
        BEGIN
            CREATE ROLE dmcp_tools NOLOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'dmcp: no role dmcp_tools (%): create it, or set DMCP_SQL_TOOLS_ROLE', SQLERRM;
            RETURN;
        END;
    END IF;
    -- dmcp switches to the role for each call: SET ROLE needs membership.
    BEGIN
        EXECUTE format('GRANT dmcp_tools TO %I', current_user);
    EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
        RAISE NOTICE 'dmcp: % cannot be made a member of dmcp_tools (%)', current_user, SQLERRM;
    END;
END $$;

CREATE SCHEMA IF NOT EXISTS dmcp_tools;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dmcp_tools') THEN
        GRANT USAGE ON SCHEMA dmcp_tools TO dmcp_tools;
    END IF;
END $$;

-- A type with its domains resolved to the type they are based on.
CREATE OR REPLACE FUNCTION dmcp_base_type(t oid) RETURNS oid
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE d(id, base, depth) AS (
        SELECT oid, typbasetype, 0 FROM pg_type WHERE oid = t
        UNION ALL
        SELECT p.oid, p.typbasetype, d.depth + 1 FROM pg_type p JOIN d ON p.oid = d.base
         WHERE d.base <> 0 AND d.depth < 64)
    SELECT id FROM d WHERE base = 0
$$;

-- What dmcp needs of a type: its SQL name as declared, and the type a value is made of once
-- domains are resolved: for an array, its element's (name, typtype, enum labels).
CREATE OR REPLACE FUNCTION dmcp_type_json(t oid) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
               'sql', format_type(t, NULL),
               'array', e.oid <> b.oid,
               'name', e.typname,
               'kind', e.typtype,
               'enum', CASE WHEN e.typtype = 'e' THEN
                   (SELECT json_agg(enumlabel ORDER BY enumsortorder) FROM pg_enum
                     WHERE enumtypid = e.oid) END)
      FROM pg_type b, pg_type e
     WHERE b.oid = dmcp_base_type(t)
       AND e.oid = CASE WHEN b.typcategory = 'A' AND b.typelem <> 0
                        THEN dmcp_base_type(b.typelem) ELSE b.oid END
$$;

-- The functions of schema p_schema as a JSON array, by name: for each, its name, its
-- schema-qualified quoted name (ident), its comment, kind (f: a function), volatility (i, s,
-- v), whether the name is overloaded, what it returns ({set, type}) and its arguments in
-- order ({name, ident, mode (i, o, b, v, t), default, type}).
CREATE OR REPLACE FUNCTION dmcp_tool_catalog(p_schema text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(f ORDER BY f.name, f.oid), '[]')
      FROM (SELECT p.oid, p.proname AS name,
                   quote_ident(n.nspname) || '.' || quote_ident(p.proname) AS ident,
                   obj_description(p.oid, 'pg_proc') AS comment,
                   p.prokind AS kind,
                   p.provolatile AS volatility,
                   count(*) OVER (PARTITION BY p.proname) > 1 AS overloaded,
                   json_build_object('set', p.proretset,
                                     'type', dmcp_type_json(p.prorettype)) AS returns,
                   coalesce(a.args, '[]') AS args
              FROM pg_proc p
              JOIN pg_namespace n ON n.oid = p.pronamespace
              LEFT JOIN LATERAL (
                  SELECT json_agg(json_build_object(
                             'name', x.name, 'ident', quote_ident(x.name), 'mode', x.mode,
                             'default', x.inpos IS NOT NULL
                                        AND x.inpos > p.pronargs - p.pronargdefaults,
                             'type', dmcp_type_json(x.type)) ORDER BY x.pos) AS args
                    FROM (SELECT u.type, u.mode, coalesce(u.name, '') AS name, u.pos,
                                 CASE WHEN u.mode IN ('i', 'b', 'v') THEN
                                     count(*) FILTER (WHERE u.mode IN ('i', 'b', 'v'))
                                         OVER (ORDER BY u.pos) END AS inpos
                            FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]),
                                        coalesce(p.proargmodes,
                                                 array_fill('i'::"char", ARRAY[p.pronargs])),
                                        p.proargnames)
                                 WITH ORDINALITY AS u(type, mode, name, pos)) x
              ) a ON true
             WHERE n.nspname = p_schema) f
$$;

-- Changes to functions, their comments and the types they use reach the running programs:
-- each hears 'l:tools' and reads the catalog again (MCP clients are told the tool list
-- changed). Creating an event trigger needs a superuser; without one, programs read the
-- catalog again on SIGHUP.
CREATE OR REPLACE FUNCTION dmcp_tools_changed() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dmcp', 'l:tools');
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'dmcp_tools_changed') THEN
        CREATE EVENT TRIGGER dmcp_tools_changed ON ddl_command_end
            WHEN TAG IN ('CREATE FUNCTION', 'ALTER FUNCTION', 'DROP FUNCTION', 'COMMENT',
                         'CREATE TYPE', 'ALTER TYPE', 'DROP TYPE', 'CREATE DOMAIN',
                         'ALTER DOMAIN', 'DROP DOMAIN', 'CREATE SCHEMA', 'ALTER SCHEMA',
                         'DROP SCHEMA', 'GRANT', 'REVOKE')
            EXECUTE FUNCTION dmcp_tools_changed();
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'dmcp: no event trigger (it needs a superuser): SQL tools are read again on SIGHUP';
END $$;
