"""Search index: one document per session (title, description, tags, teacher name), kept by triggers.

SQLite: an FTS5 table `session_search` (rowid = session id) with the `unicode61 remove_diacritics 2`
tokenizer, so case and accents fold on both sides of a MATCH. PostgreSQL: a `session_search` table
holding a weighted tsvector ('simple' configuration, accents folded by `visio_search_fold`: the
`unaccent` extension when the server has it, else `translate` with visio.search_text's table) under
a GIN index. Database triggers keep either one in step with every write, so no service has to.

Both are outside the SQLModel metadata (alembic/env.py skips them when comparing). Beware: a later
migration that rebuilds one of the watched tables on SQLite (batch mode "move and copy") drops its
triggers and must create them again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 11:02:41.503118
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from visio.search_text import ACCENTED, PLAIN

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _upgrade_sqlite()
    else:
        _upgrade_postgresql()


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for name in SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
        op.execute('DROP TABLE IF EXISTS session_search')
        return
    for name, table in PG_TRIGGERS:
        op.execute(f'DROP TRIGGER IF EXISTS {name} ON {table}')
    for function in PG_FUNCTIONS:
        op.execute(f'DROP FUNCTION IF EXISTS {function}')
    op.execute('DROP TABLE IF EXISTS session_search')
    # Created by upgrade if missing; left in place when something else still uses it.
    op.execute("""
        DO $$ BEGIN
            DROP EXTENSION IF EXISTS unaccent;
        EXCEPTION WHEN dependent_objects_still_exist THEN NULL;
        END $$
    """)


# --- SQLite: FTS5 ----------------------------------------------------------------------------

# The tag names of the session whose id is `{id}`, space separated (NULL when it has none).
_SQLITE_TAGS = """(
    SELECT group_concat(t.name, ' ') FROM session_tags AS st JOIN tags AS t ON t.id = st.tag_id
    WHERE st.session_id = {id})"""

SQLITE_TRIGGERS = {
    'session_search_session_inserted': f"""
        AFTER INSERT ON video_sessions BEGIN
            INSERT INTO session_search (rowid, title, description, tags, teacher)
            VALUES (new.id, new.title, new.description, {_SQLITE_TAGS.format(id='new.id')},
                    (SELECT full_name FROM users WHERE id = new.teacher_id));
        END""",
    'session_search_session_updated': """
        AFTER UPDATE OF title, description, teacher_id ON video_sessions
        WHEN new.title IS NOT old.title OR new.description IS NOT old.description
             OR new.teacher_id IS NOT old.teacher_id
        BEGIN
            UPDATE session_search
            SET title = new.title, description = new.description,
                teacher = (SELECT full_name FROM users WHERE id = new.teacher_id)
            WHERE rowid = new.id;
        END""",
    'session_search_session_deleted': """
        AFTER DELETE ON video_sessions BEGIN
            DELETE FROM session_search WHERE rowid = old.id;
        END""",
    'session_search_tag_added': f"""
        AFTER INSERT ON session_tags BEGIN
            UPDATE session_search SET tags = {_SQLITE_TAGS.format(id='new.session_id')}
            WHERE rowid = new.session_id;
        END""",
    'session_search_tag_removed': f"""
        AFTER DELETE ON session_tags BEGIN
            UPDATE session_search SET tags = {_SQLITE_TAGS.format(id='old.session_id')}
            WHERE rowid = old.session_id;
        END""",
    'session_search_tag_renamed': f"""
        AFTER UPDATE OF name ON tags BEGIN
            UPDATE session_search SET tags = {_SQLITE_TAGS.format(id='session_search.rowid')}
            WHERE rowid IN (SELECT session_id FROM session_tags WHERE tag_id = new.id);
        END""",
    'session_search_teacher_renamed': """
        AFTER UPDATE OF full_name ON users BEGIN
            UPDATE session_search SET teacher = new.full_name
            WHERE rowid IN (SELECT id FROM video_sessions WHERE teacher_id = new.id);
        END""",
}


def _upgrade_sqlite() -> None:
    # The prefix indexes answer the short prefixes typed first ("al*") without merging term lists.
    op.execute("""
        CREATE VIRTUAL TABLE session_search USING fts5(
            title, description, tags, teacher,
            tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
        )
    """)
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f'CREATE TRIGGER {name} {body}')
    op.execute(f"""
        INSERT INTO session_search (rowid, title, description, tags, teacher)
        SELECT s.id, s.title, s.description, {_SQLITE_TAGS.format(id='s.id')}, u.full_name
        FROM video_sessions AS s JOIN users AS u ON u.id = s.teacher_id
    """)


# --- PostgreSQL: tsvector + GIN --------------------------------------------------------------

PG_TRIGGERS = [
    ('session_search_session_inserted', 'video_sessions'),
    ('session_search_session_updated', 'video_sessions'),
    ('session_search_tags_changed', 'session_tags'),
    ('session_search_tag_renamed', 'tags'),
    ('session_search_teacher_renamed', 'users'),
]
PG_FUNCTIONS = [
    'visio_search_on_session()',
    'visio_search_on_session_tag()',
    'visio_search_on_tag()',
    'visio_search_on_teacher()',
    'visio_index_sessions(integer[])',
    'visio_search_fold(text)',
]


def _pg_fold_body() -> str:
    """The body of `visio_search_fold`: unaccent when the server offers it, else a translate()."""
    if context.is_offline_mode():  # a script for a server we cannot ask: assume the usual
        op.execute('CREATE EXTENSION IF NOT EXISTS unaccent')
        return "SELECT public.unaccent('public.unaccent'::regdictionary, value)"
    bind = op.get_bind()
    offered = bind.scalar(sa.text(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'unaccent'"
    ))
    if offered:
        try:
            with bind.begin_nested():  # a refusal (no privilege) must not abort the migration
                bind.execute(sa.text('CREATE EXTENSION IF NOT EXISTS unaccent'))
        except sa.exc.DBAPIError:
            pass
    schema = bind.scalar(sa.text(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'"
    ))
    if schema:
        # Schema-qualified: the function must not depend on the caller's search_path.
        return f"SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, value)"
    return f"SELECT translate(value, '{ACCENTED}', '{PLAIN}')"


def _upgrade_postgresql() -> None:
    op.execute(f"""
        CREATE FUNCTION visio_search_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ {_pg_fold_body()} $$
    """)
    op.create_table('session_search',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('document', postgresql.TSVECTOR(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['video_sessions.id'], name=op.f('fk_session_search_session_id_video_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_session_search'))
    )
    # Sessions are written rarely and searched all the time: entries go straight into the index
    # rather than into a pending list that every search would scan until the next vacuum.
    op.create_index('ix_session_search_document', 'session_search', ['document'], unique=False, postgresql_using='gin', postgresql_with={'fastupdate': 'off'})

    # Weights tell the fields apart: A title, B description, C tags, D teacher name.
    op.execute("""
        CREATE FUNCTION visio_index_sessions(ids integer[]) RETURNS void
        LANGUAGE sql AS $$
            INSERT INTO session_search (session_id, document)
            SELECT s.id,
                   setweight(to_tsvector('simple', visio_search_fold(s.title)), 'A')
                || setweight(to_tsvector('simple', visio_search_fold(s.description)), 'B')
                || setweight(to_tsvector('simple', visio_search_fold(coalesce(tagged.names, ''))), 'C')
                || setweight(to_tsvector('simple', visio_search_fold(u.full_name)), 'D')
            FROM video_sessions AS s
            JOIN users AS u ON u.id = s.teacher_id
            LEFT JOIN LATERAL (
                SELECT string_agg(t.name, ' ') AS names
                FROM session_tags AS st JOIN tags AS t ON t.id = st.tag_id
                WHERE st.session_id = s.id
            ) AS tagged ON true
            WHERE s.id = ANY(ids)
            ON CONFLICT (session_id) DO UPDATE SET document = excluded.document
        $$
    """)
    _pg_trigger('visio_search_on_session', 'PERFORM visio_index_sessions(ARRAY[NEW.id]);')
    op.execute("""
        CREATE TRIGGER session_search_session_inserted AFTER INSERT ON video_sessions
        FOR EACH ROW EXECUTE FUNCTION visio_search_on_session()
    """)
    op.execute("""
        CREATE TRIGGER session_search_session_updated
        AFTER UPDATE OF title, description, teacher_id ON video_sessions FOR EACH ROW
        WHEN (OLD.title IS DISTINCT FROM NEW.title
              OR OLD.description IS DISTINCT FROM NEW.description
              OR OLD.teacher_id IS DISTINCT FROM NEW.teacher_id)
        EXECUTE FUNCTION visio_search_on_session()
    """)
    # A deleted session's document goes with it (ON DELETE CASCADE); a session being deleted is
    # no longer in video_sessions, so re-indexing it after its tags go inserts nothing.
    _pg_trigger('visio_search_on_session_tag', """
        IF TG_OP <> 'INSERT' THEN PERFORM visio_index_sessions(ARRAY[OLD.session_id]); END IF;
        IF TG_OP <> 'DELETE' THEN PERFORM visio_index_sessions(ARRAY[NEW.session_id]); END IF;
    """)
    op.execute("""
        CREATE TRIGGER session_search_tags_changed AFTER INSERT OR UPDATE OR DELETE ON session_tags
        FOR EACH ROW EXECUTE FUNCTION visio_search_on_session_tag()
    """)
    _pg_trigger('visio_search_on_tag', """
        PERFORM visio_index_sessions(ARRAY(
            SELECT session_id FROM session_tags WHERE tag_id = NEW.id));
    """)
    op.execute("""
        CREATE TRIGGER session_search_tag_renamed AFTER UPDATE OF name ON tags FOR EACH ROW
        WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION visio_search_on_tag()
    """)
    _pg_trigger('visio_search_on_teacher', """
        PERFORM visio_index_sessions(ARRAY(
            SELECT id FROM video_sessions WHERE teacher_id = NEW.id));
    """)
    op.execute("""
        CREATE TRIGGER session_search_teacher_renamed AFTER UPDATE OF full_name ON users
        FOR EACH ROW WHEN (OLD.full_name IS DISTINCT FROM NEW.full_name)
        EXECUTE FUNCTION visio_search_on_teacher()
    """)
    op.execute('SELECT visio_index_sessions(ARRAY(SELECT id FROM video_sessions))')


def _pg_trigger(name: str, body: str) -> None:
    op.execute(f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {body}
            RETURN NULL;
        END $$
    """)
