"""Bulk actions on a teacher's sessions: each one checked and done on its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import Role, User, VideoSession
from visio.services import sessions
from visio.services.accounts import require_role
from visio.services.errors import DomainError, InvalidInput

ACTIONS = ("publish", "cancel", "delete")
MAX_BULK = 100


@dataclass(frozen=True)
class BulkOutcome:
    session_id: int
    title: str
    done: bool
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def bulk_action(
    *,
    db: Session,
    actor: User,
    action: str,
    video_session_ids: list[int],
    reason: str = "",
    clock: Clock = utcnow,
) -> list[BulkOutcome]:
    """Publish, cancel (one reason for all) or delete several sessions; says what was skipped."""
    require_role(actor, Role.TEACHER)
    if action not in ACTIONS:
        raise InvalidInput("bulk_action_invalid", field="action")
    ids = list(dict.fromkeys(int(i) for i in video_session_ids))
    if not ids:
        raise InvalidInput("bulk_empty", field="ids")
    if len(ids) > MAX_BULK:
        raise InvalidInput("bulk_too_many", field="ids", max=MAX_BULK)
    if action == "cancel":
        sessions.check_cancel_reason(reason)
    # Only the actor's own titles: another teacher's (draft) title is not theirs to read.
    titles = dict(
        db.exec(
            select(VideoSession.id, VideoSession.title).where(
                VideoSession.id.in_(ids),  # type: ignore[union-attr]
                VideoSession.teacher_id == actor.id,
            )
        ).all()
    )
    db.rollback()
    outcomes = []
    for session_id in ids:
        title = titles.get(session_id, "")
        try:
            if action == "publish":
                sessions.publish_session(
                    db=db, actor=actor, video_session_id=session_id, clock=clock
                )
            elif action == "cancel":
                sessions.cancel_session(
                    db=db, actor=actor, video_session_id=session_id, reason=reason, clock=clock
                )
            else:
                sessions.delete_session(
                    db=db, actor=actor, video_session_id=session_id, clock=clock
                )
        except DomainError as error:
            outcomes.append(BulkOutcome(session_id, title, False, error.code, error.params))
        else:
            outcomes.append(BulkOutcome(session_id, title, True))
    return outcomes
