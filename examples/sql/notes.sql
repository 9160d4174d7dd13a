-- notes.sql — SQL functions as MCP tools, an example that `make run` installs: a shared
-- notebook. Every function of the schema dmcp_tools is a tool; its comment is the tool's
-- description, and lines starting with '@' add a title and hints (@confirm: dmcp asks the
-- user before the function runs). The functions run as the role dmcp_tools, which may do
-- only what is granted to it here; the caller is current_setting('dmcp.principal').
-- Safe to run twice.

CREATE SCHEMA IF NOT EXISTS dmcp_examples;
CREATE TABLE IF NOT EXISTS dmcp_examples.notes (
    id         bigserial PRIMARY KEY,
    author     text NOT NULL,
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    tags       text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
-- What the tools may do, and nothing else.
GRANT USAGE ON SCHEMA dmcp_examples TO dmcp_tools;
GRANT SELECT, INSERT, DELETE ON dmcp_examples.notes TO dmcp_tools;
GRANT USAGE ON SEQUENCE dmcp_examples.notes_id_seq TO dmcp_tools;

-- A read-only report: STABLE, so the tool says readOnlyHint; a set of rows comes back as a
-- JSON array (and as structuredContent {"rows": [...]}).
CREATE OR REPLACE FUNCTION dmcp_tools.notes_report(author text DEFAULT NULL,
                                                   max_rows integer DEFAULT 20)
RETURNS TABLE (id bigint, author text, body text, tags text[], created_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT n.id, n.author, n.body, n.tags, n.created_at
      FROM dmcp_examples.notes n
     WHERE notes_report.author IS NULL OR n.author = notes_report.author
     ORDER BY n.id DESC
     LIMIT least(greatest(max_rows, 1), 200)
$$;
COMMENT ON FUNCTION dmcp_tools.notes_report(text, integer) IS
'Lists the latest notes, newest first, optionally only those of one author.
@title Notes report';

-- A write: the note is kept under the name of whoever called the tool. The insert commits
-- together with the call's result, exactly once.
CREATE OR REPLACE FUNCTION dmcp_tools.add_note(body text, tags text[] DEFAULT '{}')
RETURNS jsonb
LANGUAGE sql AS $$
    INSERT INTO dmcp_examples.notes (author, body, tags)
    VALUES (current_setting('dmcp.principal'), body, tags)
    RETURNING jsonb_build_object('id', id, 'author', author, 'created_at', created_at)
$$;
COMMENT ON FUNCTION dmcp_tools.add_note(text, text[]) IS
'Adds a note to the shared notebook, signed with your name.
@title Add a note';

-- A write that needs confirmation: dmcp shows the user the tool and its arguments and runs
-- the function only once they tick "Run".
CREATE OR REPLACE FUNCTION dmcp_tools.delete_notes(author text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM dmcp_examples.notes WHERE notes.author = delete_notes.author;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN
        RAISE EXCEPTION 'no notes by %', author
            USING DETAIL = 'Nothing was deleted.', HINT = 'notes_report lists the authors.';
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION dmcp_tools.delete_notes(text) IS
'Deletes every note of one author and says how many went.
@title Delete notes
@confirm';
