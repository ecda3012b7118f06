"""The materials panel's handlers: real state, real services, the test's own SQLite file."""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import reflex as rx
from sqlalchemy import func
from sqlmodel import Session, select

from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher
from tests.state.conftest import new_state
from visio.models import Material
from visio.services import accounts, enrollments, materials
from visio.state.materials import MaterialsState

PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture(autouse=True)
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "private-files"
    monkeypatch.setattr(materials, "storage_root", lambda: folder)
    return folder


def _state(db: Session, user, lang: str = "en") -> MaterialsState:  # type: ignore[no-untyped-def]
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(MaterialsState, token)
    state.lang_choice = lang
    return state


def _materials(db: Session) -> int:
    db.rollback()
    return db.exec(select(func.count()).select_from(Material)).one()


def _run(coroutine):  # type: ignore[no-untyped-def]
    """Run an async handler on its own loop in a thread (browser tests keep one running here)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _upload(name: str, data: bytes) -> rx.UploadFile:
    return rx.UploadFile(file=io.BytesIO(data), path=Path(name), size=len(data))


def test_owner_adds_a_link_and_sees_it_listed(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock)
    state = _state(db, teacher)
    state.load_for(session.id)
    assert state.rows == [] and state.list_error == ""

    state.set_link_title("Reading list")
    state.set_link_url("https://example.org/reading")
    state.add_link({"title": "Reading list", "url": "https://example.org/reading"})

    assert [(r["kind"], r["title"], r["href"]) for r in state.rows] == [
        ("link", "Reading list", "https://example.org/reading")
    ]
    assert state.link_errors == {}
    assert (state.link_title, state.link_url) == ("", "")


@pytest.mark.parametrize(
    ("lang", "message"),
    [("en", "The link must start with https://."), ("fr", "Le lien doit commencer par https://.")],
)
def test_a_refused_link_shows_the_translated_error_next_to_the_field(
    bound, db, now_clock, lang, message
) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock)
    state = _state(db, teacher, lang)
    state.load_for(session.id)

    state.add_link({"title": "Click me", "url": "javascript:alert(document.cookie)"})

    assert state.link_errors == {"url": message}
    assert state.rows == []
    assert _materials(db) == 0


def test_teacher_b_cannot_add_to_teacher_a_session(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    owner, intruder = make_teacher(db, clock=now_clock), make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=owner, clock=now_clock, publish=True)
    materials.add_link(
        db=db,
        actor=owner,
        video_session_id=session.id,
        title="Private notes",
        url="https://example.org/private",
    )
    state = _state(db, intruder)

    state.load_for(session.id)  # the id came from the browser: it only looks the session up
    assert state.rows == []
    assert state.list_error == "Only the teacher who created this session can do that."

    state.add_link({"title": "Spam", "url": "https://spam.example.org"})
    assert _materials(db) == 1
    assert state.rows == []


def test_a_student_cannot_fire_the_teachers_handlers(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock, publish=True)
    link = materials.add_link(
        db=db, actor=teacher, video_session_id=session.id, title="Notes", url="https://e.org"
    )
    student = make_student(db, clock=now_clock)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=now_clock)
    state = _state(db, student)

    state.load_for(session.id)
    assert [r["title"] for r in state.rows] == ["Notes"]

    state.add_link({"title": "Mine", "url": "https://example.org"})
    state.editing_id, state.edit_title = link.id, "Renamed by a student"
    state.save_rename()
    state.remove_id = link.id
    state.confirm_remove()

    assert state.edit_error == "This page is for another kind of account."
    db.rollback()
    assert [(m.id, m.title) for m in db.exec(select(Material)).all()] == [(link.id, "Notes")]


def test_owner_uploads_renames_and_removes_a_file(bound, db, now_clock, storage) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock)
    state = _state(db, teacher)
    state.load_for(session.id)
    state.start_upload()
    state.upload_progress({"loaded": 5, "total": 10, "progress": 0.5})
    assert (state.uploading, state.upload_percent) == (True, 50)

    _run(state.handle_upload([_upload("week 1.pdf", PDF)]))

    assert (state.uploading, state.upload_error) == (False, "")
    [row] = state.rows
    assert row["kind"] == "file"
    assert row["href"].startswith(f"/api/materials/{row['id']}/download?grant=")  # signed
    assert row["detail"].startswith("week 1.pdf · ")
    assert len(list(storage.iterdir())) == 1

    state.start_rename(row["id"])
    state.set_edit_title("Week one")
    state.save_rename()
    assert [r["title"] for r in state.rows] == ["Week one"]

    state.ask_remove(row["id"])
    assert state.remove_open
    state.confirm_remove()
    assert state.rows == [] and not state.remove_open
    assert list(storage.iterdir()) == []


def test_an_upload_of_a_disguised_executable_is_refused_with_a_message(
    bound, db, now_clock, storage
) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock)
    state = _state(db, teacher)
    state.load_for(session.id)

    _run(state.handle_upload([_upload("course.pdf", b"MZ\x90\x00" + b"\x00" * 60)]))

    assert state.upload_error.startswith("course.pdf: This type of file is not accepted")
    assert state.rows == []
    assert _materials(db) == 0
    assert not storage.exists() or list(storage.iterdir()) == []
