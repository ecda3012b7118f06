"""HTTP tests against the served prod build (`app_server`), with direct access to its database,
so tests can set up users, sessions and materials through the services before calling the API.

The server runs on the real clock: data is made relative to now (`now_clock`), and every user,
session and key is new, so tests never depend on each other's rows in the shared database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.factories import (
    STRONG_PASSWORD,
    make_admin,
    make_session,
    make_student,
    make_teacher,
    top_up,
)
from tests.server import ROOT, AppServer, _free_port
from visio.clock import FrozenClock, utcnow
from visio.db import make_engine
from visio.models import User, VideoSession
from visio.services import accounts, enrollments, materials

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@dataclass(frozen=True)
class Served:
    url: str
    engine: Engine
    storage: Path


@pytest.fixture(scope="session")
def served(app_server: AppServer) -> Iterator[Served]:
    """The running app, its SQLite database and its private file folder."""
    engine = make_engine(app_server.db_url)
    yield Served(url=app_server.url, engine=engine, storage=app_server.storage_dir)
    engine.dispose()


@pytest.fixture
def server_db(served: Served) -> Iterator[Session]:
    """A unit of work on the server's own database (shared by the whole test run)."""
    with Session(served.engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30, follow_redirects=False) as client:
        yield client


@contextmanager
def serve_api(env: dict[str, str], log: Path) -> Iterator[str]:
    """The JSON API alone (no pages), in a process of its own with these settings: its URL."""
    port = _free_port()
    granian = Path(sys.executable).parent / "granian"
    command = [granian, "--interface", "asgi", "--factory", "--port", str(port)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*command, "visio.api:create_api"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def now_clock() -> FrozenClock:
    """The server reads the real clock: data for it is made relative to now."""
    return FrozenClock(utcnow())


# --- people and sessions, made through the services -----------------------------------------


@dataclass(frozen=True)
class Person:
    """A logged-in user and the headers that authenticate them."""

    user: User
    token: str

    @property
    def id(self) -> int:
        return self.user.id  # type: ignore[return-value]

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Make:
    """Builds test data in the server's database through the services."""

    db: Session
    clock: FrozenClock

    def person(self, user: User) -> Person:
        found = accounts.login(db=self.db, email=user.email, password=STRONG_PASSWORD, address=None)
        return Person(user=user, token=found.token)

    def teacher(self) -> Person:
        return self.person(make_teacher(self.db, clock=self.clock))

    def admin(self) -> Person:
        return self.person(make_admin(self.db, clock=self.clock))

    def student(self, funds_cents: int = 0) -> Person:
        student = make_student(self.db, clock=self.clock)
        if funds_cents:
            top_up(self.db, user=student, amount_cents=funds_cents, clock=self.clock)
        return self.person(student)

    def session(self, owner: Person, *, publish: bool = True, **overrides: Any) -> VideoSession:
        """A session of `owner`, two days ahead unless `starts_in` (a timedelta) says otherwise."""
        starts_in = overrides.pop("starts_in", None)
        if starts_in is not None:
            overrides["starts_at"] = self.clock() + starts_in
        return make_session(
            self.db, teacher=owner.user, clock=self.clock, publish=publish, **overrides
        )

    def enroll(self, student: Person, session: VideoSession) -> None:
        enrollments.enroll(db=self.db, actor=student.user, video_session_id=session.id)

    def pdf(self, owner: Person, session: VideoSession):  # type: ignore[no-untyped-def]
        content = PDF + uuid.uuid4().hex.encode()
        return materials.add_file(
            db=self.db,
            actor=owner.user,
            video_session_id=session.id,
            filename="slides.pdf",
            data=content,
        )

    def link(self, owner: Person, session: VideoSession):  # type: ignore[no-untyped-def]
        return materials.add_link(
            db=self.db,
            actor=owner.user,
            video_session_id=session.id,
            title="Reading",
            url="https://example.org/reading",
        )


@pytest.fixture
def make(
    served: Served, server_db: Session, now_clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> Make:
    monkeypatch.setattr(materials, "storage_root", lambda: served.storage)
    return Make(db=server_db, clock=now_clock)


@dataclass(frozen=True)
class Cast:
    """The five kinds of caller of the authorization matrix, and a session of the owner's.

    `session` starts in 5 minutes, so that its join window is open; `draft` is unpublished.
    """

    owner: Person
    other_teacher: Person
    student: Person
    enrolled: Person
    session: VideoSession
    draft: VideoSession


@pytest.fixture
def cast(make: Make) -> Cast:
    owner = make.teacher()
    session = make.session(owner, starts_in=timedelta(minutes=5), capacity=20)
    enrolled = make.student()
    make.enroll(enrolled, session)
    return Cast(
        owner=owner,
        other_teacher=make.teacher(),
        student=make.student(funds_cents=5000),
        enrolled=enrolled,
        session=session,
        draft=make.session(owner, publish=False),
    )


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An error answer: this status and code, a message, JSON."""
    assert (response.status_code, response.headers["content-type"]) == (
        status,
        "application/json",
    ), response.text
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"]
    return body
