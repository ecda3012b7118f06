"""Use cases the JSON API needs and the pages do not (yet) have.

- `enrolled_sessions`: a student's sessions with the catalog's filters (the pages' `my_enrollments`
  only knows its four tabs). It reuses the catalog's own filter, order and paging pieces.
- `materials_count_by_session`: a per-page lookup (one query) for the session JSON.
- `patch_session`: a partial edit, applied to the session's current values by `update_session`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import Enrollment, EnrollmentStatus, Material, Role, User, VideoSession
from visio.services import catalog, session_edit
from visio.services.accounts import require_role
from visio.services.catalog import Page, SessionFilters, SessionRow
from visio.services.enrollments import moved_since
from visio.services.errors import NotFound

S = VideoSession
# An enrollment ended by the student is no longer theirs; one ended by a cancellation still is.
HELD_SEATS = (EnrollmentStatus.ACTIVE.value, EnrollmentStatus.CANCELLED.value)


def enrolled_sessions(
    *,
    db: Session,
    actor: User,
    filters: SessionFilters = SessionFilters(),  # frozen: safe to share
    page: int = 1,
    page_size: int = 20,
    clock: Clock = utcnow,
    tz: str = "UTC",
) -> Page:
    """The sessions the student has a seat in (or had, until it was cancelled), filtered."""
    require_role(actor, Role.STUDENT)
    f = catalog.clean_filters(filters, sorts=catalog.STUDENT_SORTS)
    zone, now = catalog._zone(tz), clock()
    page, page_size = catalog._bounds(page, page_size)
    where = [
        Enrollment.student_id == actor.id,
        Enrollment.status.in_(HELD_SEATS),  # type: ignore[attr-defined]
        *catalog._filter_conditions(f, now=now, zone=zone, by_teacher_name=True),
    ]
    total = db.exec(
        select(func.count())
        .select_from(Enrollment)
        .join(S, S.id == Enrollment.session_id)
        .join(User, User.id == S.teacher_id)
        .where(*where)
    ).one()
    found = db.exec(
        select(S, User.full_name, Enrollment.status, Enrollment.enrolled_at)
        .select_from(Enrollment)
        .join(S, S.id == Enrollment.session_id)
        .join(User, User.id == S.teacher_id)
        .where(*where)
        .order_by(*catalog._student_order(f.sort))
        .offset(catalog._offset(page, page_size))
        .limit(page_size)
    ).all()
    tags = catalog.tags_by_session(db, [s.id for s, _, _, _ in found])  # type: ignore[misc]
    rows = [
        SessionRow(
            s,
            name,
            tags[s.id],  # type: ignore[index]
            enrollment_status=status,
            moved=status == EnrollmentStatus.ACTIVE and moved_since(s, enrolled_at),
        )
        for s, name, status, enrolled_at in found
    ]
    return Page(rows, int(total), page, page_size)


def materials_count_by_session(db: Session, session_ids: list[int]) -> dict[int, int]:
    """How many materials each of these sessions has, in one grouped query."""
    if not session_ids:
        return {}
    rows = db.exec(
        select(Material.session_id, func.count())
        .where(Material.session_id.in_(session_ids))  # type: ignore[attr-defined]
        .group_by(Material.session_id)
    ).all()
    return {sid: int(n) for sid, n in rows}


def patch_session(
    *,
    db: Session,
    actor: User,
    video_session_id: int,
    changes: dict[str, Any],
    clock: Clock = utcnow,
) -> VideoSession:
    """Change some fields of a session (keys are `SessionInput` fields); the rest stay as they are.

    The edit rules, and who may edit, are `session_edit.update_session`'s.
    """
    session = db.get(VideoSession, video_session_id)
    if session is None:
        raise NotFound("session_not_found")
    if changes.get("is_paid") is False and "price_cents" not in changes:
        changes = {**changes, "price_cents": 0}  # made free: the old price goes with it
    data = replace(session_edit.current_input(db, session), **changes)
    db.rollback()  # update_session locks the row as its transaction's first statement
    return session_edit.update_session(
        db=db, actor=actor, video_session_id=video_session_id, data=data, clock=clock
    )
