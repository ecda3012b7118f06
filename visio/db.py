"""The database engine and the unit of work handed to services as `db`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Column, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine

from visio.search_text import fold_text
from visio.settings import settings

# WAL, synced at checkpoints; the WAL is copied back into the database every 10,000 pages
# (40 MB) rather than SQLite's 1,000: a checkpoint's fsync is paid once for ten times the writes,
# which measured 6-8% more seat claims per second (bench/). Each connection keeps up to 16 MiB
# of pages (SQLite's default: 2 MiB): a large catalog's index and rows stay in memory between
# requests, where they were read and decoded again each time (100,000 sessions: a search's p95
# 3.2 -> 1.9 ms, the dashboard's 17 -> 15 ms; at most 16 MiB times the pool's connections).
SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "foreign_keys=ON",
    "wal_autocheckpoint=10000",
    "cache_size=-16384",  # in KiB
)


def make_engine(url: str) -> Engine:
    """An engine tuned for Visio: WAL and a busy timeout on SQLite; a pool sized for the API."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": settings.db_lock_timeout_seconds, "check_same_thread": False},
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            for pragma in SQLITE_PRAGMAS:
                cur.execute(f"PRAGMA {pragma}")
            cur.close()
            dbapi_conn.create_function("visio_fold", 1, fold_text, deterministic=True)

        return engine
    # Every lock wait of a connection is bounded: one that runs out becomes `Busy` (see locking).
    # No JIT: the app's statements are short, and a plan estimated costly (the dashboard's scan)
    # spent more compiling (18 ms) than running (10 ms). Times in UTC: psycopg hands back the
    # values already in the zone the app works in (see `UTCDateTime`), nothing to convert.
    # A statement psycopg has prepared (its 5th run on a connection) is planned once, for any
    # values: left to choose, PostgreSQL planned the catalog's page again at every run, for its
    # LIMIT's sake, and planning took as long as running it (0.85 -> 0.42 ms a page; the API's
    # GET alone 3.5 -> 3.0 ms, 50 clients 560 -> 665 pages a second; no listing, search or
    # dashboard statement measured slower, see bench/results.md).
    options = (
        f"-c lock_timeout={settings.db_lock_timeout_seconds * 1000} -c jit=off -c timezone=UTC"
        " -c plan_cache_mode=force_generic_plan"
    )
    engine = create_engine(
        url,
        connect_args={"options": options},
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use if it sat idle: after a database restart or a cut
    network it is dead, and a fresh one is taken instead (the pool retries on DisconnectionError).

    SQLAlchemy's `pool_pre_ping` pings before every use: a round trip per request on a hot path
    whose connections were in use a moment ago. A connection used within the last second is
    taken as is; should the database have gone in that second, the request fails and the pool is
    renewed, as it would for a connection dying mid-request.
    """

    @event.listens_for(engine.pool, "checkin")
    def _idle_from(_dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # just opened, or used a moment ago
        try:
            # Outside a transaction: one left open would be the request's (a `read_db` could
            # not run without one), and ending it would make the driver forget its prepared
            # statements (see `read_db`).
            dbapi_conn.autocommit = True
            try:
                dbapi_conn.execute("SELECT 1")
            finally:
                dbapi_conn.autocommit = False
        except Exception as exc:  # noqa: BLE001 (any failure: this connection is not usable)
            raise DisconnectionError() from exc


_bound: Engine | None = None


@lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for a URL (the configured one, or the bound one, by default)."""
    if url is None and _bound is not None:
        return _bound
    return _engine_for(url or settings.db_url)


def bind_engine(engine: Engine | None) -> None:
    """Make `engine` the default one (tests point the state layer at their own database)."""
    global _bound
    _bound = engine


@contextmanager
def open_db(engine: Engine | None = None) -> Iterator[Session]:
    """A fresh session for one use case; services commit, anything left open is rolled back."""
    db = Session(engine or get_engine(), expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()


@contextmanager
def read_db(engine: Engine | None = None) -> Iterator[Session]:
    """A session for a use case that only reads (a listing on a hot path).

    On PostgreSQL its statements run outside a transaction (autocommit): no BEGIN and no
    ROLLBACK round trips, and above all the driver keeps its prepared statements, which
    psycopg forgets at every ROLLBACK: a statement only ever run by sessions that end rolled
    back (every read) was planned again each time, which on the catalog's page cost more than
    running it. Each statement sees the data committed when it starts. Nothing may be written
    here: outside a transaction a write would be committed at once.
    """
    bound = engine or get_engine()
    with open_db(_autocommit(bound) if bound.dialect.name == "postgresql" else bound) as db:
        yield db


@lru_cache(maxsize=8)
def _autocommit(engine: Engine) -> Engine:
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def uncompared_indexes(metadata: MetaData) -> set[str]:
    """The indexes with a descending column or an expression. Alembic cannot compare them (it
    would drop and make them again each time): they are left out, and
    tests/integration/test_migrations.py checks them by their columns and order."""
    return {
        index.name
        for table in metadata.tables.values()
        for index in table.indexes
        if index.name and any(not isinstance(e, Column) for e in index.expressions)
    }
