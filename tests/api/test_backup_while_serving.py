"""`python -m visio.backup create` while the API serves students who enroll, pay, unenroll and
top up and a teacher who uploads files, all over HTTP; then `restore` into an empty database.

The API runs alone in a process of its own, on a SQLite file or a throwaway PostgreSQL database;
the backup is another process, as `make backup` is. The restored database keeps every ledger and
seat invariant, and each material file it refers to comes back byte for byte.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from tests.api.conftest import PDF, Make, Person, serve_api
from tests.conftest import ROOT, sqlite_url
from tests.invariants import assert_ledger_invariants, assert_seat_invariants
from visio.db import make_engine
from visio.models import Material
from visio.services import materials


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app_db(request) -> tuple[sa.Engine, str]:  # type: ignore[no-untyped-def]
    """A migrated database of each kind for the API to serve, and its URL."""
    engine = request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")
    return engine, engine.url.render_as_string(hide_password=False)


@pytest.fixture
def empty_url(app_db, tmp_path, request) -> str:  # type: ignore[no-untyped-def]
    """A new, empty database of the same kind to restore into."""
    if app_db[1].startswith("sqlite"):
        return sqlite_url(tmp_path / "restored.db")
    admin_url = request.getfixturevalue("pg_admin_url")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"visio_test_{uuid.uuid4().hex[:16]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    request.addfinalizer(drop)
    return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def backup_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "visio.backup", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


class Clients:
    """Students and a teacher using the API in threads until stopped; every answer counted."""

    def __init__(self, url: str, students: list[Person], teacher: Person, session_ids: list[int]):
        self.url, self.students, self.teacher, self.session_ids = (
            url,
            students,
            teacher,
            session_ids,
        )
        self.stop = threading.Event()
        self.answers: Counter[int] = Counter()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._student, args=(i,)) for i in range(3)]
        self.threads.append(threading.Thread(target=self._teacher))

    def count(self) -> int:
        with self._lock:
            return sum(self.answers.values())

    def wait_for(self, answers: int, seconds: float = 60) -> None:
        """Until this many answers came back (the clients are working), or fail."""
        deadline = time.monotonic() + seconds
        while self.count() < answers:
            assert time.monotonic() < deadline, f"the clients stalled: {self.answers}"
            time.sleep(0.05)

    def _note(self, answer: httpx.Response) -> None:
        with self._lock:
            self.answers[answer.status_code] += 1

    def _student(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while not self.stop.is_set():
                who = rng.choice(self.students).headers
                enroll = f"/api/sessions/{rng.choice(self.session_ids)}/enroll"
                move = rng.random()
                if move < 0.45:
                    self._note(http.post(enroll, headers=who))
                elif move < 0.85:
                    self._note(http.delete(enroll, headers=who))
                else:
                    self._note(
                        http.post("/api/wallet/topup", headers=who, json={"amount_cents": 700})
                    )

    def _teacher(self) -> None:
        rng = random.Random(7)
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while not self.stop.is_set():
                content = PDF + os.urandom(rng.randint(100, 20_000))
                answer = http.post(
                    f"/api/sessions/{rng.choice(self.session_ids)}/materials",
                    headers=self.teacher.headers,
                    files={"file": ("slides.pdf", content, "application/pdf")},
                )
                self._note(answer)

    def __enter__(self) -> Clients:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def test_a_backup_taken_while_the_api_serves_restores_into_a_sound_database(
    app_db, empty_url, tmp_path, now_clock, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    engine, url = app_db
    storage, backups = tmp_path / "files", tmp_path / "backups"
    monkeypatch.setattr(materials, "storage_root", lambda: storage)
    with Session(engine, expire_on_commit=False) as db:
        make = Make(db=db, clock=now_clock)
        teacher = make.teacher()
        paid = [make.session(teacher, is_paid=True, price_cents=1_000, capacity=4) for _ in "abc"]
        students = [make.student(funds_cents=4_000) for _ in range(8)]
        sessions = [session.id for session in paid]
        make.pdf(teacher, paid[0])  # a file from before

    app_env = {
        "REFLEX_DB_URL": url,
        "VISIO_STORAGE_DIR": str(storage),
        "VISIO_BACKUP_DIR": str(backups),
        "VISIO_RATE_LIMITS": "off",
    }
    with (
        serve_api(app_env, tmp_path / "api.log") as api,
        Clients(api, students, teacher, sessions) as clients,
    ):
        clients.wait_for(20)  # the app is busy before the backup starts
        started = clients.count()
        made = backup_cli("create", env=app_env)
        served_during = clients.count() - started
        assert made.returncode == 0, made.stderr
        clients.wait_for(started + served_during + 20)  # and goes on after it

    assert served_during > 0
    assert not [code for code in clients.answers if code >= 500 and code != 503], clients.answers
    assert clients.answers[201] > 0  # seats were taken and files uploaded meanwhile
    assert clients.answers[200] > 0  # seats given back, wallets topped up
    (archive,) = backups.glob("visio-*.tar.gz")

    restored_files = tmp_path / "restored-files"
    restored = backup_cli(
        "restore",
        str(archive),
        env={"REFLEX_DB_URL": empty_url, "VISIO_STORAGE_DIR": str(restored_files)},
    )
    assert restored.returncode == 0, restored.stderr

    copy = make_engine(empty_url)
    try:
        with Session(copy) as db:
            assert_ledger_invariants(db)
            assert_seat_invariants(db)
            names = {m.storage_name for m in db.exec(select(Material)).all() if m.storage_name}
    finally:
        copy.dispose()
    with Session(engine) as db:
        now_held = {m.storage_name for m in db.exec(select(Material)).all() if m.storage_name}
    assert names and names <= now_held  # a moment of the run: later uploads are not in it
    assert {p.name for p in restored_files.iterdir()} == names
    for name in names:
        assert (restored_files / name).read_bytes() == (storage / name).read_bytes()
