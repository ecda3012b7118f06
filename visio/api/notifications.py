"""The caller's notices in the app (what the bell lists): one page, and marking them read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from visio.api.deps import DbDep, UserDep
from visio.api.errors import error_responses, request_language
from visio.api.schemas import MarkReadIn, MarkReadOut, NotificationOut, NotificationPageOut
from visio.services import inbox

router = APIRouter(prefix="/notifications", tags=["notifications"])

MAX_PAGE = 100_000
PageSize = Annotated[
    int | None,
    Query(ge=1, le=100, description=f"At most {inbox.MAX_PAGE_SIZE} are sent (default 20)"),
]


@router.get("", response_model=NotificationPageOut, responses=error_responses(401, 422))
def notifications(
    request: Request,
    db: DbDep,
    user: UserDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: PageSize = None,
    per_page: Annotated[PageSize, Query(description="Another name for `page_size`")] = None,
) -> NotificationPageOut:
    """One page of the caller's notices, newest first, with the unread count; titles in the
    language of Accept-Language (else the account's), times in the account's zone."""
    lang = request_language(request) if request.headers.get("accept-language") else None
    found = inbox.inbox_page(
        db=db, actor=user, page=page, page_size=page_size or per_page or 20, lang=lang
    )
    return NotificationPageOut(
        items=[NotificationOut(**vars(item)) for item in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        unread_count=found.unread,
    )


@router.post("/read", response_model=MarkReadOut, responses=error_responses(401, 422))
def mark_read(body: MarkReadIn, db: DbDep, user: UserDep) -> MarkReadOut:
    """Mark some (`ids`) or all (`all: true`) of the caller's notices read: the new count."""
    if body.all:
        return MarkReadOut(unread_count=inbox.mark_all_read(db=db, actor=user))
    return MarkReadOut(unread_count=inbox.mark_read(db=db, actor=user, ids=body.ids or []))
