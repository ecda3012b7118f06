"""The ledger's invariants, checked on committed data at the end of every money test.

DESIGN.md: for every wallet, balance == sum of its entries and never negative; the sum over all
wallets plus escrow only changes by top-ups. Escrow holds exactly the purchases still held, and no
purchase is ever charged, refunded or escrowed twice.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func
from sqlmodel import Session, select

from visio.models import (
    Enrollment,
    EnrollmentStatus,
    EntryKind,
    LedgerEntry,
    PayoutRequest,
    PayoutStatus,
    Purchase,
    PurchaseStatus,
    StoredStatus,
    VideoSession,
    Wallet,
    WalletKind,
)

# Entries written once per purchase: a second one would be a double charge or a double refund.
ONCE_PER_PURCHASE = (
    EntryKind.PURCHASE,
    EntryKind.ESCROW_IN,
    EntryKind.REFUND,
    EntryKind.ESCROW_REFUND,
)


def assert_ledger_invariants(db: Session) -> None:
    """Every wallet agrees with its ledger, none is negative, money is only made by top-ups."""
    db.rollback()  # judge what is committed
    db.expire_all()
    sums = dict(
        db.exec(
            select(LedgerEntry.wallet_id, func.sum(LedgerEntry.amount_cents)).group_by(
                LedgerEntry.wallet_id
            )
        ).all()
    )
    all_wallets = db.exec(select(Wallet).order_by(Wallet.id)).all()
    for wallet in all_wallets:
        assert wallet.balance_cents == sums.get(wallet.id, 0), (
            f"wallet {wallet.id} ({wallet.kind}) caches {wallet.balance_cents}, "
            f"its entries sum to {sums.get(wallet.id, 0)}"
        )
        assert wallet.balance_cents >= 0 or wallet.kind == WalletKind.PLATFORM, (
            f"wallet {wallet.id} is negative"
        )
    assert not set(sums) - {w.id for w in all_wallets}, "ledger entries of no wallet"

    topped_up = db.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.kind == EntryKind.TOPUP
        )
    ).one()
    total = sum(w.balance_cents for w in all_wallets)
    paid_out = assert_payout_invariants(db, all_wallets)
    assert total == topped_up - paid_out, (
        f"wallets hold {total} in all, top-ups brought {topped_up}, payouts took {paid_out}"
    )

    (escrow,) = [w for w in all_wallets if w.kind == WalletKind.ESCROW]
    held = db.exec(
        select(func.coalesce(func.sum(Purchase.amount_cents), 0)).where(
            Purchase.status == PurchaseStatus.HELD
        )
    ).one()
    assert escrow.balance_cents == held, f"escrow holds {escrow.balance_cents}, held {held}"

    per_purchase = Counter(
        db.exec(
            select(LedgerEntry.purchase_id, LedgerEntry.kind).where(
                LedgerEntry.purchase_id.is_not(None)  # type: ignore[union-attr]
            )
        ).all()
    )
    repeated = {key: n for key, n in per_purchase.items() if n > 1 and key[1] in ONCE_PER_PURCHASE}
    assert not repeated, f"entries written more than once for a purchase: {repeated}"
    for purchase in db.exec(select(Purchase)).all():
        refunded = per_purchase[(purchase.id, EntryKind.REFUND)]
        assert refunded == (purchase.status == PurchaseStatus.REFUNDED), (
            f"purchase {purchase.id} is {purchase.status} with {refunded} refund entries"
        )
        assert per_purchase[(purchase.id, EntryKind.PURCHASE)] == 1, purchase


def assert_adjustment_invariants(db: Session) -> None:
    """Admins' manual adjustments are double entry: every user-side entry has its opposite on
    the platform wallet (same time, same reference), and nothing else moves the platform wallet."""
    db.rollback()
    db.expire_all()
    (platform,) = db.exec(select(Wallet).where(Wallet.kind == WalletKind.PLATFORM)).all()
    user_side = Counter(
        (e.amount_cents, e.created_at, e.reference)
        for e in db.exec(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.ADJUSTMENT))
    )
    platform_side = Counter(
        (-e.amount_cents, e.created_at, e.reference)
        for e in db.exec(select(LedgerEntry).where(LedgerEntry.wallet_id == platform.id))
    )
    assert user_side == platform_side, "manual adjustments without their platform side"


def assert_seat_invariants(db: Session) -> None:
    """An open session's cached seat count is its active enrollments, within capacity."""
    db.rollback()
    db.expire_all()
    active = dict(
        db.exec(
            select(Enrollment.session_id, func.count())
            .where(Enrollment.status == EnrollmentStatus.ACTIVE)
            .group_by(Enrollment.session_id)
        ).all()
    )
    for session in db.exec(select(VideoSession)).all():
        if session.status == StoredStatus.CANCELLED:
            assert active.get(session.id, 0) == 0, f"active seats in cancelled {session.id}"
            continue
        assert session.enrolled_count == active.get(session.id, 0), (
            f"session {session.id} counts {session.enrolled_count} seats, "
            f"{active.get(session.id, 0)} are active"
        )
        if session.capacity is not None:
            assert session.enrolled_count <= session.capacity, f"session {session.id} overbooked"


def assert_payout_invariants(db: Session, all_wallets: list[Wallet]) -> int:
    """The payouts wallet holds exactly the requests still `requested`; each request moved its
    amount once (held once; paid or returned once, as its status says). Returns what paid payouts
    took out of the platform (the sum over all wallets is top-ups minus that)."""
    held = [w for w in all_wallets if w.kind == WalletKind.PAYOUTS]
    requested = db.exec(
        select(func.coalesce(func.sum(PayoutRequest.amount_cents), 0)).where(
            PayoutRequest.status == PayoutStatus.REQUESTED
        )
    ).one()
    assert sum(w.balance_cents for w in held) == requested, (
        f"the payouts wallet holds {[w.balance_cents for w in held]}, requests wait for {requested}"
    )
    entries = Counter(
        db.exec(
            select(LedgerEntry.reference, LedgerEntry.kind).where(
                LedgerEntry.kind.in_(PAYOUT_KINDS)  # type: ignore[attr-defined]
            )
        ).all()
    )
    for payout in db.exec(select(PayoutRequest)).all():
        ref = f"payout:{payout.id}"
        expected = {
            EntryKind.PAYOUT_HOLD: 1,
            EntryKind.PAYOUT_HELD: 1,
            EntryKind.PAYOUT_PAID: int(payout.status == PayoutStatus.PAID),
            EntryKind.PAYOUT_UNHOLD: int(payout.status == PayoutStatus.REFUSED),
            EntryKind.PAYOUT_RETURN: int(payout.status == PayoutStatus.REFUSED),
        }
        found = {kind: entries[(ref, kind)] for kind in expected}
        assert found == expected, f"payout {payout.id} ({payout.status}): entries {found}"
    paid_entries = db.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.kind == EntryKind.PAYOUT_PAID
        )
    ).one()
    paid = db.exec(
        select(func.coalesce(func.sum(PayoutRequest.amount_cents), 0)).where(
            PayoutRequest.status == PayoutStatus.PAID
        )
    ).one()
    assert -paid_entries == paid, f"paid payouts {paid}, their entries {paid_entries}"
    return int(paid)


PAYOUT_KINDS = (
    EntryKind.PAYOUT_HOLD,
    EntryKind.PAYOUT_HELD,
    EntryKind.PAYOUT_PAID,
    EntryKind.PAYOUT_UNHOLD,
    EntryKind.PAYOUT_RETURN,
)
