"""Notices read in the app, mail preferences, address proofs (verification, change of email),
and the account's verified / refused address.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import visio.models.types
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch mode): SQLite can add a nullable column in place.
    op.add_column('users', sa.Column('email_verified_at', visio.models.types.UTCDateTime(), nullable=True))
    op.add_column('users', sa.Column('email_refused_at', visio.models.types.UTCDateTime(), nullable=True))
    op.add_column('users', sa.Column('unsubscribe_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column('notices', sa.Column('read_at', visio.models.types.UTCDateTime(), nullable=True))
    op.create_index('ix_notices_inbox', 'notices', ['user_id', 'created_at'], unique=False)
    op.drop_index('ix_notices_user_id', table_name='notices')  # the inbox index starts with it
    op.create_table('notice_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('email', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notice_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notice_preferences'))
    )
    op.create_index('ix_notice_preferences_kind', 'notice_preferences', ['kind', 'email'], unique=False)
    op.create_table('email_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_email_tokens_token_hash'))
    )
    op.create_index(op.f('ix_email_tokens_user_id'), 'email_tokens', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_email_tokens_user_id'), table_name='email_tokens')
    op.drop_table('email_tokens')
    op.drop_index('ix_notice_preferences_kind', table_name='notice_preferences')
    op.drop_table('notice_preferences')
    op.create_index('ix_notices_user_id', 'notices', ['user_id'], unique=False)
    op.drop_index('ix_notices_inbox', table_name='notices')
    op.drop_column('notices', 'read_at')  # plain DROP COLUMN (SQLite 3.35+), as in 0005
    op.drop_column('users', 'unsubscribe_key')
    op.drop_column('users', 'email_refused_at')
    op.drop_column('users', 'email_verified_at')
