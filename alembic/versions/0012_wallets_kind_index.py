"""The platform's wallets found by kind with a seek: every paid seat credits escrow by its kind,
inside the hottest lock, and that UPDATE scanned every user's wallet.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 17:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_wallets_kind', 'wallets', ['kind'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_wallets_kind', table_name='wallets')
