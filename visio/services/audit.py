"""Appending to the audit trail (inside the caller's transaction; never commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert
from sqlmodel import Session

from visio.models import AuditEvent

_INSERT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


def record(
    db: Session,
    *,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    at: datetime,
    **data: Any,
) -> AuditEvent:
    """Add one audit event to the current transaction."""
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        data=data,
        created_at=at,
    )
    db.add(event)
    return event


def record_now(
    connection: Connection,
    *,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    at: datetime,
    **data: Any,
) -> None:
    """`record`, written at once on the transaction's connection, with a statement built once:
    for the hot paths that write without the ORM (a seat claim)."""
    connection.execute(
        _INSERT,
        {
            "actor_id": actor_id,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "data": data,
            "created_at": at,
        },
    )
