"""The rows of one seat claim, written with SQLAlchemy Core statements built once.

Every paid seat on the platform writes these (see `enrollments.take_seat`): the ORM's unit of
work (objects built, flushed, their keys fetched back) cost more than the database itself, so
they go straight to the transaction's connection. The statements are those the ORM would issue;
the money rules stay where they were: the debit never takes a wallet below zero, and the ledger
entry and the cached balance move in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, NoReturn

from sqlalchemy import (
    Connection,
    Insert,
    Select,
    Table,
    bindparam,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import Session

from visio.models import (
    Enrollment,
    EnrollmentStatus,
    Purchase,
    PurchaseStatus,
    VideoSession,
    Wallet,
    WalletKind,
)
from visio.services import locking, wallets
from visio.services.errors import InsufficientFunds, NotAuthenticated

_wallets = Wallet.__table__  # type: ignore[attr-defined]
_enrollments = Enrollment.__table__  # type: ignore[attr-defined]
_sessions = VideoSession.__table__  # type: ignore[attr-defined]
PURCHASES: Table = Purchase.__table__  # type: ignore[attr-defined]

_DEBIT = (
    update(_wallets)
    .where(
        _wallets.c.user_id == bindparam("owner"),
        _wallets.c.kind == literal(WalletKind.USER.value),
        _wallets.c.balance_cents >= bindparam("price"),
    )
    .values(balance_cents=_wallets.c.balance_cents - bindparam("price"), updated_at=bindparam("at"))
    .returning(_wallets.c.id, _wallets.c.balance_cents)
)
_BALANCE = select(_wallets.c.balance_cents).where(_wallets.c.user_id == bindparam("owner"))
_INSERT_ENROLLMENT = insert(_enrollments)
_REACTIVATE = (
    update(_enrollments)
    .where(_enrollments.c.id == bindparam("enrollment_id"))
    .values(status=EnrollmentStatus.ACTIVE.value, enrolled_at=bindparam("at"), ended_at=None)
)
_COUNT_SEAT = (  # its parameter named apart: it rides with other rows (`insert_rows`)
    update(_sessions)
    .where(_sessions.c.id == bindparam("seat_session_id"))
    .values(enrolled_count=_sessions.c.enrolled_count + 1)
)
# A row to insert (its table and values), or a statement whose result nothing reads, with its
# parameters (named apart from every column: see `_COUNT_SEAT`).
Row = tuple[Table | UpdateBase, dict[str, Any]]


def debit(
    connection: Connection, user_id: int, wallet: Wallet | None, price: int, at: datetime
) -> tuple[int, int]:
    """Take `price` from the student's wallet (locking its row); (wallet id, new balance).

    One conditional UPDATE: it locks the row and checks the funds in the same statement (on
    PostgreSQL, a waiting UPDATE checks them again on the row as its holder committed it).
    `wallet`: the row, if the caller locked it already. Nothing is written on a refusal.
    """
    with locking.busy_on_timeout():
        found = connection.execute(_DEBIT, {"owner": user_id, "price": price, "at": at}).first()
    if found is None:
        _refuse(connection, user_id, wallet, price)
    return found[0], found[1]


def debit_into_seat(
    connection: Connection,
    *,
    student_id: int,
    wallet: Wallet | None,
    price: int,
    session_id: int,
    teacher_id: int,
    at: datetime,
) -> tuple[int, int, int]:
    """`debit`, then `insert_enrollment`: (wallet id, new balance, the new seat's id).

    On PostgreSQL in one round trip: the seat is inserted by the debit's own statement, from the
    row it debited, so a refused debit writes no seat either. The locks come in the same order
    as in two statements: the wallet's row, then the seat's.
    """
    if connection.dialect.name != "postgresql":
        wallet_id, balance = debit(connection, student_id, wallet, price, at)
        return (
            wallet_id,
            balance,
            insert_enrollment(connection, session_id, student_id, teacher_id, at),
        )
    params = {
        "owner": student_id,
        "price": price,
        "at": at,
        "seat_session_id": session_id,
        "seat_teacher_id": teacher_id,
    }
    with locking.busy_on_timeout():
        found = connection.execute(_debit_into_seat(), params).first()
    if found is None:
        _refuse(connection, student_id, wallet, price)
    return found[0], found[1], found[2]


@cache
def _debit_into_seat() -> Select[Any]:
    debited = _DEBIT.cte("debited")
    columns = _enrollments.c
    seat = (
        insert(_enrollments)
        .from_select(
            ["session_id", "student_id", "teacher_id", "status", "enrolled_at"],
            select(
                bindparam("seat_session_id", type_=columns.session_id.type),
                bindparam("owner", type_=columns.student_id.type),
                bindparam("seat_teacher_id", type_=columns.teacher_id.type),
                literal(EnrollmentStatus.ACTIVE.value, columns.status.type),
                bindparam("at", type_=columns.enrolled_at.type),
            ).select_from(debited),
        )
        .returning(columns.id)
        .cte("seat")
    )
    return select(debited.c.id, debited.c.balance_cents, seat.c.id).join_from(debited, seat, true())


def _refuse(connection: Connection, user_id: int, wallet: Wallet | None, price: int) -> NoReturn:
    """Why a debit found no row: the wallet holds less than `price` (InsufficientFunds)."""
    balance = (
        wallet.balance_cents
        if wallet is not None
        else connection.execute(_BALANCE, {"owner": user_id}).scalar_one_or_none()
    )
    if balance is None:
        raise NotAuthenticated()  # every account has a wallet from registration on
    raise InsufficientFunds(balance_cents=balance, missing_cents=price - balance)


def balance(connection: Connection, user_id: int) -> int:
    """The student's balance, for the answer to a free seat."""
    found = connection.execute(_BALANCE, {"owner": user_id}).scalar_one_or_none()
    if found is None:
        raise NotAuthenticated()  # every account has a wallet from registration on
    return found


def insert_enrollment(
    connection: Connection, session_id: int, student_id: int, teacher_id: int, at: datetime
) -> int:
    """A new active seat (with its session's teacher, for the statistics); its id."""
    params = {
        "session_id": session_id,
        "student_id": student_id,
        "teacher_id": teacher_id,
        "status": EnrollmentStatus.ACTIVE.value,
        "enrolled_at": at,
    }
    return connection.execute(_INSERT_ENROLLMENT, params).inserted_primary_key[0]  # type: ignore[index]


def reactivate(connection: Connection, enrollment_id: int, at: datetime) -> None:
    """The pair's earlier (ended) row, active again from `at`."""
    connection.execute(_REACTIVATE, {"enrollment_id": enrollment_id, "at": at})


def seat_counted(session_id: int) -> Row:
    """One more seat taken on the (locked) session row: the statement, to write with
    `insert_rows`."""
    return _COUNT_SEAT, {"seat_session_id": session_id}


def purchase_values(
    session: VideoSession, student_id: int, enrollment_id: int, at: datetime
) -> dict[str, Any]:
    """The seat's purchase, held in escrow: its row, to write with `insert_rows`."""
    return {
        "student_id": student_id,
        "session_id": session.id,
        "teacher_id": session.teacher_id,
        "enrollment_id": enrollment_id,
        "amount_cents": session.price_cents,
        "currency": session.currency,
        "status": PurchaseStatus.HELD.value,
        "created_at": at,
    }


def insert_rows(connection: Connection, rows: list[Row]) -> int:
    """Write `rows`, of which only the last (an insert) is read back: its id.

    On PostgreSQL in one round trip: the others ride as writable CTEs of the last one's INSERT
    (a seat's count, audit event and notice with its purchase: three round trips fewer per
    seat). SQLite has no DML in a CTE, and no round trips to save: one statement each.
    """
    *riders, (table, values) = rows
    if connection.dialect.name != "postgresql":
        for target, params in riders:
            if isinstance(target, Table):
                _insert_unread(connection, target, params)
            else:
                connection.execute(target, params)
        return connection.execute(_statement(table), values).inserted_primary_key[0]  # type: ignore[index, arg-type]
    shape = tuple((target, _names(target, params)) for target, params in rows)
    return connection.execute(_together(shape), _bound(rows)).scalar_one()


def insert_rows_paying_escrow(db: Session, rows: list[Row], credit: wallets.EscrowCredit) -> int:
    """`insert_rows`, whose last row is a purchase, then the escrow's credit for it with both
    ledger entries (`wallets.credit_escrow`): the purchase's id.

    On PostgreSQL in one round trip: the credit and its entries ride as writable CTEs too,
    reading the purchase's id from its INSERT. The escrow's lock is still the transaction's
    last, held from that statement to the commit that follows.
    """
    connection = db.connection()
    if connection.dialect.name != "postgresql":
        purchase_id = insert_rows(connection, rows)
        wallets.credit_escrow(db, credit, purchase_id)
        return purchase_id
    shape = tuple((target, _names(target, params)) for target, params in rows)
    with locking.busy_on_timeout():
        purchase_id, *found = connection.execute(
            _together_paying_escrow(shape), _bound(rows) | credit.params()
        ).one()
    wallets.escrow_credited(db, credit, purchase_id, found, entries_written=True)
    return purchase_id


def _bound(rows: list[Row]) -> dict[str, Any]:
    """The parameters of `rows` in one statement: each table row's named after its place."""
    bound: dict[str, Any] = {}
    for i, (target, params) in enumerate(rows):
        bound.update(
            {f"r{i}_{k}": v for k, v in params.items()} if isinstance(target, Table) else params
        )
    return bound


def _insert_unread(connection: Connection, table: Table, params: dict[str, Any]) -> None:
    """An INSERT whose result nothing reads (no key fetched back), on SQLite: its SQL compiled
    once by SQLAlchemy, its values converted by the columns' own types, then run as the
    driver's statement (half the cost of a compiled statement's execution, for a seat's audit
    event and notice: see the enrollment benchmark's notices budget)."""
    sql, names, processors = _driver_insert(table, tuple(params), connection.dialect)
    connection.exec_driver_sql(
        sql,
        tuple(
            params[name] if process is None else process(params[name])
            for name, process in zip(names, processors, strict=True)
        ),
    )


@lru_cache(maxsize=64)
def _driver_insert(
    table: Table, names: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[str, ...], tuple[Callable[[Any], Any] | None, ...]]:
    """The INSERT of `names` into `table`: its positional SQL, the order of its values and
    each column type's converter (None where the driver takes the value as it is)."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(names))
    order = tuple(compiled.positiontup or ())
    assert set(order) == set(names), "every value a parameter, nothing else"
    return str(compiled), order, tuple(table.c[name].type.bind_processor(dialect) for name in order)


def _names(target: Table | UpdateBase, params: dict[str, Any]) -> tuple[str, ...]:
    return tuple(params) if isinstance(target, Table) else ()


@cache
def _statement(target: Table | UpdateBase) -> UpdateBase:
    return insert(target) if isinstance(target, Table) else target


Shape = tuple[tuple[Table | UpdateBase, tuple[str, ...]], ...]


def _statements(shape: Shape) -> list[Any]:
    return [
        insert(target).values(
            {name: bindparam(f"r{i}_{name}", type_=target.c[name].type) for name in names}
        )
        if isinstance(target, Table)
        else target
        for i, (target, names) in enumerate(shape)
    ]


@lru_cache(maxsize=64)  # a handful of shapes: the seat's rows, with or without a purchase
def _together(shape: Shape) -> Insert:
    *riders, last = _statements(shape)
    ctes = [rider.cte(f"row_{i}") for i, rider in enumerate(riders)]
    return last.add_cte(*ctes).returning(shape[-1][0].c.id)  # type: ignore[union-attr, attr-defined]


@lru_cache(maxsize=64)
def _together_paying_escrow(shape: Shape) -> Select[Any]:
    """`_together`, its last row (a purchase) a CTE too, with the escrow's credit and entries:
    (the purchase's id, the escrow's id and balance, None without its row)."""
    *riders, last = _statements(shape)
    ctes = [rider.cte(f"row_{i}") for i, rider in enumerate(riders)]
    bought = last.returning(PURCHASES.c.id).cte("bought")
    credited, entries = wallets.escrow_credit_ctes(bought)
    return (
        select(bought.c.id, credited.c.id, credited.c.balance_cents)
        .select_from(bought)
        .outerjoin(credited, true())
        .add_cte(*ctes, entries)
    )
