"""HTTP tests against the served prod build (`app_server`), with direct access to its database,
so tests can set up users, sessions and materials through the services before calling the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.server import AppServer
from visio.db import make_engine


@dataclass(frozen=True)
class Served:
    url: str
    engine: Engine
    storage: Path


@pytest.fixture(scope="session")
def served(app_server: AppServer) -> Iterator[Served]:
    """The running app, its SQLite database and its private file folder."""
    engine = make_engine(app_server.db_url)
    yield Served(url=app_server.url, engine=engine, storage=app_server.storage_dir)
    engine.dispose()


@pytest.fixture
def server_db(served: Served) -> Iterator[Session]:
    """A unit of work on the server's own database (shared by the whole test run)."""
    with Session(served.engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=20, follow_redirects=False) as client:
        yield client
