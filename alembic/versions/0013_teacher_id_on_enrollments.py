"""The session's teacher copied onto enrollments and purchases: the teacher's dashboard sums
their enrollments and revenue per day with a seek on one index each, instead of joining every
session of the teacher to its rows. The seats' index by session gains the student: who of a
finished session's students joined is read from it alone.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (index name, its columns); the extra key columns make the index covering.
INDEXES = {
    'enrollments': ('ix_enrollments_teacher_enrolled', ['teacher_id', 'enrolled_at']),
    'purchases': (
        'ix_purchases_teacher_created', ['teacher_id', 'created_at', 'status', 'amount_cents']
    ),
}
SEATS_INDEX = 'ix_enrollments_session_status'
SEATS_BEFORE = ['session_id', 'status', 'enrolled_at']
SEATS_AFTER = [*SEATS_BEFORE, 'student_id']


def _alter(table: str, change) -> None:  # type: ignore[no-untyped-def]
    """Apply `change` to a batch of `table`. PostgreSQL: plain ALTER TABLEs. SQLite cannot
    change a column's NOT NULL or foreign key in place: it rebuilds the table (neither table has
    triggers) with foreign keys off, as 0010 does (dropping enrollments would otherwise cascade
    into purchases), then checks every reference still holds. The pragma only works outside a
    transaction, so what earlier steps wrote is committed first."""
    if op.get_bind().dialect.name != 'sqlite':
        with op.batch_alter_table(table) as batch_op:
            change(batch_op)
        return
    raw = op.get_bind().connection.dbapi_connection
    raw.commit()
    raw.execute('PRAGMA foreign_keys = OFF')
    with op.batch_alter_table(table, recreate='always') as batch_op:
        change(batch_op)
    raw.commit()
    broken = raw.execute('PRAGMA foreign_key_check').fetchall()
    raw.execute('PRAGMA foreign_keys = ON')
    if broken:
        raise RuntimeError(f'rebuilding {table} broke references: {broken[:5]}')


def upgrade() -> None:
    for table, (index, columns) in INDEXES.items():
        op.add_column(table, sa.Column('teacher_id', sa.Integer(), nullable=True))
        op.execute(
            f'UPDATE {table} SET teacher_id = '
            f'(SELECT teacher_id FROM video_sessions WHERE video_sessions.id = {table}.session_id)'
        )
        fk = op.f(f'fk_{table}_teacher_id_users')

        def not_null(batch_op, fk=fk) -> None:  # type: ignore[no-untyped-def]
            batch_op.alter_column('teacher_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(fk, 'users', ['teacher_id'], ['id'])

        _alter(table, not_null)
        op.create_index(index, table, columns, unique=False)
    op.drop_index(SEATS_INDEX, table_name='enrollments')
    op.create_index(SEATS_INDEX, 'enrollments', SEATS_AFTER, unique=False)


def downgrade() -> None:
    op.drop_index(SEATS_INDEX, table_name='enrollments')
    op.create_index(SEATS_INDEX, 'enrollments', SEATS_BEFORE, unique=False)
    for table, (index, _) in reversed(INDEXES.items()):
        op.drop_index(index, table_name=table)
        fk = op.f(f'fk_{table}_teacher_id_users')

        def drop(batch_op, fk=fk) -> None:  # type: ignore[no-untyped-def]
            batch_op.drop_constraint(fk, type_='foreignkey')
            batch_op.drop_column('teacher_id')

        _alter(table, drop)
