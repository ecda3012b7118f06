"""A full session's waiting list over HTTP: join, leave, and see it (the owner: the line; a
student: their place)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from visio.api.deps import DbDep, SessionId, UserDep
from visio.api.errors import error_responses
from visio.models import Role
from visio.services import waitlist

router = APIRouter(prefix="/sessions", tags=["waiting list"])


class PlaceOut(BaseModel):
    session_id: int
    state: str = Field(description="`waiting`, `closed` (the list closed while waiting) or `none`")
    position: int | None = Field(description="1 for the first in line; null unless waiting")
    waiting_count: int = Field(description="How many students wait in line")
    short: bool = Field(
        description="A promotion skipped the student for want of money: top up to keep the place"
    )
    can_join: bool = Field(description="The caller may join: the session is full, its list open")


class WaitingOut(BaseModel):
    position: int
    student_id: int
    student_name: str
    joined_at: datetime
    short: bool


class WaitlistOut(BaseModel):
    session_id: int
    open: bool = Field(description="Taking students: published, before the enrollment deadline")
    items: list[WaitingOut] = Field(description="In line order")
    total: int
    page: int
    page_size: int


def _place(session_id: int, place: waitlist.Place) -> PlaceOut:
    return PlaceOut(
        session_id=session_id,
        state=place.state,
        position=place.position,
        waiting_count=place.waiting,
        short=place.short,
        can_join=place.can_join,
    )


@router.post(
    "/{session_id}/waitlist",
    status_code=201,
    response_model=PlaceOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def join_waitlist(session_id: SessionId, db: DbDep, user: UserDep) -> PlaceOut:
    """Join a full session's waiting list (students; nothing is charged until a promotion)."""
    return _place(session_id, waitlist.join(db=db, actor=user, video_session_id=session_id))


@router.delete(
    "/{session_id}/waitlist",
    response_model=PlaceOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def leave_waitlist(session_id: SessionId, db: DbDep, user: UserDep) -> PlaceOut:
    """Leave the waiting list."""
    waitlist.leave(db=db, actor=user, video_session_id=session_id)
    return _place(session_id, waitlist.place_of(db=db, actor=user, video_session_id=session_id))


@router.get(
    "/{session_id}/waitlist",
    response_model=WaitlistOut | PlaceOut,
    responses=error_responses(401, 403, 404, 422),
)
def get_waitlist(
    session_id: SessionId,
    db: DbDep,
    user: UserDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=waitlist.MAX_PAGE_SIZE)] = 20,
) -> WaitlistOut | PlaceOut:
    """The owner: the line, one page in order; a student: their place in it."""
    if user.role != Role.TEACHER:
        found = waitlist.place_of(db=db, actor=user, video_session_id=session_id)
        return _place(session_id, found)
    line = waitlist.waiting_list(
        db=db, actor=user, video_session_id=session_id, page=page, page_size=page_size
    )
    return WaitlistOut(
        session_id=session_id,
        open=line.open,
        items=[
            WaitingOut(
                position=w.position,
                student_id=w.student_id,
                student_name=w.student_name,
                joined_at=w.joined_at,
                short=w.short,
            )
            for w in line.items
        ],
        total=line.total,
        page=line.page,
        page_size=line.page_size,
    )
