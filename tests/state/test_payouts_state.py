"""The wallet page's payout part and the admins' queue: handlers called directly."""

from __future__ import annotations

from sqlmodel import Session, select

from tests.factories import STRONG_PASSWORD, make_admin, make_student
from tests.invariants import assert_ledger_invariants
from tests.payouts_support import IBAN_SPACED, make_funded_teacher
from tests.state.conftest import new_state, redirect_target, toasts
from visio.models import PayoutRequest
from visio.services import accounts, payouts, wallets
from visio.state.admin_payouts import AdminPayoutsState
from visio.state.payouts import PayoutState


def _token(db: Session, email: str) -> str:
    return accounts.login(db=db, email=email, password=STRONG_PASSWORD, address=None).token


def _state(cls, db, user, lang="en"):  # type: ignore[no-untyped-def]
    state = new_state(cls, _token(db, user.email))
    state.lang_choice = lang
    return state


def run(events) -> list:  # type: ignore[no-untyped-def,type-arg]
    """A generator handler run to its end, as Reflex would: the events it gave, Nones left out."""
    found = []
    for event in events:
        found.extend(event if isinstance(event, list) else [event] if event is not None else [])
    return found


def _fill(state: PayoutState, amount: str, destination: str, kind: str = "iban") -> None:
    state.set_payout_amount(amount)
    state.set_payout_kind(kind)
    state.set_payout_destination(destination)


def test_a_teacher_withdraws_once_even_if_the_form_is_sent_twice(bound, db, now_clock):  # type: ignore[no-untyped-def]
    teacher = make_funded_teacher(db, clock=now_clock, amount_cents=5_000)
    state = _state(PayoutState, db, teacher)
    assert state.open_wallet() is None
    nonce = state.payout_nonce
    _fill(state, "20,00", IBAN_SPACED)

    result = run(state.request_payout({"nonce": nonce}))
    again = run(state.request_payout({"nonce": nonce}))  # the double click, queued behind

    assert again == []
    assert toasts(result) == [("success", "Withdrawal requested: €20.00 is held until it is sent.")]
    assert db.exec(select(PayoutRequest).where(PayoutRequest.user_id == teacher.id)).all()
    assert len(payouts.my_payouts(db=db, actor=teacher).items) == 1
    assert wallets.balance_of(db, teacher.id) == 3_000
    assert state.balance_cents == 3_000
    (item,) = state.payouts
    assert (item["status"], item["status_label"], item["destination"]) == (
        "requested",
        "Pending",
        "To ••••0189",
    )
    assert state.entries[0]["label"] == "Withdrawal requested"
    assert (state.payout_amount, state.payout_destination) == ("", "")
    assert_ledger_invariants(db)


def test_a_wrong_iban_shows_its_message_next_to_the_field(bound, db, now_clock):  # type: ignore[no-untyped-def]
    teacher = make_funded_teacher(db, clock=now_clock, amount_cents=5_000)
    state = _state(PayoutState, db, teacher, lang="fr")
    state.open_wallet()
    _fill(state, "20", "FR76 3000 6000 0112 3456 7890 188")

    run(state.request_payout({"nonce": state.payout_nonce}))

    assert state.payout_error_field == "destination"
    assert "clé de contrôle" in state.payout_error
    assert wallets.balance_of(db, teacher.id) == 5_000

    _fill(state, "60", "FR76 3000 6000 0112 3456 7890 189")
    run(state.request_payout({"nonce": state.payout_nonce}))
    assert state.payout_error_field == ""
    assert "Solde insuffisant" in state.payout_error


def test_a_student_cannot_withdraw_and_sees_no_payouts(bound, db, now_clock):  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    state = _state(PayoutState, db, student)
    state.open_wallet()
    assert state.payouts == []
    _fill(state, "20", IBAN_SPACED)

    result = run(state.request_payout({"nonce": state.payout_nonce}))

    assert redirect_target(result) == "/student/video-sessions"
    assert db.exec(select(PayoutRequest)).all() == []


def test_the_admin_pays_from_the_queue_and_a_teacher_is_turned_away(bound, db, now_clock):  # type: ignore[no-untyped-def]
    teacher = make_funded_teacher(db, clock=now_clock, amount_cents=5_000)
    admin = make_admin(db, clock=now_clock)
    payout = payouts.request_payout(
        db=db, actor=teacher, amount_cents=2_000, destination=IBAN_SPACED
    )
    assert redirect_target(_state(AdminPayoutsState, db, teacher).on_load()) is not None

    state = _state(AdminPayoutsState, db, admin)
    assert state.on_load() is None
    assert [i["id"] for i in state.items] == [payout.id]
    assert state.waiting_label == "Waiting: 1"
    state.open_dialog("pay", payout.id)
    assert "FR7630006000011234567890189" in state.dialog_intro
    run(state.confirm())
    assert state.dialog_error == "Enter the payment's reference."
    state.set_dialog_text("VIR-42")

    result = run(state.confirm())

    assert toasts(result) == [("success", "Marked paid: the teacher has been told.")]
    assert state.dialog == ""
    (item,) = state.items
    assert (item["status"], item["note"]) == ("paid", "Reference: VIR-42")
    assert_ledger_invariants(db)


def test_a_request_decided_meanwhile_says_so_in_the_dialog(bound, db, now_clock):  # type: ignore[no-untyped-def]
    teacher = make_funded_teacher(db, clock=now_clock, amount_cents=5_000)
    admin = make_admin(db, clock=now_clock)
    payout = payouts.request_payout(
        db=db, actor=teacher, amount_cents=2_000, destination=IBAN_SPACED
    )
    state = _state(AdminPayoutsState, db, admin)
    state.on_load()
    state.open_dialog("refuse", payout.id)
    state.set_dialog_text("Unknown account")
    payouts.mark_paid(db=db, actor=admin, payout_id=payout.id, reference="R")  # another admin

    run(state.confirm())

    assert "already been decided" in state.dialog_error
    assert state.items[0]["status"] == "paid"
    assert wallets.balance_of(db, teacher.id) == 3_000
