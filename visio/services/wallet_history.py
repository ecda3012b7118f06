"""What a user sees of their money: ledger entries and purchases, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from visio.models import LedgerEntry, Purchase, User, VideoSession, Wallet
from visio.services import wallets
from visio.services.errors import NotAuthenticated

MAX_PAGE_SIZE = 50


@dataclass(frozen=True)
class EntryLine:
    id: int
    kind: str
    amount_cents: int
    at: datetime
    session_id: int | None
    session_title: str | None
    reference: str | None


@dataclass(frozen=True)
class HistoryPage:
    balance_cents: int
    currency: str
    entries: list[EntryLine]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def history(*, db: Session, actor: User | None, page: int = 1, page_size: int = 20) -> HistoryPage:
    """The actor's wallet balance and a page of its entries, newest first."""
    if actor is None:
        raise NotAuthenticated()
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    wallet = wallets.wallet_of(db, actor.id)  # type: ignore[arg-type]
    return entries_page(db, wallet, page=page, page_size=page_size)


def entries_page(db: Session, wallet: Wallet, *, page: int, page_size: int) -> HistoryPage:
    """A page of one wallet's entries, newest first (whoever may see it: the caller checks)."""
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    total = db.exec(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.wallet_id == wallet.id)
    ).one()
    rows = db.exec(
        select(LedgerEntry, VideoSession.title)
        .join(VideoSession, VideoSession.id == LedgerEntry.session_id, isouter=True)
        .where(LedgerEntry.wallet_id == wallet.id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())  # type: ignore[attr-defined]
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    entries = [
        EntryLine(e.id, e.kind, e.amount_cents, e.created_at, e.session_id, title, e.reference)
        for e, title in rows
    ]
    return HistoryPage(wallet.balance_cents, wallet.currency, entries, int(total), page, page_size)


@dataclass(frozen=True)
class PurchaseLine:
    id: int
    session_id: int
    session_title: str
    amount_cents: int
    status: str
    at: datetime
    settled_at: datetime | None


def purchases(*, db: Session, actor: User | None, limit: int = 50) -> list[PurchaseLine]:
    """The actor's purchase records (paid seats), newest first."""
    if actor is None:
        raise NotAuthenticated()
    rows = db.exec(
        select(Purchase, VideoSession.title)
        .join(VideoSession, VideoSession.id == Purchase.session_id)
        .where(Purchase.student_id == actor.id)
        .order_by(Purchase.created_at.desc(), Purchase.id.desc())  # type: ignore[attr-defined]
        .limit(min(limit, 200))
    ).all()
    return [
        PurchaseLine(
            p.id, p.session_id, title, p.amount_cents, p.status, p.created_at, p.settled_at
        )
        for p, title in rows
    ]
