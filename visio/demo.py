"""Demo data for `make run`: a teacher, two students with credit, a session in each status.

Everything goes through the services (past sessions are created with a clock set in the past),
so the demo obeys the same rules as real use. Runs only on an empty database, and never in
production unless asked for explicitly (`make demo` with VISIO_ALLOW_DEMO=true): `make run` passes
`--auto`, which loads nothing there.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from visio.clock import FrozenClock, utcnow
from visio.db import get_engine
from visio.models import User
from visio.services import accounts, attendance, enrollments, sessions, wallets
from visio.services.sessions import SessionInput
from visio.settings import settings

PASSWORD = "visio-demo-2026"
DEMO_DOMAIN = "visio.demo"  # every demo account's e-mail is at it (startup looks for them)
TZ = "Europe/Paris"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


LOGINS = (
    DemoLogin("teacher", "claire.martin@visio.demo", PASSWORD),
    DemoLogin("student", "lea.dubois@visio.demo", PASSWORD),
    DemoLogin("student", "omar.haddad@visio.demo", PASSWORD),
)


def _at_hour(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _session(
    db: Session,
    teacher: User,
    clock,
    title: str,
    starts_at: datetime,  # type: ignore[no-untyped-def]
    minutes: int,
    publish: bool = True,
    **extra,
) -> int:
    created = sessions.create_session(
        db=db,
        actor=teacher,
        clock=clock,
        data=SessionInput(
            title=title, starts_at=starts_at, duration_minutes=minutes, timezone=TZ, **extra
        ),
    )
    if publish:
        sessions.publish_session(db=db, actor=teacher, video_session_id=created.id, clock=clock)
    return created.id  # type: ignore[return-value]


def load(db: Session, now: datetime | None = None) -> bool:
    """Fill an empty database; returns False (and does nothing) if it has users already."""
    if db.exec(select(func.count()).select_from(User)).one():
        return False
    now = (now or utcnow()).replace(second=0, microsecond=0)
    now -= timedelta(minutes=now.minute % 15)  # round times read better
    past = FrozenClock(now - timedelta(days=10))
    teacher = accounts.register(
        db=db,
        full_name="Claire Martin",
        email=LOGINS[0].email,
        password=PASSWORD,
        role="teacher",
        address=None,
        locale="fr",
        verified=True,
        clock=past,
    ).user
    assert teacher is not None  # the database had no users
    accounts.update_preferences(db=db, actor=teacher, timezone=TZ)
    students = []
    for login, name in zip(LOGINS[1:], ("Léa Dubois", "Omar Haddad"), strict=True):
        student = accounts.register(
            db=db,
            full_name=name,
            email=login.email,
            password=PASSWORD,
            role="student",
            address=None,
            verified=True,
            clock=past,
        ).user
        assert student is not None
        wallets.top_up(db=db, actor=student, amount_cents=10_000, clock=past)
        students.append(student)
    lea, omar = students

    description = (
        "Révision guidée avec exercices corrigés en direct. Apportez vos questions : "
        "la dernière demi-heure leur est consacrée."
    )
    _session(
        db,
        teacher,
        past,
        "Atelier : préparer l'oral du bac de français",
        _at_hour(now + timedelta(days=3), 16),
        60,
        publish=False,
        description="Brouillon : le plan reste à finaliser.",
        tags=["français", "oral"],
    )
    algebra = _session(
        db,
        teacher,
        past,
        "Algèbre linéaire : révisions avant l'examen",
        now + timedelta(hours=2),
        90,
        description=description,
        capacity=30,
        tags=["maths", "algèbre"],
    )
    python = _session(
        db,
        teacher,
        past,
        "Python pour débutants : premiers programmes",
        _at_hour(now + timedelta(days=7), 18),
        120,
        is_paid=True,
        price_cents=1500,
        capacity=12,
        description="Variables, boucles, fonctions : on code ensemble.",
        tags=["python", "programmation"],
    )
    _session(
        db,
        teacher,
        past,
        "Anglais des affaires : réussir ses réunions",
        _at_hour(now + timedelta(days=9), 12, 30),
        45,
        is_paid=True,
        price_cents=900,
        platform="zoom",
        link="https://us02web.zoom.us/j/81234567890",
        tags=["anglais"],
    )
    yesterday = FrozenClock(now - timedelta(days=1))
    physics = _session(
        db,
        teacher,
        yesterday,
        "Physique : la mécanique en questions",
        now - timedelta(minutes=20),
        90,
        capacity=25,
        tags=["physique"],
    )
    history = _session(
        db,
        teacher,
        past,
        "Histoire : la Révolution française en 10 dates",
        now - timedelta(days=3),
        60,
        tags=["histoire"],
    )
    cancelled = _session(
        db,
        teacher,
        past,
        "Chimie organique : les bases",
        _at_hour(now + timedelta(days=12), 10),
        60,
        is_paid=True,
        price_cents=2000,
        tags=["chimie"],
    )
    for student, session_id, clock in (
        (lea, algebra, past),
        (lea, python, past),
        (lea, physics, yesterday),
        (lea, history, past),
        (lea, cancelled, past),
        (omar, python, past),
        (omar, history, past),
    ):
        enrollments.enroll(db=db, actor=student, video_session_id=session_id, clock=clock)
    # Léa attended the finished history class for 50 minutes; Omar never came.
    in_class = FrozenClock(now - timedelta(days=3) + timedelta(minutes=2))
    attendance.join(db=db, actor=lea, video_session_id=history, clock=in_class)
    for _ in range(100):  # a heartbeat every 30 seconds
        in_class.advance(seconds=30)
        attendance.heartbeat(db=db, actor=lea, video_session_id=history, clock=in_class)
    attendance.leave(db=db, actor=lea, video_session_id=history, clock=in_class)
    enrollments.release_escrow(db=db, clock=FrozenClock(now))
    sessions.cancel_session(
        db=db,
        actor=teacher,
        video_session_id=cancelled,
        reason="Enseignante indisponible ce jour-là : session reportée.",
        clock=FrozenClock(now - timedelta(days=1)),
    )
    return True


def main(argv: list[str] | None = None) -> int:
    """Load the demo into an empty database; `--auto` (make run): never in production."""
    auto = "--auto" in (sys.argv[1:] if argv is None else argv)
    if settings.is_production and (auto or not settings.allow_demo):
        print(
            "VISIO_ENV=production: demo data not loaded"
            + ("." if auto else " (set VISIO_ALLOW_DEMO=true for a public demonstration).")
        )
        return 0 if auto else 1
    with Session(get_engine(), expire_on_commit=False) as db:
        loaded = load(db)
    print("Demo data loaded." if loaded else "Database already has data: demo data skipped.")
    print(f"Demo logins (password for all: {PASSWORD}):")
    for login in LOGINS:
        print(f"  {login.role:8} {login.email}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
