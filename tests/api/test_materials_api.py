"""Materials over HTTP: links as JSON, files as multipart; for the owner and enrolled students."""

from __future__ import annotations

from tests.api.conftest import PDF, assert_error

MATERIAL_KEYS = {
    "id",
    "session_id",
    "kind",
    "title",
    "url",
    "filename",
    "content_type",
    "size_bytes",
    "created_at",
}


def _url(session) -> str:  # type: ignore[no-untyped-def]
    return f"/api/sessions/{session.id}/materials"


def test_owner_adds_a_link_as_json(http, cast) -> None:  # type: ignore[no-untyped-def]
    response = http.post(
        _url(cast.session),
        headers=cast.owner.headers,
        json={"kind": "link", "title": "Course notes", "url": "https://example.org/notes"},
    )

    assert response.status_code == 201, response.text
    material = response.json()
    assert set(material) == MATERIAL_KEYS
    assert (material["kind"], material["title"], material["url"]) == (
        "link",
        "Course notes",
        "https://example.org/notes",
    )
    assert material["session_id"] == cast.session.id
    assert (material["filename"], material["content_type"], material["size_bytes"]) == (
        None,
        None,
        None,
    )


def test_owner_uploads_a_file_that_enrolled_students_download(http, cast) -> None:  # type: ignore[no-untyped-def]
    response = http.post(
        _url(cast.session),
        headers=cast.owner.headers,
        files={"file": ("week 1.pdf", PDF, "text/html")},  # the type is read from the bytes
        data={"title": "Week 1 slides"},
    )

    assert response.status_code == 201, response.text
    material = response.json()
    assert (material["kind"], material["title"], material["url"]) == (
        "file",
        "Week 1 slides",
        None,
    )
    assert (material["filename"], material["content_type"], material["size_bytes"]) == (
        "week 1.pdf",
        "application/pdf",
        len(PDF),
    )
    download = http.get(f"/api/materials/{material['id']}/download", headers=cast.enrolled.headers)
    assert (download.status_code, download.content) == (200, PDF)
    seen = http.get(f"/api/sessions/{cast.session.id}", headers=cast.student.headers).json()
    assert seen["materials_count"] == 1


def test_owner_and_enrolled_students_list_the_materials(http, cast, make) -> None:  # type: ignore[no-untyped-def]
    link, pdf = make.link(cast.owner, cast.session), make.pdf(cast.owner, cast.session)
    for who in (cast.owner, cast.enrolled):
        response = http.get(_url(cast.session), headers=who.headers)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert [m["id"] for m in items] == [link.id, pdf.id]
        assert items[1]["filename"] == "slides.pdf"


def test_listing_refusals(http, cast) -> None:  # type: ignore[no-untyped-def]
    assert_error(http.get(_url(cast.session), headers=cast.student.headers), 403, "not_enrolled")
    assert_error(http.get(_url(cast.session), headers=cast.other_teacher.headers),
                 403, "not_owner")  # fmt: skip
    assert_error(http.get(_url(cast.session)), 401, "not_authenticated")
    missing = http.get("/api/sessions/2147483000/materials", headers=cast.owner.headers)
    assert_error(missing, 404, "session_not_found")


def test_adding_refusals(http, cast, make) -> None:  # type: ignore[no-untyped-def]
    url, owner = _url(cast.session), cast.owner.headers

    def link(**body):  # type: ignore[no-untyped-def]
        return http.post(url, headers=owner, json={"kind": "link", "title": "Read", **body})

    assert_error(link(url="http://example.org"), 422, "link_not_https")
    assert_error(link(url="javascript:alert(1)"), 422, "link_not_https")
    assert_error(link(url=""), 422, "material_url_required")
    assert_error(link(url="https://example.org", title="   "), 422, "material_title_required")
    assert_error(link(), 422, "invalid_input")  # no url
    assert_error(http.post(url, headers=owner, json={"kind": "file", "title": "x"}),
                 422, "invalid_input")  # fmt: skip
    not_json = http.post(
        url, headers={**owner, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert_error(not_json, 422, "invalid_input")
    assert_error(http.post(url, headers=owner, files={"file": ("a.exe", b"MZ\x90\x00", "x")}),
                 422, "file_type_not_allowed")  # fmt: skip
    assert_error(http.post(url, headers=owner, files={"file": ("a.pdf", b"", "x")}),
                 422, "file_empty")  # fmt: skip
    assert_error(http.post(url, headers=owner, data={"title": "no file"}, files={"x": ("a", b"1")}),
                 422, "invalid_input")  # fmt: skip
    assert_error(http.post(url, headers={**owner, "Content-Type": "text/plain"}, content=b"hi"),
                 415, "unsupported_media_type")  # fmt: skip

    good = {"kind": "link", "title": "Read", "url": "https://example.org"}
    for who, status, code in (
        (cast.enrolled, 403, "wrong_role"),
        (cast.student, 403, "wrong_role"),
        (cast.other_teacher, 403, "not_owner"),
    ):
        assert_error(http.post(url, headers=who.headers, json=good), status, code)
    cancelled = make.session(cast.owner)
    http.post(f"/api/sessions/{cancelled.id}/cancel", headers=owner, json={"reason": "Off"})
    assert_error(http.post(_url(cancelled), headers=owner, json=good), 409, "invalid_status")
