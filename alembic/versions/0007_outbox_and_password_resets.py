"""The outbox of notices (mails sent after commit) and single-use password-reset tokens.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 10:19:16.206983
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import visio.models.types
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('claimed_until', visio.models.types.UTCDateTime(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('sent_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notices_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notices_dedupe_key'))
    )
    op.create_index('ix_notices_due', 'notices', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_notices_user_id'), 'notices', ['user_id'], unique=False)

    op.create_table('password_resets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_resets_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_resets')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_resets_token_hash'))
    )
    op.create_index(
        op.f('ix_password_resets_user_id'), 'password_resets', ['user_id'], unique=False
    )



def downgrade() -> None:
    op.drop_index(op.f('ix_password_resets_user_id'), table_name='password_resets')

    op.drop_table('password_resets')
    op.drop_index(op.f('ix_notices_user_id'), table_name='notices')
    op.drop_index('ix_notices_due', table_name='notices')

    op.drop_table('notices')
