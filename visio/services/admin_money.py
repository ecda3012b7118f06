"""Admins and money: manual credits and debits, any wallet's ledger, the platform at a glance.

A manual adjustment is double entry between a user's wallet and the platform wallet (the only
one allowed below zero), so the sum over all wallets still changes only by top-ups and paid
payouts. Locks in the house order: the user's wallet, then the platform wallet (escrow, never
touched here, would come last).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import (
    EntryKind,
    LedgerEntry,
    PayoutRequest,
    PayoutStatus,
    Purchase,
    PurchaseStatus,
    User,
    Wallet,
    WalletKind,
)
from visio.services import audit, locking, wallet_history, wallets
from visio.services.admin_users import check_reason
from visio.services.admins import require_admin
from visio.services.errors import InvalidInput, NotFound
from visio.settings import settings

ADJUST_MAX_CENTS = 1_000_000  # 10,000.00: larger sums are not typed into a form


class Direction(StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


@dataclass(frozen=True)
class Adjustment:
    entry: LedgerEntry
    balance_cents: int


def platform_wallet(db: Session) -> Wallet:
    """The platform's own wallet (created by migration 0010)."""
    wallet = db.exec(select(Wallet).where(Wallet.kind == WalletKind.PLATFORM)).first()
    if wallet is None:  # a database made without the migrations (never in production)
        wallet = Wallet(kind=WalletKind.PLATFORM, currency=settings.currency)
        db.add(wallet)
        db.flush()
    return wallet


def _lock_platform(db: Session) -> Wallet:
    found = locking.lock_where(db, Wallet, Wallet.kind == WalletKind.PLATFORM)
    return found[0] if found else platform_wallet(db)  # type: ignore[return-value]


def adjust_wallet(
    *,
    db: Session,
    actor: User | None,
    user_id: int,
    direction: str,
    amount_cents: int,
    reason: str,
    clock: Clock = utcnow,
) -> Adjustment:
    """Credit or debit a user's wallet by hand, against the platform wallet, with a reason.

    A debit never takes the wallet below zero (`insufficient_funds`).
    """
    admin = require_admin(actor)
    if direction not in tuple(Direction):
        raise InvalidInput("direction_invalid", field="direction")
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
        raise InvalidInput("amount_invalid", field="amount")
    if not 1 <= amount_cents <= ADJUST_MAX_CENTS:
        raise InvalidInput(
            "adjust_out_of_range", field="amount", min_cents=1, max_cents=ADJUST_MAX_CENTS
        )
    text = check_reason(reason)
    signed = amount_cents if direction == Direction.CREDIT else -amount_cents
    try:
        db.rollback()
        found = wallets.lock_wallets_of(db, [user_id])
        if user_id not in found:
            raise NotFound("user_not_found")
        wallet = found[user_id]
        platform = _lock_platform(db)
        now = clock()
        reference = text[:128]
        entry = wallets.post(db, wallet, signed, EntryKind.ADJUSTMENT, at=now, reference=reference)
        wallets.post(db, platform, -signed, EntryKind.PLATFORM_ADJUST, at=now, reference=reference)
        audit.record(
            db,
            actor_id=admin.id,
            action=f"admin.wallet_{direction}ed",
            target_type="wallet",
            target_id=wallet.id,
            at=now,
            user_id=user_id,
            amount_cents=amount_cents,
            reason=text,
        )
        db.commit()
    except Exception:
        db.rollback()
        raise
    return Adjustment(entry=entry, balance_cents=wallet.balance_cents)


def wallet_ledger(
    *, db: Session, actor: User | None, wallet_id: int, page: int = 1, page_size: int = 20
) -> wallet_history.HistoryPage:
    """Any wallet's balance and a page of its entries, newest first."""
    require_admin(actor)
    wallet = db.get(Wallet, wallet_id)
    if wallet is None:
        raise NotFound("wallet_not_found")
    return wallet_history.entries_page(db, wallet, page=page, page_size=page_size)


@dataclass(frozen=True)
class WalletGap:
    wallet_id: int
    kind: str
    user_id: int | None
    balance_cents: int
    ledger_cents: int


@dataclass(frozen=True)
class Check:
    """One reconciliation: what is held against what it should be."""

    name: str  # wallets_total, escrow, payouts
    held_cents: int
    expected_cents: int

    @property
    def difference_cents(self) -> int:
        return self.held_cents - self.expected_cents


@dataclass(frozen=True)
class MoneyOverview:
    currency: str
    users_cents: int
    escrow_cents: int
    payouts_held_cents: int
    paid_out_cents: int
    platform_cents: int  # below zero: what admins' manual credits gave away, net
    topups_cents: int
    checks: list[Check]
    gaps: list[WalletGap]

    @property
    def balanced(self) -> bool:
        return not self.gaps and all(c.difference_cents == 0 for c in self.checks)


def _sum(db: Session, column, *where) -> int:  # type: ignore[no-untyped-def]
    return int(db.exec(select(func.coalesce(func.sum(column), 0)).where(*where)).one())


def money_overview(*, db: Session, actor: User | None, gap_limit: int = 50) -> MoneyOverview:
    """The platform's money by place, and whether every ledger, escrow and the payouts agree."""
    require_admin(actor)
    by_kind = dict(
        db.exec(
            select(Wallet.kind, func.coalesce(func.sum(Wallet.balance_cents), 0)).group_by(
                Wallet.kind
            )
        ).all()
    )
    ledger = (
        select(
            LedgerEntry.wallet_id,
            func.sum(LedgerEntry.amount_cents).label("cents"),
        )
        .group_by(LedgerEntry.wallet_id)
        .subquery()
    )
    summed = func.coalesce(ledger.c.cents, 0)
    gaps = [
        WalletGap(w_id, kind, user_id, int(balance), int(cents))
        for w_id, kind, user_id, balance, cents in db.exec(
            select(Wallet.id, Wallet.kind, Wallet.user_id, Wallet.balance_cents, summed)
            .join(ledger, ledger.c.wallet_id == Wallet.id, isouter=True)
            .where(Wallet.balance_cents != summed)
            .order_by(Wallet.id)
            .limit(gap_limit)
        ).all()
    ]
    topups = _sum(db, LedgerEntry.amount_cents, LedgerEntry.kind == EntryKind.TOPUP)
    paid_out = _sum(db, PayoutRequest.amount_cents, PayoutRequest.status == PayoutStatus.PAID)
    requested = _sum(db, PayoutRequest.amount_cents, PayoutRequest.status == PayoutStatus.REQUESTED)
    held = _sum(db, Purchase.amount_cents, Purchase.status == PurchaseStatus.HELD)
    escrow = int(by_kind.get(WalletKind.ESCROW, 0))
    payouts = int(by_kind.get(WalletKind.PAYOUTS, 0))
    total = sum(int(v) for v in by_kind.values())
    return MoneyOverview(
        currency=settings.currency,
        users_cents=int(by_kind.get(WalletKind.USER, 0)),
        escrow_cents=escrow,
        payouts_held_cents=payouts,
        paid_out_cents=paid_out,
        platform_cents=int(by_kind.get(WalletKind.PLATFORM, 0)),
        topups_cents=topups,
        checks=[
            Check("wallets_total", total, topups - paid_out),
            Check("escrow", escrow, held),
            Check("payouts", payouts, requested),
        ],
        gaps=gaps,
    )
