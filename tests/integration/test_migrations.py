"""Migrations: up, down and up again on SQLite and PostgreSQL, with no drift from the models."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import visio.models  # noqa: F401  (registers every table)
from alembic import command
from visio.db import make_engine, uncompared_indexes
from visio.models import VideoSession
from visio.services.search_index import INDEX_TABLE, is_index_table, matches
from visio.settings import settings

MODEL_TABLES = set(SQLModel.metadata.tables)
UNCOMPARED = uncompared_indexes(SQLModel.metadata)
SQLITE_SORTS = {"ix_video_sessions_price_desc", "ix_video_sessions_popular"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_db_url(request, tmp_path):
    """The URL of an empty database of each kind (PostgreSQL: a throwaway database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    return request.getfixturevalue("pg_url")


def tables_of(url):
    """The database's tables, the search index's (which no model describes) left out."""
    return {name for name in all_tables_of(url) if not is_index_table(name)}


def all_tables_of(url):
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def schema_drift(url):
    """What autogenerate would write for this database: empty when the models match it."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            # As alembic/env.py does: the search index belongs to migration 0003, not the models;
            # an index the models make for one database only is compared on that one only.
            # A descending or expression index is left out too (see `uncompared_indexes`):
            # checked below.
            dialect = conn.dialect.name
            opts = {
                "compare_type": True,
                "include_name": lambda name, type_, parents: (
                    not (type_ == "table" and is_index_table(name))
                ),
                "include_object": lambda obj, name, type_, reflected, compare_to: (
                    not (type_ == "index" and name in UNCOMPARED)
                    and (
                        getattr(obj, "_ddl_if", None) is None
                        or obj._ddl_if.dialect in (None, dialect)
                    )
                ),
            }
            context = MigrationContext.configure(conn, opts=opts)
            with warnings.catch_warnings():  # it says it cannot, before include_object is asked
                warnings.filterwarnings(
                    "ignore", "autogenerate skipping metadata-specified expression-based index"
                )
                return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()


def escrow_rows(url):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT user_id, balance_cents, currency FROM wallets WHERE kind = 'escrow'"
                )
            ).all()
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trips(empty_db_url, make_alembic_config):
    config = make_alembic_config(empty_db_url)

    command.upgrade(config, "head")
    assert tables_of(empty_db_url) == MODEL_TABLES | {"alembic_version"}
    assert INDEX_TABLE in all_tables_of(empty_db_url)

    command.downgrade(config, "base")
    assert all_tables_of(empty_db_url) <= {"alembic_version"}

    command.upgrade(config, "head")
    assert tables_of(empty_db_url) == MODEL_TABLES | {"alembic_version"}
    assert escrow_rows(empty_db_url) == [(None, 0, settings.currency)]
    assert schema_drift(empty_db_url) == []


def test_migrated_schema_has_no_drift_from_the_models(empty_db_url, make_alembic_config):
    config = make_alembic_config(empty_db_url)
    command.upgrade(config, "head")

    assert schema_drift(empty_db_url) == []
    command.check(config)  # what `alembic check` runs: raises when autogenerate finds changes


def test_upgrade_creates_exactly_one_escrow_wallet(empty_db_url, make_alembic_config):
    command.upgrade(make_alembic_config(empty_db_url), "head")
    assert escrow_rows(empty_db_url) == [(None, 0, settings.currency)]


def test_database_is_at_the_single_head_after_upgrade(empty_db_url, make_alembic_config):
    config = make_alembic_config(empty_db_url)
    command.upgrade(config, "head")
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_heads() == tuple(heads)
    finally:
        engine.dispose()


def test_migrated_schema_enforces_the_money_checks(empty_db_url, make_alembic_config):
    """The CHECK constraints live in the database, not only in the models."""
    command.upgrade(make_alembic_config(empty_db_url), "head")
    engine = make_engine(empty_db_url)
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).replace(tzinfo=None)
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO wallets (kind, balance_cents, currency, updated_at) "
                    "VALUES ('user', -1, 'EUR', :now)"
                ),
                {"now": now},
            )
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO wallets (kind, balance_cents, currency, updated_at) "
                    "VALUES ('bank', 0, 'EUR', :now)"
                ),
                {"now": now},
            )
    finally:
        engine.dispose()
    assert escrow_rows(empty_db_url) == [(None, 0, settings.currency)]


def session_index_names(url):
    """The names of the indexes on video_sessions, as the database has them."""
    engine = make_engine(url)
    try:
        return {index["name"] for index in sa.inspect(engine).get_indexes("video_sessions")}
    finally:
        engine.dispose()


def test_the_open_catalog_index_is_made_on_sqlite_only(empty_db_url, make_alembic_config):
    """On PostgreSQL an index holding enrolled_count would stop every seat claim's HOT update."""
    config = make_alembic_config(empty_db_url)
    command.upgrade(config, "head")
    names = session_index_names(empty_db_url)
    assert ("ix_video_sessions_open" in names) == empty_db_url.startswith("sqlite")
    command.downgrade(config, "0013")  # and gone again on the way down
    names = session_index_names(empty_db_url)
    assert "ix_video_sessions_open" not in names


def index_columns(url, name):
    """An index's columns in order, each with its direction, as SQLite keeps them."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(f"PRAGMA index_xinfo('{name}')").all()
    finally:
        engine.dispose()
    # (seqno, cid, name, desc, collation, key): the key columns, the rowid after them left out.
    return [(row[2], "DESC" if row[3] else "ASC") for row in rows if row[5]]


def test_the_catalog_sort_indexes_are_made_in_their_order(empty_db_url, make_alembic_config):
    """Migration 0015, as the models have it (the drift check leaves descending indexes out):
    by price on both databases, from the highest price and by popularity on SQLite only."""
    assert SQLITE_SORTS | {"ix_video_sessions_teacher_title"} == UNCOMPARED
    config = make_alembic_config(empty_db_url)
    command.upgrade(config, "head")
    names = session_index_names(empty_db_url)
    assert "ix_video_sessions_price" in names
    sqlite = empty_db_url.startswith("sqlite")
    assert names >= SQLITE_SORTS if sqlite else not SQLITE_SORTS & names
    if sqlite:
        asc = "ASC"
        assert index_columns(empty_db_url, "ix_video_sessions_price") == [
            ("status", asc),
            ("price_cents", asc),
            ("starts_at", asc),
            ("id", asc),
        ]
        assert index_columns(empty_db_url, "ix_video_sessions_price_desc") == [
            ("status", asc),
            ("price_cents", "DESC"),
            ("starts_at", asc),
            ("id", asc),
        ]
        assert index_columns(empty_db_url, "ix_video_sessions_popular") == [
            ("status", asc),
            ("enrolled_count", "DESC"),
            ("starts_at", asc),
            ("id", asc),
            ("enrollment_deadline", asc),
            ("capacity", asc),
        ]
    command.downgrade(config, "0014")
    names = session_index_names(empty_db_url)
    assert not {"ix_video_sessions_price", *UNCOMPARED} & names


def test_the_teacher_title_index_is_made_on_postgresql_only(empty_db_url, make_alembic_config):
    """Migration 0016: the folded title's index, where the listing sorts by that expression."""
    config = make_alembic_config(empty_db_url)
    command.upgrade(config, "head")
    postgresql = empty_db_url.startswith("postgresql")
    assert ("ix_video_sessions_teacher_title" in session_index_names(empty_db_url)) == postgresql
    if postgresql:
        engine = make_engine(empty_db_url)
        try:
            with engine.connect() as conn:
                made = conn.execute(
                    sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                    {"name": "ix_video_sessions_teacher_title"},
                ).scalar_one()
        finally:
            engine.dispose()
        assert "(teacher_id, translate(lower((title)::text)" in made, made
    command.downgrade(config, "0015")
    assert "ix_video_sessions_teacher_title" not in session_index_names(empty_db_url)


FIGURES = "ix_video_sessions_teacher_figures"


def test_the_teacher_figures_index_is_made_on_sqlite_only(empty_db_url, make_alembic_config):
    """Migration 0017: every column the dashboard reads of a teacher's sessions, in one index."""
    config = make_alembic_config(empty_db_url)
    command.upgrade(config, "head")
    sqlite = empty_db_url.startswith("sqlite")
    assert (FIGURES in session_index_names(empty_db_url)) == sqlite
    if sqlite:  # in the models' order (the drift check compares columns, not their order)
        (model,) = [i for i in VideoSession.__table__.indexes if i.name == FIGURES]
        made = index_columns(empty_db_url, FIGURES)
        assert [name for name, _ in made] == [column.name for column in model.columns]
    command.downgrade(config, "0016")
    assert FIGURES not in session_index_names(empty_db_url)


def search_objects(url):
    """Everything migration 0003 creates besides its table: triggers, functions, extension."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return (
                    conn.execute(
                        sa.text("SELECT name FROM sqlite_master WHERE name LIKE 'session_search%'")
                    )
                    .scalars()
                    .all()
                )
            return (
                conn.execute(
                    sa.text(
                        "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'session_search%' "
                        "UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'visio%' "
                        "UNION ALL SELECT extname FROM pg_extension WHERE extname = 'unaccent'"
                    )
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()


def test_search_index_downgrade_removes_it_all_and_upgrade_indexes_existing_sessions(
    empty_db_url, make_alembic_config
):
    config = make_alembic_config(empty_db_url)
    command.upgrade(config, "head")
    assert search_objects(empty_db_url)

    command.downgrade(config, "0002")
    assert search_objects(empty_db_url) == []
    assert not any(is_index_table(name) for name in all_tables_of(empty_db_url))

    engine = make_engine(empty_db_url)
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).replace(tzinfo=None)
    try:
        with engine.begin() as conn:  # written while no index exists
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, email, full_name, password_hash, role, created_at) "
                    "VALUES (1, 'zoe@example.org', 'Zoé Leroy', 'x', 'teacher', :now)"
                ),
                {"now": now},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO video_sessions (id, teacher_id, title, description, starts_at, "
                    "ends_at, duration_minutes, timezone, platform, link, status, is_paid, "
                    "price_cents, currency, enrolled_count, created_at, updated_at) VALUES "
                    "(1, 1, 'Algèbre', '', :now, :now, 60, 'UTC', 'jitsi', 'https://x.org', "
                    "'draft', false, 0, 'EUR', 0, :now, :now)"
                ),
                {"now": now},
            )
            conn.execute(sa.text("INSERT INTO tags (id, name) VALUES (1, 'géométrie')"))
            conn.execute(sa.text("INSERT INTO session_tags (session_id, tag_id) VALUES (1, 1)"))
    finally:
        engine.dispose()

    command.upgrade(config, "head")
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            found = (
                conn.execute(
                    sa.select(VideoSession.id).where(
                        matches(VideoSession.id, "ZOE geometrie algeb", teacher_name=True)
                    )
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    assert found == [1]


def test_0013_copies_each_sessions_teacher_onto_its_enrollments_and_purchases(
    empty_db_url, make_alembic_config
):
    """Rows written before 0013 get their session's teacher; afterwards the copy is required,
    and going back down keeps every row."""
    config = make_alembic_config(empty_db_url)
    command.upgrade(config, "0012")
    engine = make_engine(empty_db_url)
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).replace(tzinfo=None)
    try:
        with engine.begin() as conn:
            for uid, role in ((1, "teacher"), (2, "student"), (3, "teacher")):
                conn.execute(
                    sa.text(
                        "INSERT INTO users (id, email, full_name, password_hash, role, "
                        "created_at) VALUES (:id, :email, 'Name', 'x', :role, :now)"
                    ),
                    {"id": uid, "email": f"u{uid}@example.org", "role": role, "now": now},
                )
            for sid, teacher in ((10, 1), (11, 3)):
                conn.execute(
                    sa.text(
                        "INSERT INTO video_sessions (id, teacher_id, title, description, "
                        "starts_at, ends_at, duration_minutes, timezone, platform, link, status, "
                        "is_paid, price_cents, currency, enrolled_count, created_at, updated_at) "
                        "VALUES (:id, :teacher, 'Algèbre', '', :now, :now, 60, 'UTC', 'jitsi', "
                        "'https://x.org', 'scheduled', true, 500, 'EUR', 1, :now, :now)"
                    ),
                    {"id": sid, "teacher": teacher, "now": now},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO enrollments (id, session_id, student_id, status, enrolled_at) "
                        "VALUES (:id, :id, 2, 'active', :now)"
                    ),
                    {"id": sid, "now": now},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO purchases (id, student_id, session_id, enrollment_id, "
                        "amount_cents, currency, status, created_at) "
                        "VALUES (:id, 2, :id, :id, 500, 'EUR', 'held', :now)"
                    ),
                    {"id": sid, "now": now},
                )
    finally:
        engine.dispose()

    command.upgrade(config, "head")
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            for table in ("enrollments", "purchases"):
                rows = conn.execute(sa.text(f"SELECT id, teacher_id FROM {table} ORDER BY id"))
                assert rows.all() == [(10, 1), (11, 3)]
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO enrollments (session_id, student_id, status, enrolled_at) "
                    "VALUES (10, 1, 'active', :now)"
                ),
                {"now": now},
            )
    finally:
        engine.dispose()

    command.downgrade(config, "0012")
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            for table in ("enrollments", "purchases"):
                assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == 2
    finally:
        engine.dispose()
