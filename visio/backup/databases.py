"""Each database's own way to copy itself while the app runs, and to be restored.

SQLite: the online backup API, in one step, so the copy is one read transaction of the live file
(WAL: writers go on meanwhile). PostgreSQL: `pg_dump` (custom format) in a snapshot exported by
a transaction of ours, so the material files we list are those of the very same moment;
`pg_restore` in one transaction. Passwords go to the tools through PGPASSWORD, never argv.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from visio.backup.archive import BackupError
from visio.settings import settings

_CONTENTS_SQL = (
    "SELECT version_num FROM alembic_version",
    "SELECT DISTINCT storage_name FROM materials WHERE storage_name IS NOT NULL "
    "ORDER BY storage_name",
)
# Relations of the app's own (not PostgreSQL's catalogs): any one means "not empty".
_PG_RELATIONS_SQL = """
    SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
"""
_TOOL_TIMEOUT_SECONDS = 6 * 3600


@dataclass(frozen=True)
class Snapshot:
    """A copy of the database at one moment: its Alembic revision and the files it refers to."""

    path: Path
    revision: str
    storage_names: list[str]


def describe(url: str) -> str:
    """The URL as it may be printed (no password)."""
    return _url(url).render_as_string(hide_password=True)


def kind_of(url: str) -> str:
    """`sqlite` or `postgresql`; anything else is refused."""
    backend = _url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {backend!r}.")
    return backend


def _url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise BackupError("REFLEX_DB_URL is not a database URL.") from None


Hold = Callable[[list[str]], None]


def snapshot(kind: str, url: str, dest: Path, *, hold: Hold) -> Snapshot:
    """Copy the live database into the file `dest`.

    `hold` is called with the storage names of the material files the copy refers to, at the
    moment the copy shows and before the copy is made: so it can keep those files from being
    deleted meanwhile (see jobs.py).
    """
    if kind == "sqlite":
        return _snapshot_sqlite(url, dest, hold)
    return _snapshot_pg(url, dest, hold)


def require_empty(kind: str, url: str) -> None:
    """Refuse (BackupError) unless the target database holds no table at all."""
    if kind == "sqlite":
        path = _sqlite_file(url)
        if not path.exists():
            return
        with _sqlite_errors(path), closing(sqlite3.connect(path)) as conn:
            count = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    else:
        with _pg_connect(url) as conn:
            count = conn.execute(_PG_RELATIONS_SQL).fetchone()[0]  # type: ignore[index]
    if count:
        raise BackupError(
            f"The database {describe(url)} is not empty (it holds {count} schema objects): "
            "restore only goes into an empty database and never overwrites data. Point "
            "REFLEX_DB_URL at a new database (PostgreSQL: createdb; SQLite: a new file name)."
        )


def restore(kind: str, copy: Path, url: str) -> None:
    """Load the copy into the (empty) target database."""
    if kind == "sqlite":
        _restore_sqlite(copy, url)
    else:
        _restore_pg(copy, url)


# SQLite.


def _sqlite_file(url: str) -> Path:
    database = _url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("Backups need a SQLite database in a file (sqlite:///path/visio.db).")
    return Path(database)


@contextmanager
def _sqlite_errors(path: Path) -> Iterator[None]:
    """Turns sqlite3's errors into a sentence about the file."""
    try:
        yield
    except sqlite3.Error as error:
        raise BackupError(f"SQLite could not use {path}: {error}.") from None


def _contents(conn: sqlite3.Connection | psycopg.Connection) -> tuple[str, list[str]]:
    try:
        revision = conn.execute(_CONTENTS_SQL[0]).fetchone()
        names = [row[0] for row in conn.execute(_CONTENTS_SQL[1]).fetchall()]
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
        raise BackupError(
            "The database has no Visio tables (was it ever migrated?): nothing to back up."
        ) from None
    if revision is None:
        raise BackupError("The database has no Alembic revision: nothing to back up.")
    return revision[0], names


def _snapshot_sqlite(url: str, dest: Path, hold: Hold) -> Snapshot:
    source = _sqlite_file(url)
    if not source.is_file():
        raise BackupError(f"There is no SQLite database at {source}: nothing to back up.")
    timeout = settings.db_lock_timeout_seconds
    with (
        _sqlite_errors(source),
        closing(sqlite3.connect(source, timeout=timeout, isolation_level=None)) as live,
        closing(sqlite3.connect(dest)) as copy,
    ):
        # One read transaction (WAL: writers go on): what we list is what the copy holds.
        live.execute("BEGIN")
        revision, names = _contents(live)
        hold(names)
        live.backup(copy)  # in one step, inside that read transaction
        live.execute("COMMIT")
        copy.execute("PRAGMA journal_mode=DELETE")  # the copy stands alone, no -wal file
        check = copy.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"The database failed SQLite's check ({check}): no backup.")
    return Snapshot(dest, revision, names)


def _restore_sqlite(copy: Path, url: str) -> None:
    target = _sqlite_file(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    source_uri = f"{copy.resolve().as_uri()}?mode=ro"
    with (
        _sqlite_errors(target),
        closing(sqlite3.connect(target)) as live,
        closing(sqlite3.connect(source_uri, uri=True)) as source,
    ):
        source.backup(live)
        live.execute("PRAGMA journal_mode=WAL")  # as the app runs it


# PostgreSQL.


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and an environment carrying it for the tools."""
    parsed = _url(url)
    bare = URL.create(  # `set(password=None)` would keep it: None means "unchanged" there
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    conninfo = bare.render_as_string(hide_password=False)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return conninfo, env


def _pg_connect(url: str) -> psycopg.Connection:
    conninfo, _ = _libpq(url)
    password = _url(url).password
    try:
        return psycopg.connect(
            conninfo, connect_timeout=10, **({"password": str(password)} if password else {})
        )
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        hint = " Create it first (createdb)." if "does not exist" in reason else ""
        raise BackupError(f"Cannot connect to {describe(url)}: {reason}.{hint}") from None


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found: install PostgreSQL's client tools of the server's major "
            "version (Debian: apt-get install postgresql-client)."
        )
    return found


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=_TOOL_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what} did not finish in {_TOOL_TIMEOUT_SECONDS // 3600} h.") from None
    if done.returncode != 0:
        said = "\n  ".join(done.stderr.strip().splitlines()[-6:]) or f"exit {done.returncode}"
        raise BackupError(f"{what} failed:\n  {said}")


def _snapshot_pg(url: str, dest: Path, hold: Hold) -> Snapshot:
    pg_dump = _tool("pg_dump")
    conninfo, env = _libpq(url)
    with _pg_connect(url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        # The transaction stays open while pg_dump reads in its snapshot: both see one moment.
        exported = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        revision, names = _contents(conn)
        hold(names)
        _run(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={exported}",
                "--lock-wait-timeout=120s",
                f"--file={dest}",
                f"--dbname={conninfo}",
            ],
            env,
            "pg_dump",
        )
        conn.rollback()
    return Snapshot(dest, revision, names)


def _restore_pg(copy: Path, url: str) -> None:
    pg_restore = _tool("pg_restore")
    conninfo, env = _libpq(url)
    _run(
        [
            pg_restore,
            "--exit-on-error",
            "--single-transaction",  # all or nothing
            "--no-owner",
            "--no-privileges",
            f"--dbname={conninfo}",
            str(copy),
        ],
        env,
        "pg_restore (nothing was restored into the database)",
    )
