"""Teachers' payouts: a teacher asks to withdraw from their wallet (the amount is held in the
platform's payouts wallet), then an admin pays it (the money leaves the platform) or refuses it
(the amount returns to the teacher's wallet). One ledger: every move is a pair of entries, or a
single debit of the payouts wallet when the money leaves.

Locks (see `locking`): a request takes the teacher's wallet, then the payouts wallet; a decision
takes the payout request's row first (so a payment and a refusal racing, or two payments, see one
`requested` row and the loser a decided one), then the teacher's wallet, then the payouts wallet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import EntryKind, PayoutRequest, PayoutStatus, Role, User, Wallet, WalletKind
from visio.services import audit, email_verification, locking, outbox, wallets
from visio.services.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from visio.settings import settings

REFERENCE_MIN, REFERENCE_MAX = 3, 64  # a payout reference a teacher gives instead of an IBAN
PAID_REFERENCE_MAX = 128  # the admin's payment reference
REASON_MAX = 500
MAX_PAGE_SIZE = 50
MASK = "••••"

# ISO 13616 lengths by country (the SWIFT IBAN registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_SPACES = re.compile(r"[\s\u00a0\u202f-]+")
DESTINATION_KINDS = ("iban", "reference")


# --- destinations -----------------------------------------------------------------------------


def normalize_iban(value: str) -> str:
    """An IBAN as stored: no spaces (nor dashes), upper-case."""
    return _SPACES.sub("", value).upper()


def iban_checksum_ok(iban: str) -> bool:
    """ISO 13616 / ISO 7064 mod 97-10: the country and check digits moved to the end, letters
    as numbers (A=10 ... Z=35), the whole number modulo 97 is 1."""
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def looks_like_iban(value: str) -> bool:
    """Two letters of a country that has IBANs, two digits, then letters and digits."""
    iban = normalize_iban(value)
    return bool(_IBAN_SHAPE.match(iban)) and iban[:2] in IBAN_LENGTHS


def parse_destination(value: Any, kind: str | None = None) -> str:
    """The destination as stored: a checked, normalized IBAN, or a payout reference as entered.

    `kind` "iban" or "reference" says which the teacher chose; without it, what looks like an IBAN
    is checked as one (a mistyped IBAN is refused rather than kept as a reference).
    """
    if kind is not None and kind not in DESTINATION_KINDS:
        raise InvalidInput("destination_kind_invalid", field="destination_kind")
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput("destination_required", field="destination")
    if kind == "iban" or (kind is None and looks_like_iban(text)):
        return _iban(text)
    if not REFERENCE_MIN <= len(text) <= REFERENCE_MAX:
        raise InvalidInput(
            "payout_reference_length", field="destination", min=REFERENCE_MIN, max=REFERENCE_MAX
        )
    if not text.isprintable():  # control, invisible and direction-changing characters
        raise InvalidInput("payout_reference_invalid", field="destination")
    return text


def _iban(text: str) -> str:
    iban = normalize_iban(text)
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+", iban):
        raise InvalidInput("iban_invalid", field="destination")
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is None:
        raise InvalidInput("iban_country_unknown", field="destination", country=iban[:2])
    if len(iban) != expected:
        raise InvalidInput(
            "iban_length", field="destination", country=iban[:2], length=expected, got=len(iban)
        )
    if not iban_checksum_ok(iban):
        raise InvalidInput("iban_checksum", field="destination")
    return iban


def mask(destination: str) -> str:
    """What a list shows of a destination: its last 4 characters."""
    return MASK + destination[-4:]


# --- the teacher's request --------------------------------------------------------------------


def request_payout(
    *,
    db: Session,
    actor: User | None,
    amount_cents: Any,
    destination: Any,
    destination_kind: str | None = None,
    clock: Clock = utcnow,
) -> PayoutRequest:
    """Ask to withdraw `amount_cents` from the teacher's wallet: the amount is held at once."""
    if actor is None or actor.id is None:
        raise NotAuthenticated()
    if actor.role != Role.TEACHER:
        raise Forbidden("wrong_role")
    email_verification.require_verified(actor)
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
        raise InvalidInput("amount_invalid", field="amount")
    if amount_cents < settings.payout_min_cents:
        raise InvalidInput(
            "payout_below_minimum", field="amount", min_cents=settings.payout_min_cents
        )
    stored = parse_destination(destination, destination_kind)
    actor_id = actor.id
    try:
        db.rollback()
        wallet = wallets.lock_wallet_of(db, actor_id)
        held = _lock_payouts_wallet(db)
        wallets.check_funds(wallet, amount_cents)
        now = clock()
        payout = PayoutRequest(
            user_id=actor_id,
            amount_cents=amount_cents,
            currency=wallet.currency,
            destination=stored,
            created_at=now,
        )
        db.add(payout)
        db.flush()
        note = _entry_reference(payout)
        wallets.post(db, wallet, -amount_cents, EntryKind.PAYOUT_HOLD, at=now, reference=note)
        wallets.post(db, held, amount_cents, EntryKind.PAYOUT_HELD, at=now, reference=note)
        audit.record(
            db,
            actor_id=actor_id,
            action="payout.requested",
            target_type="payout_request",
            target_id=payout.id,
            at=now,
            amount_cents=amount_cents,
            destination=mask(stored),
        )
        db.commit()
    except Exception:
        db.rollback()
        raise
    return payout


def _lock_payouts_wallet(db: Session) -> Wallet:
    """Lock the payouts wallet: after users' wallets, before the escrow (see `locking`)."""
    found = locking.lock_where(db, Wallet, Wallet.kind == WalletKind.PAYOUTS)
    if found:
        return found[0]  # type: ignore[return-value]
    wallet = Wallet(kind=WalletKind.PAYOUTS, currency=settings.currency)  # made by 0010
    db.add(wallet)
    db.flush()
    return wallet


def _entry_reference(payout: PayoutRequest) -> str:
    return f"payout:{payout.id}"


# --- the admin's decision ---------------------------------------------------------------------


def mark_paid(
    *, db: Session, actor: User | None, payout_id: int, reference: Any, clock: Clock = utcnow
) -> PayoutRequest:
    """An admin sent the money (their payment `reference`): it leaves the payouts wallet."""
    admin_id = _admin_id(actor)
    text = _required_text(reference, "payout_paid_reference", PAID_REFERENCE_MAX, "reference")
    return _decide(db, admin_id, payout_id, PayoutStatus.PAID, text, clock)


def refuse(
    *, db: Session, actor: User | None, payout_id: int, reason: Any, clock: Clock = utcnow
) -> PayoutRequest:
    """An admin refused the request (a `reason`): the amount returns to the teacher's wallet."""
    admin_id = _admin_id(actor)
    text = _required_text(reason, "payout_reason", REASON_MAX, "reason")
    return _decide(db, admin_id, payout_id, PayoutStatus.REFUSED, text, clock)


def _admin_id(actor: User | None) -> int:
    if actor is None or actor.id is None:
        raise NotAuthenticated()
    if actor.role != Role.ADMIN:
        raise Forbidden("wrong_role")
    return actor.id


def _required_text(value: Any, code: str, limit: int, field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(f"{code}_required", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{code}_too_long", field=field, max=limit)
    if not text.isprintable():
        raise InvalidInput("text_hidden_characters", field=field, chars="")
    return text


def _decide(
    db: Session, admin_id: int, payout_id: int, outcome: PayoutStatus, text: str, clock: Clock
) -> PayoutRequest:
    try:
        db.rollback()
        found = locking.lock(db, PayoutRequest, [payout_id])
        if not found:
            raise NotFound("payout_not_found")
        payout: PayoutRequest = found[0]  # type: ignore[assignment]
        if payout.status != PayoutStatus.REQUESTED:
            raise Conflict("payout_already_decided", status=payout.status)
        now, note = clock(), _entry_reference(payout)
        if outcome == PayoutStatus.PAID:
            held = _lock_payouts_wallet(db)
            wallets.post(
                db, held, -payout.amount_cents, EntryKind.PAYOUT_PAID, at=now, reference=note
            )
            payout.reference = text
        else:
            wallet = wallets.lock_wallet_of(db, payout.user_id)
            held = _lock_payouts_wallet(db)
            amount = payout.amount_cents
            wallets.post(db, held, -amount, EntryKind.PAYOUT_UNHOLD, at=now, reference=note)
            wallets.post(db, wallet, amount, EntryKind.PAYOUT_RETURN, at=now, reference=note)
            payout.refusal_reason = text
        payout.status, payout.decided_at, payout.decided_by = outcome, now, admin_id
        db.add(payout)
        audit.record(
            db,
            actor_id=admin_id,
            action=f"payout.{outcome}",
            target_type="payout_request",
            target_id=payout.id,
            at=now,
            amount_cents=payout.amount_cents,
            user_id=payout.user_id,
            **({"reference": text} if outcome == PayoutStatus.PAID else {"reason": text}),
        )
        _notify(db, payout, at=now)
        db.commit()
    except Exception:
        db.rollback()
        raise
    return payout


def _notify(db: Session, payout: PayoutRequest, *, at: datetime) -> None:
    """The teacher's notice of the decision (in the app, and a mail they cannot turn off)."""
    teacher = db.get(User, payout.user_id)
    if teacher is None:
        return
    outbox.enqueue(
        db,
        kind=f"payout_{payout.status}",
        user=teacher,
        data={
            "payout_id": payout.id,
            "amount_cents": payout.amount_cents,
            "currency": payout.currency,
            "destination": mask(payout.destination),
            "reference": payout.reference,
            "reason": payout.refusal_reason,
            "requested_at": payout.created_at.isoformat(),
            "tz": teacher.timezone or settings.default_timezone,
        },
        at=at,
    )


# --- lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayoutLine:
    """A payout request as a list shows it; `destination` masked unless an admin reads it."""

    id: int
    user_id: int
    user_name: str
    user_email: str
    amount_cents: int
    currency: str
    destination: str
    status: str
    reference: str | None
    refusal_reason: str | None
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class PayoutPage:
    items: list[PayoutLine]
    total: int
    page: int
    page_size: int
    requested_count: int = 0  # waiting for an admin (the queue's heading)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def my_payouts(
    *, db: Session, actor: User | None, page: int = 1, page_size: int = 20
) -> PayoutPage:
    """The teacher's payout requests, newest first, destinations masked."""
    if actor is None or actor.id is None:
        raise NotAuthenticated()
    if actor.role != Role.TEACHER:
        raise Forbidden("wrong_role")
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    mine = PayoutRequest.user_id == actor.id
    total = db.exec(select(func.count()).select_from(PayoutRequest).where(mine)).one()
    rows = db.exec(
        select(PayoutRequest)
        .where(mine)
        .order_by(PayoutRequest.created_at.desc(), PayoutRequest.id.desc())  # type: ignore[attr-defined, union-attr]
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = [_line(p, actor.full_name, actor.email, masked=True) for p in rows]
    return PayoutPage(items, int(total), page, page_size)


def payout_queue(
    *,
    db: Session,
    actor: User | None,
    status: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> PayoutPage:
    """Every payout request for an admin: those waiting first (oldest first), then the decided
    ones (latest decision first); full destinations, for the admin has to send the money."""
    _admin_id(actor)
    if status is not None and status not in tuple(PayoutStatus):
        raise InvalidInput("payout_status_invalid", field="status")
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    where = [PayoutRequest.status == status] if status else []
    total = db.exec(select(func.count()).select_from(PayoutRequest).where(*where)).one()
    waiting = PayoutRequest.status == PayoutStatus.REQUESTED
    requested_count = db.exec(select(func.count()).select_from(PayoutRequest).where(waiting)).one()
    rows = db.exec(
        select(PayoutRequest, User.full_name, User.email)
        .join(User, User.id == PayoutRequest.user_id)  # type: ignore[arg-type]
        .where(*where)
        .order_by(
            case((waiting, 0), else_=1),
            case((waiting, PayoutRequest.created_at)),
            PayoutRequest.decided_at.desc(),  # type: ignore[union-attr]
            PayoutRequest.id,
        )
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = [_line(p, name, email, masked=False) for p, name, email in rows]
    return PayoutPage(items, int(total), page, page_size, int(requested_count))


def _line(p: PayoutRequest, name: str, email: str, *, masked: bool) -> PayoutLine:
    return PayoutLine(
        id=p.id,  # type: ignore[arg-type]
        user_id=p.user_id,
        user_name=name,
        user_email=email,
        amount_cents=p.amount_cents,
        currency=p.currency,
        destination=mask(p.destination) if masked else p.destination,
        status=p.status,
        reference=p.reference,
        refusal_reason=p.refusal_reason,
        created_at=p.created_at,
        decided_at=p.decided_at,
    )
