"""Covering indexes for a teacher's statistics: enrollment dates and purchase amounts by session.

The dashboard sums a teacher's enrollments per day (by `enrolled_at`) and purchases per day and
status (by `created_at`, `amount_cents`), reached through each session's id. Carrying those columns
in the per-session indexes lets both databases answer from the index alone, without one table
read per enrollment or purchase. The indexes replace the narrower ones of migration 0001 (their
leading columns are the same, so every query using those still does): no extra write per seat.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 12:25:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_enrollments_session_status', table_name='enrollments')
    op.create_index(
        'ix_enrollments_session_status', 'enrollments', ['session_id', 'status', 'enrolled_at']
    )
    op.drop_index('ix_purchases_session_status', table_name='purchases')
    op.create_index(
        'ix_purchases_session_status',
        'purchases',
        ['session_id', 'status', 'created_at', 'amount_cents'],
    )


def downgrade() -> None:
    op.drop_index('ix_purchases_session_status', table_name='purchases')
    op.create_index('ix_purchases_session_status', 'purchases', ['session_id', 'status'])
    op.drop_index('ix_enrollments_session_status', table_name='enrollments')
    op.create_index('ix_enrollments_session_status', 'enrollments', ['session_id', 'status'])
