"""Throttling that holds: counters per time window, and the addresses an account logged in from.

`rate_counters` replaces `login_failures` (failures were never purged and counted per email
only); `known_addresses` keeps the SHA-256 of each address an account logged in from, so the
per-email limit never refuses the owner from one of them. Both are purged in the background.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 09:15:45.421842
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import visio.models.types
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_counters',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('window_index', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_index', name=op.f('pk_rate_counters'))
    )
    op.create_index(
        op.f('ix_rate_counters_expires_at'), 'rate_counters', ['expires_at'], unique=False
    )
    op.create_table('known_addresses',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('address_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('last_seen_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_known_addresses_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'address_hash', name=op.f('pk_known_addresses'))
    )
    op.create_index(
        op.f('ix_known_addresses_last_seen_at'), 'known_addresses', ['last_seen_at'], unique=False
    )
    op.drop_index('ix_login_failures_email_at', table_name='login_failures')
    op.drop_table('login_failures')


def downgrade() -> None:
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('failed_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    op.create_index(
        'ix_login_failures_email_at', 'login_failures', ['email', 'failed_at'], unique=False
    )
    op.drop_index(op.f('ix_known_addresses_last_seen_at'), table_name='known_addresses')
    op.drop_table('known_addresses')
    op.drop_index(op.f('ix_rate_counters_expires_at'), table_name='rate_counters')
    op.drop_table('rate_counters')
