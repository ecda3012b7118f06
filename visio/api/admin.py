"""The admin console over HTTP (/api/admin): admins only, every rule in the services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from visio.api import idempotency, presenters
from visio.api.admin_schemas import (
    AdjustIn,
    AdjustOut,
    AdminCancelOut,
    AdminSessionList,
    AdminSessionOut,
    AdminUserDetail,
    AdminUserList,
    AdminUserOut,
    AuditEventOut,
    AuditList,
    CheckOut,
    LedgerOut,
    MoneyOut,
    ReasonIn,
    WalletGapOut,
)
from visio.api.deps import MAX_ID, DbDep, SessionId, TokenDep, UserDep
from visio.api.errors import error_responses
from visio.models import EffectiveStatus, Role
from visio.services import accounts, admin_audit, admin_money, admin_sessions, admin_users
from visio.services.admin_users import UserLine
from visio.settings import settings

router = APIRouter(prefix="/admin", tags=["admin"])

UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="The account's id")]
WalletId = Annotated[int, Path(ge=1, le=MAX_ID, description="The wallet's id")]
Page = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]
READ = error_responses(401, 403, 422)
DAY_HELP = "An ISO date (a UTC midnight) or date-time (UTC unless it has an offset)"
GRANT_HELP = (
    "Instead of the bearer token: the signed grant of the pages' export link (it names one "
    "admin's login and expires)"
)


def _user_out(line: UserLine) -> AdminUserOut:
    return AdminUserOut(**vars(line), currency=settings.currency)


@router.get("/users", response_model=AdminUserList, responses=READ)
def admin_list_users(
    db: DbDep,
    user: UserDep,
    q: Annotated[str, Query(max_length=254)] = "",
    role: Role | None = None,
    page: Page = 1,
    page_size: PageSize = 20,
) -> AdminUserList:
    """Accounts by name or email (contains, case ignored), newest first."""
    found = admin_users.search_users(
        db=db, actor=user, q=q, role=role, page=page, page_size=page_size
    )
    return AdminUserList(
        items=[_user_out(u) for u in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )


@router.get(
    "/users/{user_id}",
    response_model=AdminUserDetail,
    responses=error_responses(401, 403, 404, 422),
)
def admin_get_user(user_id: UserId, db: DbDep, user: UserDep) -> AdminUserDetail:
    """One account: role, dates, state, balance, logins."""
    found = admin_users.user_detail(db=db, actor=user, user_id=user_id)
    return AdminUserDetail(
        **vars(found.user),
        currency=found.currency,
        wallet_id=found.wallet_id,
        login_count=found.login_count,
        live_logins=found.live_logins,
    )


@router.post(
    "/users/{user_id}/suspend",
    response_model=AdminUserDetail,
    responses=error_responses(401, 403, 404, 409, 422),
)
def admin_suspend_user(
    user_id: UserId, body: ReasonIn, db: DbDep, user: UserDep
) -> AdminUserDetail:
    """Suspend an account: its logins end now, new ones are refused (`account_suspended`)."""
    admin_users.suspend_user(db=db, actor=user, user_id=user_id, reason=body.reason)
    return admin_get_user(user_id, db, user)


@router.post(
    "/users/{user_id}/restore",
    response_model=AdminUserDetail,
    responses=error_responses(401, 403, 404, 409, 422),
)
def admin_restore_user(user_id: UserId, db: DbDep, user: UserDep) -> AdminUserDetail:
    """Lift a suspension."""
    admin_users.restore_user(db=db, actor=user, user_id=user_id)
    return admin_get_user(user_id, db, user)


@router.post(
    "/users/{user_id}/adjust",
    response_model=AdjustOut,
    responses={
        200: {"headers": idempotency.HEADER_DOC},
        **error_responses(401, 402, 403, 404, 409, 422, 503),
    },
)
def admin_adjust_wallet(
    user_id: UserId,
    body: AdjustIn,
    db: DbDep,
    user: UserDep,
    idempotency_key: idempotency.KeyHeader = None,
) -> JSONResponse:
    """Credit or debit the account's wallet by hand, against the platform wallet, once per
    Idempotency-Key."""

    def run() -> AdjustOut:
        done = admin_money.adjust_wallet(
            db=db,
            actor=user,
            user_id=user_id,
            direction=body.direction,
            amount_cents=body.amount_cents,
            reason=body.reason,
        )
        return AdjustOut(
            transaction=presenters.transaction_out(done.entry, settings.currency),
            balance_cents=done.balance_cents,
            currency=settings.currency,
        )

    return idempotency.respond(
        db=db,
        user=user,
        key=idempotency_key,
        scope=f"admin_adjust:{user_id}",
        payload=body.model_dump(mode="json"),
        status_code=200,
        run=run,
    )


@router.get(
    "/wallets/{wallet_id}/ledger",
    response_model=LedgerOut,
    responses=error_responses(401, 403, 404, 422),
)
def admin_wallet_ledger(
    wallet_id: WalletId, db: DbDep, user: UserDep, page: Page = 1, page_size: PageSize = 20
) -> LedgerOut:
    """Any wallet's balance and entries (users', escrow, payouts, platform), newest first."""
    found = admin_money.wallet_ledger(
        db=db, actor=user, wallet_id=wallet_id, page=page, page_size=page_size
    )
    return LedgerOut(
        wallet_id=wallet_id,
        balance_cents=found.balance_cents,
        currency=found.currency,
        transactions=[presenters.transaction_out(e, found.currency) for e in found.entries],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )


@router.get("/sessions", response_model=AdminSessionList, responses=READ)
def admin_list_sessions(
    db: DbDep,
    user: UserDep,
    q: Annotated[str, Query(max_length=120)] = "",
    status: EffectiveStatus | None = None,
    page: Page = 1,
    page_size: PageSize = 20,
) -> AdminSessionList:
    """Every teacher's sessions, by title or teacher and effective status, latest start first."""
    found = admin_sessions.list_sessions(
        db=db, actor=user, q=q, status=status, page=page, page_size=page_size
    )
    return AdminSessionList(
        items=[
            AdminSessionOut(
                id=s.id,
                title=s.title,
                teacher_id=s.teacher_id,
                teacher_name=s.teacher_name,
                teacher_email=s.teacher_email,
                date=s.starts_at,
                status=s.status,  # type: ignore[arg-type]
                is_paid=s.is_paid,
                price_cents=s.price_cents if s.is_paid else None,
                currency=settings.currency,
                enrolled_count=s.enrolled_count,
                capacity=s.capacity,
            )
            for s in found.items
        ],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )


@router.post(
    "/sessions/{session_id}/cancel",
    response_model=AdminCancelOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def admin_cancel_session(
    session_id: SessionId, body: ReasonIn, db: DbDep, user: UserDep
) -> AdminCancelOut:
    """Cancel any session: its paying students are refunded once and everyone is told."""
    done = admin_sessions.cancel_session(
        db=db, actor=user, video_session_id=session_id, reason=body.reason
    )
    return AdminCancelOut(
        session_id=session_id,
        status=EffectiveStatus.CANCELLED,
        refunded_count=done.refunded_count,
        refunded_cents=done.refunded_cents,
        currency=settings.currency,
    )


def _filters(
    action: Annotated[str, Query(max_length=64)] = "",
    actor_email: Annotated[str, Query(max_length=254)] = "",
    target_type: Annotated[str, Query(max_length=32)] = "",
    target_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    date_from: Annotated[datetime | None, Query(description=DAY_HELP)] = None,
    date_to: Annotated[datetime | None, Query(description=DAY_HELP + "; excluded")] = None,
) -> admin_audit.AuditFilters:
    def utc(value: datetime | None) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)

    return admin_audit.AuditFilters(
        action=action,
        actor_email=actor_email,
        target_type=target_type,
        target_id=target_id,
        date_from=utc(date_from),
        date_to=utc(date_to),
    )


AuditFiltersDep = Annotated[admin_audit.AuditFilters, Depends(_filters)]


@router.get("/audit", response_model=AuditList, responses=READ)
def admin_list_audit(
    db: DbDep, user: UserDep, filters: AuditFiltersDep, page: Page = 1, page_size: PageSize = 50
) -> AuditList:
    """The audit trail, filtered, newest first."""
    found = admin_audit.list_audit(
        db=db, actor=user, filters=filters, page=page, page_size=page_size
    )
    return AuditList(
        items=[AuditEventOut(**vars(e)) for e in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )


@router.get(
    "/audit/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **error_responses(401, 403, 422)},
)
def admin_export_audit(
    db: DbDep,
    token: TokenDep,
    filters: AuditFiltersDep,
    grant: Annotated[str | None, Query(max_length=200, description=GRANT_HELP)] = None,
) -> Response:
    """The filtered audit rows as CSV, newest first (at most 10,000: narrow the filters)."""
    user = (
        admin_audit.user_for_export_grant(db=db, grant=grant)
        if grant is not None
        else accounts.authenticate(db=db, token=token)
    )
    text = admin_audit.export_csv(db=db, actor=user, filters=filters)
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="visio-audit.csv"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/money", response_model=MoneyOut, responses=error_responses(401, 403))
def admin_money_overview(db: DbDep, user: UserDep) -> MoneyOut:
    """The platform's money at a glance and the reconciliation of every ledger."""
    seen = admin_money.money_overview(db=db, actor=user)
    return MoneyOut(
        currency=seen.currency,
        users_cents=seen.users_cents,
        escrow_cents=seen.escrow_cents,
        payouts_held_cents=seen.payouts_held_cents,
        paid_out_cents=seen.paid_out_cents,
        platform_cents=seen.platform_cents,
        topups_cents=seen.topups_cents,
        balanced=seen.balanced,
        checks=[
            CheckOut(
                name=c.name,
                held_cents=c.held_cents,
                expected_cents=c.expected_cents,
                difference_cents=c.difference_cents,
            )
            for c in seen.checks
        ],
        wallet_gaps=[WalletGapOut(**vars(g)) for g in seen.gaps],
    )
