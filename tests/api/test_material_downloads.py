"""GET /api/materials/{id}/download over real HTTP: the file for its session's teacher and
enrolled students, a JSON refusal (never the bytes) for everyone else."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlmodel import Session

from tests.api.conftest import Served
from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher
from visio.clock import FrozenClock, utcnow
from visio.models import Material
from visio.services import accounts, download_links, enrollments, materials


@dataclass(frozen=True)
class Setup:
    pdf: Material
    link: Material
    content: bytes
    tokens: dict[str, str]


def _token(db: Session, user) -> str:  # type: ignore[no-untyped-def]
    return accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token


@pytest.fixture
def setup(served: Served, server_db: Session, monkeypatch: pytest.MonkeyPatch) -> Setup:
    """In the server's database: a session with a PDF and a link, its teacher, an enrolled
    student, a student who is not enrolled and another teacher, each logged in."""
    monkeypatch.setattr(materials, "storage_root", lambda: served.storage)
    clock = FrozenClock(utcnow())
    db = server_db
    owner = make_teacher(db, clock=clock)
    session = make_session(db, teacher=owner, clock=clock, publish=True)
    content = b"%PDF-1.7\n% marker " + uuid.uuid4().hex.encode() + b"\n%%EOF\n"
    pdf = materials.add_file(
        db=db, actor=owner, video_session_id=session.id, filename="Week 1 – été.pdf", data=content
    )
    link = materials.add_link(
        db=db, actor=owner, video_session_id=session.id, title="Read", url="https://example.org"
    )
    enrolled, stranger = make_student(db, clock=clock), make_student(db, clock=clock)
    enrollments.enroll(db=db, actor=enrolled, video_session_id=session.id)
    other_teacher = make_teacher(db, clock=clock)
    tokens = {
        name: _token(db, user)
        for name, user in {
            "owner": owner,
            "enrolled": enrolled,
            "stranger": stranger,
            "other_teacher": other_teacher,
        }.items()
    }
    return Setup(pdf=pdf, link=link, content=content, tokens=tokens)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _url(material_id: int) -> str:
    return f"/api/materials/{material_id}/download"


def _assert_refused(response: httpx.Response, status: int, code: str, content: bytes) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert content not in response.content


def test_owner_downloads_the_file_as_an_attachment(http, setup) -> None:  # type: ignore[no-untyped-def]
    response = http.get(_url(setup.pdf.id), headers=_bearer(setup.tokens["owner"]))

    assert response.status_code == 200
    assert response.content == setup.content
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''Week%201%20%E2%80%93%20%C3%A9t%C3%A9.pdf" in disposition
    assert "private" in response.headers["cache-control"]


def test_enrolled_student_downloads_with_a_bearer_token_or_a_signed_link(
    http, server_db, setup
) -> None:  # type: ignore[no-untyped-def]
    token = setup.tokens["enrolled"]
    grants = download_links.sign(db=server_db, token=token, material_ids=[setup.pdf.id])
    by_header = http.get(_url(setup.pdf.id), headers=_bearer(token))
    by_link = http.get(_url(setup.pdf.id), params={"grant": grants[setup.pdf.id]})

    for response in (by_header, by_link):
        assert response.status_code == 200
        assert response.content == setup.content


def test_the_login_cookie_downloads_nothing(http, served, setup) -> None:  # type: ignore[no-untyped-def]
    """Another site's page can make the browser send the cookie: it proves nothing."""
    token = setup.tokens["enrolled"]
    with httpx.Client(base_url=served.url, cookies={"visio_token": token}, timeout=20) as browser:
        _assert_refused(browser.get(_url(setup.pdf.id)), 401, "not_authenticated", setup.content)


def test_a_signed_link_opens_one_file_for_one_user_while_they_may(http, server_db, setup) -> None:  # type: ignore[no-untyped-def]
    stranger = setup.tokens["stranger"]
    for_stranger = download_links.sign(db=server_db, token=stranger, material_ids=[setup.pdf.id])
    refused = http.get(_url(setup.pdf.id), params={"grant": for_stranger[setup.pdf.id]})
    _assert_refused(refused, 403, "not_enrolled", setup.content)

    enrolled = setup.tokens["enrolled"]
    grant = download_links.sign(db=server_db, token=enrolled, material_ids=[setup.pdf.id])
    other_file = http.get(_url(setup.link.id), params={"grant": grant[setup.pdf.id]})
    _assert_refused(other_file, 401, "download_link_invalid", setup.content)

    accounts.logout(db=server_db, token=enrolled)
    after_logout = http.get(_url(setup.pdf.id), params={"grant": grant[setup.pdf.id]})
    _assert_refused(after_logout, 401, "download_link_invalid", setup.content)


@pytest.mark.parametrize(
    ("who", "code"), [("stranger", "not_enrolled"), ("other_teacher", "not_owner")]
)
def test_outsiders_are_refused_with_403_and_never_get_the_bytes(http, setup, who, code) -> None:  # type: ignore[no-untyped-def]
    response = http.get(_url(setup.pdf.id), headers=_bearer(setup.tokens[who]))
    _assert_refused(response, 403, code, setup.content)


def test_anonymous_and_bad_tokens_get_401(http, served, setup) -> None:  # type: ignore[no-untyped-def]
    anonymous = http.get(_url(setup.pdf.id))
    _assert_refused(anonymous, 401, "not_authenticated", setup.content)
    assert anonymous.headers["www-authenticate"] == "Bearer"

    bad = http.get(_url(setup.pdf.id), headers=_bearer("not-a-real-token"))
    _assert_refused(bad, 401, "not_authenticated", setup.content)
    other_scheme = http.get(_url(setup.pdf.id), headers={"Authorization": "Basic Zm9vOmJhcg=="})
    _assert_refused(other_scheme, 401, "not_authenticated", setup.content)
    with httpx.Client(base_url=served.url, cookies={"visio_token": "forged"}, timeout=20) as c:
        _assert_refused(c.get(_url(setup.pdf.id)), 401, "not_authenticated", setup.content)


def test_a_revoked_token_no_longer_downloads(http, server_db, setup) -> None:  # type: ignore[no-untyped-def]
    token = setup.tokens["enrolled"]
    accounts.logout(db=server_db, token=token)
    response = http.get(_url(setup.pdf.id), headers=_bearer(token))
    _assert_refused(response, 401, "not_authenticated", setup.content)


def test_unknown_materials_and_links_are_404(http, setup) -> None:  # type: ignore[no-untyped-def]
    owner = _bearer(setup.tokens["owner"])
    _assert_refused(http.get(_url(99_999_999), headers=owner), 404, "material_not_found", b"%PDF")
    _assert_refused(
        http.get(_url(setup.link.id), headers=owner), 404, "material_not_a_file", setup.content
    )
    not_a_number = http.get("/api/materials/abc/download", headers=owner)
    assert not_a_number.status_code == 422


def test_error_messages_follow_accept_language(http, setup) -> None:  # type: ignore[no-untyped-def]
    fr = http.get(_url(setup.pdf.id), headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    en = http.get(_url(setup.pdf.id), headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert fr.json() == {"detail": "Veuillez d'abord vous connecter.", "code": "not_authenticated"}
    assert en.json() == {"detail": "Please log in first.", "code": "not_authenticated"}


def test_the_stored_file_is_not_reachable_on_any_public_path(http, served, setup) -> None:  # type: ignore[no-untyped-def]
    name = setup.pdf.storage_name
    assert name and (served.storage / name).read_bytes() == setup.content
    for path in (
        f"/_upload/{name}",
        f"/_upload/files/{name}",
        f"/_upload/../files/{name}",
        f"/{name}",
        f"/files/{name}",
        f"/data/files/{name}",
        f"/assets/{name}",
        f"/api/files/{name}",
        f"/api/materials/{name}/download",
        "/_upload/Week%201%20%E2%80%93%20%C3%A9t%C3%A9.pdf",
    ):
        response = http.get(path, headers=_bearer(setup.tokens["owner"]))
        assert setup.content not in response.content, path
        assert response.status_code != 200 or "pdf" not in response.headers.get(
            "content-type", ""
        ), path


def test_the_api_is_mounted_beside_the_pages(http) -> None:  # type: ignore[no-untyped-def]
    assert http.get("/api/health").json() == {"status": "ok"}
    spec = http.get("/api/openapi.json").json()
    assert "/api/materials/{material_id}/download" in spec["paths"]
    assert http.get("/api/docs").status_code == 200
    unknown = http.get("/api/no-such-route")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    assert http.get("/ping").status_code == 200
    home = http.get("/")
    assert home.status_code == 200
    assert "text/html" in home.headers["content-type"]
