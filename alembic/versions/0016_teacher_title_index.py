"""A teacher's list sorted by title walks an index in that order on PostgreSQL and stops after its
page, where it folded and sorted every one of the teacher's titles (about 68 ms for a teacher with
5,000 sessions).

The index holds the title folded exactly as the listing sorts it (`folded_sql`: PostgreSQL uses
an expression index only for the same expression). SQLite does not get it: it folds with a
function of the app's own (visio_fold), which every connection to the file, the sqlite3 shell's
included, would then have to register to write a session.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from visio.search_text import folded_sql

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index(
            'ix_video_sessions_teacher_title',
            'video_sessions',
            ['teacher_id', sa.text(folded_sql('title')), 'id'],
            unique=False,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_video_sessions_teacher_title', table_name='video_sessions')
