"""The notices of a seat just taken: the student's confirmation, the teacher's new enrollment,
and the teacher's "session full" when it was the last seat.

They ride in every seat claim, whose speed the enrollment benchmark watches (the notices may cost
at most a tenth of it). So the claim writes one row and reads nothing: the student's notice,
built from what the claim already holds, carrying under `SEAT` what the teacher's notices need
(on PostgreSQL it rides in the statement that writes the seat's purchase).
The student's choice about that mail is applied by the sender (`outbox.deliver_due`), and the
teacher's notices are written by the sender when it claims that row (`fan_out`): in one
transaction with taking `SEAT` off the row, each once (dedupe keys), then mailed in the same pass.
The teacher's bell shows them a pass later (seconds); nothing is lost, since the row that carries
them is committed with the seat or not at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlmodel import Session, select

from visio.models import Notice, NoticeStatus, User, VideoSession
from visio.services import (
    notice_preferences,
    notice_rows,
    seat_rows,
    student_notices,
    teacher_notices,
)

SEAT = "seat"  # the data key of the teacher's notices still to write: {taken, capacity, student}
TEACHER_KINDS = ("new_enrollment", "session_full")

_TABLE: Table = Notice.__table__  # type: ignore[attr-defined]
_DATA = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("notice_id"))
    .values(data=bindparam("notice_data", type_=_TABLE.c.data.type))
)


def seat_taken(
    db: Session,
    *,
    session: VideoSession,
    student: User,
    paid_cents: int,
    balance_cents: int,
    at: datetime,
    student_kind: str | None = "enrollment_confirmed",
) -> list[seat_rows.Row]:
    """The seat's notices, as rows for the caller to write with the seat's others (call after
    the seat count was raised).

    `student_kind`: the student's notice, the confirmation in its own words (a seat from the
    waiting list is told as a promotion: one mail, not two); None writes none for the student
    (a series' seats are confirmed by one summary, see `series.enroll_series`): the teacher's
    notices are then the rows, with a read of the teacher."""
    seat = {
        "taken": session.enrolled_count,
        "capacity": session.capacity,
        "student": student.full_name,
    }
    if student_kind is None:
        teacher = db.get(User, session.teacher_id)
        assert teacher is not None  # a session's teacher is a foreign key
        fields = teacher_notices.session_fields(session)
        return [(_TABLE, row) for row in _teacher_rows(db, [(teacher, fields, seat)], at=at)]
    data = student_notices.enrollment_data(
        session, student, paid_cents=paid_cents, balance_cents=balance_cents
    )
    row = notice_rows.values(
        student, kind=student_kind, data={**data, SEAT: seat}, at=at, chosen=None
    )
    row["status"] = NoticeStatus.PENDING  # the sender applies the choice, after writing `SEAT`'s
    return [(_TABLE, row)]


def fan_out(db: Session, notices: list[Notice], *, now: datetime, lease: timedelta) -> list[Notice]:
    """Write the teacher's notices carried by these claimed notices and commit: the new ones,
    claimed by the caller for `lease` (to mail in the same pass). Each carrier's `SEAT` is taken
    off in the same transaction; a carrier fanned out twice (its lease ran out meanwhile) writes
    nothing the second time (dedupe keys)."""
    carriers = [n for n in notices if SEAT in n.data]
    if not carriers:
        return []
    session_ids = {int(n.data["session_id"]) for n in carriers}
    teachers = dict(
        db.exec(
            select(VideoSession.id, User)
            .join(User, User.id == VideoSession.teacher_id)  # type: ignore[arg-type]
            .where(VideoSession.id.in_(sorted(session_ids)))  # type: ignore[union-attr]
        ).all()
    )
    wanted = []
    for carrier in carriers:
        teacher = teachers.get(carrier.data["session_id"])
        if teacher is not None:  # a session is never deleted; a teacher only by erasure
            fields = {k: carrier.data[k] for k in teacher_notices.SESSION_FIELDS}
            wanted.append((teacher, fields, carrier.data[SEAT], carrier))
    rows = _teacher_rows(
        db, [(t, f, s) for t, f, s, _ in wanted], at=now, carriers=[c for *_, c in wanted]
    )
    for row in rows:
        if row["status"] == NoticeStatus.PENDING:
            row["claimed_until"] = now + lease
    try:
        ids = notice_rows.insert_once(db, rows)
        for carrier in carriers:
            carrier.data = {k: v for k, v in carrier.data.items() if k != SEAT}
        db.connection().execute(
            _DATA, [{"notice_id": c.id, "notice_data": c.data} for c in carriers]
        )
        written = _read(db, ids)
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return written


def _teacher_rows(
    db: Session,
    seats: list[tuple[User, dict[str, Any], dict[str, Any]]],
    *,
    at: datetime,
    carriers: list[Notice] | None = None,
) -> list[dict[str, Any]]:
    """The teacher's notices of each (teacher, session fields, `SEAT` data), their choices read
    in one query; with `carriers`, keyed once per carrier and dated as it is."""
    chosen = notice_preferences.choices(
        db,
        user_ids={int(t.id) for t, _, _ in seats},
        kinds=set(TEACHER_KINDS),  # type: ignore[arg-type]
    )
    rows = []
    for index, (teacher, fields, seat) in enumerate(seats):
        carrier = carriers[index] if carriers is not None else None
        kinds: list[tuple[str, dict[str, Any]]] = [
            (
                "new_enrollment",
                teacher_notices.data_with(
                    fields,
                    teacher,
                    student=seat["student"],
                    taken=seat["taken"],
                    capacity=seat["capacity"],
                ),
            )
        ]
        if seat["capacity"] is not None and seat["taken"] == seat["capacity"]:
            kinds.append(
                (
                    "session_full",
                    teacher_notices.data_with(fields, teacher, capacity=seat["capacity"]),
                )
            )
        for kind, data in kinds:
            row = notice_rows.values(
                teacher,
                kind=kind,
                data=data,
                at=at,
                chosen=chosen.get((teacher.id, kind)),  # type: ignore[arg-type]
                dedupe_key=None if carrier is None else f"seat:{carrier.id}:{kind}",
            )
            if carrier is not None:
                row["created_at"] = carrier.created_at  # listed where the seat was taken
            rows.append(row)
    return rows


def _read(db: Session, ids: list[int]) -> list[Notice]:
    """The notices just written, detached (the sender reads them after its transaction)."""
    if not ids:
        return []
    found = list(
        db.exec(select(Notice).where(Notice.id.in_(ids)).order_by(Notice.id)).all()  # type: ignore[union-attr, arg-type]
    )
    for notice in found:
        db.expunge(notice)
    return found
