"""Video sessions over HTTP: list, read, create, edit, publish, cancel, delete; statistics."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlmodel import Session

from visio.api import presenters
from visio.api.deps import DbDep, RequiredTokenDep, SessionId, UserDep, json_answer
from visio.api.errors import error_responses
from visio.api.schemas import (
    AttendanceOut,
    CancelIn,
    CancelOut,
    Day,
    FillOut,
    MonthOut,
    OverviewOut,
    RevenueOut,
    SeriesFillOut,
    SessionIn,
    SessionOut,
    SessionPageOut,
    SessionPatchIn,
    StatusCountsOut,
    Text,
    UpcomingOut,
    WeekOut,
)
from visio.db import read_db
from visio.models import EffectiveStatus, Platform, Role, User
from visio.services import (
    accounts,
    api_views,
    catalog,
    session_view,
    sessions,
    stats,
)
from visio.services.catalog import SessionFilters
from visio.services.sessions import SessionInput
from visio.settings import settings

router = APIRouter(prefix="/sessions", tags=["sessions"])

MAX_PAGE = 100_000
# The API's field names where they differ from `SessionInput`'s.
INPUT_FIELDS = {"duration": "duration_minutes"}
TimeZone = Annotated[
    Text | None,
    Query(max_length=64, description="IANA zone for days and weeks; default: the account's"),
]


def _zone(user: User, tz: str | None) -> str:
    return tz or user.timezone or "UTC"


# Declared before /{session_id} routes, which it would otherwise look like.
@router.get("/stats/overview", response_model=OverviewOut, responses=error_responses(401, 403, 422))
def overview(db: DbDep, user: UserDep, tz: TimeZone = None) -> OverviewOut:
    """The teacher's figures: sessions by status, enrollments, fill and attendance, revenue."""
    found = stats.teacher_overview(db=db, actor=user, tz=_zone(user, tz), table=False)
    return OverviewOut(
        counts=StatusCountsOut(**found.counts),
        total_sessions=found.total_sessions,
        active_enrollments=found.active_enrollments,
        fill=FillOut(enrolled=found.fill.part, seats=found.fill.whole, rate=found.fill_rate),
        attendance=AttendanceOut(
            attended=found.attendance.part,
            enrolled=found.attendance.whole,
            rate=found.attendance_rate,
        ),
        revenue=RevenueOut(
            held_cents=found.revenue.held_cents,
            released_cents=found.revenue.released_cents,
            refunded_cents=found.revenue.refunded_cents,
            currency=settings.currency,
        ),
        upcoming=[
            UpcomingOut(
                session_id=u.session_id,
                title=u.title,
                date=u.starts_at,
                enrolled_count=u.enrolled_count,
                capacity=u.capacity,
            )
            for u in found.upcoming
        ],
        enrollments_by_week=[
            WeekOut(start=p.start, enrollments=p.value) for p in found.enrollments_by_week
        ],
        revenue_by_month=[
            MonthOut(start=p.start, revenue_cents=p.value) for p in found.revenue_by_month
        ],
        auto_cancelled=found.auto_cancelled,
        waiting=found.waiting,
        series_fill=SeriesFillOut(
            series=found.series_fill.series,
            enrolled=found.series_fill.fill.part,
            seats=found.series_fill.fill.whole,
            rate=found.series_fill.rate,
        ),
    )


@router.get("", response_model=SessionPageOut, responses=error_responses(401, 403, 422))
async def list_sessions(
    token: RequiredTokenDep,
    scope: Annotated[
        Literal["mine", "available"],
        Query(description="mine: a teacher's own, a student's enrolled; available: open to enroll"),
    ] = "mine",
    q: Annotated[Text | None, Query(max_length=200, description="Words to search")] = None,
    tag: Annotated[Text | None, Query(max_length=100)] = None,
    platform: Platform | None = None,
    is_paid: bool | None = None,
    status: Annotated[EffectiveStatus | None, Query(description="Effective status")] = None,
    date_from: Annotated[Day | None, Query(description="First day, in `tz`")] = None,
    date_to: Annotated[Day | None, Query(description="Last day, in `tz`")] = None,
    sort: Annotated[
        Text | None,
        Query(
            max_length=20,
            description="Teacher's own: soonest, latest, title, price, enrolled. "
            "Others: soonest, price_asc, price_desc, popular",
        ),
    ] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=catalog.MAX_PAGE_SIZE)] = 20,
    tz: TimeZone = None,
) -> Response:
    """One page of sessions, filtered and sorted; the link only on the caller's own sessions."""
    # The API's busiest read runs on the event loop, as the pages' own events do: it waits on
    # no lock (SQLite's readers never wait in WAL mode, PostgreSQL's read a snapshot), so its
    # time is Python, which runs one thread at a time anyway. Sent to a worker thread and back,
    # under 50 clients the handing over cost more than the read itself (bench/results.md). On
    # PostgreSQL the loop idles during the round trips: the other workers (2 per core + 1 by
    # default) have the cores meanwhile; a lone worker lists about 10% fewer pages per second.
    # tests/api/test_sessions_api.py checks the page answers while a seat claim holds its locks.
    filters = SessionFilters(
        q=q or "",
        status=status,
        platform=platform,
        is_paid=is_paid,
        tag=tag,
        date_from=date_from,
        date_to=date_to,
        sort=sort or "soonest",
    )
    with read_db() as db:
        user = accounts.authenticate(db=db, token=token)
        found = session_page(
            db, user, scope=scope, filters=filters, page=page, page_size=page_size, tz=tz
        )
    return json_answer(found)


def session_page(
    db: Session,
    user: User,
    *,
    scope: str,
    filters: SessionFilters = SessionFilters(),  # frozen: safe to share
    page: int = 1,
    page_size: int = 20,
    tz: str | None = None,
) -> SessionPageOut:
    """The body of `list_sessions` for a caller already known (the benchmark profiles it too)."""
    paging = {"page": page, "page_size": page_size, "tz": _zone(user, tz)}
    if scope == "available":
        found = catalog.available_sessions(db=db, actor=user, filters=filters, **paging)
    elif user.role == Role.TEACHER:
        found = catalog.teacher_sessions(db=db, actor=user, filters=filters, **paging)
    else:
        found = api_views.enrolled_sessions(db=db, actor=user, filters=filters, **paging)
    return SessionPageOut(
        items=presenters.session_items(db, user, found.rows),
        total=found.total,
        total_capped=found.capped,
        page=found.page,
        page_size=found.page_size,
    )


def session_input(body: SessionIn, user: User) -> SessionInput:
    """A new session's fields as the services take them (a series' first occurrence too)."""
    return SessionInput(
        title=body.title,
        description=body.description,
        starts_at=body.starts_at,
        duration_minutes=body.duration,
        timezone=body.timezone or user.timezone or settings.default_timezone,
        platform=body.platform,
        link=body.link or "",
        is_paid=body.is_paid,
        price_cents=body.price_cents,
        capacity=body.capacity,
        enrollment_deadline=body.enrollment_deadline,
        tags=list(body.tags),
        min_participants=body.min_participants,
        decide_at=body.decide_at,
    )


@router.post(
    "", status_code=201, response_model=SessionOut, responses=error_responses(401, 403, 422)
)
def create_session(body: SessionIn, db: DbDep, user: UserDep) -> SessionOut:
    """Create a draft (teachers); a Jitsi session gets its room at once."""
    created = sessions.create_session(db=db, actor=user, data=session_input(body, user))
    return presenters.owned_session_out(db, user, created)


@router.get("/{session_id}", response_model=SessionOut, responses=error_responses(401, 404, 422))
def get_session(session_id: SessionId, db: DbDep, user: UserDep) -> SessionOut:
    """A session; drafts only for their teacher, the link only for its teacher."""
    view = session_view.public_view(db=db, actor=user, video_session_id=session_id)
    return presenters.session_out(
        view.session,
        teacher_name=view.teacher_name,
        tags=view.tags,
        materials_count=len(view.materials),
        show_link=view.session.teacher_id == user.id,
        status=view.status,
        moved_from=view.planned_starts_at,
    )


@router.patch(
    "/{session_id}",
    response_model=SessionOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def edit_session(
    session_id: SessionId, body: SessionPatchIn, db: DbDep, user: UserDep
) -> SessionOut:
    """Change some fields (the owner), within the rules of the session's status."""
    changes = {INPUT_FIELDS.get(name, name): getattr(body, name) for name in body.model_fields_set}
    if "link" in changes:
        changes["link"] = changes["link"] or ""
    edited = api_views.patch_session(
        db=db, actor=user, video_session_id=session_id, changes=changes
    )
    return presenters.owned_session_out(db, user, edited)


@router.patch(
    "/{session_id}/publish",
    response_model=SessionOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def publish_session(session_id: SessionId, db: DbDep, user: UserDep) -> SessionOut:
    """Draft -> scheduled (the owner), while the start is ahead."""
    published = sessions.publish_session(db=db, actor=user, video_session_id=session_id)
    return presenters.owned_session_out(db, user, published)


@router.post(
    "/{session_id}/cancel",
    response_model=CancelOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def cancel_session(session_id: SessionId, body: CancelIn, db: DbDep, user: UserDep) -> CancelOut:
    """Cancel (the owner), refunding every paid seat exactly once."""
    done = sessions.cancel_session(
        db=db, actor=user, video_session_id=session_id, reason=body.reason
    )
    return CancelOut(
        session=presenters.owned_session_out(db, user, done.session),
        refunded_count=done.refunded_count,
        refunded_cents=done.refunded_cents,
        currency=done.session.currency,
    )


@router.delete(
    "/{session_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def delete_session(session_id: SessionId, db: DbDep, user: UserDep) -> Response:
    """Delete a draft, or a session nobody ever enrolled in (the owner); otherwise cancel it."""
    sessions.delete_session(db=db, actor=user, video_session_id=session_id)
    return Response(status_code=204)
