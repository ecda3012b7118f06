"""Pooled PostgreSQL connections: one that died while idle is replaced before use, without a
ping on every checkout (a round trip per request on the hot paths)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from visio import db as visio_db
from visio.db import make_engine

pytestmark = pytest.mark.postgres


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(admin: sa.Engine, pid: int) -> None:
    """End a server process, and wait until it is gone (the signal is not waited for)."""
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        for _ in range(100):
            alive = conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one()
            if not alive:
                return
            time.sleep(0.05)
    raise AssertionError(f"server process {pid} still there")


def test_a_connection_killed_while_idle_is_replaced_before_use(pg_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(pg_url)
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        dead = _backend_pid(engine)  # checked in: idle in the pool
        _terminate(admin, dead)
        monkeypatch.setattr(visio_db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it sat idle long enough

        assert _backend_pid(engine) != dead  # the ping found it dead: a fresh connection
    finally:
        engine.dispose()
        admin.dispose()


def test_a_connection_used_a_moment_ago_is_taken_without_a_ping(pg_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """No round trip first: so a connection that died within that moment fails its request
    (and the pool is renewed), as one dying mid-request would."""
    engine = make_engine(pg_url)
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        dead = _backend_pid(engine)
        _terminate(admin, dead)
        monkeypatch.setattr(visio_db, "PING_AFTER_IDLE_SECONDS", 60.0)  # used a moment ago

        with pytest.raises(sa.exc.OperationalError):
            _backend_pid(engine)
        assert _backend_pid(engine) != dead  # and the next one gets a fresh connection
    finally:
        engine.dispose()
        admin.dispose()
