"""Materials: links and files, who may add, rename, remove, list and download them."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.factories import audit_actions, fresh, make_session, make_student, make_teacher
from tests.factories import table_counts as counts
from visio.clock import FrozenClock
from visio.models import Material, User, VideoSession
from visio.services import audit, enrollments, materials, sessions
from visio.services.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from visio.settings import ROOT

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"PE\x00\x00"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _ole(stream: str) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + stream.encode("utf-16-le")


ACCEPTED = {
    "pdf": (PDF, "application/pdf"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 16, "image/png"),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 16, "image/jpeg"),
    "gif": (b"GIF89a\x01\x00\x01\x00" + b"\x00" * 16, "image/gif"),
    "webp": (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 16, "image/webp"),
    "mp4": (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42", "video/mp4"),
    "mov": (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "video/quicktime"),
    "webm": (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87", "video/webm"),
    "mkv": (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "video/x-matroska"),
    "mp3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 16, "audio/mpeg"),
    "docx": (
        _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": (
        _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "pptx": (
        _zip({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    "odt": (
        _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}),
        "application/vnd.oasis.opendocument.text",
    ),
    "odp": (
        _zip({"mimetype": b"application/vnd.oasis.opendocument.presentation"}),
        "application/vnd.oasis.opendocument.presentation",
    ),
    "doc": (_ole("WordDocument"), "application/msword"),
    "xls": (_ole("Workbook"), "application/vnd.ms-excel"),
    "ppt": (_ole("PowerPoint Document"), "application/vnd.ms-powerpoint"),
}

REFUSED = {
    "exe": EXE,
    "html": b"<!doctype html><script>alert(1)</script>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "text": b"just some notes\n",
    "zip": _zip({"notes.txt": b"hello"}),
    "jar-like zip": _zip({"[Content_Types].xml": b"<Types/>", "META-INF/MANIFEST.MF": b"x"}),
    "odf with a foreign mimetype": _zip({"mimetype": b"text/html"}),
    "ole without office streams (msi)": _ole("SummaryInformation"),
    "heic (ftyp, not a video)": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
}


@pytest.fixture(autouse=True)
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Files go to this test's own folder."""
    folder = tmp_path / "private-files"
    monkeypatch.setattr(materials, "storage_root", lambda: folder)
    return folder


@pytest.fixture
def teacher(db: Session, clock: FrozenClock) -> User:
    return make_teacher(db, clock=clock)


@pytest.fixture
def session(db: Session, clock: FrozenClock, teacher: User) -> VideoSession:
    return make_session(db, teacher=teacher, clock=clock, publish=True)


def _stored(storage: Path) -> list[Path]:
    return sorted(storage.iterdir()) if storage.exists() else []


def _add_pdf(db, teacher, session, clock, filename="slides.pdf", data=PDF):  # type: ignore[no-untyped-def]
    return materials.add_file(
        db=db,
        actor=teacher,
        video_session_id=session.id,
        filename=filename,
        data=data,
        clock=clock,
    )


# Links.


def test_owner_adds_a_link_and_it_is_audited(db, clock, teacher, session) -> None:  # type: ignore[no-untyped-def]
    material = materials.add_link(
        db=db,
        actor=teacher,
        video_session_id=session.id,
        title="  Course   notes ",
        url=" https://example.org/notes ",
        clock=clock,
    )

    row = fresh(db, Material, material.id)
    assert row["kind"] == "link"
    assert row["title"] == "Course notes"
    assert row["url"] == "https://example.org/notes"
    assert row["storage_name"] is None
    assert audit_actions(db, target_type="material") == ["material.added"]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("javascript:alert(document.cookie)", "link_not_https"),
        ("data:text/html;base64,PHNjcmlwdD4=", "link_not_https"),
        ("http://example.org/notes", "link_not_https"),
        ("https://", "link_invalid"),
        ("https://exa mple.org", "link_invalid"),
        ("", "material_url_required"),
    ],
)
def test_a_link_that_is_not_plain_https_is_refused_and_nothing_changes(
    db, clock, teacher, session, url, code
) -> None:  # type: ignore[no-untyped-def]
    before = counts(db)
    with pytest.raises(InvalidInput) as refused:
        materials.add_link(
            db=db, actor=teacher, video_session_id=session.id, title="Notes", url=url, clock=clock
        )
    assert refused.value.code == code
    assert refused.value.field == "url"
    assert counts(db) == before


@pytest.mark.parametrize(
    ("title", "code"), [("", "material_title_required"), ("x" * 201, "material_title_too_long")]
)
def test_a_link_title_must_be_1_to_200_characters(db, clock, teacher, session, title, code) -> None:  # type: ignore[no-untyped-def]
    before = counts(db)
    with pytest.raises(InvalidInput) as refused:
        materials.add_link(
            db=db,
            actor=teacher,
            video_session_id=session.id,
            title=title,
            url="https://example.org",
            clock=clock,
        )
    assert refused.value.code == code
    assert counts(db) == before
    materials.add_link(
        db=db,
        actor=teacher,
        video_session_id=session.id,
        title="x" * 200,
        url="https://example.org",
        clock=clock,
    )


def test_another_teacher_cannot_add_a_link_to_my_session(db, clock, session) -> None:  # type: ignore[no-untyped-def]
    other = make_teacher(db, clock=clock)
    before = counts(db)
    with pytest.raises(Forbidden) as refused:
        materials.add_link(
            db=db,
            actor=other,
            video_session_id=session.id,
            title="Spam",
            url="https://example.org",
            clock=clock,
        )
    assert refused.value.code == "not_owner"
    assert counts(db) == before


def test_a_student_cannot_add_materials(db, clock, session, storage) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=clock)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    before = counts(db)
    with pytest.raises(Forbidden) as refused:
        materials.add_link(
            db=db,
            actor=student,
            video_session_id=session.id,
            title="Mine",
            url="https://example.org",
            clock=clock,
        )
    assert refused.value.code == "wrong_role"
    with pytest.raises(Forbidden):
        _add_pdf(db, student, session, clock)
    assert counts(db) == before
    assert _stored(storage) == []


def test_who_may_add_is_checked_before_any_upload_is_read(db, clock, teacher, session) -> None:  # type: ignore[no-untyped-def]
    """The API and the page's upload call this before reading a byte of the body."""
    student, other = make_student(db, clock=clock), make_teacher(db, clock=clock)
    materials.check_can_add(db=db, actor=teacher, video_session_id=session.id)
    materials.check_can_add(db=db, actor=teacher, video_session_id=None)
    refusals = [
        (None, session.id, NotAuthenticated, "not_authenticated"),
        (student, session.id, Forbidden, "wrong_role"),
        (other, session.id, Forbidden, "not_owner"),
        (teacher, 987654, NotFound, "session_not_found"),
        (None, None, NotAuthenticated, "not_authenticated"),
        (student, None, Forbidden, "wrong_role"),
    ]
    for actor, session_id, error, code in refusals:
        with pytest.raises(error) as refused:
            materials.check_can_add(db=db, actor=actor, video_session_id=session_id)
        assert refused.value.code == code
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=session.id, reason="Off", clock=clock
    )
    with pytest.raises(Conflict):
        materials.check_can_add(db=db, actor=teacher, video_session_id=session.id)


def test_adding_to_an_unknown_session_is_not_found(db, clock, teacher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound) as refused:
        materials.add_link(
            db=db,
            actor=teacher,
            video_session_id=987654,
            title="Notes",
            url="https://example.org",
            clock=clock,
        )
    assert refused.value.code == "session_not_found"


def test_materials_stay_editable_after_the_class_but_not_once_cancelled(
    db, clock, teacher, session
) -> None:  # type: ignore[no-untyped-def]
    clock.advance(days=5)  # finished: the recording and the slides often come afterwards
    materials.add_link(
        db=db,
        actor=teacher,
        video_session_id=session.id,
        title="Recording",
        url="https://example.org/rec",
        clock=clock,
    )
    draft = make_session(db, teacher=teacher, clock=clock)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=draft.id, reason="Ill", clock=clock
    )
    before = counts(db)
    with pytest.raises(Conflict) as refused:
        materials.add_link(
            db=db,
            actor=teacher,
            video_session_id=draft.id,
            title="Late",
            url="https://example.org",
            clock=clock,
        )
    assert refused.value.code == "invalid_status"
    assert counts(db) == before


# Files.


def test_owner_uploads_a_pdf_stored_under_a_random_name_outside_public_folders(
    db, clock, teacher, session, storage
) -> None:  # type: ignore[no-untyped-def]
    material = _add_pdf(db, teacher, session, clock, filename="Chapter 1.pdf")

    row = fresh(db, Material, material.id)
    assert row["kind"] == "file"
    assert row["title"] == "Chapter 1.pdf"
    assert row["filename"] == "Chapter 1.pdf"
    assert row["content_type"] == "application/pdf"
    assert row["size_bytes"] == len(PDF)
    name = row["storage_name"]
    assert len(name) == 32 and all(c in "0123456789abcdef" for c in name)
    assert _stored(storage) == [storage / name]
    assert (storage / name).read_bytes() == PDF
    assert audit_actions(db, target_type="material") == ["material.added"]


def test_stored_names_are_random_and_never_the_users(db, clock, teacher, session, storage) -> None:  # type: ignore[no-untyped-def]
    first = _add_pdf(db, teacher, session, clock, filename="same.pdf")
    second = _add_pdf(db, teacher, session, clock, filename="same.pdf")
    assert first.storage_name != second.storage_name
    assert all("same" not in p.name for p in _stored(storage))


def test_the_default_storage_is_outside_every_folder_served_to_anyone() -> None:
    from reflex_base.environment import environment

    from visio.settings import settings

    private = settings.storage_dir.resolve()
    public = [
        environment.REFLEX_UPLOADED_FILES_DIR.get().resolve(),
        (ROOT / "assets").resolve(),
        (ROOT / ".web").resolve(),
    ]
    for folder in public:
        assert not private.is_relative_to(folder), folder
        assert not folder.is_relative_to(private), folder


@pytest.mark.parametrize("kind", sorted(ACCEPTED))
def test_accepted_types_are_recognised_by_their_bytes(db, clock, teacher, session, kind) -> None:  # type: ignore[no-untyped-def]
    data, content_type = ACCEPTED[kind]
    material = _add_pdf(db, teacher, session, clock, filename="upload.bin", data=data)
    assert material.content_type == content_type
    assert material.filename == "upload.bin" + materials.EXTENSIONS[content_type][0]


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_other_types_are_refused_whatever_their_name(
    db, clock, teacher, session, storage, kind
) -> None:  # type: ignore[no-untyped-def]
    before = counts(db)
    with pytest.raises(InvalidInput) as refused:
        _add_pdf(db, teacher, session, clock, filename="lesson.pdf", data=REFUSED[kind])
    assert refused.value.code == "file_type_not_allowed"
    assert counts(db) == before
    assert _stored(storage) == []


def test_a_renamed_executable_is_refused_even_named_pdf(
    db, clock, teacher, session, storage
) -> None:  # type: ignore[no-untyped-def]
    before = counts(db)
    with pytest.raises(InvalidInput) as refused:
        _add_pdf(db, teacher, session, clock, filename="course.pdf", data=EXE)
    assert refused.value.code == "file_type_not_allowed"
    assert counts(db) == before
    assert _stored(storage) == []


def test_the_size_limit_is_a_setting_and_empty_files_are_refused(
    db, clock, teacher, session, storage, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(materials, "upload_limit", lambda: len(PDF))
    before = counts(db)
    with pytest.raises(InvalidInput) as too_big:
        _add_pdf(db, teacher, session, clock, data=PDF + b" ")
    assert too_big.value.code == "file_too_large"
    assert too_big.value.params["max_bytes"] == len(PDF)
    with pytest.raises(InvalidInput) as empty:
        _add_pdf(db, teacher, session, clock, data=b"")
    assert empty.value.code == "file_empty"
    assert counts(db) == before
    assert _stored(storage) == []

    _add_pdf(db, teacher, session, clock, data=PDF)  # exactly the limit is fine
    assert len(_stored(storage)) == 1


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\marie\\Desktop\\cours.PDF", "cours.PDF"),
        ("evil.html", "evil.html.pdf"),
        ("notes", "notes.pdf"),
        ("", "file.pdf"),
        ("..", "file.pdf"),
        ("a\u202egnp.pdf", "agnp.pdf"),
        ("line\nbreak\x00.pdf", "linebreak.pdf"),
        ("x" * 400 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_the_download_name_is_a_clean_base_name_ending_like_its_type(
    db, clock, teacher, session, given, kept
) -> None:  # type: ignore[no-untyped-def]
    material = _add_pdf(db, teacher, session, clock, filename=given)
    assert material.filename == kept
    assert len(material.title) <= materials.TITLE_MAX


def test_a_file_title_can_be_given(db, clock, teacher, session) -> None:  # type: ignore[no-untyped-def]
    material = materials.add_file(
        db=db,
        actor=teacher,
        video_session_id=session.id,
        filename="ch1.pdf",
        data=PDF,
        title="Chapter one",
        clock=clock,
    )
    assert (material.title, material.filename) == ("Chapter one", "ch1.pdf")


def test_when_the_row_cannot_be_written_the_file_is_removed(
    db, clock, teacher, session, storage, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr(audit, "record", broken)
    before = counts(db)
    with pytest.raises(RuntimeError):
        _add_pdf(db, teacher, session, clock)
    assert counts(db) == before
    assert _stored(storage) == []


def test_another_teacher_cannot_upload_to_my_session(db, clock, session, storage) -> None:  # type: ignore[no-untyped-def]
    other = make_teacher(db, clock=clock)
    before = counts(db)
    with pytest.raises(Forbidden) as refused:
        _add_pdf(db, other, session, clock)
    assert refused.value.code == "not_owner"
    assert counts(db) == before
    assert _stored(storage) == []


# Rename and remove.


def test_owner_renames_a_material(db, clock, teacher, session) -> None:  # type: ignore[no-untyped-def]
    material = _add_pdf(db, teacher, session, clock)
    materials.rename_material(db=db, actor=teacher, material_id=material.id, title=" Week 1 ")
    assert fresh(db, Material, material.id)["title"] == "Week 1"
    assert audit_actions(db, target_type="material") == ["material.added", "material.renamed"]


def test_rename_refusals_change_nothing(db, clock, teacher, session) -> None:  # type: ignore[no-untyped-def]
    material = _add_pdf(db, teacher, session, clock)
    other, student = make_teacher(db, clock=clock), make_student(db, clock=clock)
    before = counts(db)
    cases = [
        (other, material.id, "Mine now", Forbidden, "not_owner"),
        (student, material.id, "Mine now", Forbidden, "wrong_role"),
        (None, material.id, "Mine now", NotAuthenticated, "not_authenticated"),
        (teacher, 987654, "Anything", NotFound, "material_not_found"),
        (teacher, material.id, "   ", InvalidInput, "material_title_required"),
        (teacher, material.id, "y" * 201, InvalidInput, "material_title_too_long"),
    ]
    for actor, material_id, title, error, code in cases:
        with pytest.raises(error) as refused:
            materials.rename_material(db=db, actor=actor, material_id=material_id, title=title)
        assert refused.value.code == code
    assert counts(db) == before
    assert fresh(db, Material, material.id)["title"] == "slides.pdf"


def test_owner_removes_a_file_and_its_stored_bytes_go_too(
    db, clock, teacher, session, storage
) -> None:  # type: ignore[no-untyped-def]
    material = _add_pdf(db, teacher, session, clock)
    link = materials.add_link(
        db=db,
        actor=teacher,
        video_session_id=session.id,
        title="Notes",
        url="https://example.org",
        clock=clock,
    )
    materials.remove_material(db=db, actor=teacher, material_id=material.id, clock=clock)
    materials.remove_material(db=db, actor=teacher, material_id=link.id, clock=clock)

    assert fresh(db, Material, material.id) is None
    assert fresh(db, Material, link.id) is None
    assert _stored(storage) == []
    assert audit_actions(db, target_type="material")[-2:] == [
        "material.removed",
        "material.removed",
    ]


def test_remove_refusals_keep_the_row_and_the_file(db, clock, teacher, session, storage) -> None:  # type: ignore[no-untyped-def]
    material = _add_pdf(db, teacher, session, clock)
    student = make_student(db, clock=clock)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    other = make_teacher(db, clock=clock)
    before = counts(db)
    for actor, error in ((other, Forbidden), (student, Forbidden), (None, NotAuthenticated)):
        with pytest.raises(error):
            materials.remove_material(db=db, actor=actor, material_id=material.id)
    with pytest.raises(NotFound):
        materials.remove_material(db=db, actor=teacher, material_id=987654)
    assert counts(db) == before
    assert len(_stored(storage)) == 1


# Who sees and downloads.


@pytest.fixture
def shared(db, clock, teacher, session):  # type: ignore[no-untyped-def]
    """A session with a file and a link, an enrolled student and two outsiders."""
    pdf = _add_pdf(db, teacher, session, clock, filename="week1.pdf")
    link = materials.add_link(
        db=db,
        actor=teacher,
        video_session_id=session.id,
        title="Reading",
        url="https://example.org/read",
        clock=clock,
    )
    enrolled = make_student(db, clock=clock)
    enrollments.enroll(db=db, actor=enrolled, video_session_id=session.id, clock=clock)
    return {
        "pdf": pdf,
        "link": link,
        "enrolled": enrolled,
        "stranger": make_student(db, clock=clock),
        "other_teacher": make_teacher(db, clock=clock),
    }


def test_owner_and_enrolled_student_list_the_materials_in_order(
    db, teacher, session, shared
) -> None:  # type: ignore[no-untyped-def]
    for actor in (teacher, shared["enrolled"]):
        listed = materials.list_materials(db=db, actor=actor, video_session_id=session.id)
        assert [m.id for m in listed] == [shared["pdf"].id, shared["link"].id]


def test_outsiders_cannot_list_the_materials(db, session, shared) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Forbidden) as student:
        materials.list_materials(db=db, actor=shared["stranger"], video_session_id=session.id)
    assert student.value.code == "not_enrolled"
    with pytest.raises(Forbidden) as teacher:
        materials.list_materials(db=db, actor=shared["other_teacher"], video_session_id=session.id)
    assert teacher.value.code == "not_owner"
    with pytest.raises(NotAuthenticated):
        materials.list_materials(db=db, actor=None, video_session_id=session.id)
    with pytest.raises(NotFound):
        materials.list_materials(db=db, actor=shared["enrolled"], video_session_id=987654)


def test_owner_and_enrolled_student_open_the_download(db, teacher, shared, storage) -> None:  # type: ignore[no-untyped-def]
    for actor in (teacher, shared["enrolled"]):
        found = materials.open_download(db=db, actor=actor, material_id=shared["pdf"].id)
        assert found.path.parent == storage
        assert found.path.read_bytes() == PDF
        assert (found.filename, found.content_type) == ("week1.pdf", "application/pdf")


def test_outsiders_cannot_download_and_links_are_not_downloads(db, teacher, shared) -> None:  # type: ignore[no-untyped-def]
    for actor, code in (
        (shared["stranger"], "not_enrolled"),
        (shared["other_teacher"], "not_owner"),
    ):
        with pytest.raises(Forbidden) as refused:
            materials.open_download(db=db, actor=actor, material_id=shared["pdf"].id)
        assert refused.value.code == code
    with pytest.raises(NotAuthenticated):
        materials.open_download(db=db, actor=None, material_id=shared["pdf"].id)
    with pytest.raises(NotFound) as link:
        materials.open_download(db=db, actor=teacher, material_id=shared["link"].id)
    assert link.value.code == "material_not_a_file"
    with pytest.raises(NotFound) as unknown:
        materials.open_download(db=db, actor=teacher, material_id=987654)
    assert unknown.value.code == "material_not_found"


def test_a_student_who_unenrolled_loses_access(db, clock, session, shared) -> None:  # type: ignore[no-untyped-def]
    student = shared["enrolled"]
    enrollments.unenroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    with pytest.raises(Forbidden):
        materials.open_download(db=db, actor=student, material_id=shared["pdf"].id)
    with pytest.raises(Forbidden):
        materials.list_materials(db=db, actor=student, video_session_id=session.id)


def test_a_stranger_cannot_tell_a_link_from_a_file(db, shared) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Forbidden):
        materials.open_download(db=db, actor=shared["stranger"], material_id=shared["link"].id)
