"""The caller's wallet over HTTP: balance and transactions, top-up through the provider."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from visio.api import idempotency, presenters
from visio.api.deps import DbDep, UserDep
from visio.api.errors import error_responses
from visio.api.schemas import TopUpIn, TopUpOut, WalletOut
from visio.services import wallet_history, wallets
from visio.settings import settings

router = APIRouter(prefix="/wallet", tags=["wallet"])

MAX_PAGE = 100_000


@router.get("", response_model=WalletOut, responses=error_responses(401, 422))
def wallet(
    db: DbDep,
    user: UserDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=100, description=f"At most {wallet_history.MAX_PAGE_SIZE} are sent")
    ] = 20,
) -> WalletOut:
    """The balance and one page of transactions, newest first."""
    found = wallet_history.history(db=db, actor=user, page=page, page_size=page_size)
    return WalletOut(
        balance_cents=found.balance_cents,
        currency=found.currency,
        transactions=[presenters.transaction_out(e, found.currency) for e in found.entries],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )


@router.post(
    "/topup",
    response_model=TopUpOut,
    responses={
        200: {"headers": idempotency.HEADER_DOC},
        **error_responses(401, 402, 409, 422, 503),
    },
)
def top_up(
    body: TopUpIn,
    db: DbDep,
    user: UserDep,
    idempotency_key: idempotency.KeyHeader = None,
) -> JSONResponse:
    """Credit the wallet through the configured payment provider, once per Idempotency-Key."""

    def run() -> TopUpOut:
        done = wallets.top_up(db=db, actor=user, amount_cents=body.amount_cents)
        return TopUpOut(
            transaction=presenters.transaction_out(done.entry, settings.currency),
            balance_cents=done.balance_cents,
            currency=settings.currency,
        )

    return idempotency.respond(
        db=db,
        user=user,
        key=idempotency_key,
        scope="topup",
        payload=body.model_dump(mode="json"),
        status_code=200,
        run=run,
    )
