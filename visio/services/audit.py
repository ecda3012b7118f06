"""Appending to the audit trail (inside the caller's transaction; never commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session

from visio.models import AuditEvent

_TABLE: Table = AuditEvent.__table__  # type: ignore[attr-defined]


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


def row(
    *,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    at: datetime,
    **data: Any,
) -> tuple[Table, dict[str, Any]]:
    """`record`'s event as a row for a hot path that writes without the ORM (a seat claim
    writes it with its other rows, see `seat_rows.insert_rows`)."""
    return _TABLE, {
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "data": data,
        "created_at": at,
    }
