"""What every SQLite connection of the app is set up with (`make_engine`): read back from the
connection itself, so a pragma that SQLite ignored (a typo, a wrong value) fails here."""

from __future__ import annotations

import sqlalchemy as sa


def _pragma(engine: sa.Engine, name: str) -> object:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()


def test_a_connection_writes_ahead_and_keeps_16_mib_of_pages(engine: sa.Engine) -> None:
    assert _pragma(engine, "journal_mode") == "wal"
    assert _pragma(engine, "synchronous") == 1  # NORMAL
    assert _pragma(engine, "foreign_keys") == 1
    assert _pragma(engine, "wal_autocheckpoint") == 10_000
    assert _pragma(engine, "cache_size") == -16_384  # KiB


def test_every_pooled_connection_is_set_up(engine: sa.Engine) -> None:
    with engine.connect() as first, engine.connect() as second:
        sizes = [c.exec_driver_sql("PRAGMA cache_size").scalar_one() for c in (first, second)]
    assert sizes == [-16_384, -16_384]
