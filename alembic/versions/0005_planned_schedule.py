"""The schedule students were promised: a moved session stays fair to them.

`planned_starts_at` and `planned_ends_at` keep the start and end a session was published with
(followed by time edits only while nobody is enrolled); `rescheduled_at` says when its start or
duration last changed with students enrolled. Sessions already published take their current
schedule as the planned one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

import visio.models.types
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy): the search index's triggers on this table stay.
    for name in ('planned_starts_at', 'planned_ends_at', 'rescheduled_at'):
        op.add_column('video_sessions', sa.Column(name, visio.models.types.UTCDateTime()))
    op.execute(
        "UPDATE video_sessions SET planned_starts_at = starts_at, planned_ends_at = ends_at "
        "WHERE status <> 'draft'"
    )


def downgrade() -> None:
    for name in ('rescheduled_at', 'planned_ends_at', 'planned_starts_at'):
        op.drop_column('video_sessions', name)
