"""Admins and payouts: suspended accounts, the payouts and platform wallets, payout requests;
the notices' dedupe key becomes a partial unique index (most notices have none).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 15:55:00
"""

from collections.abc import Sequence
from datetime import datetime, timezone

import sqlalchemy as sa
import sqlmodel

import visio.models.types
from alembic import op
from visio.settings import settings

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('user', 'escrow')"
NEW_KINDS = "kind IN ('user', 'escrow', 'payouts', 'platform')"
OLD_BALANCE = "balance_cents >= 0"
NEW_BALANCE = "balance_cents >= 0 OR kind = 'platform'"


def _wallets(kinds: str, balance: str) -> sa.Table:
    """The wallets table with the given CHECKs (SQLite rebuilds the table to change them)."""
    return sa.Table(
        'wallets', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('balance_cents', sa.Integer(), nullable=False),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('updated_at', visio.models.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(kinds, name='ck_wallets_kind_known'),
        sa.CheckConstraint(balance, name='ck_wallets_balance_not_negative'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_wallets_user_id_users'),
        sa.PrimaryKeyConstraint('id', name='pk_wallets'),
        sa.UniqueConstraint('user_id', name='uq_wallets_user_id'),
    )


def _set_wallet_checks(kinds: str, balance: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_sqlite_wallets(kinds, balance)
        return
    for name, check in (('kind_known', kinds), ('balance_not_negative', balance)):
        op.drop_constraint(op.f(f'ck_wallets_{name}'), 'wallets', type_='check')
        op.create_check_constraint(op.f(f'ck_wallets_{name}'), 'wallets', check)


def _rebuild_sqlite_wallets(kinds: str, balance: str) -> None:
    """SQLite's way to change a CHECK: rebuild the table with foreign keys off (dropping the old
    table would otherwise delete under ledger_entries), then check every reference still holds.
    The pragma only works outside a transaction, so what earlier steps wrote is committed first
    (SQLite's DDL is not transactional in Alembic anyway)."""
    raw = op.get_bind().connection.dbapi_connection
    raw.commit()
    raw.execute('PRAGMA foreign_keys = OFF')
    with op.batch_alter_table('wallets', copy_from=_wallets(kinds, balance), recreate='always'):
        pass
    raw.commit()
    broken = raw.execute('PRAGMA foreign_key_check').fetchall()
    raw.execute('PRAGMA foreign_keys = ON')
    if broken:
        raise RuntimeError(f'rebuilding wallets broke references: {broken[:5]}')


def upgrade() -> None:
    op.add_column('users', sa.Column('suspended_at', visio.models.types.UTCDateTime(), nullable=True))

    _set_wallet_checks(NEW_KINDS, NEW_BALANCE)
    wallets = sa.table(
        'wallets',
        sa.column('kind', sa.String),
        sa.column('balance_cents', sa.Integer),
        sa.column('currency', sa.String),
        sa.column('updated_at', visio.models.types.UTCDateTime()),
    )
    now = datetime.now(timezone.utc)
    op.bulk_insert(wallets, [
        {'kind': kind, 'balance_cents': 0, 'currency': settings.currency, 'updated_at': now}
        for kind in ('payouts', 'platform')
    ])

    op.create_table('payout_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('destination', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('refusal_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', visio.models.types.UTCDateTime(), nullable=False),
    sa.Column('decided_at', visio.models.types.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_payout_requests_amount_positive')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_payout_requests_decided_by_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_payout_requests_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_requests'))
    )
    op.create_index('ix_payout_requests_status_created', 'payout_requests', ['status', 'created_at'], unique=False)
    op.create_index('ix_payout_requests_user_created', 'payout_requests', ['user_id', 'created_at'], unique=False)

    with op.batch_alter_table('notices') as batch_op:
        batch_op.drop_constraint('uq_notices_dedupe_key', type_='unique')
    op.create_index(
        'uq_notices_dedupe_key', 'notices', ['dedupe_key'], unique=True,
        sqlite_where=sa.text('dedupe_key IS NOT NULL'),
        postgresql_where=sa.text('dedupe_key IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('uq_notices_dedupe_key', table_name='notices')
    with op.batch_alter_table('notices') as batch_op:
        batch_op.create_unique_constraint('uq_notices_dedupe_key', ['dedupe_key'])
    op.drop_index('ix_payout_requests_user_created', table_name='payout_requests')
    op.drop_index('ix_payout_requests_status_created', table_name='payout_requests')
    op.drop_table('payout_requests')
    op.execute("DELETE FROM wallets WHERE kind IN ('payouts', 'platform')")
    _set_wallet_checks(OLD_KINDS, OLD_BALANCE)
    op.drop_column('users', 'suspended_at')
