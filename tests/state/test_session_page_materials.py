"""The materials on /sessions/[id]: an enrolled student opens the links and downloads the files
(through links signed for them); anyone else sees only their titles."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from reflex.istate.data import RouterData
from sqlmodel import Session

from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher
from tests.state.conftest import new_state
from visio.clock import FrozenClock
from visio.services import accounts, download_links, enrollments, materials
from visio.state.session_page import SessionPageState

PDF = b"%PDF-1.7\n%%EOF\n"
READING = "https://example.org/reading-list"


@pytest.fixture(autouse=True)
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "private-files"
    monkeypatch.setattr(materials, "storage_root", lambda: folder)
    return folder


def _page(db: Session, user, session_id: int) -> SessionPageState:  # type: ignore[no-untyped-def]
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(SessionPageState, token)
    state.lang_choice = "en"
    state.router = RouterData.from_router_data(
        {"pathname": "/sessions/[session_id]", "asPath": f"/sessions/{session_id}"}
    )
    state.on_load()
    return state


@pytest.fixture
def session_with_materials(db: Session, now_clock: FrozenClock):  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock, publish=True)
    materials.add_link(
        db=db, actor=teacher, video_session_id=session.id, title="Reading", url=READING
    )
    materials.add_file(
        db=db, actor=teacher, video_session_id=session.id, filename="week1.pdf", data=PDF
    )
    return session


def test_an_enrolled_student_opens_links_and_downloads_files(  # type: ignore[no-untyped-def]
    bound, db, now_clock, session_with_materials
) -> None:
    session = session_with_materials
    student = make_student(db, clock=now_clock)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id)

    state = _page(db, student, session.id)

    link, file = state.materials
    assert (link["kind"], link["href"]) == ("link", READING)
    href = urlsplit(file["href"])
    assert href.path == f"/api/materials/{file['id']}/download"
    [grant] = parse_qs(href.query)["grant"]
    signed_for = download_links.user_for_grant(db=db, material_id=file["id"], grant=grant)
    assert signed_for.id == student.id


def test_a_student_not_enrolled_sees_titles_only(  # type: ignore[no-untyped-def]
    bound, db, now_clock, session_with_materials
) -> None:
    state = _page(db, make_student(db, clock=now_clock), session_with_materials.id)

    assert [m["title"] for m in state.materials] == ["Reading", "week1.pdf"]
    assert [m["href"] for m in state.materials] == ["", ""]
    assert READING not in json.dumps(state.dict(), default=str)
