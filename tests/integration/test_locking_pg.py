"""The services on PostgreSQL, and races between real threads on both databases."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, select

from tests.factories import (
    STRONG_PASSWORD,
    audit_actions,
    fresh,
    make_session,
    make_student,
    make_teacher,
    table_counts,
    top_up,
    unique_email,
)
from visio.models import AuthSession, KnownAddress, LedgerEntry, StoredStatus, User, VideoSession
from visio.services import accounts, payments, sessions, wallets
from visio.services.errors import (
    Busy,
    Conflict,
    DomainError,
    Forbidden,
    InvalidCredentials,
    PaymentFailed,
    Throttled,
)
from visio.settings import settings

# --- the services on PostgreSQL -------------------------------------------------------------


@pytest.mark.postgres
def test_accounts_work_on_postgresql(pg_db, clock):
    address = "192.0.2.1"
    user = accounts.register(
        db=pg_db,
        full_name="Rosalind Franklin",
        email=unique_email("rf").upper(),
        password=STRONG_PASSWORD,
        role="student",
        address=address,
        clock=clock,
    ).user
    taken = accounts.register(
        db=pg_db,
        full_name="Someone Else",
        email=user.email.upper(),
        password=STRONG_PASSWORD,
        role="teacher",
        address=address,
        clock=clock,
    )
    assert taken.user is None
    assert fresh(pg_db, User, user.id)["full_name"] == "Rosalind Franklin"

    def log_in(password: str = STRONG_PASSWORD) -> accounts.Login:
        return accounts.login(
            db=pg_db, email=user.email, password=password, address=address, clock=clock
        )

    login = log_in()
    assert accounts.user_for_token(db=pg_db, token=login.token, clock=clock).id == user.id
    stored = pg_db.exec(select(AuthSession).where(AuthSession.user_id == user.id)).one()
    assert stored.expires_at.tzinfo is not None and stored.created_at == clock()

    accounts.logout(db=pg_db, token=login.token, clock=clock)
    assert accounts.user_for_token(db=pg_db, token=login.token, clock=clock) is None

    for _ in range(settings.login_max_failures):
        with pytest.raises(InvalidCredentials):
            log_in("Wrong-Password-9")
    with pytest.raises(Throttled):
        log_in()
    clock.advance(minutes=settings.rate_window_minutes, seconds=1)
    assert log_in().token
    assert pg_db.exec(select(KnownAddress).where(KnownAddress.user_id == user.id)).one()

    accounts.update_preferences(
        db=pg_db, actor=user, locale="en", timezone="Asia/Tokyo", clock=clock
    )
    assert fresh(pg_db, User, user.id)["timezone"] == "Asia/Tokyo"


@pytest.mark.postgres
def test_wallet_top_up_works_on_postgresql(pg_db, clock):
    student = make_student(pg_db, clock=clock)

    top_up(pg_db, user=student, amount_cents=1_234, clock=clock)
    top_up(pg_db, user=student, amount_cents=766, clock=clock)
    counts = table_counts(pg_db)
    with pytest.raises(PaymentFailed):
        wallets.top_up(
            db=pg_db, actor=student, amount_cents=500, clock=clock, provider_name="declining"
        )

    assert table_counts(pg_db) == counts
    wallet = wallets.wallet_of(pg_db, student.id)
    assert wallet.balance_cents == 2_000 == wallets.ledger_sum(pg_db, wallet.id)


@pytest.mark.postgres
def test_session_lifecycle_works_on_postgresql(pg_db, clock):
    teacher, other = make_teacher(pg_db, clock=clock), make_teacher(pg_db, clock=clock)
    session = make_session(
        pg_db,
        teacher=teacher,
        clock=clock,
        tags=["Physics", "optics"],
        is_paid=True,
        price_cents=900,
    )
    assert fresh(pg_db, VideoSession, session.id)["starts_at"] == session.starts_at

    sessions.publish_session(db=pg_db, actor=teacher, video_session_id=session.id, clock=clock)
    with pytest.raises(Conflict):
        sessions.publish_session(db=pg_db, actor=teacher, video_session_id=session.id, clock=clock)
    with pytest.raises(Forbidden):
        sessions.cancel_session(
            db=pg_db, actor=other, video_session_id=session.id, reason="Not mine", clock=clock
        )

    result = sessions.cancel_session(
        db=pg_db, actor=teacher, video_session_id=session.id, reason="Lab closed", clock=clock
    )
    assert (result.refunded_count, result.refunded_cents) == (0, 0)
    assert fresh(pg_db, VideoSession, session.id)["status"] == StoredStatus.CANCELLED
    with pytest.raises(Conflict):
        sessions.cancel_session(
            db=pg_db, actor=teacher, video_session_id=session.id, reason="Again", clock=clock
        )

    draft = make_session(pg_db, teacher=teacher, clock=clock, tags=["physics"])
    with pytest.raises(Forbidden):
        sessions.delete_session(db=pg_db, actor=other, video_session_id=draft.id, clock=clock)
    sessions.delete_session(db=pg_db, actor=teacher, video_session_id=draft.id, clock=clock)
    assert fresh(pg_db, VideoSession, draft.id) is None
    assert audit_actions(pg_db, target_type="session").count("session.deleted") == 1


# --- races between threads, on both databases ----------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_engine(request):
    """An engine on a migrated database of each kind, shared by the racing threads."""
    return request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")


def race(engine, workers: int, act: Callable[[Session], Any]) -> list[tuple[str, Any]]:
    """Run `act` in `workers` threads, each with its own unit of work, released together."""
    barrier = threading.Barrier(workers)
    outcomes: list[tuple[str, Any]] = [("missing", None)] * workers

    def work(index: int) -> None:
        with Session(engine, expire_on_commit=False) as db:
            try:
                barrier.wait(timeout=10)
                outcomes[index] = ("ok", act(db))
            except DomainError as exc:
                outcomes[index] = (type(exc).__name__, exc)
            except Exception as exc:  # a crash is a failure of the test, reported below
                outcomes[index] = ("crash", exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return outcomes


def test_two_simultaneous_cancels_let_exactly_one_through(race_engine, clock):
    with Session(race_engine, expire_on_commit=False) as db:
        teacher = make_teacher(db, clock=clock)
        targets = [
            make_session(db, teacher=teacher, clock=clock, publish=True).id for _ in range(5)
        ]

    for session_id in targets:

        def cancel(db, session_id=session_id):
            actor = db.get(User, teacher.id)
            return sessions.cancel_session(
                db=db, actor=actor, video_session_id=session_id, reason="Double click", clock=clock
            )

        outcomes = race(race_engine, 2, cancel)

        kinds = Counter(kind for kind, _ in outcomes)
        assert kinds["ok"] == 1, outcomes
        assert kinds["Conflict"] + kinds["Busy"] == 1, outcomes
        with Session(race_engine) as db:
            assert fresh(db, VideoSession, session_id)["status"] == StoredStatus.CANCELLED
            assert (
                audit_actions(db, target_type="session", target_id=session_id).count(
                    "session.cancelled"
                )
                == 1
            )


def test_simultaneous_top_ups_of_one_wallet_are_all_counted(race_engine, clock):
    with Session(race_engine, expire_on_commit=False) as db:
        student = make_student(db, clock=clock)

    def credit(db):
        actor = db.get(User, student.id)
        return wallets.top_up(
            db=db, actor=actor, amount_cents=1_000, clock=clock, provider_name="demo"
        )

    outcomes = race(race_engine, 4, credit)

    assert all(kind in ("ok", "Busy") for kind, _ in outcomes), outcomes
    credited = sum(1_000 for kind, _ in outcomes if kind == "ok")
    assert credited >= 1_000
    with Session(race_engine) as db:
        wallet = wallets.wallet_of(db, student.id)
        assert wallet.balance_cents == credited == wallets.ledger_sum(db, wallet.id)
        assert (
            len(db.exec(select(LedgerEntry).where(LedgerEntry.wallet_id == wallet.id)).all())
            == credited // 1_000
        )


def test_busy_is_a_domain_error_with_its_own_code():
    assert issubclass(Busy, DomainError) and Busy().code == "busy"


class _BusyWorldProvider:
    """Accepts the charge, but another user's top-up commits while it is being taken."""

    name = "busy-world"

    def __init__(self, engine, bystander_id, clock):
        self.engine, self.bystander_id, self.clock = engine, bystander_id, clock

    def charge(self, *, user_id: int, amount_cents: int, currency: str) -> str:
        with Session(self.engine, expire_on_commit=False) as other:
            top_up(
                other, user=other.get(User, self.bystander_id), amount_cents=100, clock=self.clock
            )
        return "busy-world-ref"


def test_top_up_still_credits_when_another_write_commits_during_the_charge(
    race_engine, clock, monkeypatch
):
    """A write committed elsewhere between the top-up's first read and its lock is no conflict."""
    with Session(race_engine, expire_on_commit=False) as db:
        payer, bystander = make_student(db, clock=clock), make_student(db, clock=clock)
    provider = _BusyWorldProvider(race_engine, bystander.id, clock)
    # setitem rather than register_provider: the registry is restored after the test.
    monkeypatch.setitem(payments._PROVIDERS, provider.name, provider)

    with Session(race_engine, expire_on_commit=False) as db:
        actor = db.get(User, payer.id)
        result = wallets.top_up(
            db=db, actor=actor, amount_cents=2_000, clock=clock, provider_name=provider.name
        )

    assert result.balance_cents == 2_000
    with Session(race_engine) as db:
        assert wallets.balance_of(db, payer.id) == 2_000
        assert wallets.balance_of(db, bystander.id) == 100
