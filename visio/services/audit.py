"""Appending to the audit trail (inside the caller's transaction; never commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from visio.models import AuditEvent


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
