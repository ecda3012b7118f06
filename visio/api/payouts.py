"""Payouts over HTTP: a teacher's withdrawals (/wallet/payouts) and the admins' queue
(/admin/payouts). Every rule, and who may do what, is in `visio.services.payouts`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from visio.api import idempotency
from visio.api.deps import MAX_ID, DbDep, UserDep
from visio.api.errors import error_responses
from visio.api.schemas import (
    AdminPayoutOut,
    AdminPayoutPageOut,
    PayoutIn,
    PayoutOut,
    PayoutPageOut,
    PayoutPaidIn,
    PayoutRefuseIn,
)
from visio.models import PayoutRequest, PayoutStatus
from visio.services import payouts

router = APIRouter(tags=["payouts"])

MAX_PAGE = 100_000
PayoutId = Annotated[int, Path(ge=1, le=MAX_ID, description="The payout request's id")]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]
PageSize = Annotated[
    int, Query(ge=1, le=100, description=f"At most {payouts.MAX_PAGE_SIZE} are sent")
]


def _out(line: payouts.PayoutLine) -> PayoutOut:
    return PayoutOut(
        id=line.id,
        amount_cents=line.amount_cents,
        currency=line.currency,
        destination=line.destination,
        status=PayoutStatus(line.status),
        reference=line.reference,
        refusal_reason=line.refusal_reason,
        created_at=line.created_at,
        decided_at=line.decided_at,
    )


def _admin_out(line: payouts.PayoutLine) -> AdminPayoutOut:
    return AdminPayoutOut(
        **_out(line).model_dump(),
        user_id=line.user_id,
        user_name=line.user_name,
        user_email=line.user_email,
    )


def _row_out(payout: PayoutRequest, *, masked: bool) -> PayoutOut:
    destination = payouts.mask(payout.destination) if masked else payout.destination
    return PayoutOut(
        id=payout.id,  # type: ignore[arg-type]
        amount_cents=payout.amount_cents,
        currency=payout.currency,
        destination=destination,
        status=PayoutStatus(payout.status),
        reference=payout.reference,
        refusal_reason=payout.refusal_reason,
        created_at=payout.created_at,
        decided_at=payout.decided_at,
    )


@router.post(
    "/wallet/payouts",
    status_code=201,
    response_model=PayoutOut,
    responses={
        201: {"headers": idempotency.HEADER_DOC},
        **error_responses(401, 402, 403, 409, 422, 503),
    },
)
def request_payout(
    body: PayoutIn, db: DbDep, user: UserDep, idempotency_key: idempotency.KeyHeader = None
) -> JSONResponse:
    """Withdraw from the wallet (teachers): the amount is held until an admin pays or refuses
    it; once per Idempotency-Key."""

    def run() -> PayoutOut:
        done = payouts.request_payout(
            db=db,
            actor=user,
            amount_cents=body.amount_cents,
            destination=body.destination,
            destination_kind=body.destination_kind,
        )
        return _row_out(done, masked=True)

    return idempotency.respond(
        db=db,
        user=user,
        key=idempotency_key,
        scope="payout",
        payload=body.model_dump(mode="json"),
        status_code=201,
        run=run,
    )


@router.get(
    "/wallet/payouts", response_model=PayoutPageOut, responses=error_responses(401, 403, 422)
)
def my_payouts(db: DbDep, user: UserDep, page: Page = 1, page_size: PageSize = 20) -> PayoutPageOut:
    """The teacher's payout requests, newest first (destinations masked)."""
    found = payouts.my_payouts(db=db, actor=user, page=page, page_size=page_size)
    return PayoutPageOut(
        items=[_out(line) for line in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )


@router.get(
    "/admin/payouts", response_model=AdminPayoutPageOut, responses=error_responses(401, 403, 422)
)
def payout_queue(
    db: DbDep,
    user: UserDep,
    status: PayoutStatus | None = None,
    page: Page = 1,
    page_size: PageSize = 20,
) -> AdminPayoutPageOut:
    """Every payout request (admins): waiting ones first, oldest first; `status` filters."""
    found = payouts.payout_queue(db=db, actor=user, status=status, page=page, page_size=page_size)
    return AdminPayoutPageOut(
        items=[_admin_out(line) for line in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        requested_count=found.requested_count,
    )


@router.post(
    "/admin/payouts/{payout_id}/paid",
    response_model=PayoutOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def mark_paid(payout_id: PayoutId, body: PayoutPaidIn, db: DbDep, user: UserDep) -> PayoutOut:
    """Mark a waiting request paid (admins), with the payment's reference: once only."""
    done = payouts.mark_paid(db=db, actor=user, payout_id=payout_id, reference=body.reference)
    return _row_out(done, masked=False)


@router.post(
    "/admin/payouts/{payout_id}/refuse",
    response_model=PayoutOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def refuse_payout(payout_id: PayoutId, body: PayoutRefuseIn, db: DbDep, user: UserDep) -> PayoutOut:
    """Refuse a waiting request (admins), with a reason: the amount returns to the wallet."""
    done = payouts.refuse(db=db, actor=user, payout_id=payout_id, reason=body.reason)
    return _row_out(done, masked=False)
