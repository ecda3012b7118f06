"""Read-only listings of sessions: one page of rows at a time, counts in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import Role, SessionTag, StoredStatus, Tag, User, VideoSession
from visio.services.accounts import require_role

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class SessionRow:
    session: VideoSession
    teacher_name: str
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    rows: list[SessionRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def tags_by_session(db: Session, session_ids: list[int]) -> dict[int, list[str]]:
    """The tag names of a page of sessions, in one query."""
    found: dict[int, list[str]] = {sid: [] for sid in session_ids}
    if session_ids:
        rows = db.exec(
            select(SessionTag.session_id, Tag.name)
            .join(Tag, Tag.id == SessionTag.tag_id)
            .where(SessionTag.session_id.in_(session_ids))  # type: ignore[attr-defined]
            .order_by(Tag.name)
        ).all()
        for session_id, name in rows:
            found[session_id].append(name)
    return found


def _with_tags(db: Session, rows: list[tuple[VideoSession, str]]) -> list[SessionRow]:
    tags = tags_by_session(db, [s.id for s, _ in rows])  # type: ignore[misc]
    return [SessionRow(s, name, tags[s.id]) for s, name in rows]  # type: ignore[index]


def _bounds(page: int, page_size: int) -> tuple[int, int]:
    return max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)


def teacher_sessions(*, db: Session, actor: User, page: int = 1, page_size: int = 20) -> Page:
    """The teacher's own sessions, soonest first."""
    require_role(actor, Role.TEACHER)
    page, page_size = _bounds(page, page_size)
    where = VideoSession.teacher_id == actor.id
    total = db.exec(select(func.count()).select_from(VideoSession).where(where)).one()
    rows = db.exec(
        select(VideoSession)
        .where(where)
        .order_by(VideoSession.starts_at.desc(), VideoSession.id.desc())  # type: ignore[attr-defined]
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return Page(_with_tags(db, [(s, actor.full_name) for s in rows]), total, page, page_size)


def available_sessions(
    *, db: Session, actor: User, page: int = 1, page_size: int = 20, clock: Clock = utcnow
) -> Page:
    """Published sessions a student can still enroll in, soonest first."""
    require_role(actor, Role.STUDENT)
    page, page_size = _bounds(page, page_size)
    now: datetime = clock()
    deadline = func.coalesce(VideoSession.enrollment_deadline, VideoSession.starts_at)
    where = (
        VideoSession.status == StoredStatus.SCHEDULED,
        VideoSession.starts_at > now,
        deadline > now,
        or_(VideoSession.capacity.is_(None), VideoSession.enrolled_count < VideoSession.capacity),  # type: ignore[union-attr]
    )
    total = db.exec(select(func.count()).select_from(VideoSession).where(*where)).one()
    rows = db.exec(
        select(VideoSession, User.full_name)
        .join(User, User.id == VideoSession.teacher_id)
        .where(*where)
        .order_by(VideoSession.starts_at, VideoSession.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return Page(_with_tags(db, list(rows)), total, page, page_size)
