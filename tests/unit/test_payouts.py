"""Payouts: a teacher's request holds the amount; an admin pays it or refuses it, once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from tests.factories import audit_actions, make_admin, make_student, make_teacher, table_counts
from tests.invariants import assert_ledger_invariants
from tests.payouts_support import IBAN, IBAN_DE, IBAN_SPACED, make_funded_teacher
from visio.models import (
    EntryKind,
    LedgerEntry,
    Notice,
    PayoutRequest,
    PayoutStatus,
    Wallet,
    WalletKind,
)
from visio.services import inbox, mail, payouts, wallets
from visio.services.errors import Conflict, Forbidden, InsufficientFunds, InvalidInput, NotFound
from visio.settings import settings


def payouts_balance(db) -> int:
    db.expire_all()
    return db.exec(select(Wallet).where(Wallet.kind == WalletKind.PAYOUTS)).one().balance_cents


def ask(db, clock, teacher, amount=2_500, destination=IBAN):
    return payouts.request_payout(
        db=db, actor=teacher, amount_cents=amount, destination=destination, clock=clock
    )


# --- destinations ----------------------------------------------------------------------------


@pytest.mark.parametrize("iban", [IBAN, IBAN_SPACED, IBAN_DE, "GB82 WEST 1234 5698 7654 32"])
def test_a_valid_iban_is_kept_normalized(iban):
    stored = payouts.parse_destination(iban)
    assert stored == iban.replace(" ", "").upper()
    assert payouts.parse_destination(iban, "iban") == stored


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("FR7630006000011234567890188", "iban_checksum"),  # last digit changed
        ("FR763000600001123456789018", "iban_length"),  # one character short
        ("DE89370400440532013001", "iban_checksum"),
        ("ZZ12 3456 7890 1234", "iban_country_unknown"),
        ("FR76-3000-6000-0112-3456-7890-18É", "iban_invalid"),
        ("12345", "iban_invalid"),
    ],
)
def test_a_wrong_iban_is_refused_with_its_reason(value, code):
    with pytest.raises(InvalidInput) as refused:
        payouts.parse_destination(value, "iban")
    assert (refused.value.code, refused.value.field) == (code, "destination")


def test_what_looks_like_an_iban_is_checked_as_one_even_without_the_choice():
    with pytest.raises(InvalidInput, match="iban_checksum"):
        payouts.parse_destination("FR7630006000011234567890188")


def test_a_payout_reference_is_kept_as_entered():
    assert payouts.parse_destination("  PayPal ana@example.org ") == "PayPal ana@example.org"
    # The teacher chose "other reference": an IBAN-shaped one stays as typed.
    assert payouts.parse_destination("fr76 3000 6000", "reference") == "fr76 3000 6000"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "destination_required"),
        ("   ", "destination_required"),
        (None, "destination_required"),
        ("ab", "payout_reference_length"),
        ("x" * 65, "payout_reference_length"),
        ("wise\u202ereversed", "payout_reference_invalid"),
        ("line\nbreak", "payout_reference_invalid"),
    ],
)
def test_a_bad_payout_reference_is_refused(value, code):
    with pytest.raises(InvalidInput) as refused:
        payouts.parse_destination(value, "reference")
    assert refused.value.code == code


def test_an_unknown_destination_kind_is_refused():
    with pytest.raises(InvalidInput, match="destination_kind_invalid"):
        payouts.parse_destination(IBAN, "bitcoin")


def test_lists_mask_the_destination_but_its_last_four_characters():
    assert payouts.mask(IBAN) == "••••0189"


# --- requests --------------------------------------------------------------------------------


def test_a_request_holds_the_amount_in_the_payouts_wallet_at_once(db, clock):
    teacher = make_funded_teacher(db, clock=clock, amount_cents=5_000)

    payout = ask(db, clock, teacher, 2_000, IBAN_SPACED)

    row = db.get(PayoutRequest, payout.id)
    assert (row.status, row.amount_cents, row.destination) == ("requested", 2_000, IBAN)
    assert wallets.balance_of(db, teacher.id) == 3_000
    assert payouts_balance(db) == 2_000
    kinds = db.exec(
        select(LedgerEntry.kind, LedgerEntry.amount_cents)
        .where(LedgerEntry.reference == f"payout:{payout.id}")
        .order_by(LedgerEntry.id)
    ).all()
    assert kinds == [(EntryKind.PAYOUT_HOLD, -2_000), (EntryKind.PAYOUT_HELD, 2_000)]
    assert audit_actions(db, target_type="payout_request") == ["payout.requested"]
    assert_ledger_invariants(db)


def test_the_whole_balance_may_be_withdrawn_but_not_a_cent_more(db, clock):
    teacher = make_funded_teacher(db, clock=clock, amount_cents=3_000)
    before = table_counts(db)

    with pytest.raises(InsufficientFunds) as refused:
        ask(db, clock, teacher, 3_001)
    assert refused.value.params["missing_cents"] == 1
    assert table_counts(db) == before

    ask(db, clock, teacher, 3_000)
    assert wallets.balance_of(db, teacher.id) == 0
    assert_ledger_invariants(db)


@pytest.mark.parametrize("amount", [0, -500, 999, True, "2000", 12.5])
def test_an_amount_below_the_minimum_or_not_whole_cents_is_refused(db, clock, amount):
    teacher = make_funded_teacher(db, clock=clock, amount_cents=5_000)
    before = table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        ask(db, clock, teacher, amount)

    assert refused.value.code in ("payout_below_minimum", "amount_invalid")
    assert refused.value.field == "amount"
    assert table_counts(db) == before


def test_the_minimum_is_a_setting(db, clock, monkeypatch):
    monkeypatch.setattr(payouts, "settings", replace(settings, payout_min_cents=500))
    teacher = make_funded_teacher(db, clock=clock, amount_cents=5_000)
    assert ask(db, clock, teacher, 500).amount_cents == 500
    with pytest.raises(InvalidInput) as refused:
        ask(db, clock, teacher, 499)
    assert refused.value.params == {"min_cents": 500}


def test_a_student_cannot_ask_for_a_payout(db, clock):
    student = make_student(db, clock=clock)
    with pytest.raises(Forbidden, match="wrong_role"):
        ask(db, clock, student)


def test_a_bad_destination_changes_nothing(db, clock):
    teacher = make_funded_teacher(db, clock=clock, amount_cents=5_000)
    before = table_counts(db)
    with pytest.raises(InvalidInput, match="iban_checksum"):
        ask(db, clock, teacher, 2_000, "FR7630006000011234567890188")
    assert table_counts(db) == before
    assert wallets.balance_of(db, teacher.id) == 5_000


# --- decisions -------------------------------------------------------------------------------


def test_paying_takes_the_money_out_of_the_platform_and_tells_the_teacher(db, clock):
    teacher = make_funded_teacher(db, clock=clock, amount_cents=5_000)
    admin = make_admin(db, clock=clock)
    payout = ask(db, clock, teacher, 2_000)
    clock.advance(hours=2)

    paid = payouts.mark_paid(
        db=db, clock=clock, actor=admin, payout_id=payout.id, reference=" VIR-2026-001 "
    )

    assert (paid.status, paid.reference, paid.decided_by) == ("paid", "VIR-2026-001", admin.id)
    assert paid.decided_at == clock()
    assert payouts_balance(db) == 0
    assert wallets.balance_of(db, teacher.id) == 3_000
    assert audit_actions(db, target_id=payout.id, target_type="payout_request") == [
        "payout.requested",
        "payout.paid",
    ]
    notice = db.exec(select(Notice).where(Notice.kind == "payout_paid")).one()
    assert (notice.user_id, notice.status, notice.data["reference"]) == (
        teacher.id,
        "pending",
        "VIR-2026-001",
    )
    assert notice.data["destination"] == "••••0189"
    assert not mail.KINDS["payout_paid"].optional  # it cannot be turned off
    assert_ledger_invariants(db)


def test_refusing_returns_the_amount_to_the_teacher(db, clock):
    teacher = make_funded_teacher(db, clock=clock, amount_cents=5_000)
    admin = make_admin(db, clock=clock)
    payout = ask(db, clock, teacher, 2_000)

    refused = payouts.refuse(
        db=db, clock=clock, actor=admin, payout_id=payout.id, reason="Name mismatch"
    )

    assert (refused.status, refused.refusal_reason) == ("refused", "Name mismatch")
    assert wallets.balance_of(db, teacher.id) == 5_000
    assert payouts_balance(db) == 0
    notice = db.exec(select(Notice).where(Notice.kind == "payout_refused")).one()
    assert notice.data["reason"] == "Name mismatch"
    assert_ledger_invariants(db)


@pytest.mark.parametrize("first", ["paid", "refused"])
@pytest.mark.parametrize("second", ["paid", "refused"])
def test_a_decided_request_cannot_be_decided_again(db, clock, first, second):
    teacher = make_funded_teacher(db, clock=clock, amount_cents=5_000)
    admin = make_admin(db, clock=clock)
    payout = ask(db, clock, teacher, 2_000)
    decide = {
        "paid": lambda: payouts.mark_paid(
            db=db, clock=clock, actor=admin, payout_id=payout.id, reference="R1"
        ),
        "refused": lambda: payouts.refuse(
            db=db, clock=clock, actor=admin, payout_id=payout.id, reason="No"
        ),
    }
    decide[first]()
    before = table_counts(db)

    with pytest.raises(Conflict) as refused:
        decide[second]()

    assert refused.value.code == "payout_already_decided"
    assert refused.value.params == {"status": first}
    assert table_counts(db) == before
    assert_ledger_invariants(db)


def test_only_an_admin_decides(db, clock):
    teacher = make_funded_teacher(db, clock=clock, amount_cents=5_000)
    payout = ask(db, clock, teacher, 2_000)
    for actor in (teacher, make_teacher(db, clock=clock), make_student(db, clock=clock)):
        with pytest.raises(Forbidden, match="wrong_role"):
            payouts.mark_paid(db=db, actor=actor, payout_id=payout.id, reference="R")
        with pytest.raises(Forbidden, match="wrong_role"):
            payouts.refuse(db=db, actor=actor, payout_id=payout.id, reason="R")
        with pytest.raises(Forbidden, match="wrong_role"):
            payouts.payout_queue(db=db, actor=actor)
    assert db.get(PayoutRequest, payout.id).status == PayoutStatus.REQUESTED


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("reference", "", "payout_paid_reference_required"),
        ("reference", "x" * 129, "payout_paid_reference_too_long"),
        ("reason", "  ", "payout_reason_required"),
        ("reason", "x" * 501, "payout_reason_too_long"),
    ],
)
def test_a_decision_needs_its_reference_or_reason(db, clock, field, value, code):
    teacher = make_funded_teacher(db, clock=clock, amount_cents=5_000)
    admin = make_admin(db, clock=clock)
    payout = ask(db, clock, teacher, 2_000)
    decide = payouts.mark_paid if field == "reference" else payouts.refuse

    with pytest.raises(InvalidInput) as refused:
        decide(db=db, actor=admin, payout_id=payout.id, **{field: value})

    assert (refused.value.code, refused.value.field) == (code, field)
    assert db.get(PayoutRequest, payout.id).status == PayoutStatus.REQUESTED


def test_an_unknown_request_is_not_found(db, clock):
    admin = make_admin(db, clock=clock)
    with pytest.raises(NotFound, match="payout_not_found"):
        payouts.mark_paid(db=db, clock=clock, actor=admin, payout_id=999_999, reference="R")


# --- lists -----------------------------------------------------------------------------------


def test_the_teacher_sees_their_requests_newest_first_masked(db, clock):
    teacher = make_funded_teacher(db, clock=clock, amount_cents=10_000)
    other = make_funded_teacher(db, clock=clock, amount_cents=10_000)
    admin = make_admin(db, clock=clock)
    first = ask(db, clock, teacher, 1_000)
    clock.advance(minutes=1)
    second = ask(db, clock, teacher, 2_000, "PayPal ana@example.org")
    ask(db, clock, other, 3_000)
    payouts.mark_paid(db=db, clock=clock, actor=admin, payout_id=first.id, reference="VIR-1")

    page = payouts.my_payouts(db=db, actor=teacher, page_size=1)

    assert (page.total, page.pages) == (2, 2)
    assert [(i.id, i.destination, i.status) for i in page.items] == [
        (second.id, "••••.org", "requested")
    ]
    (older,) = payouts.my_payouts(db=db, actor=teacher, page=2, page_size=1).items
    assert (older.id, older.status, older.reference, older.destination) == (
        first.id,
        "paid",
        "VIR-1",
        "••••0189",
    )


def test_the_admin_queue_lists_waiting_requests_oldest_first_then_decided(db, clock):
    teacher = make_funded_teacher(db, clock=clock, amount_cents=20_000)
    admin = make_admin(db, clock=clock)
    made = []
    for amount in (1_000, 2_000, 3_000, 4_000):
        made.append(ask(db, clock, teacher, amount))
        clock.advance(minutes=1)
    payouts.refuse(db=db, clock=clock, actor=admin, payout_id=made[0].id, reason="No")
    clock.advance(minutes=1)
    payouts.mark_paid(db=db, clock=clock, actor=admin, payout_id=made[2].id, reference="R")

    queue = payouts.payout_queue(db=db, actor=admin)

    assert [i.id for i in queue.items] == [made[1].id, made[3].id, made[2].id, made[0].id]
    assert queue.requested_count == 2
    assert queue.items[0].destination == IBAN  # the admin has to send it
    waiting = payouts.payout_queue(db=db, actor=admin, status="requested")
    assert [i.id for i in waiting.items] == [made[1].id, made[3].id]
    with pytest.raises(InvalidInput, match="payout_status_invalid"):
        payouts.payout_queue(db=db, actor=admin, status="lost")


def test_the_decision_notice_reads_in_the_teachers_language_and_leads_to_the_wallet(db, clock):
    teacher = make_funded_teacher(db, clock=clock, amount_cents=5_000)
    admin = make_admin(db, clock=clock)
    payout = ask(db, clock, teacher, 2_000)
    payouts.refuse(db=db, clock=clock, actor=admin, payout_id=payout.id, reason="Wrong name")

    (item,) = inbox.inbox_page(db=db, actor=teacher, lang="fr").items
    assert item.title == "Votre retrait a été refusé"
    assert "Wrong name" in item.detail and "20,00" in item.detail
    assert item.path == "/wallet"
    notice = db.exec(select(Notice).where(Notice.kind == "payout_refused")).one()
    message = mail.build_message(
        kind=notice.kind, to=notice.email, locale="en", data=notice.data, user_id=teacher.id, db=db
    )
    assert message["Subject"] == "Your withdrawal was refused"
    body = message.get_body(("plain",)).get_content()
    assert "Wrong name" in body and "••••0189" in body and "/wallet" in body
    assert "List-Unsubscribe" not in message
