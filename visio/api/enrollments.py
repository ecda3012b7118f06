"""Taking part over HTTP: enroll (and pay), unenroll (refunded), join (the link, recorded)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlmodel import Session

from visio.api import idempotency, presenters
from visio.api.deps import DbDep, RequiredTokenDep, SessionId, UserDep, in_worker
from visio.api.errors import error_responses
from visio.api.schemas import EnrollOut, JoinOut, UnenrollOut
from visio.db import open_db, read_db
from visio.models import User
from visio.services import accounts, attendance, enrollments
from visio.settings import settings

router = APIRouter(prefix="/sessions", tags=["enrollment"])


@router.post(
    "/{session_id}/enroll",
    status_code=201,
    response_model=EnrollOut,
    responses={
        201: {"headers": idempotency.HEADER_DOC},
        **error_responses(401, 402, 403, 404, 409, 422, 503),
    },
)
async def enroll(
    session_id: SessionId,
    token: RequiredTokenDep,
    idempotency_key: idempotency.KeyHeader = None,
) -> Response:
    """Take a seat (students); a paid seat is paid from the wallet, once per Idempotency-Key."""

    def work() -> Response:  # every paid seat comes this way: all of it in one worker thread
        with open_db() as db:
            user = _caller(db, token, keyed=idempotency_key is not None)

            def run() -> EnrollOut:
                done = enrollments.enroll(db=db, actor=user, video_session_id=session_id)
                return EnrollOut(
                    enrollment=presenters.enrollment_out(done.enrollment),
                    paid_cents=done.purchase.amount_cents if done.purchase else 0,
                    wallet_balance_cents=done.wallet_balance_cents,
                    currency=settings.currency,
                )

            return idempotency.respond(
                db=db,
                user=user,
                key=idempotency_key,
                scope=f"enroll:{session_id}",
                payload=None,
                status_code=201,
                run=run,
            )

    return await in_worker(work, lane="enrolling")


def _caller(db: Session, token: str, *, keyed: bool) -> User:
    """The caller of an enrollment.

    Without a key, read in the claim's own transaction: one connection for the request, and
    the claim's commit (unlike a rollback) leaves the driver its prepared statements. With a
    key, read apart (see `read_db`): the key's own transactions roll `db` back, which would
    expire a user loaded there and cost a reload.
    """
    if not keyed:
        return accounts.authenticate(db=db, token=token)
    with read_db() as reader:
        return accounts.authenticate(db=reader, token=token)


@router.delete(
    "/{session_id}/enroll",
    response_model=UnenrollOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def unenroll(session_id: SessionId, db: DbDep, user: UserDep) -> UnenrollOut:
    """Give the seat back before the deadline; a paid seat is refunded in full."""
    done = enrollments.unenroll(db=db, actor=user, video_session_id=session_id)
    return UnenrollOut(
        enrollment=presenters.enrollment_out(done.enrollment),
        refunded_cents=done.refunded_cents,
        wallet_balance_cents=done.wallet_balance_cents,
        currency=settings.currency,
    )


@router.post(
    "/{session_id}/join",
    response_model=JoinOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def join(session_id: SessionId, db: DbDep, user: UserDep) -> JoinOut:
    """The platform link (the owner and enrolled students, in the join window); recorded."""
    found = attendance.join(db=db, actor=user, video_session_id=session_id)
    return JoinOut(url=found.url)
