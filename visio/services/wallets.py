"""Wallets and the ledger: every movement is an entry, the wallet row caches the sum."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    Select,
    bindparam,
    func,
    insert,
    literal,
    true,
    union_all,
    update,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import (
    EntryKind,
    LedgerEntry,
    Purchase,
    PurchaseStatus,
    User,
    Wallet,
    WalletKind,
)
from visio.services import audit, email_verification, locking
from visio.services.errors import Busy, InsufficientFunds, InvalidInput, NotAuthenticated
from visio.services.payments import get_provider
from visio.settings import settings

TOPUP_MIN_CENTS = 100
TOPUP_MAX_CENTS = 100_000
CREDIT_ATTEMPTS = 3  # lock waits for the credit of a charge already taken
CREDIT_RETRY_PAUSE_SECONDS = 0.05

logger = logging.getLogger(__name__)


def open_wallet(db: Session, *, user_id: int | None, at: datetime) -> Wallet:
    """Add an empty wallet for a new user (inside the caller's transaction)."""
    wallet = Wallet(
        user_id=user_id, kind=WalletKind.USER, currency=settings.currency, updated_at=at
    )
    db.add(wallet)
    db.flush()
    return wallet


def wallet_of(db: Session, user_id: int) -> Wallet:
    """The user's wallet (every account has one from registration on)."""
    wallet = db.exec(select(Wallet).where(Wallet.user_id == user_id)).first()
    if wallet is None:
        raise NotAuthenticated()
    return wallet


def escrow_wallet(db: Session) -> Wallet:
    """The platform's escrow wallet, created by the first migration."""
    wallet = db.exec(select(Wallet).where(Wallet.kind == WalletKind.ESCROW)).first()
    if wallet is None:  # a database made without the migrations (never in production)
        wallet = Wallet(kind=WalletKind.ESCROW, currency=settings.currency)
        db.add(wallet)
        db.flush()
    return wallet


def lock_wallets_of(db: Session, user_ids: list[int]) -> dict[int, Wallet]:
    """Lock users' wallets (in id order), by user id; before the escrow, never after it."""
    locked = locking.lock_where(db, Wallet, Wallet.user_id.in_(sorted(set(user_ids))))  # type: ignore[union-attr]
    return {w.user_id: w for w in locked}  # type: ignore[attr-defined, misc]


def lock_wallet_of(db: Session, user_id: int) -> Wallet:
    """Lock one user's wallet (every account has one from registration on)."""
    wallet = lock_wallets_of(db, [user_id]).get(user_id)
    if wallet is None:
        raise NotAuthenticated()
    return wallet


def lock_escrow(db: Session) -> Wallet:
    """Lock the escrow wallet: the last lock a transaction takes (see locking)."""
    found = locking.lock_where(db, Wallet, Wallet.kind == WalletKind.ESCROW)
    return found[0] if found else escrow_wallet(db)  # type: ignore[return-value]


_LEDGER = LedgerEntry.__table__  # type: ignore[attr-defined]
_CREDIT_ESCROW = (
    update(Wallet.__table__)  # type: ignore[attr-defined]
    .where(Wallet.__table__.c.kind == literal(WalletKind.ESCROW.value))  # type: ignore[attr-defined]
    .values(
        balance_cents=Wallet.__table__.c.balance_cents + bindparam("amount"),  # type: ignore[attr-defined]
        updated_at=bindparam("at"),
    )
    .returning(Wallet.__table__.c.id, Wallet.__table__.c.balance_cents)  # type: ignore[attr-defined]
)
_ENTRY = insert(_LEDGER)
_ENTRY_COLUMNS = ("wallet_id", "amount_cents", "kind", "session_id", "purchase_id", "created_at")


@dataclass(frozen=True)
class EscrowCredit:
    """A payment going into escrow: how much, when, for which session, and the wallet it was
    debited from (already, with its balance), whose ledger entry is written with the escrow's."""

    amount_cents: int
    at: datetime
    session_id: int
    payer_wallet_id: int

    def params(self) -> dict[str, Any]:
        """The parameters of `escrow_credit_ctes`."""
        return {
            "amount": self.amount_cents,
            "at": self.at,
            "session_id": self.session_id,
            "payer_wallet_id": self.payer_wallet_id,
        }

    def entries(self, purchase_id: int, escrow_id: int | None) -> list[dict[str, Any]]:
        """Its two ledger rows, the payer's first (the escrow's, once its row is known)."""
        paid = {
            "wallet_id": self.payer_wallet_id,
            "amount_cents": -self.amount_cents,
            "kind": EntryKind.PURCHASE.value,
            "session_id": self.session_id,
            "purchase_id": purchase_id,
            "reference": None,
            "created_at": self.at,
        }
        if escrow_id is None:
            return [paid]
        escrow = {"wallet_id": escrow_id, "amount_cents": self.amount_cents}
        return [paid, paid | escrow | {"kind": EntryKind.ESCROW_IN.value}]


def escrow_credit_ctes(purchase: CTE) -> tuple[CTE, CTE]:
    """PostgreSQL: the escrow's credit and both ledger entries of an `EscrowCredit` (its
    `params`), as writable CTEs for the statement that inserts the purchase (`purchase`, a CTE
    whose `id` is the purchase's): (the credited row, the entries). No entry without the
    credit."""
    credited = _CREDIT_ESCROW.cte("credited")
    amount = bindparam("amount", type_=_LEDGER.c.amount_cents.type)

    def entry(wallet_id: Any, cents: Any, kind: EntryKind) -> Select[Any]:
        return select(
            wallet_id,
            cents,
            literal(kind.value, _LEDGER.c.kind.type),
            bindparam("session_id", type_=_LEDGER.c.session_id.type),
            purchase.c.id,
            bindparam("at", type_=_LEDGER.c.created_at.type),
        ).select_from(credited.join(purchase, true()))

    payer_wallet = bindparam("payer_wallet_id", type_=_LEDGER.c.wallet_id.type)
    rows = union_all(
        entry(payer_wallet, -amount, EntryKind.PURCHASE),
        entry(credited.c.id, amount, EntryKind.ESCROW_IN),
    )
    return credited, insert(_LEDGER).from_select(_ENTRY_COLUMNS, rows).cte("entries")


def credit_escrow(db: Session, credit: EscrowCredit, purchase_id: int) -> None:
    """Put a payment in escrow, as the transaction's last write, with both ledger entries.

    Every paid seat on the platform credits this one row: an atomic increment, after everything
    else is flushed, holds its lock only until the commit that follows (no read, no wait earlier).
    Statements built once, on the transaction's connection. (On PostgreSQL a seat's purchase
    carries all of it in its own statement instead: `escrow_credit_ctes`.)
    """
    db.flush()
    connection = db.connection()
    with locking.busy_on_timeout():
        found = connection.execute(
            _CREDIT_ESCROW, {"amount": credit.amount_cents, "at": credit.at}
        ).first()
    escrow_credited(db, credit, purchase_id, found)


def escrow_credited(
    db: Session,
    credit: EscrowCredit,
    purchase_id: int,
    found: Any,
    *,
    entries_written: bool = False,
) -> None:
    """After the escrow's credit: `found` is the row it credited (id, balance), with None for
    both (or no row) where there was none. The loaded escrow object, if any, follows it (a later
    ORM write of it must not put back an older balance); the entries are written unless the
    credit's statement wrote them.

    Without the row (a database made without the migrations, never in production), the escrow
    is made, then credited through the ORM, and the payer's entry written.
    """
    escrow_id, balance = found if found is not None else (None, None)
    if escrow_id is None or balance is None:
        post(
            db,
            escrow_wallet(db),
            credit.amount_cents,
            EntryKind.ESCROW_IN,
            at=credit.at,
            session_id=credit.session_id,
            purchase_id=purchase_id,
        )
        db.connection().execute(_ENTRY, credit.entries(purchase_id, None))
        return
    written(db, escrow_id, balance, credit.at)
    if not entries_written:  # the payer's entry first, then the escrow's: one statement
        db.connection().execute(_ENTRY, credit.entries(purchase_id, escrow_id))


def written(db: Session, wallet_id: int, balance_cents: int, at: datetime) -> None:
    """A wallet row changed by a statement of our own: its loaded object, if any, follows."""
    loaded = db.identity_map.get(identity_key(Wallet, wallet_id))
    if loaded is not None:
        set_committed_value(loaded, "balance_cents", balance_cents)
        set_committed_value(loaded, "updated_at", at)


def check_funds(wallet: Wallet, amount_cents: int) -> None:
    """Refuse to take `amount_cents` from a (locked) wallet holding less."""
    if wallet.balance_cents < amount_cents:
        raise InsufficientFunds(
            balance_cents=wallet.balance_cents, missing_cents=amount_cents - wallet.balance_cents
        )


def post(
    db: Session,
    wallet: Wallet,
    amount_cents: int,
    kind: str,
    *,
    at: datetime,
    session_id: int | None = None,
    purchase_id: int | None = None,
    reference: str | None = None,
) -> LedgerEntry:
    """Move money on a locked wallet: one ledger entry and the cached balance, together."""
    if wallet.kind != WalletKind.PLATFORM:  # the one wallet that may go below zero
        check_funds(wallet, -amount_cents)
    wallet.balance_cents += amount_cents
    wallet.updated_at = at
    entry = LedgerEntry(
        wallet_id=wallet.id,
        amount_cents=amount_cents,
        kind=kind,
        session_id=session_id,
        purchase_id=purchase_id,
        reference=reference,
        created_at=at,
    )
    db.add(wallet)
    db.add(entry)
    return entry


def transfer(
    db: Session,
    source: Wallet,
    target: Wallet,
    amount_cents: int,
    *,
    debit_kind: str,
    credit_kind: str,
    at: datetime,
    session_id: int | None = None,
    purchase_id: int | None = None,
) -> None:
    """Move money between two locked wallets: a debit and a credit entry, all or nothing."""
    post(
        db, source, -amount_cents, debit_kind, at=at, session_id=session_id, purchase_id=purchase_id
    )
    post(
        db, target, amount_cents, credit_kind, at=at, session_id=session_id, purchase_id=purchase_id
    )


def refund_purchase(
    db: Session, purchase: Purchase, *, escrow: Wallet, student_wallet: Wallet, at: datetime
) -> None:
    """Give a held payment back from escrow to its student (wallets locked by the caller)."""
    transfer(
        db,
        escrow,
        student_wallet,
        purchase.amount_cents,
        debit_kind=EntryKind.ESCROW_REFUND,
        credit_kind=EntryKind.REFUND,
        at=at,
        session_id=purchase.session_id,
        purchase_id=purchase.id,
    )
    purchase.status, purchase.settled_at = PurchaseStatus.REFUNDED, at
    db.add(purchase)


@dataclass(frozen=True)
class TopUp:
    entry: LedgerEntry
    balance_cents: int


def top_up(
    *,
    db: Session,
    actor: User,
    amount_cents: int,
    clock: Clock = utcnow,
    provider_name: str | None = None,
) -> TopUp:
    """Credit the actor's wallet through the configured payment provider."""
    email_verification.require_verified(actor)
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
        raise InvalidInput("amount_invalid", field="amount")
    if not TOPUP_MIN_CENTS <= amount_cents <= TOPUP_MAX_CENTS:
        raise InvalidInput(
            "topup_out_of_range",
            field="amount",
            min_cents=TOPUP_MIN_CENTS,
            max_cents=TOPUP_MAX_CENTS,
        )
    provider = get_provider(provider_name or settings.payment_provider)
    actor_id, wallet_id = actor.id, wallet_of(db, actor.id).id
    db.rollback()  # hold no transaction open while the provider works
    # The provider is asked before anything is written: a failure credits nothing.
    reference = provider.charge(
        user_id=actor_id, amount_cents=amount_cents, currency=settings.currency
    )
    # The money is taken now: a wallet busy for a moment must not lose it, so retry the credit.
    credit = (db, actor_id, wallet_id, amount_cents, reference, provider.name, clock)
    for attempt in range(1, CREDIT_ATTEMPTS):
        try:
            return _credit(*credit)
        except Busy:
            time.sleep(CREDIT_RETRY_PAUSE_SECONDS * attempt)
    try:
        return _credit(*credit)
    except Busy:
        logger.error(
            "top-up charged but not credited: user=%s amount_cents=%s reference=%s",
            actor_id,
            amount_cents,
            reference,
        )
        raise


def _credit(
    db: Session,
    actor_id: int,
    wallet_id: int,
    amount_cents: int,
    reference: str,
    provider_name: str,
    clock: Clock,
) -> TopUp:
    """Post a charged top-up in a transaction of its own (the lock is its first statement)."""
    try:
        db.rollback()
        (wallet,) = locking.lock(db, Wallet, [wallet_id])
        now = clock()
        entry = post(db, wallet, amount_cents, "topup", at=now, reference=reference)
        audit.record(
            db,
            actor_id=actor_id,
            action="wallet.topped_up",
            target_type="wallet",
            target_id=wallet.id,
            at=now,
            amount_cents=amount_cents,
            provider=provider_name,
            reference=reference,
        )
        db.commit()
    except Exception:
        db.rollback()
        raise
    return TopUp(entry=entry, balance_cents=wallet.balance_cents)


def balance_of(db: Session, user_id: int) -> int:
    return wallet_of(db, user_id).balance_cents


def ledger_sum(db: Session, wallet_id: int) -> int:
    """The sum of a wallet's entries: equals its cached balance (an invariant the tests check)."""
    return db.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.wallet_id == wallet_id
        )
    ).one()
