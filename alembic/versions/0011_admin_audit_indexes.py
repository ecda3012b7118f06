"""The admin console's audit log: newest first, whole or by action, read from an index.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_events_created', 'audit_events', ['created_at'], unique=False)
    op.create_index(
        'ix_audit_events_action_created', 'audit_events', ['action', 'created_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_audit_events_action_created', table_name='audit_events')
    op.drop_index('ix_audit_events_created', table_name='audit_events')
