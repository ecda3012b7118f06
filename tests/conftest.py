"""Shared fixtures: a migrated SQLite file per test, a frozen clock, throwaway PostgreSQL databases.

Settings are read once at import, so the fast-hashing values are put in the environment before
anything imports `visio.settings`.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

os.environ["VISIO_ARGON2_TIME_COST"] = "1"
os.environ["VISIO_ARGON2_MEMORY_KIB"] = "1024"

pytest_plugins = ["tests.server"]  # app_url: the prod build on a free port

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `pytest` (unlike `python -m pytest`) does not add the project root
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from alembic import command  # noqa: E402
from tests.mailbox import Mailbox  # noqa: E402
from visio.clock import FrozenClock  # noqa: E402
from visio.db import make_engine  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "VISIO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FROZEN_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def alembic_config(url: str) -> Config:
    """Alembic's configuration from alembic.ini, aimed at `url` (see alembic/env.py)."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False  # leave pytest's log capture alone
    return config


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def make_alembic_config() -> Callable[[str], Config]:
    """Alembic's configuration for a database URL, for tests that drive migrations themselves."""
    return alembic_config


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per test run; each test works on its own copy."""
    path = tmp_path_factory.mktemp("template") / "visio.db"
    command.upgrade(alembic_config(sqlite_url(path)), "head")
    # env.py disposes its engine: the WAL is checkpointed and the file stands alone.
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


@pytest.fixture
def engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh, fully migrated SQLite file of this test's own."""
    path = tmp_path / "visio.db"
    shutil.copy(sqlite_template, path)
    eng = make_engine(sqlite_url(path))
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """The unit of work the services are given, on this test's database."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def clock() -> FrozenClock:
    """A clock stopped at a fixed aware UTC instant; tests move it with `advance`."""
    return FrozenClock(FROZEN_AT)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """The PostgreSQL server's admin URL, or a skip saying why it cannot be used."""
    try:
        probe = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        probe.dispose()
    except Exception as exc:  # no server, no driver, refused login: all mean "skip"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {first_line}")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """The URL of an empty, uniquely named PostgreSQL database, dropped after the test."""
    name = f"visio_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """An engine on a throwaway, fully migrated PostgreSQL database."""
    command.upgrade(alembic_config(pg_url), "head")
    eng = make_engine(pg_url)
    yield eng
    eng.dispose()


@pytest.fixture
def pg_db(pg_engine: Engine) -> Iterator[Session]:
    """The services' unit of work on a throwaway PostgreSQL database."""
    with Session(pg_engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a free port, keeping every message it accepts."""
    box = Mailbox()
    box.start()
    yield box
    box.stop()
