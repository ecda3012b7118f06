"""Benchmark data: migrated databases filled by bulk INSERTs (executemany), fast and realistic.

Rows go in through SQLAlchemy Core inserts on an engine from `visio.db.make_engine`, so column
types are stored exactly as the app stores them and any trigger the migrations installed (a
search index, say) fires for every row, as it does for rows the services write. Ids are given
explicitly; PostgreSQL's sequences are moved past them afterwards.

The shape: teachers with ~50 sessions each, 5 enrollments per session (none on drafts), a third
of the sessions paid (purchases and ledger entries that add up), attendance on finished ones.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from sqlalchemy.engine import Engine

from alembic import command
from visio.db import make_engine
from visio.models import (
    Attendance,
    Enrollment,
    LedgerEntry,
    Purchase,
    SessionTag,
    Tag,
    User,
    VideoSession,
    Wallet,
)
from visio.services import passwords

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "VISIO_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "Bench-Harbour-Lantern-42"
ENROLLED_PER_SESSION = 5
PRICE_CENTS = 500  # the price of the sessions the enrollment benchmarks fill
CHUNK = 20_000
SERIAL_TABLES = (User, Wallet, VideoSession, Tag, Enrollment, Purchase, LedgerEntry, Attendance)

# fmt: off
SUBJECTS = [
    "Algèbre", "Géométrie", "Chimie", "Physique", "Biologie", "Histoire", "Géographie",
    "Anglais", "Espagnol", "Philosophie", "Économie", "Informatique", "Statistiques",
    "Littérature", "Musique", "Allemand", "Italien", "Latin", "Électronique", "Probabilités",
]
KINDS = [
    "révision", "atelier", "cours", "préparation", "examen", "initiation",
    "approfondissement", "exercices", "méthodologie", "colle",
]
LEVELS = ["seconde", "première", "terminale", "licence", "master", "collège", "prépa", "BTS"]
TOPICS = [
    "équations", "fonctions", "dérivées", "intégrales", "vecteurs", "molécules", "énergie",
    "cellules", "révolutions", "climats", "grammaire", "conjugaison", "argumentation",
    "marchés", "algorithmes", "tableaux", "suites", "matrices", "lecture", "oral",
]
EXTRA_TAGS = ["bac", "oral", "débutant", "avancé", "groupe", "intensif", "soir", "week-end"]
FIRST = ["Élodie", "Hélène", "Jérôme", "Chloé", "Noël", "Zoé", "Anaïs", "Loïc", "Marie", "Paul",
         "Inès", "Théo", "Léa", "Hugo", "Camille", "Lucas", "Emma", "Gaël", "Maël", "Rémi"]
LAST = ["Lefèvre", "Dupré", "Bénard", "Moreau", "Girard", "Faure", "Rousseau", "Mercier",
        "Lemaître", "Bézier", "Chevalier", "Gauthier", "Perrin", "Fournier", "Roussel"]
# fmt: on
PLATFORMS = ["jitsi"] * 7 + ["zoom", "teams", "custom"]
LINKS = {
    "jitsi": "https://meet.jit.si/bench-{}",
    "zoom": "https://zoom.us/j/{}",
    "teams": "https://teams.microsoft.com/l/meetup-join/{}",
    "custom": "https://example.org/room/{}",
}


# --- databases ------------------------------------------------------------------------------


def alembic_config(url: str) -> Config:
    """Alembic's configuration aimed at `url` (as tests/conftest.py does)."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def new_sqlite(path: Path) -> str:
    """A freshly migrated SQLite file at `path` (replacing any old one); its URL."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    url = sqlite_url(path)
    migrate(url)
    return url


def postgres_available() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can."""
    try:
        probe = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        probe.dispose()
    except Exception as exc:  # noqa: BLE001 (no server, no driver, refused: all mean "skip")
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {str(exc).strip().splitlines()[0]}"
    return None


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway, migrated PostgreSQL database; its URL. Dropped afterwards."""
    name = f"visio_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- bulk loading ---------------------------------------------------------------------------


@dataclass
class Dataset:
    """What was loaded, and the handles the benchmarks need."""

    url: str
    sessions: int
    teacher_ids: list[int]
    student_ids: list[int]
    stats_teacher_id: int | None = None
    busy_student_id: int | None = None  # the student with the most history (wallet page)
    open_session_ids: list[int] = field(default_factory=list)  # paid, unlimited, empty
    emails: dict[int, str] = field(default_factory=dict)  # user id -> email (password PASSWORD)
    counts: dict[str, int] = field(default_factory=dict)


class _Ids:
    """The next free id of each table (fresh databases already hold the escrow wallet)."""

    def __init__(self, engine: Engine) -> None:
        self._next: dict[str, int] = {}
        with engine.connect() as conn:
            for model in SERIAL_TABLES:
                table = model.__table__  # type: ignore[attr-defined]
                top = conn.execute(sa.select(sa.func.max(table.c.id))).scalar()
                self._next[table.name] = (top or 0) + 1

    def take(self, table: str, n: int = 1) -> int:
        first = self._next[table]
        self._next[table] = first + n
        return first


def _insert(engine: Engine, model: Any, rows: list[dict[str, Any]]) -> None:
    table = model.__table__
    with engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            conn.execute(table.insert(), rows[start : start + CHUNK])


def _escrow_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(Wallet.__table__.c.id).where(Wallet.__table__.c.kind == "escrow")
        ).scalar_one()


class Loader:
    """Accumulates rows for one database, keeping wallets equal to the sum of their entries."""

    def __init__(self, engine: Engine, *, now: datetime, seed: int = 7) -> None:
        self.engine = engine
        self.now = now
        self.rng = random.Random(seed)
        self.ids = _Ids(engine)
        self.escrow_id = _escrow_id(engine)
        self._password_hash: str | None = None
        self.users: list[dict[str, Any]] = []
        self.wallet_of: dict[int, int] = {}
        self.balance: dict[int, int] = {}  # wallet id -> balance
        self.sessions: list[dict[str, Any]] = []
        self.session_tags: list[dict[str, Any]] = []
        self.enrollments: list[dict[str, Any]] = []
        self.purchases: list[dict[str, Any]] = []
        self.ledger: list[dict[str, Any]] = []
        self.attendance: list[dict[str, Any]] = []
        with engine.connect() as conn:  # tags are unique by name: reuse the ones already there
            self.known_tags: dict[str, int] = dict(
                conn.execute(sa.select(Tag.__table__.c.name, Tag.__table__.c.id)).all()  # type: ignore[attr-defined]
            )
        self.tag_ids: dict[str, int] = dict(self.known_tags)
        self.released: dict[int, int] = {}  # session id -> money paid for seats kept
        self.enrolled: dict[int, int] = {}  # student id -> enrollments
        self.escrow_delta = 0

    @property
    def password_hash(self) -> str:
        if self._password_hash is None:
            self._password_hash = passwords.hash_password(PASSWORD)
        return self._password_hash

    # people

    def user(self, role: str, label: str, *, name: str | None = None, funds: int = 0) -> int:
        uid = self.ids.take("users")
        rng = self.rng
        self.users.append(
            {
                "id": uid,
                "email": f"bench-{label}-{uid}@example.org",
                "full_name": name or f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "password_hash": self.password_hash,
                "role": role,
                "locale": None,
                "timezone": None,
                "created_at": self.now - timedelta(days=400),
            }
        )
        wid = self.ids.take("wallets")
        self.wallet_of[uid] = wid
        self.balance[wid] = 0
        if funds:
            self._entry(wid, funds, "topup", at=self.now - timedelta(days=399), ref=f"bench-{uid}")
        return uid

    def _entry(
        self,
        wallet_id: int,
        amount: int,
        kind: str,
        *,
        at: datetime,
        session_id: int | None = None,
        purchase_id: int | None = None,
        ref: str | None = None,
    ) -> None:
        self.ledger.append(
            {
                "id": self.ids.take("ledger_entries"),
                "wallet_id": wallet_id,
                "amount_cents": amount,
                "kind": kind,
                "session_id": session_id,
                "purchase_id": purchase_id,
                "reference": ref,
                "created_at": at,
            }
        )
        if wallet_id == self.escrow_id:
            self.escrow_delta += amount
        else:
            self.balance[wallet_id] += amount

    # sessions

    def _tag(self, name: str) -> int:
        if name not in self.tag_ids:
            self.tag_ids[name] = self.ids.take("tags")
        return self.tag_ids[name]

    def session(
        self,
        teacher_id: int,
        *,
        starts_at: datetime,
        status: str,
        is_paid: bool,
        price: int,
        capacity: int | None,
        title: str | None = None,
    ) -> dict[str, Any]:
        rng = self.rng
        sid = self.ids.take("video_sessions")
        subject, kind, level = rng.choice(SUBJECTS), rng.choice(KINDS), rng.choice(LEVELS)
        platform = rng.choice(PLATFORMS)
        duration = rng.choice([45, 60, 90, 120])
        topics = rng.sample(TOPICS, 3)
        row = {
            "id": sid,
            "teacher_id": teacher_id,
            "title": title or f"{subject} : {kind} {level} n°{sid}",
            "description": (
                f"Séance de {kind} en {subject.lower()} pour le niveau {level}. Au programme : "
                f"{topics[0]}, {topics[1]} et {topics[2]}. Exercices corrigés en direct, "
                "questions bienvenues, supports partagés après la séance."
            ),
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(minutes=duration),
            "duration_minutes": duration,
            "timezone": "Europe/Paris",
            "platform": platform,
            "link": LINKS[platform].format(uuid.UUID(int=rng.getrandbits(128)).hex),
            "status": status,
            "is_paid": is_paid,
            "price_cents": price if is_paid else 0,
            "currency": "EUR",
            "capacity": capacity,
            "enrollment_deadline": None,
            "enrolled_count": 0,
            "cancel_reason": "Indisponible" if status == "cancelled" else None,
            "cancelled_at": starts_at - timedelta(days=1) if status == "cancelled" else None,
            "published_at": None if status == "draft" else starts_at - timedelta(days=30),
            "escrow_released_at": None,
            "created_at": starts_at - timedelta(days=31),
            "updated_at": starts_at - timedelta(days=31),
        }
        self.sessions.append(row)
        names = {subject.lower(), *rng.sample(EXTRA_TAGS, rng.randint(0, 2))}
        for name in sorted(names):
            self.session_tags.append({"session_id": sid, "tag_id": self._tag(name)})
        return row

    def enroll(self, session: dict[str, Any], student_id: int, *, at: datetime) -> None:
        """An enrollment in the state the services would leave it (paid: money in escrow)."""
        status = {"scheduled": "active", "cancelled": "cancelled"}[session["status"]]
        eid = self.ids.take("enrollments")
        self.enrollments.append(
            {
                "id": eid,
                "session_id": session["id"],
                "student_id": student_id,
                "teacher_id": session["teacher_id"],
                "status": status,
                "enrolled_at": at,
                "ended_at": session["cancelled_at"] if status == "cancelled" else None,
            }
        )
        if status == "active":
            session["enrolled_count"] += 1
        self.enrolled[student_id] = self.enrolled.get(student_id, 0) + 1
        if not session["is_paid"]:
            return
        price, sid, wallet = session["price_cents"], session["id"], self.wallet_of[student_id]
        finished = session["ends_at"] <= self.now
        pid = self.ids.take("purchases")
        purchase_status = "refunded" if status == "cancelled" else "held"
        if finished and status == "active":
            purchase_status = "released"
            self.released[sid] = self.released.get(sid, 0) + price
        self.purchases.append(
            {
                "id": pid,
                "student_id": student_id,
                "session_id": sid,
                "teacher_id": session["teacher_id"],
                "enrollment_id": eid,
                "amount_cents": price,
                "currency": "EUR",
                "status": purchase_status,
                "idempotency_key": None,
                "created_at": at,
                "settled_at": None if purchase_status == "held" else session["ends_at"],
            }
        )
        self._entry(wallet, -price, "purchase", at=at, session_id=sid, purchase_id=pid)
        self._entry(self.escrow_id, price, "escrow_in", at=at, session_id=sid, purchase_id=pid)
        if purchase_status == "refunded":
            when = session["cancelled_at"]
            self._entry(
                self.escrow_id, -price, "escrow_refund", at=when, session_id=sid, purchase_id=pid
            )
            self._entry(wallet, price, "refund", at=when, session_id=sid, purchase_id=pid)

    def attend(self, session: dict[str, Any], student_id: int) -> None:
        start = session["starts_at"]
        self.attendance.append(
            {
                "id": self.ids.take("attendance"),
                "session_id": session["id"],
                "user_id": student_id,
                "first_joined_at": start + timedelta(minutes=1),
                "last_seen_at": session["ends_at"],
                "left_at": session["ends_at"],
                "join_count": 1,
                "seconds_attended": session["duration_minutes"] * 60 - 60,
            }
        )

    def release(self, session: dict[str, Any]) -> None:
        """Pay a finished paid session's held money to its teacher, as release_escrow does."""
        total = self.released.get(session["id"], 0)
        session["escrow_released_at"] = session["ends_at"]
        if total:
            at, sid = session["ends_at"], session["id"]
            self._entry(self.escrow_id, -total, "escrow_release", at=at, session_id=sid)
            teacher_wallet = self.wallet_of[session["teacher_id"]]
            self._entry(teacher_wallet, total, "earning", at=at, session_id=sid)

    # writing

    def flush(self) -> dict[str, int]:
        """Insert everything gathered, parents first; row counts by table."""
        now = self.now
        wallets = [
            {
                "id": self.wallet_of[u["id"]],
                "user_id": u["id"],
                "kind": "user",
                "balance_cents": self.balance[self.wallet_of[u["id"]]],
                "currency": "EUR",
                "updated_at": now,
            }
            for u in self.users
        ]
        tags = [
            {"id": tid, "name": name}
            for name, tid in self.tag_ids.items()
            if name not in self.known_tags
        ]
        plan = [
            (User, self.users),
            (Wallet, wallets),
            (Tag, tags),
            (VideoSession, self.sessions),
            (SessionTag, self.session_tags),
            (Enrollment, self.enrollments),
            (Purchase, self.purchases),
            (LedgerEntry, self.ledger),
            (Attendance, self.attendance),
        ]
        counts: dict[str, int] = {}
        for model, rows in plan:
            if rows:
                _insert(self.engine, model, rows)
            counts[model.__table__.name] = len(rows)  # type: ignore[attr-defined]
        if self.escrow_delta:
            table = Wallet.__table__  # type: ignore[attr-defined]
            with self.engine.begin() as conn:
                conn.execute(
                    table.update()
                    .where(table.c.id == self.escrow_id)
                    .values(balance_cents=table.c.balance_cents + self.escrow_delta)
                )
        if self.engine.dialect.name == "postgresql":
            _move_sequences(self.engine)
            _analyze(self.engine)
        return counts


def _analyze(engine: Engine) -> None:
    """The planner's statistics, which autovacuum gathers after a load this size. It may be off
    (it is on the machines here): every plan would then be a guess no deployment makes, as a
    bitmap scan and sort of every open session for a page of 20."""
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))


def _move_sequences(engine: Engine) -> None:
    """After explicit ids, point every serial sequence past the largest id."""
    with engine.begin() as conn:
        for model in SERIAL_TABLES:
            name = model.__table__.name  # type: ignore[attr-defined]
            conn.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                )
            )


def populate(
    url: str,
    *,
    sessions: int,
    stats_teacher_sessions: int = 0,
    open_sessions: int = 0,
    students: int | None = None,
    student_funds: int = 10_000_000,
    now: datetime | None = None,
    seed: int = 7,
) -> Dataset:
    """Fill a freshly migrated database with `sessions` sessions (5 enrollments each) and more.

    `stats_teacher_sessions` of them belong to one teacher (the dashboard benchmark's);
    `open_sessions` more are published, paid, unlimited and empty, for enrollment load.
    """
    now = now or datetime.now(UTC)
    engine = make_engine(url)
    loader = Loader(engine, now=now, seed=seed)
    rng = loader.rng
    n_students = students or max(60, sessions // 40)
    student_ids = [loader.user("student", "s", funds=student_funds) for _ in range(n_students)]
    stats_teacher = (
        loader.user("teacher", "stats", name="Hélène Statistique")
        if stats_teacher_sessions
        else None
    )
    n_teachers = max(2, (sessions - stats_teacher_sessions) // 50)
    teacher_ids = [loader.user("teacher", "t") for _ in range(n_teachers)]

    for index in range(sessions + open_sessions):
        is_open = index >= sessions
        if is_open:
            teacher = teacher_ids[index % n_teachers]
            row = loader.session(
                teacher,
                starts_at=now + timedelta(days=200, minutes=index),
                status="scheduled",
                is_paid=True,
                price=PRICE_CENTS,
                capacity=None,
                title=f"Amphi ouvert n°{index}",
            )
            continue
        teacher = (
            stats_teacher if index < stats_teacher_sessions else teacher_ids[index % n_teachers]
        )
        past = rng.random() < 0.2
        if past:  # the last year, finished
            starts = now - timedelta(days=rng.uniform(1, 360))
            status = "cancelled" if rng.random() < 0.1 else "scheduled"
        else:  # the next six months
            starts = now + timedelta(days=rng.uniform(1, 180))
            roll = rng.random()
            status = "draft" if roll < 0.1 else ("cancelled" if roll < 0.15 else "scheduled")
        starts = starts.replace(second=0, microsecond=0)
        is_paid = rng.random() < 0.3
        capacity = rng.choice([None, None, 30, 30, 20, ENROLLED_PER_SESSION])
        row = loader.session(
            teacher,
            starts_at=starts,
            status=status,
            is_paid=is_paid,
            price=rng.randrange(500, 5000, 50),
            capacity=capacity,
        )
        if status == "draft":
            continue
        for student in rng.sample(student_ids, ENROLLED_PER_SESSION):
            # Enrolled in the 12 weeks before the start (never after now).
            at = min(starts, now) - timedelta(days=rng.uniform(0.1, 84))
            loader.enroll(row, student, at=at)
            if status == "scheduled" and row["ends_at"] <= now and rng.random() < 0.6:
                loader.attend(row, student)
        if status == "scheduled" and row["ends_at"] <= now and is_paid:
            loader.release(row)

    counts = loader.flush()
    engine.dispose()
    busiest = max(student_ids, key=lambda s: loader.enrolled.get(s, 0))
    return Dataset(
        url=url,
        sessions=sessions,
        teacher_ids=teacher_ids,
        student_ids=student_ids,
        stats_teacher_id=stats_teacher,
        busy_student_id=busiest,
        open_session_ids=[s["id"] for s in loader.sessions[sessions:]],
        emails={u["id"]: u["email"] for u in loader.users},
        counts=counts,
    )


def add_open_sessions(
    engine: Engine, *, count: int, teacher_id: int, paid: bool = True
) -> list[int]:
    """`count` more published, unlimited and empty sessions (targets for enrolling)."""
    now = datetime.now(UTC)
    loader = Loader(engine, now=now, seed=random.getrandbits(32))
    rows = [
        loader.session(
            teacher_id,
            starts_at=now + timedelta(days=200, minutes=i),
            status="scheduled",
            is_paid=paid,
            price=PRICE_CENTS,
            capacity=None,
            title=f"Amphi ouvert {uuid.uuid4().hex[:6]}",
        )
        for i in range(count)
    ]
    loader.flush()
    return [row["id"] for row in rows]


def wallet_ids(engine: Engine, user_ids: list[int]) -> tuple[dict[int, int], int]:
    """Each user's wallet id, and the escrow wallet's id."""
    table = Wallet.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.user_id, table.c.id).where(table.c.user_id.in_(user_ids))
        ).all()
    return {user_id: wallet_id for user_id, wallet_id in rows}, _escrow_id(engine)
