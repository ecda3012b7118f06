"""Waiting lists, recurring series, and a minimum number of participants.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 12:54:33
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import visio.models.types
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SESSION_COLUMNS = (
    ('series_id', sa.Integer()),
    ('min_participants', sa.Integer()),
    ('decide_at', visio.models.types.UTCDateTime()),
    ('decided_at', visio.models.types.UTCDateTime()),
)


def upgrade() -> None:
    op.create_table('series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('every_days', sa.Integer(), nullable=False),
    sa.Column('created_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['teacher_id'], ['users.id'], name=op.f('fk_series_teacher_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series'))
    )
    op.create_index(op.f('ix_series_teacher_id'), 'series', ['teacher_id'], unique=False)

    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('joined_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('ended_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.Column('short_notified_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['video_sessions.id'], name=op.f('fk_waitlist_entries_session_id_video_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_waitlist_entries_student_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entries')),
    sa.UniqueConstraint('session_id', 'student_id', name='uq_waitlist_session_student')
    )
    op.create_index('ix_waitlist_line', 'waitlist_entries', ['session_id', 'status', 'joined_at'], unique=False)
    op.create_index('ix_waitlist_student_status', 'waitlist_entries', ['student_id', 'status'], unique=False)

    # Plain ALTER TABLE (no batch copy): the search index's triggers on this table stay.
    for name, type_ in SESSION_COLUMNS:
        op.add_column('video_sessions', sa.Column(name, type_, nullable=True))
    op.create_index('ix_video_sessions_decide', 'video_sessions', ['decided_at', 'decide_at'], unique=False)
    op.create_index(op.f('ix_video_sessions_series_id'), 'video_sessions', ['series_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_video_sessions_series_id'), table_name='video_sessions')
    op.drop_index('ix_video_sessions_decide', table_name='video_sessions')
    for name, _ in reversed(SESSION_COLUMNS):
        op.drop_column('video_sessions', name)
    op.drop_index('ix_waitlist_student_status', table_name='waitlist_entries')
    op.drop_index('ix_waitlist_line', table_name='waitlist_entries')
    op.drop_table('waitlist_entries')
    op.drop_index(op.f('ix_series_teacher_id'), table_name='series')
    op.drop_table('series')
