"""Initial schema: accounts, video sessions, enrollments, materials, attendance, money, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 09:24:10.659242
"""

from collections.abc import Sequence
from datetime import datetime, timezone

import sqlalchemy as sa
import sqlmodel
from alembic import op

import visio.models.types
from visio.settings import settings

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('failed_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    op.create_index('ix_login_failures_email_at', 'login_failures', ['email', 'failed_at'], unique=False)

    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags'))
    )
    op.create_index(op.f('ix_tags_name'), 'tags', ['name'], unique=True)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_index(op.f('ix_users_email'), 'users', ['email'], unique=True)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('target_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index(op.f('ix_audit_events_actor_id'), 'audit_events', ['actor_id'], unique=False)
    op.create_index('ix_audit_events_target', 'audit_events', ['target_type', 'target_id', 'created_at'], unique=False)

    op.create_table('auth_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions'))
    )
    op.create_index(op.f('ix_auth_sessions_token_hash'), 'auth_sessions', ['token_hash'], unique=True)
    op.create_index(op.f('ix_auth_sessions_user_id'), 'auth_sessions', ['user_id'], unique=False)

    op.create_table('video_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
    sa.Column('starts_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('ends_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('is_paid', sa.Boolean(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('enrollment_deadline', visio.models.types.UTCDateTime(), nullable=True),
    sa.Column('enrolled_count', sa.Integer(), nullable=False),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('cancelled_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.Column('published_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.Column('escrow_released_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'scheduled', 'cancelled')", name=op.f('ck_video_sessions_status_known')),
    sa.CheckConstraint('enrolled_count >= 0', name=op.f('ck_video_sessions_enrolled_not_negative')),
    sa.CheckConstraint('price_cents >= 0', name=op.f('ck_video_sessions_price_not_negative')),
    sa.ForeignKeyConstraint(['teacher_id'], ['users.id'], name=op.f('fk_video_sessions_teacher_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_video_sessions'))
    )
    op.create_index('ix_video_sessions_status_starts', 'video_sessions', ['status', 'starts_at'], unique=False)
    op.create_index('ix_video_sessions_teacher_starts', 'video_sessions', ['teacher_id', 'starts_at'], unique=False)

    op.create_table('wallets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('balance_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('updated_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('user', 'escrow')", name=op.f('ck_wallets_kind_known')),
    sa.CheckConstraint('balance_cents >= 0', name=op.f('ck_wallets_balance_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wallets_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallets')),
    sa.UniqueConstraint('user_id', name=op.f('uq_wallets_user_id'))
    )
    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('first_joined_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('left_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.Column('join_count', sa.Integer(), nullable=False),
    sa.Column('seconds_attended', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['video_sessions.id'], name=op.f('fk_attendance_session_id_video_sessions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attendance_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('session_id', 'user_id', name='uq_attendance_session_user')
    )
    op.create_index(op.f('ix_attendance_session_id'), 'attendance', ['session_id'], unique=False)
    op.create_index(op.f('ix_attendance_user_id'), 'attendance', ['user_id'], unique=False)

    op.create_table('enrollments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('enrolled_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('ended_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['video_sessions.id'], name=op.f('fk_enrollments_session_id_video_sessions')),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_enrollments_student_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollments')),
    sa.UniqueConstraint('session_id', 'student_id', name='uq_enrollment_session_student')
    )
    op.create_index('ix_enrollments_session_status', 'enrollments', ['session_id', 'status'], unique=False)
    op.create_index('ix_enrollments_student_status', 'enrollments', ['student_id', 'status'], unique=False)

    op.create_table('materials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
    sa.Column('storage_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('created_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['video_sessions.id'], name=op.f('fk_materials_session_id_video_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_materials'))
    )
    op.create_index(op.f('ix_materials_session_id'), 'materials', ['session_id'], unique=False)

    op.create_table('session_tags',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['video_sessions.id'], name=op.f('fk_session_tags_session_id_video_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_session_tags_tag_id_tags')),
    sa.PrimaryKeyConstraint('session_id', 'tag_id', name=op.f('pk_session_tags'))
    )
    op.create_index(op.f('ix_session_tags_tag_id'), 'session_tags', ['tag_id'], unique=False)

    op.create_table('purchases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('created_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('settled_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_purchases_amount_positive')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_purchases_enrollment_id_enrollments')),
    sa.ForeignKeyConstraint(['session_id'], ['video_sessions.id'], name=op.f('fk_purchases_session_id_video_sessions')),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_purchases_student_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchases')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_purchases_idempotency_key'))
    )
    op.create_index(op.f('ix_purchases_enrollment_id'), 'purchases', ['enrollment_id'], unique=False)
    op.create_index('ix_purchases_session_status', 'purchases', ['session_id', 'status'], unique=False)
    op.create_index('ix_purchases_student_created', 'purchases', ['student_id', 'created_at'], unique=False)

    # The platform's escrow wallet: payments wait here until their session finishes.
    wallets = sa.table(
        "wallets",
        sa.column("kind", sa.String),
        sa.column("balance_cents", sa.Integer),
        sa.column("currency", sa.String),
        sa.column("updated_at", visio.models.types.UTCDateTime()),
    )
    op.bulk_insert(wallets, [{
        "kind": "escrow", "balance_cents": 0, "currency": settings.currency,
        "updated_at": datetime.now(timezone.utc),
    }])

    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wallet_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('purchase_id', sa.Integer(), nullable=True),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('created_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('amount_cents <> 0', name=op.f('ck_ledger_entries_amount_not_zero')),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], name=op.f('fk_ledger_entries_purchase_id_purchases')),
    sa.ForeignKeyConstraint(['session_id'], ['video_sessions.id'], name=op.f('fk_ledger_entries_session_id_video_sessions')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_ledger_entries_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    op.create_index(op.f('ix_ledger_entries_purchase_id'), 'ledger_entries', ['purchase_id'], unique=False)
    op.create_index(op.f('ix_ledger_entries_session_id'), 'ledger_entries', ['session_id'], unique=False)
    op.create_index('ix_ledger_entries_wallet_created', 'ledger_entries', ['wallet_id', 'created_at'], unique=False)



def downgrade() -> None:
    op.drop_index('ix_ledger_entries_wallet_created', table_name='ledger_entries')
    op.drop_index(op.f('ix_ledger_entries_session_id'), table_name='ledger_entries')
    op.drop_index(op.f('ix_ledger_entries_purchase_id'), table_name='ledger_entries')

    op.drop_table('ledger_entries')
    op.drop_index('ix_purchases_student_created', table_name='purchases')
    op.drop_index('ix_purchases_session_status', table_name='purchases')
    op.drop_index(op.f('ix_purchases_enrollment_id'), table_name='purchases')

    op.drop_table('purchases')
    op.drop_index(op.f('ix_session_tags_tag_id'), table_name='session_tags')

    op.drop_table('session_tags')
    op.drop_index(op.f('ix_materials_session_id'), table_name='materials')

    op.drop_table('materials')
    op.drop_index('ix_enrollments_student_status', table_name='enrollments')
    op.drop_index('ix_enrollments_session_status', table_name='enrollments')

    op.drop_table('enrollments')
    op.drop_index(op.f('ix_attendance_user_id'), table_name='attendance')
    op.drop_index(op.f('ix_attendance_session_id'), table_name='attendance')

    op.drop_table('attendance')
    op.drop_table('wallets')
    op.drop_index('ix_video_sessions_teacher_starts', table_name='video_sessions')
    op.drop_index('ix_video_sessions_status_starts', table_name='video_sessions')

    op.drop_table('video_sessions')
    op.drop_index(op.f('ix_auth_sessions_user_id'), table_name='auth_sessions')
    op.drop_index(op.f('ix_auth_sessions_token_hash'), table_name='auth_sessions')

    op.drop_table('auth_sessions')
    op.drop_index('ix_audit_events_target', table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_actor_id'), table_name='audit_events')

    op.drop_table('audit_events')
    op.drop_index(op.f('ix_users_email'), table_name='users')

    op.drop_table('users')
    op.drop_index(op.f('ix_tags_name'), table_name='tags')

    op.drop_table('tags')
    op.drop_index('ix_login_failures_email_at', table_name='login_failures')

    op.drop_table('login_failures')
