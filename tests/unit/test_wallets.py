"""Wallets: top-ups through a payment provider, the ledger and the cached balance."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.factories import audit_actions, make_student, make_teacher, table_counts, top_up
from visio.models import AuditEvent, EntryKind, LedgerEntry, Wallet
from visio.services import wallets
from visio.services.errors import InvalidInput, PaymentFailed
from visio.services.payments import DecliningProvider, get_provider
from visio.settings import Settings


def entries_of(db, wallet_id):
    return db.exec(
        select(LedgerEntry).where(LedgerEntry.wallet_id == wallet_id).order_by(LedgerEntry.id)
    ).all()


def test_top_up_credits_the_wallet_and_writes_one_ledger_entry(db, clock):
    student = make_student(db, clock=clock)

    result = wallets.top_up(
        db=db, actor=student, amount_cents=2_500, clock=clock, provider_name="demo"
    )

    wallet = wallets.wallet_of(db, student.id)
    assert result.balance_cents == wallet.balance_cents == 2_500
    (entry,) = entries_of(db, wallet.id)
    assert (entry.amount_cents, entry.kind, entry.created_at) == (2_500, EntryKind.TOPUP, clock())
    assert entry.reference.startswith("demo_")
    assert result.entry.id == entry.id
    assert wallets.ledger_sum(db, wallet.id) == wallet.balance_cents
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "wallet.topped_up")).one()
    assert (event.actor_id, event.target_id) == (student.id, wallet.id)
    assert event.data == {"amount_cents": 2_500, "provider": "demo", "reference": entry.reference}


def test_top_ups_add_up_and_the_balance_always_equals_the_ledger_sum(db, clock):
    teacher = make_teacher(db, clock=clock)
    for amount in (100, 4_999, 100_000):
        top_up(db, user=teacher, amount_cents=amount, clock=clock)
        clock.advance(minutes=1)

    wallet = wallets.wallet_of(db, teacher.id)
    assert wallet.balance_cents == 105_099 == wallets.balance_of(db, teacher.id)
    assert wallets.ledger_sum(db, wallet.id) == wallet.balance_cents
    assert [e.amount_cents for e in entries_of(db, wallet.id)] == [100, 4_999, 100_000]


def test_top_up_of_one_user_leaves_the_others_untouched(db, clock):
    payer, bystander = make_student(db, clock=clock), make_student(db, clock=clock)
    top_up(db, user=payer, amount_cents=1_000, clock=clock)

    assert wallets.balance_of(db, bystander.id) == 0
    escrow = wallets.escrow_wallet(db)
    assert escrow.balance_cents == 0
    assert entries_of(db, escrow.id) == []


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (99, "topup_out_of_range"),
        (100_001, "topup_out_of_range"),
        (0, "topup_out_of_range"),
        (-500, "topup_out_of_range"),
        (10**12, "topup_out_of_range"),
        (12.5, "amount_invalid"),
        (1000.0, "amount_invalid"),
        ("1000", "amount_invalid"),
        (None, "amount_invalid"),
        (True, "amount_invalid"),
    ],
)
def test_top_up_with_an_amount_out_of_range_is_refused_and_writes_nothing(db, clock, amount, code):
    student = make_student(db, clock=clock)
    before = table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        wallets.top_up(db=db, actor=student, amount_cents=amount, clock=clock, provider_name="demo")

    assert (refused.value.code, refused.value.field) == (code, "amount")
    assert table_counts(db) == before
    assert wallets.balance_of(db, student.id) == 0


def test_top_up_bounds_are_inclusive(db, clock):
    student = make_student(db, clock=clock)
    top_up(db, user=student, amount_cents=wallets.TOPUP_MIN_CENTS, clock=clock)
    top_up(db, user=student, amount_cents=wallets.TOPUP_MAX_CENTS, clock=clock)
    assert wallets.balance_of(db, student.id) == wallets.TOPUP_MIN_CENTS + wallets.TOPUP_MAX_CENTS


def test_top_up_declined_by_the_provider_credits_nothing(db, clock):
    student = make_student(db, clock=clock)
    top_up(db, user=student, amount_cents=700, clock=clock)
    before = table_counts(db)

    with pytest.raises(PaymentFailed) as failed:
        wallets.top_up(
            db=db, actor=student, amount_cents=5_000, clock=clock, provider_name="declining"
        )

    assert failed.value.code == "payment_failed"
    assert failed.value.params == {"provider": DecliningProvider.name}
    assert table_counts(db) == before
    wallet = db.exec(select(Wallet).where(Wallet.user_id == student.id)).one()
    assert wallet.balance_cents == 700 == wallets.ledger_sum(db, wallet.id)
    assert audit_actions(db, actor_id=student.id).count("wallet.topped_up") == 1


def test_top_up_through_an_unknown_provider_is_refused_and_writes_nothing(db, clock):
    student = make_student(db, clock=clock)
    before = table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        wallets.top_up(db=db, actor=student, amount_cents=1_000, clock=clock, provider_name="nope")

    assert refused.value.code == "payment_provider_unknown"
    assert table_counts(db) == before


def test_the_default_configuration_uses_the_demo_provider(db, clock, monkeypatch):
    monkeypatch.delenv("VISIO_PAYMENT_PROVIDER", raising=False)
    assert get_provider(Settings().payment_provider).name == "demo"
    student = make_student(db, clock=clock)

    wallets.top_up(db=db, actor=student, amount_cents=300, clock=clock)  # no provider named

    assert wallets.balance_of(db, student.id) == 300


def test_the_escrow_wallet_is_the_one_made_by_the_migration(db):
    escrows = db.exec(select(Wallet).where(Wallet.kind == "escrow")).all()
    assert len(escrows) == 1
    assert wallets.escrow_wallet(db).id == escrows[0].id
    assert (escrows[0].user_id, escrows[0].balance_cents) == (None, 0)
