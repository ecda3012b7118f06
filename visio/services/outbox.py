"""The transactional outbox: notices are rows written with the change that causes them, and
delivered after commit by `deliver_due`, in every worker, each row once.

A sender claims due rows in a short transaction of its own (PostgreSQL: `FOR UPDATE SKIP LOCKED`,
so two senders never wait for or take the same rows; SQLite: under its write lock) by setting a
lease, `claimed_until`; it sends them outside any transaction, then marks them sent, in one
statement for the mails of the last quarter second (a commit per mail cost more than building it).
A sender that dies mid-batch leaves its rows claimed until the lease runs out; another sender then
takes them (the mails of its last quarter second, unmarked, go twice: at least once, never
lost; at a school's pace that is one mail, in a burst a few dozen).
A failed attempt is retried with backoff (15 s, doubling, at most 15 minutes); a permanent SMTP
refusal marks the notice failed.
"""

from __future__ import annotations

import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, update
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import Notice, NoticePreference, NoticeStatus, User
from visio.services import (
    locking,
    mail,
    notice_preferences,
    notice_rows,
    seat_notices,
    unsubscribe,
)

logger = logging.getLogger(__name__)
FIRST_RETRY = timedelta(seconds=15)
MAX_RETRY = timedelta(minutes=15)
DEFAULT_LEASE = timedelta(minutes=5)  # far above an SMTP exchange's timeout
MARK_EVERY_SECONDS = 0.25  # sent mails are marked at least this often (and at the pass's end)


@dataclass(frozen=True)
class Delivery:
    """What one pass did: rows claimed (with those a seat's notice made, see `seat_notices`),
    sent, put back for a retry, failed for good."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0


_TABLE = Notice.__table__  # type: ignore[attr-defined]
_INSERT = insert(_TABLE).returning(_TABLE.c.id)  # built once: its compiled form is cached
# Sent notices, several per execution (executemany): the secrets wiped from each one's data.
_MARK_SENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("notice_id"))
    .values(
        status=NoticeStatus.SENT.value,
        attempts=_TABLE.c.attempts + 1,
        claimed_until=None,
        data=bindparam("notice_data", type_=_TABLE.c.data.type),
        last_error=None,
        sent_at=bindparam("notice_sent_at", type_=_TABLE.c.sent_at.type),
    )
)


def enqueue(
    db: Session,
    *,
    kind: str,
    user: User,
    data: dict[str, Any],
    at: datetime,
    dedupe_key: str | None = None,
    email: str | None = None,
) -> Notice:
    """Add a notice to the caller's transaction (never commits: a rollback leaves none).

    The address and language are the user's now; the language falls back to the default.
    `email` sends it elsewhere instead (a link proving a new address, a note to the old one).
    A kind the user turned off is kept, `skipped`, for the app's list, and never mailed.
    One Core INSERT (no ORM unit of work): it rides in the hot enrollment transaction. The
    returned row is a detached copy, for its id.
    """
    if kind not in mail.KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    chosen = notice_preferences.choice(db, user_id=user.id, kind=kind)
    values = notice_rows.values(
        user, kind=kind, data=data, at=at, chosen=chosen, dedupe_key=dedupe_key
    )
    if email is not None:
        values["email"] = email
    notice_id = db.connection().scalar(_INSERT, values)
    return Notice(id=notice_id, **values)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 15 s, doubling, capped at 15 minutes."""
    return min(MAX_RETRY, FIRST_RETRY * (2 ** max(0, min(attempts - 1, 16))))


def claim_due(
    db: Session, *, clock: Clock = utcnow, limit: int = 50, lease: timedelta = DEFAULT_LEASE
) -> list[int]:
    """Claim up to `limit` due notices for `lease` and commit: their ids, oldest first."""
    now = clock()
    due = (
        select(Notice.id)
        .where(
            Notice.status == NoticeStatus.PENDING,
            Notice.next_attempt_at <= now,
            or_(Notice.claimed_until.is_(None), Notice.claimed_until <= now),  # type: ignore[union-attr]
        )
        .order_by(Notice.next_attempt_at, Notice.id)  # type: ignore[arg-type]
        .limit(limit)
    )
    try:
        with locking.busy_on_timeout():
            if db.get_bind().dialect.name == "sqlite":
                locking.begin_immediate(db)
                ids = list(db.exec(due).all())
            else:
                ids = list(db.exec(due.with_for_update(skip_locked=True)).all())
            if ids:
                db.execute(
                    update(Notice)
                    .where(Notice.id.in_(ids))  # type: ignore[union-attr]
                    .values(claimed_until=now + lease)
                )
            db.commit()
    except BaseException:
        db.rollback()
        raise
    return [int(i) for i in ids]  # type: ignore[arg-type]


def deliver_due(
    *,
    db: Session,
    transport: mail.Transport,
    clock: Clock = utcnow,
    limit: int = 50,
    lease: timedelta = DEFAULT_LEASE,
) -> Delivery:
    """One pass: claim the due notices, send each outside any transaction, record the outcome."""
    ids = claim_due(db, clock=clock, limit=limit, lease=lease)
    sent = retried = failed = 0
    notices, chosen = _read(db, ids)
    fanned = seat_notices.fan_out(db, notices, now=clock(), lease=lease)  # choices applied
    _skip_unwanted(db, notices, chosen)
    notices += fanned
    tokens = _unsubscribe_tokens(db, notices)
    marks: list[dict[str, Any]] = []  # sent, not yet marked
    marked_at = time.monotonic()
    try:
        for index, notice in enumerate(notices):
            if notice.status != NoticeStatus.PENDING:
                continue
            try:
                at = clock()
                message = mail.build_message(
                    kind=notice.kind,
                    to=notice.email,
                    locale=notice.locale,
                    data=notice.data,
                    at=at,
                    user_id=notice.user_id,
                    db=db,
                    unsubscribe_token=tokens.get(int(notice.id)),  # type: ignore[arg-type]
                )
                transport.send(message)
            except mail.PermanentFailure as error:
                _fail(db, notice, clock=clock, error=str(error))
                failed += 1
            except (OSError, smtplib.SMTPException) as error:
                _retry(db, notice, clock=clock, error=error)
                retried += 1
                if _server_unreachable(error):  # the rest would fail alike: leave them for later
                    _release(db, [int(n.id) for n in notices[index + 1 :]])  # type: ignore[arg-type]
                    break
            except Exception as error:  # a template or data fault: retried, and loud in the log
                logger.exception("notice %s (%s) could not be built", notice.id, notice.kind)
                _retry(db, notice, clock=clock, error=error)
                retried += 1
            else:
                marks.append(_sent_mark(notice, at=clock()))
                sent += 1
                if time.monotonic() - marked_at >= MARK_EVERY_SECONDS:
                    _mark_sent(db, marks)
                    marked_at = time.monotonic()
    finally:
        _mark_sent(db, marks)
    return Delivery(claimed=len(ids) + len(fanned), sent=sent, retried=retried, failed=failed)


def _skip_unwanted(db: Session, notices: list[Notice], chosen: dict[int, bool | None]) -> None:
    """Keep for the app only, `skipped`, the claimed notices whose recipient does not want their
    kind mailed now (`chosen`: each one's recipient's choice, read with it): the choice at
    sending time rules (an unsubscribe made after the notice was written, or a seat's
    confirmation, written without reading it)."""
    unwanted = [
        n
        for n in notices
        if n.status == NoticeStatus.PENDING
        and n.kind in mail.KINDS
        and not notice_preferences.mailed(n.kind, chosen.get(int(n.id)))  # type: ignore[arg-type]
    ]
    if not unwanted:
        return
    try:
        db.execute(
            update(Notice)
            .where(Notice.id.in_([n.id for n in unwanted]))  # type: ignore[union-attr]
            .values(status=NoticeStatus.SKIPPED, claimed_until=None)
        )
        db.commit()
    except BaseException:
        db.rollback()
        raise
    for notice in unwanted:
        notice.status = NoticeStatus.SKIPPED


def _unsubscribe_tokens(db: Session, notices: list[Notice]) -> dict[int, str]:
    """The one-click unsubscribe token of each claimed notice that carries one (an optional
    kind, for an account), the recipients' keys read in one query."""
    wanted = [
        n
        for n in notices
        if n.user_id is not None and n.kind in mail.KINDS and mail.KINDS[n.kind].optional
    ]
    keys = unsubscribe.signing_keys(db, user_ids={int(n.user_id) for n in wanted})  # type: ignore[arg-type]
    return {
        int(n.id): unsubscribe.token_with(keys[n.user_id], user_id=n.user_id, kind=n.kind)  # type: ignore[arg-type]
        for n in wanted
        if n.user_id in keys
    }


def _sent_mark(notice: Notice, *, at: datetime) -> dict[str, Any]:
    """The parameters of `_MARK_SENT` for a notice sent at `at`."""
    return {"notice_id": notice.id, "notice_data": _without_secrets(notice), "notice_sent_at": at}


def _without_secrets(notice: Notice) -> dict[str, Any]:
    """The notice's data without the fields that must not outlive the sending."""
    secrets = mail.KINDS[notice.kind].secret if notice.kind in mail.KINDS else ()
    return {k: v for k, v in notice.data.items() if k not in secrets}


def _mark_sent(db: Session, marks: list[dict[str, Any]]) -> None:
    """Record the sent notices in `marks` (one statement, one commit) and empty it."""
    if not marks:
        return
    try:
        db.connection().execute(_MARK_SENT, marks)
        db.commit()
    except BaseException:
        db.rollback()
        raise
    marks.clear()


def _read(db: Session, ids: list[int]) -> tuple[list[Notice], dict[int, bool | None]]:
    """The claimed notices as they are now, with their recipients' choices for their kinds (by
    notice id; None: never chose), in one query, kept readable after the rollback that leaves
    nothing held while the mails travel."""
    if not ids:
        return [], {}
    rows = db.exec(
        select(Notice, NoticePreference.email)
        .outerjoin(
            NoticePreference,
            and_(
                NoticePreference.user_id == Notice.user_id,  # type: ignore[arg-type]
                NoticePreference.kind == Notice.kind,  # type: ignore[arg-type]
            ),
        )
        .where(Notice.id.in_(ids))  # type: ignore[union-attr]
        .order_by(Notice.next_attempt_at, Notice.id)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    ).all()
    notices = [notice for notice, _ in rows]
    for notice in notices:
        db.expunge(notice)
    db.rollback()
    return notices, {int(n.id): chosen for n, chosen in rows}  # type: ignore[arg-type]


def _server_unreachable(error: BaseException) -> bool:
    return isinstance(error, (ConnectionError, TimeoutError, smtplib.SMTPServerDisconnected)) or (
        isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)
    )


def _fail(db: Session, notice: Notice, *, clock: Clock, error: str) -> None:
    """Mark a claimed notice failed for good (its secrets wiped) and tell its owner."""
    now = clock()
    db.execute(
        update(Notice)
        .where(Notice.id == notice.id)  # type: ignore[arg-type]
        .values(
            status=NoticeStatus.FAILED,
            attempts=Notice.attempts + 1,
            claimed_until=None,
            data=_without_secrets(notice),
            last_error=error[:500],
        )
    )
    if notice.user_id is not None:
        # The owner is shown it (the address may have changed since: only if it is still theirs).
        db.execute(
            update(User)
            .where(User.id == notice.user_id, User.email == notice.email)  # type: ignore[arg-type]
            .values(email_refused_at=now)
        )
    db.commit()
    logger.warning("notice %s of user %s refused: %s", notice.id, notice.user_id, error)


def _retry(db: Session, notice: Notice, *, clock: Clock, error: BaseException) -> None:
    """Put a notice back for a later attempt, after the backoff of its attempts so far."""
    attempts = notice.attempts + 1
    db.execute(
        update(Notice)
        .where(Notice.id == notice.id)  # type: ignore[arg-type]
        .values(
            attempts=attempts,
            next_attempt_at=clock() + retry_delay(attempts),
            claimed_until=None,
            last_error=f"{type(error).__name__}: {error}"[:500],
        )
    )
    db.commit()
    logger.info("notice %s not sent (attempt %d), retried later: %s", notice.id, attempts, error)


def _release(db: Session, ids: list[int]) -> None:
    """Give claimed notices back untried (their next pass may take them at once)."""
    if ids:
        db.execute(
            update(Notice)
            .where(Notice.id.in_(ids))  # type: ignore[union-attr]
            .values(claimed_until=None)
        )
        db.commit()
