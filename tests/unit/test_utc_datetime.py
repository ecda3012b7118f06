"""UTCDateTime: whatever the database holds, Python sees aware UTC times, and a naive one is
refused on the way in. On SQLite the stored text is read by the type's own one-step parser; on
PostgreSQL the connections talk UTC, and a connection set to another zone is still read as UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import StatementError

from visio.models.types import UTCDateTime

_META = MetaData()
_STAMPS = Table("stamps", _META, Column("id", Integer, primary_key=True), Column("at", UTCDateTime))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stamps(request):  # type: ignore[no-untyped-def]
    engine = request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")
    _META.create_all(engine)
    yield engine
    _META.drop_all(engine)


@pytest.fixture
def sqlite_stamps(engine):  # type: ignore[no-untyped-def]
    _META.create_all(engine)
    yield engine
    _META.drop_all(engine)


def _read(engine, row_id: int):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(_STAMPS.c.at).where(_STAMPS.c.id == row_id)).scalar_one()


def test_a_time_written_comes_back_the_same_instant_in_utc(stamps) -> None:  # type: ignore[no-untyped-def]
    paris = timezone(timedelta(hours=1))
    written = datetime(2026, 11, 30, 9, 15, 30, 123456, tzinfo=paris)
    with stamps.begin() as conn:
        conn.execute(insert(_STAMPS), [{"id": 1, "at": written}, {"id": 2, "at": None}])

    read = _read(stamps, 1)
    assert read == written and read.tzinfo is UTC and read.hour == 8
    assert _read(stamps, 2) is None


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2026-11-30 08:15:30.123456", datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC)),
        ("2026-11-30 08:15:30", datetime(2026, 11, 30, 8, 15, 30, tzinfo=UTC)),  # SQL's own
        ("2026-11-30", datetime(2026, 11, 30, tzinfo=UTC)),
        ("2026-11-30 10:15:30+02:00", datetime(2026, 11, 30, 8, 15, 30, tzinfo=UTC)),
        ("2026-11-30T08:15:30+00:00", datetime(2026, 11, 30, 8, 15, 30, tzinfo=UTC)),
    ],
)
def test_the_texts_sqlite_may_hold_are_read_as_utc(sqlite_stamps, stored, expected) -> None:  # type: ignore[no-untyped-def]
    with sqlite_stamps.begin() as conn:
        conn.execute(text("INSERT INTO stamps (id, at) VALUES (1, :at)"), {"at": stored})

    read = _read(sqlite_stamps, 1)
    assert read == expected and read.tzinfo is UTC


def test_a_naive_time_is_refused(stamps) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StatementError, match="naive datetime"), stamps.begin() as conn:
        conn.execute(insert(_STAMPS), {"id": 1, "at": datetime(2026, 11, 30, 8, 0)})


@pytest.mark.postgres
def test_postgresql_connections_talk_utc_and_another_zone_is_still_read_as_utc(pg_engine) -> None:  # type: ignore[no-untyped-def]
    _META.create_all(pg_engine)
    try:
        written = datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC)
        with pg_engine.begin() as conn:
            assert conn.exec_driver_sql("SHOW TimeZone").scalar_one() == "UTC"
            conn.execute(insert(_STAMPS), {"id": 1, "at": written})
        with pg_engine.connect() as conn:
            conn.exec_driver_sql("SET TIME ZONE 'America/Sao_Paulo'")  # a session set otherwise
            read = conn.execute(select(_STAMPS.c.at)).scalar_one()
            conn.exec_driver_sql("RESET TIME ZONE")
        assert read == written and read.tzinfo is UTC
    finally:
        _META.drop_all(pg_engine)
