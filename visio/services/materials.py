"""Course materials: https links and uploaded files, shared with enrolled students.

Files are stored under `settings.storage_dir` with a random name, never the user's, outside any
folder a web server publishes; they are served only by an authorized route (`open_download`).
Their type is decided by sniffing the bytes, not by the filename or what the browser claims.

Materials may be managed by the owning teacher while the session is a draft, scheduled, ongoing
or finished (slides or a recording often come after the class); a cancelled session is frozen.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import NamedTuple

from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import (
    Enrollment,
    EnrollmentStatus,
    Material,
    MaterialKind,
    Role,
    StoredStatus,
    User,
    VideoSession,
)
from visio.services import audit, locking, student_notices
from visio.services.accounts import require_role
from visio.services.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from visio.services.links import check_https_url
from visio.services.text import check_visible
from visio.settings import settings

log = logging.getLogger(__name__)

TITLE_MAX = 200
FILENAME_MAX = 255

# The extensions a download may carry for each accepted type (the first is the canonical one).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "video/mp4": (".mp4", ".m4v"),
    "video/quicktime": (".mov",),
    "audio/mp4": (".m4a",),
    "video/webm": (".webm",),
    "video/x-matroska": (".mkv",),
    "audio/mpeg": (".mp3",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/vnd.oasis.opendocument.presentation": (".odp",),
    "application/msword": (".doc",),
    "application/vnd.ms-excel": (".xls",),
    "application/vnd.ms-powerpoint": (".ppt",),
}

_MP4_BRANDS = {
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH",
    b"M4VP", b"dash", b"mmp4", b"f4v ", b"3gp4", b"3gp5", b"3g2a",
}  # fmt: skip
_OOXML_PARTS = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_ODF_TYPES = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
# OLE compound files (legacy Office, but also .msi installers) are told apart by their streams.
_OLE_STREAMS = {
    "WordDocument": "application/msword",
    "Workbook": "application/vnd.ms-excel",
    "Book": "application/vnd.ms-excel",
    "PowerPoint Document": "application/vnd.ms-powerpoint",
}


class Download(NamedTuple):
    """A stored file ready to be sent: where it is, the name to offer, its sniffed type."""

    path: Path
    filename: str
    content_type: str


def storage_root() -> Path:
    """Where files are kept (a function so that tests can point it elsewhere)."""
    return settings.storage_dir


# The page sends the files a teacher picked in one request: at most this many.
FILES_PER_UPLOAD = 5


def upload_limit() -> int:
    """The largest file accepted, in bytes (a function so that tests can lower it)."""
    return settings.max_upload_bytes


# Content sniffing.


def _sniff_zip(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:  # ODF: the first entry names the type; read a few bytes only
                with archive.open("mimetype") as entry:
                    declared = entry.read(100).decode("ascii", "replace").strip()
                return declared if declared in _ODF_TYPES else None
            if "[Content_Types].xml" in names:
                for prefix, content_type in _OOXML_PARTS.items():
                    if any(name.startswith(prefix) for name in names):
                        return content_type
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, ValueError):
        return None
    return None


def _sniff_ole(data: bytes) -> str | None:
    for stream, content_type in _OLE_STREAMS.items():
        if stream.encode("utf-16-le") in data:
            return content_type
    return None


def _is_mp3(data: bytes) -> bool:
    if data.startswith(b"ID3"):
        return True
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    version, layer = (data[1] >> 3) & 0x3, (data[1] >> 1) & 0x3
    bitrate, rate = data[2] >> 4, (data[2] >> 2) & 0x3
    return version != 1 and layer != 0 and bitrate not in (0, 0xF) and rate != 3


def sniff_content_type(data: bytes) -> str | None:
    """The MIME type of an accepted file, read from its bytes; None for anything else."""
    head = data[:64]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "video/quicktime"
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        return "video/mp4" if brand in _MP4_BRANDS else None
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head else "video/x-matroska"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _sniff_ole(data)
    if _is_mp3(head):
        return "audio/mpeg"
    return None


# Names and titles.


def clean_filename(filename: str, content_type: str) -> str:
    """The base name only, without control characters, at most 255 characters, and ending
    with an extension that matches the sniffed type (so a PDF is never saved as `.html`)."""
    raw = unicodedata.normalize("NFC", filename or "")
    base = PureWindowsPath(PurePosixPath(raw.replace("\\", "/")).name).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    allowed = EXTENSIONS.get(content_type, ("",))
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    if f".{ext.lower()}" not in allowed or not stem:
        stem, ext = base or "file", allowed[0].lstrip(".")
    suffix = f".{ext}" if ext else ""
    return stem[: FILENAME_MAX - len(suffix)] + suffix


def clean_title(title: str | None) -> str:
    """A title on one line, 1 to 200 characters."""
    text = check_visible(" ".join((title or "").split()), field="title")
    if not text:
        raise InvalidInput("material_title_required", field="title")
    if len(text) > TITLE_MAX:
        raise InvalidInput("material_title_too_long", field="title", max=TITLE_MAX)
    return text


def _megabytes(size: int) -> str:
    """A byte count in MB for messages: 52428800 -> "50", 524288 -> "0.5"."""
    mb = size / (1024 * 1024)
    return f"{mb:.1f}".removesuffix(".0") if mb >= 1 else f"{mb:.2g}"


# Access.


def _owned(db: Session, actor: User | None, session_id: int, *, lock: bool) -> VideoSession:
    """The session, if `actor` is its teacher and it is not cancelled (locked when asked)."""
    require_role(actor, Role.TEACHER)
    if lock:
        db.rollback()  # the lock must be the transaction's first statement
        rows = locking.lock(db, VideoSession, [session_id])
        session = rows[0] if rows else None
    else:
        session = db.get(VideoSession, session_id)
    if session is None:
        raise NotFound("session_not_found")
    if session.teacher_id != actor.id:  # type: ignore[union-attr]
        raise Forbidden("not_owner")
    if session.status == StoredStatus.CANCELLED:
        raise Conflict("invalid_status", status=StoredStatus.CANCELLED.value)
    return session  # type: ignore[return-value]


def check_can_add(*, db: Session, actor: User | None, video_session_id: int | None) -> None:
    """Refuse, before an upload is read, a caller who may not add materials to the session:
    not a teacher, not its owner, or the session cancelled. Without a session (the page's
    upload, whose session its state knows) only the role can be checked here."""
    try:
        if video_session_id is None:
            require_role(actor, Role.TEACHER)
        else:
            _owned(db, actor, video_session_id, lock=False)
    finally:
        db.rollback()  # a check holds nothing while the body is read


def _can_view(db: Session, actor: User | None, session: VideoSession) -> None:
    """The owner and actively enrolled students see a session's materials; nobody else."""
    if actor is None:
        raise NotAuthenticated()
    if session.teacher_id == actor.id:
        return
    if actor.role != Role.STUDENT:
        raise Forbidden("not_owner")
    enrolled = db.exec(
        select(Enrollment.id).where(
            Enrollment.session_id == session.id,
            Enrollment.student_id == actor.id,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
    ).first()
    if enrolled is None:
        raise Forbidden("not_enrolled")


def _material(db: Session, material_id: int) -> Material:
    material = db.get(Material, material_id)
    if material is None:
        raise NotFound("material_not_found")
    return material


# Use cases.


def clean_link(title: str, url: str) -> tuple[str, str]:
    """A link material's title and https URL, checked (before the session exists, too)."""
    clean = clean_title(title)
    if not (url or "").strip():  # the links module speaks of a meeting link: not here
        raise InvalidInput("material_url_required", field="url")
    return clean, check_https_url(url, field="url")


def _save_new(db: Session, actor: User | None, material: Material, **details: object) -> Material:
    """Insert a new material with its audit event, and commit."""
    db.add(material)
    db.flush()
    audit.record(
        db,
        actor_id=actor.id,  # type: ignore[union-attr]
        action="material.added",
        target_type="material",
        target_id=material.id,
        at=material.created_at,
        session_id=material.session_id,
        kind=str(material.kind),
        title=material.title,
        **details,
    )
    session = db.get(VideoSession, material.session_id)  # locked by the caller
    student_notices.material_shared(db, session=session, material=material)  # type: ignore[arg-type]
    db.commit()
    return material


def add_link(
    *,
    db: Session,
    actor: User | None,
    video_session_id: int,
    title: str,
    url: str,
    clock: Clock = utcnow,
) -> Material:
    """Share an https link with the session's students (owner only)."""
    try:
        session = _owned(db, actor, video_session_id, lock=True)
        clean, link = clean_link(title, url)
        now = clock()
        material = Material(
            session_id=session.id, kind=MaterialKind.LINK, title=clean, url=link, created_at=now
        )
        return _save_new(db, actor, material, url=link)
    except Exception:
        db.rollback()
        raise


def add_file(
    *,
    db: Session,
    actor: User | None,
    video_session_id: int,
    filename: str,
    data: bytes,
    title: str | None = None,
    clock: Clock = utcnow,
) -> Material:
    """Store an uploaded file (PDF, image, video, audio, office document) for the session.

    The checks come first, then the file is written, then its row; if the row cannot be
    committed the file is removed again, so a refusal leaves neither behind.
    """
    check_can_add(db=db, actor=actor, video_session_id=video_session_id)
    limit = upload_limit()
    if not data:
        raise InvalidInput("file_empty", field="file")
    if len(data) > limit:
        raise InvalidInput(
            "file_too_large", field="file", max_bytes=limit, max_mb=_megabytes(limit)
        )
    content_type = sniff_content_type(data)
    if content_type is None:
        raise InvalidInput("file_type_not_allowed", field="file")
    name = clean_filename(filename, content_type)
    clean = clean_title(title if title and title.strip() else name[:TITLE_MAX])

    root = storage_root()
    root.mkdir(parents=True, exist_ok=True)
    storage_name = secrets.token_hex(16)
    path = root / storage_name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        session = _owned(db, actor, video_session_id, lock=True)
        now = clock()
        material = Material(
            session_id=session.id,
            kind=MaterialKind.FILE,
            title=clean,
            storage_name=storage_name,
            filename=name,
            content_type=content_type,
            size_bytes=len(data),
            created_at=now,
        )
        _save_new(
            db, actor, material, filename=name, content_type=content_type, size_bytes=len(data)
        )
        return material
    except BaseException:
        db.rollback()
        path.unlink(missing_ok=True)
        raise


def rename_material(
    *, db: Session, actor: User | None, material_id: int, title: str, clock: Clock = utcnow
) -> Material:
    """Give a material a new title (owner only)."""
    try:
        require_role(actor, Role.TEACHER)
        material = _material(db, material_id)
        _owned(db, actor, material.session_id, lock=True)
        material = _material(db, material_id)  # read again under the lock
        clean = clean_title(title)
        old, now = material.title, clock()
        material.title = clean
        db.add(material)
        audit.record(
            db,
            actor_id=actor.id,  # type: ignore[union-attr]
            action="material.renamed",
            target_type="material",
            target_id=material.id,
            at=now,
            session_id=material.session_id,
            old_title=old,
            title=clean,
        )
        db.commit()
        return material
    except Exception:
        db.rollback()
        raise


def remove_material(
    *, db: Session, actor: User | None, material_id: int, clock: Clock = utcnow
) -> None:
    """Delete a material (owner only); a stored file is deleted once the row is gone."""
    try:
        require_role(actor, Role.TEACHER)
        material = _material(db, material_id)
        _owned(db, actor, material.session_id, lock=True)
        material = _material(db, material_id)
        storage_name = material.storage_name
        audit.record(
            db,
            actor_id=actor.id,  # type: ignore[union-attr]
            action="material.removed",
            target_type="material",
            target_id=material.id,
            at=clock(),
            session_id=material.session_id,
            kind=material.kind,
            title=material.title,
        )
        db.delete(material)
        db.commit()
    except Exception:
        db.rollback()
        raise
    if storage_name:
        delete_stored_files([storage_name])


def delete_stored_files(storage_names: list[str]) -> None:
    """Remove stored files whose rows are gone (after the commit that removed them)."""
    for name in storage_names:
        try:
            (storage_root() / name).unlink(missing_ok=True)
        except OSError:  # the row is gone: an orphan file is harmless, only worth a log line
            log.warning("could not delete stored file %s", name, exc_info=True)


def list_materials(*, db: Session, actor: User | None, video_session_id: int) -> list[Material]:
    """A session's materials, oldest first, for its teacher and its enrolled students."""
    if actor is None:
        raise NotAuthenticated()
    session = db.get(VideoSession, video_session_id)
    if session is None:
        raise NotFound("session_not_found")
    _can_view(db, actor, session)
    return list(
        db.exec(
            select(Material)
            .where(Material.session_id == session.id)
            .order_by(Material.created_at, Material.id)  # type: ignore[arg-type]
        ).all()
    )


def open_download(*, db: Session, actor: User | None, material_id: int) -> Download:
    """The stored file of a material, for the session's teacher and enrolled students."""
    if actor is None:
        raise NotAuthenticated()
    material = _material(db, material_id)
    session = db.get(VideoSession, material.session_id)
    if session is None:
        raise NotFound("material_not_found")
    _can_view(db, actor, session)
    if material.kind != MaterialKind.FILE or not material.storage_name:
        raise NotFound("material_not_a_file")
    path = storage_root() / material.storage_name
    if not path.is_file():
        log.error("material %s: stored file %s is missing", material.id, material.storage_name)
        raise NotFound("material_not_found")
    return Download(
        path=path,
        filename=material.filename or "file",
        content_type=material.content_type or "application/octet-stream",
    )
