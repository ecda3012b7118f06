"""Enrollment throughput through `enrollments.enroll`, beside a bare transaction of the same shape.

The floor does, with the raw driver (sqlite3 / psycopg), what a paid seat claim must do: take the
session's lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE), count its seats,
lock the student's wallet, insert the enrollment, the purchase and the debit, update the wallet
and the session's count, then credit escrow last (its balance and its entry), commit: the order
the service keeps, so that the one escrow row is held only until the commit. The service does the
same plus its checks, the audit event and the ORM's work.

Clients are threads, each with its own students; "different sessions" gives each client a session
of its own, "one hot session" sends every client to the same one. Floor and service alternate;
within the service's runs, the claims with and without their notices take turns of a tenth of a
second, so that their difference (the notices' cost) is measured through the same drift.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from bench import data
from bench.context import Context
from bench.measure import Outcome, Row, profile_summary, top_frames
from bench.services import statements_summary
from visio.db import SQLITE_PRAGMAS, make_engine, open_db
from visio.models import User
from visio.search_text import fold_text
from visio.services import enrollments, seat_notices

SQLITE_SHARE = 0.25
NOTICES_SHARE = 0.9  # the outbox insert may cost at most 10% of the enrollments per second
POSTGRES_SHARE = 0.5
PRICE = data.PRICE_CENTS

# The floor's statements, "?" placeholders (psycopg gets "%s"); {lock} is FOR UPDATE on PostgreSQL.
FLOOR_SQL = {
    "session": "SELECT status, starts_at, capacity, enrolled_count, is_paid, price_cents "
    "FROM video_sessions WHERE id = ?{lock}",
    "count": "SELECT count(*) FROM enrollments WHERE session_id = ? AND status = 'active'",
    "wallet": "SELECT id, balance_cents FROM wallets WHERE id = ?{lock}",
    "enrollment": "INSERT INTO enrollments (session_id, student_id, teacher_id, status, "
    "enrolled_at) VALUES (?, ?, ?, 'active', ?) RETURNING id",
    "purchase": "INSERT INTO purchases (student_id, session_id, teacher_id, enrollment_id, "
    "amount_cents, currency, status, created_at) VALUES (?, ?, ?, ?, ?, 'EUR', 'held', ?) "
    "RETURNING id",
    "entry": "INSERT INTO ledger_entries (wallet_id, amount_cents, kind, session_id, purchase_id, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?)",
    "balance": "UPDATE wallets SET balance_cents = balance_cents + ?, updated_at = ? WHERE id = ?",
    "seat": "UPDATE video_sessions SET enrolled_count = enrolled_count + 1, updated_at = ? "
    "WHERE id = ?",
}


@dataclass(frozen=True)
class World:
    """A database with funded students, a teacher to own the sessions, and the wallet ids."""

    url: str
    engine: Engine
    students: list[User]
    wallet_of: dict[int, int]
    escrow_id: int
    teacher_id: int

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def new_sessions(self, count: int) -> list[int]:
        return data.add_open_sessions(self.engine, count=count, teacher_id=self.teacher_id)


def make_world(url: str, students: int) -> World:
    found = data.populate(url, sessions=0, students=students)
    engine = make_engine(url)
    with open_db(engine) as db:
        users = list(db.exec(select(User).where(User.id.in_(found.student_ids))).all())  # type: ignore[attr-defined]
        for user in users:
            db.expunge(user)
    users.sort(key=lambda u: u.id)  # type: ignore[arg-type, return-value]
    wallet_of, escrow = data.wallet_ids(engine, found.student_ids)
    return World(url, engine, users, wallet_of, escrow, found.teacher_ids[0])


# --- the floor ------------------------------------------------------------------------------


class Floor:
    """One client's raw-driver connection, running the bare seat-claim transaction."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.pg = world.dialect == "postgresql"
        lock = " FOR UPDATE" if self.pg else ""
        self.sql = {
            k: v.format(lock=lock).replace("?", "%s") if self.pg else v.format(lock=lock)
            for k, v in FLOOR_SQL.items()
        }
        if self.pg:
            import psycopg

            conninfo = sa.make_url(world.url).set(drivername="postgresql")
            self.conn: Any = psycopg.connect(conninfo.render_as_string(hide_password=False))
        else:
            # The pragmas and the SQL function make_engine gives its connections.
            self.conn = sqlite3.connect(
                world.url.split("///", 1)[1],
                isolation_level=None,
                timeout=10,
                check_same_thread=False,  # closed by the thread that drove the clients
            )
            for pragma in SQLITE_PRAGMAS:
                self.conn.execute(f"PRAGMA {pragma}")
            self.conn.create_function("visio_fold", 1, fold_text, deterministic=True)

    def _now(self) -> Any:
        now = datetime.now(UTC)
        return now if self.pg else now.strftime("%Y-%m-%d %H:%M:%S.%f")

    def enroll(self, session_id: int, student_id: int) -> None:
        sql, now = self.sql, self._now()
        wallet, escrow = self.world.wallet_of[student_id], self.world.escrow_id
        teacher = self.world.teacher_id  # every session of the world is this teacher's
        cur = self.conn.cursor()
        try:
            if not self.pg:
                cur.execute("BEGIN IMMEDIATE")
            cur.execute(sql["session"], (session_id,)).fetchone()
            cur.execute(sql["count"], (session_id,)).fetchone()
            cur.execute(sql["wallet"], (wallet,)).fetchone()
            (enrollment_id,) = cur.execute(
                sql["enrollment"], (session_id, student_id, teacher, now)
            ).fetchone()
            (purchase_id,) = cur.execute(
                sql["purchase"], (student_id, session_id, teacher, enrollment_id, PRICE, now)
            ).fetchone()
            cur.execute(sql["entry"], (wallet, -PRICE, "purchase", session_id, purchase_id, now))
            cur.execute(sql["balance"], (-PRICE, now, wallet))
            cur.execute(sql["seat"], (now, session_id))
            cur.execute(sql["balance"], (PRICE, now, escrow))  # escrow last: held until commit
            cur.execute(sql["entry"], (escrow, PRICE, "escrow_in", session_id, purchase_id, now))
            if self.pg:
                self.conn.commit()
            else:
                cur.execute("COMMIT")
        except Exception:
            if self.pg:
                self.conn.rollback()
            else:
                cur.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()


# --- driving clients ------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    done: int
    failed: dict[str, int]
    seconds: float

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


WARMUP = 10  # untimed steps per client first: connections opened, statements compiled


def drive(
    clients: int,
    make_step: Callable[[int], Callable[[int], None]],
    per_client: int,
    seconds: float,
    at_start: Callable[[], None] | None = None,
) -> Run:
    """Run `clients` threads together; each does up to `per_client` steps or stops at `seconds`.

    Each client first takes `WARMUP` untimed steps, then waits for the others to start together
    (`at_start` runs then, once, before any timed step).
    """
    barrier = threading.Barrier(clients + 1, action=at_start)
    done = [0] * clients
    failed: Counter[str] = Counter()
    guard = threading.Lock()

    def client(index: int) -> None:
        step = make_step(index)
        for i in range(WARMUP):
            step(i)
        barrier.wait()
        stop = time.perf_counter() + seconds
        for i in range(WARMUP, per_client):
            if time.perf_counter() >= stop:
                break
            try:
                step(i)
                done[index] += 1
            except Exception as exc:  # noqa: BLE001 (counted and reported)
                with guard:
                    failed[type(exc).__name__] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return Run(sum(done), dict(failed), time.perf_counter() - started)


@dataclass(frozen=True)
class Scenario:
    label: str
    clients: int
    hot: bool  # every client on one session


PHASE = 0.1  # seconds: every client claims seats with notices, then without, in turns


class NoticesSwitch:
    """The seat claims of the threads that say so, with their notices taken out (the student's
    confirmation, the teacher's new enrollment and session full): what they cost is the
    difference (the budget: at most 10%)."""

    def __init__(self) -> None:
        self.silent = threading.local()
        self._real = seat_notices.seat_taken

    def _hook(self, *args: Any, **kwargs: Any) -> list[Any]:
        return [] if getattr(self.silent, "on", False) else self._real(*args, **kwargs)

    @contextmanager
    def installed(self) -> Iterator[NoticesSwitch]:
        seat_notices.seat_taken = self._hook  # type: ignore[assignment]
        try:
            yield self
        finally:
            seat_notices.seat_taken = self._real  # type: ignore[assignment]


def _sessions_and_students(
    world: World, scenario: Scenario, per_client: int
) -> tuple[list[int], Callable[[int], tuple[int, list[User]]]]:
    sessions = world.new_sessions(1 if scenario.hot else scenario.clients)

    def of_client(index: int) -> tuple[int, list[User]]:
        mine = world.students[index * per_client : (index + 1) * per_client]
        return sessions[0 if scenario.hot else index], mine

    return sessions, of_client


def _run_floor(world: World, scenario: Scenario, ctx: Context) -> Run:
    per_client = ctx.plan.enroll_per_client
    sessions, of_client = _sessions_and_students(world, scenario, per_client)
    floors: list[Floor] = []

    def make_step(index: int) -> Callable[[int], None]:
        session_id, mine = of_client(index)
        floor = Floor(world)
        floors.append(floor)
        return lambda i: floor.enroll(session_id, mine[i].id)  # type: ignore[arg-type]

    try:
        return drive(scenario.clients, make_step, per_client, ctx.plan.enroll_seconds)
    finally:
        for floor in floors:
            floor.close()
        _check_counts(world, sessions)


def _run_service(world: World, scenario: Scenario, ctx: Context) -> tuple[Run, Run]:
    """The service with and without its notices (enroll() both), in turns of `PHASE` for every
    client at once: the host's drift, however fast, falls on both alike. A claim counts for
    the turn it started in; the last turn, cut short, counts for neither."""
    per_client = 2 * ctx.plan.enroll_per_client  # as many claims as two runs of the floor's
    sessions, of_client = _sessions_and_students(world, scenario, per_client)
    started = [0.0]
    done: Counter[int] = Counter()  # timed claims per turn
    guard = threading.Lock()

    with NoticesSwitch().installed() as switch:

        def make_step(index: int) -> Callable[[int], None]:
            session_id, mine = of_client(index)

            def step(i: int) -> None:
                turn = int((time.perf_counter() - started[0]) / PHASE)
                switch.silent.on = turn % 2 == 1
                with open_db(world.engine) as db:
                    enrollments.enroll(db=db, actor=mine[i], video_session_id=session_id)
                if i >= WARMUP:
                    with guard:
                        done[turn] += 1

            return step

        def at_start() -> None:
            started[0] = time.perf_counter()

        try:
            run = drive(
                scenario.clients, make_step, per_client, 2 * ctx.plan.enroll_seconds, at_start
            )
        finally:
            _check_counts(world, sessions)
    turns = int(run.seconds / PHASE)  # the complete ones
    halves = [
        Run(
            sum(n for turn, n in done.items() if turn < turns and turn % 2 == kind),
            run.failed if kind == 0 else {},
            len(range(kind, turns, 2)) * PHASE,
        )
        for kind in (0, 1)
    ]
    return halves[0], halves[1]


def _check_counts(world: World, sessions: list[int]) -> None:
    """Every seat counted once: the cached count equals the active enrollments."""
    ids = ", ".join(str(int(s)) for s in sessions)
    query = sa.text(
        f"SELECT s.id FROM video_sessions s WHERE s.id IN ({ids}) AND s.enrolled_count <> "
        "(SELECT count(*) FROM enrollments e WHERE e.session_id = s.id AND e.status = 'active')"
    )
    with world.engine.connect() as conn:
        wrong = conn.execute(query).all()
    if wrong:
        raise AssertionError(f"seat counts out of step with enrollments in sessions {wrong}")


def _measure(world: World, scenario: Scenario, ctx: Context) -> tuple[Run, Run, Run]:
    """Floor, then service with and without notices (in turns), alternating for the plan's
    rounds; summed runs of each."""
    totals: dict[str, list[Run]] = {"floor": [], "service": [], "silent": []}
    for _ in range(ctx.plan.enroll_rounds):
        totals["floor"].append(_run_floor(world, scenario, ctx))
        service, silent = _run_service(world, scenario, ctx)
        totals["service"].append(service)
        totals["silent"].append(silent)

    def merged(runs: list[Run]) -> Run:
        failed: Counter[str] = Counter()
        for run in runs:
            failed.update(run.failed)
        return Run(sum(r.done for r in runs), dict(failed), sum(r.seconds for r in runs))

    return merged(totals["floor"]), merged(totals["service"]), merged(totals["silent"])


def _notices_row(db_label: str, scenario: Scenario, service: Run, silent: Run) -> Row:
    ratio = service.rate / silent.rate if silent.rate else 0.0
    return Row(
        f"Enrollment throughput ({db_label})",
        f"{scenario.label}: enroll() per second with its notices",
        service.rate,
        silent.rate,
        "/s",
        floor_label="enroll() without the outbox insert",
        target=f">= {NOTICES_SHARE:g} of it",
        met=ratio >= NOTICES_SHARE,
    )


def _row(db_label: str, scenario: Scenario, floor: Run, service: Run, share: float | None) -> Row:
    ratio = service.rate / floor.rate if floor.rate else 0.0
    return Row(
        f"Enrollment throughput ({db_label})",
        f"{scenario.label}: enroll() per second",
        service.rate,
        floor.rate,
        "/s",
        floor_label="bare transaction, raw driver",
        target=f">= {share:g} of the floor" if share is not None else "",
        met=(ratio >= share) if share is not None else None,
        detail=f"{service.done:,} seats in {service.seconds:.1f} s"
        + (f"; errors {service.failed}" if service.failed else "")
        + (f"; floor errors {floor.failed}" if floor.failed else ""),
    )


def _profile(world: World, ctx: Context, name: str) -> str:
    """Where one client's enroll() spends its time (pyinstrument), and its SQL statements."""
    students = iter(world.students[-400:])  # never used by the timed runs
    (session_id,) = world.new_sessions(1)

    def one() -> None:
        with open_db(world.engine) as db:
            enrollments.enroll(db=db, actor=next(students), video_session_id=session_id)

    tree = profile_summary(one, repeat=150, html=ctx.profiles_dir / f"enroll-{name}.html")
    return statements_summary(world.engine, one, plans=2) + "\n" + top_frames(tree)


def run(ctx: Context) -> Outcome:
    out = Outcome()
    per_client = ctx.plan.enroll_per_client

    ctx.log("enrollment throughput on SQLite ...")
    world = make_world(data.new_sqlite(ctx.workdir / "enroll.db"), 2 * per_client + 400)
    single = Scenario("1 client", 1, hot=True)
    floor, service, silent = _measure(world, single, ctx)
    row = _row("SQLite", single, floor, service, SQLITE_SHARE)
    out.rows += [row, _notices_row("SQLite", single, service, silent)]
    ctx.log(f"  floor {floor.rate:.0f}/s, service {service.rate:.0f}/s, silent {silent.rate:.0f}/s")
    if row.met is False:
        out.profiles["Enrollment on SQLite, 1 client"] = _profile(world, ctx, "sqlite")
    world.engine.dispose()

    reason = data.postgres_available()
    if reason:
        out.notes.append(f"Enrollment on PostgreSQL skipped: {reason}")
        return out
    ctx.log("enrollment throughput on PostgreSQL ...")
    with data.postgres_database() as url:
        world = make_world(url, 16 * per_client + 400)
        missed = False
        floors: dict[str, float] = {}
        for scenario, share in (
            (Scenario("1 client", 1, hot=True), None),
            (Scenario("8 clients, different sessions", 8, hot=False), POSTGRES_SHARE),
            (Scenario("8 clients, one hot session", 8, hot=True), POSTGRES_SHARE),
        ):
            floor, service, silent = _measure(world, scenario, ctx)
            ctx.log(
                f"  {scenario.label}: floor {floor.rate:.0f}/s, service {service.rate:.0f}/s, "
                f"silent {silent.rate:.0f}/s"
            )
            floors[scenario.label] = floor.rate
            row = _row("PostgreSQL", scenario, floor, service, share)
            out.rows += [row, _notices_row("PostgreSQL", scenario, service, silent)]
            missed = missed or row.met is False
        one, spread = floors["1 client"], floors["8 clients, different sessions"]
        out.notes.append(
            f"Enrollment on PostgreSQL: the floor itself does {one:,.0f}/s with 1 client and "
            f"{spread:,.0f}/s ({spread / one:.1f}x) with 8 clients on different sessions. Every "
            "paid seat credits the one escrow wallet row: both credit it last, so it is held "
            "from that UPDATE to the commit only."
        )
        if missed:
            out.profiles["Enrollment on PostgreSQL, 1 client"] = _profile(world, ctx, "postgres")
        world.engine.dispose()
    out.notes.append(
        "Enrollment: paid seats (the full shape: seat, purchase, two ledger entries, two "
        "wallets); clients are threads of one Python process, so the service's Python work "
        "shares one interpreter lock while the floor mostly waits on the database."
    )
    return out
