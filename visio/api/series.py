"""Recurring series over HTTP: create (every occurrence), read, publish the drafts, enroll in
all, cancel the rest."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from visio.api import idempotency, presenters
from visio.api.deps import MAX_ID, DbDep, UserDep
from visio.api.errors import error_responses
from visio.api.schemas import (
    OccurrenceOut,
    SeriesCancelIn,
    SeriesCancelOut,
    SeriesEnrollOut,
    SeriesIn,
    SeriesOut,
)
from visio.api.sessions import session_input
from visio.models import User
from visio.services import catalog, series
from visio.services.catalog import SessionRow
from visio.services.series import Repeat
from visio.settings import settings

router = APIRouter(prefix="/series", tags=["series"])

SeriesId = Annotated[int, Path(ge=1, le=MAX_ID, description="The series' id")]


def _series_out(db: DbDep, user: User, series_id: int) -> SeriesOut:
    view = series.series_view(db=db, actor=user, series_id=series_id)
    sessions = [o.session for o in view.occurrences]
    teacher = db.get(User, view.teacher_id)
    tags = catalog.tags_by_session(db, [s.id for s in sessions])  # type: ignore[misc]
    rows = [
        SessionRow(s, teacher.full_name if teacher else "", tags.get(s.id, []))  # type: ignore[arg-type]
        for s in sessions
    ]
    items = presenters.session_items(db, user, rows)
    return SeriesOut(
        id=view.series.id,  # type: ignore[arg-type]
        teacher_id=view.teacher_id,
        every_days=view.series.every_days,
        created_at=view.series.created_at,
        occurrences=[
            OccurrenceOut(**item.model_dump(), holds_seat=o.holds_seat)
            for item, o in zip(items, view.occurrences, strict=True)
        ],
        seats_held=view.seats_held,
        remaining_count=len(view.remaining),
        remaining_price_cents=view.remaining_cents,
        currency=settings.currency,
    )


@router.post(
    "", status_code=201, response_model=SeriesOut, responses=error_responses(401, 403, 422)
)
def create_series(body: SeriesIn, db: DbDep, user: UserDep) -> SeriesOut:
    """Create a series (teachers): every occurrence at the same local time, drafts unless
    `publish`; at most 52."""
    data = session_input(body, user)
    repeat = Repeat(
        every_days=body.repeat.every_days, count=body.repeat.count, until=body.repeat.until
    )
    made = series.create_series(db=db, actor=user, data=data, repeat=repeat, publish=body.publish)
    return _series_out(db, user, made.series.id)  # type: ignore[arg-type]


@router.get("/{series_id}", response_model=SeriesOut, responses=error_responses(401, 404, 422))
def get_series(series_id: SeriesId, db: DbDep, user: UserDep) -> SeriesOut:
    """The schedule and which seats the caller holds (drafts: the teacher only)."""
    return _series_out(db, user, series_id)


@router.post(
    "/{series_id}/publish",
    response_model=SeriesOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def publish_series(series_id: SeriesId, db: DbDep, user: UserDep) -> SeriesOut:
    """Publish every draft occurrence still ahead (the owner); the series as it is then."""
    series.publish_series(db=db, actor=user, series_id=series_id)
    return _series_out(db, user, series_id)


@router.post(
    "/{series_id}/enroll",
    status_code=201,
    response_model=SeriesEnrollOut,
    responses={
        201: {"headers": idempotency.HEADER_DOC},
        **error_responses(401, 402, 403, 404, 409, 422, 503),
    },
)
def enroll_series(
    series_id: SeriesId,
    db: DbDep,
    user: UserDep,
    idempotency_key: idempotency.KeyHeader = None,
) -> JSONResponse:
    """A seat in every remaining occurrence (students): all or none, one payment each."""

    def run() -> SeriesEnrollOut:
        done = series.enroll_series(db=db, actor=user, series_id=series_id)
        return SeriesEnrollOut(
            enrollments=[presenters.enrollment_out(r.enrollment) for r in done.results],
            paid_cents=done.paid_cents,
            wallet_balance_cents=done.wallet_balance_cents,
            currency=settings.currency,
        )

    return idempotency.respond(
        db=db,
        user=user,
        key=idempotency_key,
        scope=f"series-enroll:{series_id}",
        payload=None,
        status_code=201,
        run=run,
    )


@router.post(
    "/{series_id}/cancel",
    response_model=SeriesCancelOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def cancel_series(
    series_id: SeriesId, body: SeriesCancelIn, db: DbDep, user: UserDep
) -> SeriesCancelOut:
    """Cancel the occurrences to come (the owner), each refunded once; a retry refunds nothing
    twice."""
    done = series.cancel_rest(
        db=db,
        actor=user,
        series_id=series_id,
        reason=body.reason,
        from_session_id=body.from_session_id,
    )
    return SeriesCancelOut(
        cancelled=[presenters.owned_session_out(db, user, c.session) for c in done.cancelled],
        refunded_count=done.refunded_count,
        refunded_cents=done.refunded_cents,
        currency=settings.currency,
    )
