"""The materials of one session: list, add a link, upload files, rename, remove.

The session comes from `load_for(session_id)`, called by the detail page's on_load, and is kept
in a backend-only var. Ids from the browser only look rows up: the service checks, every
time, that the caller owns the session (or is enrolled in it, to list).
"""

from __future__ import annotations

from typing import Any, TypedDict

import reflex as rx
from babel.numbers import format_decimal

from visio.db import open_db
from visio.i18n.formatting import babel_locale
from visio.models import Material, MaterialKind, User
from visio.services import download_links, materials
from visio.services.errors import DomainError
from visio.state.app import AppState

UPLOAD_ID = "materials-upload"
# What the browser's file chooser offers; the server still decides by the bytes.
ACCEPT = {content_type: list(exts) for content_type, exts in materials.EXTENSIONS.items()}
ICONS = {"application/pdf": "file-text", "image": "image", "video": "film", "audio": "music"}


class MaterialRow(TypedDict):
    id: int
    kind: str
    title: str
    detail: str
    href: str
    icon: str


def download_href(material_id: int, grant: str) -> str:
    """A file's download, signed for this viewer (the API takes no cookie)."""
    return f"/api/materials/{material_id}/download?grant={grant}"


def _icon(material: Material) -> str:
    if material.kind == MaterialKind.LINK:
        return "link"
    content_type = material.content_type or ""
    return ICONS.get(content_type) or ICONS.get(content_type.split("/")[0], "file")


class MaterialsState(AppState):
    """What the materials panel shows, and its forms."""

    rows: list[MaterialRow] = []
    list_error: str = ""

    link_title: str = ""
    link_url: str = ""
    link_errors: dict[str, str] = {}

    upload_title: str = ""
    upload_error: str = ""
    uploading: bool = False
    upload_percent: int = 0

    editing_id: int = 0
    edit_title: str = ""
    edit_error: str = ""

    remove_id: int = 0
    remove_title: str = ""

    _session_id: int | None = None

    @rx.var
    def remove_open(self) -> bool:
        return self.remove_id != 0

    def _size(self, size: int) -> str:
        locale = babel_locale(self.lang)
        if size < 1024 * 1024:
            n = format_decimal(max(size / 1024, 0.1), "#,##0.#", locale=locale)
            return self.text("materials.size_kb", n=n)
        n = format_decimal(size / (1024 * 1024), "#,##0.#", locale=locale)
        return self.text("materials.size_mb", n=n)

    def _row(self, material: Material, grants: dict[int, str]) -> MaterialRow:
        is_link = material.kind == MaterialKind.LINK
        detail = (
            material.url or ""
            if is_link
            else f"{material.filename} · {self._size(material.size_bytes or 0)}"
        )
        return MaterialRow(
            id=material.id or 0,
            kind=material.kind,
            title=material.title,
            detail=detail,
            href=(material.url or "")
            if is_link
            else download_href(material.id or 0, grants.get(material.id or 0, "")),
            icon=_icon(material),
        )

    def _refresh(self, user: User) -> None:
        try:
            with open_db() as db:
                found = materials.list_materials(
                    db=db, actor=user, video_session_id=self._session_id or 0
                )
                files = [m.id for m in found if m.kind == MaterialKind.FILE and m.id]
                grants = download_links.sign(db=db, token=self.token, material_ids=files)
        except DomainError as error:
            self.rows, self.list_error = [], self.message(error)
            return
        self.rows, self.list_error = [self._row(m, grants) for m in found], ""

    def _user(self) -> User | None:
        user = self.current_user()
        if user is None:
            self.rows = []
        return user

    def _reset_forms(self) -> None:
        self.link_title = self.link_url = self.upload_title = ""
        self.link_errors, self.upload_error = {}, ""
        self.uploading, self.upload_percent = False, 0
        self.editing_id, self.edit_title, self.edit_error = 0, "", ""
        self.remove_id, self.remove_title = 0, ""

    @rx.event
    def load_for(self, session_id: int):
        """Show the materials of a session (the detail page's on_load calls this)."""
        try:
            self._session_id = int(session_id)
        except (TypeError, ValueError):
            self._session_id = None
        self._reset_forms()
        user = self._user()
        if user is None:
            return
        self._refresh(user)

    # Links.

    @rx.event
    def set_link_title(self, value: str):
        self.link_title = value

    @rx.event
    def set_link_url(self, value: str):
        self.link_url = value

    @rx.event
    def add_link(self, form: dict[str, Any] | None = None):
        form = form or {}
        title = str(form.get("title", self.link_title))
        url = str(form.get("url", self.link_url))
        self.link_errors = {}
        user = self._user()
        if user is None:
            return rx.toast.error(self.text("error.not_authenticated"))
        try:
            with open_db() as db:
                materials.add_link(
                    db=db,
                    actor=user,
                    video_session_id=self._session_id or 0,
                    title=title,
                    url=url,
                )
        except DomainError as error:
            if error.field in ("title", "url"):
                self.link_errors = {error.field: self.message(error)}
                return None
            return rx.toast.error(self.message(error))
        self.link_title = self.link_url = ""
        self._refresh(user)
        return rx.toast.success(self.text("materials.link_added"))

    # Files.

    @rx.event
    def set_upload_title(self, value: str):
        self.upload_title = value

    @rx.event
    def start_upload(self):
        self.uploading, self.upload_percent, self.upload_error = True, 0, ""

    @rx.event
    def upload_progress(self, progress: dict[str, Any]):
        fraction = progress.get("progress", 0) if isinstance(progress, dict) else 0
        try:
            self.upload_percent = max(0, min(100, round(float(fraction) * 100)))
        except (TypeError, ValueError):
            self.upload_percent = 0

    @rx.event
    def files_rejected(self, rejected: list[dict[str, Any]]):
        """The browser refused a file before sending it (too big, or not an accepted type)."""
        return rx.toast.error(self.text("materials.files_rejected"))

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        """Store each uploaded file through the service; report what was refused."""
        user = self._user()
        if user is None:
            self.uploading = False
            return rx.toast.error(self.text("error.not_authenticated"))
        if not files:
            self.uploading = False
            self.upload_error = self.text("materials.no_file")
            return None
        # One byte past the limit is enough for the service to refuse an oversized file.
        limit = materials.upload_limit() + 1
        errors, added = [], 0
        for file in files:
            data = await file.read(limit)
            try:
                with open_db() as db:
                    materials.add_file(
                        db=db,
                        actor=user,
                        video_session_id=self._session_id or 0,
                        filename=file.name or "file",
                        data=data,
                        title=self.upload_title if len(files) == 1 else None,
                    )
                added += 1
            except DomainError as error:
                errors.append(f"{file.name}: {self.message(error)}")
        self.uploading, self.upload_percent = False, 0
        self.upload_error = "\n".join(errors)
        events: list[Any] = [rx.clear_selected_files(UPLOAD_ID)]
        if added:
            self.upload_title = ""
            self._refresh(user)
            events.append(rx.toast.success(self.text("materials.files_added", n=added)))
        return events

    # Rename.

    @rx.event
    def start_rename(self, material_id: int):
        row = next((r for r in self.rows if r["id"] == material_id), None)
        if row is not None:
            self.editing_id, self.edit_title, self.edit_error = row["id"], row["title"], ""

    @rx.event
    def set_edit_title(self, value: str):
        self.edit_title = value

    @rx.event
    def cancel_rename(self):
        self.editing_id, self.edit_title, self.edit_error = 0, "", ""

    @rx.event
    def save_rename(self):
        user = self._user()
        if user is None:
            return rx.toast.error(self.text("error.not_authenticated"))
        try:
            with open_db() as db:
                materials.rename_material(
                    db=db, actor=user, material_id=self.editing_id, title=self.edit_title
                )
        except DomainError as error:
            self.edit_error = self.message(error)
            return None
        self.editing_id, self.edit_title, self.edit_error = 0, "", ""
        self._refresh(user)
        return rx.toast.success(self.text("materials.renamed"))

    # Remove.

    @rx.event
    def ask_remove(self, material_id: int):
        row = next((r for r in self.rows if r["id"] == material_id), None)
        if row is not None:
            self.remove_id, self.remove_title = row["id"], row["title"]

    @rx.event
    def set_remove_open(self, is_open: bool):
        if not is_open:
            self.remove_id, self.remove_title = 0, ""

    @rx.event
    def confirm_remove(self):
        user = self._user()
        material_id = self.remove_id
        self.remove_id, self.remove_title = 0, ""
        if user is None:
            return rx.toast.error(self.text("error.not_authenticated"))
        try:
            with open_db() as db:
                materials.remove_material(db=db, actor=user, material_id=material_id)
        except DomainError as error:
            return rx.toast.error(self.message(error))
        self._refresh(user)
        return rx.toast.success(self.text("materials.removed"))
