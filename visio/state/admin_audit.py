"""/admin/audit: the audit trail with filters, a page at a time, and its CSV export link."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import TypedDict
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import reflex as rx

from visio.db import open_db
from visio.i18n.formatting import format_when
from visio.models import Role
from visio.services import admin_audit
from visio.services.errors import DomainError, InvalidInput
from visio.state.app import AppState

PAGE_SIZE = 25
EXPORT_PATH = "/api/admin/audit/export"


class AuditRow(TypedDict):
    id: int
    at: str
    actor: str
    action: str
    target: str
    data: str


class AdminAuditState(AppState):
    loading: bool = True
    action: str = ""
    actor_email: str = ""
    target_type: str = ""
    target_id: str = ""
    date_from: str = ""
    date_to: str = ""
    rows: list[AuditRow] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    error: str = ""
    export_href: str = ""

    @rx.var
    def page_label(self) -> str:
        return self.text("common.page_of", page=self.page, pages=self.pages)

    @rx.var
    def count_label(self) -> str:
        return self.text("admin.audit.count", n=self.total)

    def _day(self, text: str, *, field: str, after: bool = False) -> datetime | None:
        """A day typed in the form, as the UTC instant its midnight is in the viewer's zone
        (`after`: the next midnight, so that "to" includes its day)."""
        if not text.strip():
            return None
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            raise InvalidInput("date_invalid", field=field) from None
        if after:
            day += timedelta(days=1)
        return datetime.combine(day, time(), tzinfo=ZoneInfo(self.viewer_tz))

    def _filters(self) -> admin_audit.AuditFilters:
        target = self.target_id.strip()
        if target and not (target.isdigit() and len(target) <= 10):
            raise InvalidInput("target_id_invalid", field="target_id")
        return admin_audit.AuditFilters(
            action=self.action,
            actor_email=self.actor_email,
            target_type=self.target_type,
            target_id=int(target) if target else None,
            date_from=self._day(self.date_from, field="date_from"),
            date_to=self._day(self.date_to, field="date_to", after=True),
        )

    def _export_query(self, filters: admin_audit.AuditFilters, grant: str) -> str:
        """The API's address of the CSV of these filters, opened by the login's grant."""
        query = {
            "action": filters.action.strip(),
            "actor_email": filters.actor_email.strip(),
            "target_type": filters.target_type.strip(),
            "target_id": filters.target_id or "",
            "date_from": filters.date_from.isoformat() if filters.date_from else "",
            "date_to": filters.date_to.isoformat() if filters.date_to else "",
        }
        kept = {k: v for k, v in query.items() if v != ""}
        return f"{EXPORT_PATH}?{urlencode({**kept, 'grant': grant})}"

    def _load(self):  # type: ignore[no-untyped-def]
        user, redirect = self.guard(Role.ADMIN)
        if user is None:
            self.rows, self.export_href = [], ""
            return redirect
        lang, tz = self.lang, self.viewer_tz
        try:
            filters = self._filters()
            with open_db() as db:
                found = admin_audit.list_audit(
                    db=db, actor=user, filters=filters, page=self.page, page_size=PAGE_SIZE
                )
                grant = admin_audit.sign_export(db=db, token=self.token)
        except DomainError as error:
            self.error, self.loading = self.message(error), False
            return None
        system = self.text("admin.audit.system")
        self.rows = [
            AuditRow(
                id=e.id,
                at=format_when(e.created_at, lang, tz),
                actor=e.actor_email or system,
                action=e.action,
                target=f"{e.target_type} #{e.target_id}" if e.target_id else e.target_type,
                data=json.dumps(e.data, ensure_ascii=False, sort_keys=True) if e.data else "",
            )
            for e in found.items
        ]
        self.export_href = self._export_query(filters, grant)
        self.total, self.pages, self.error, self.loading = found.total, found.pages, "", False
        return None

    @rx.event
    def on_load(self):
        self.loading, self.page = True, 1
        return self._load()

    @rx.event
    def set_field(self, name: str, value: str):
        if name in ("action", "actor_email", "target_type", "target_id", "date_from", "date_to"):
            setattr(self, name, str(value)[:254])

    @rx.event
    def apply(self, _form: dict | None = None):  # type: ignore[type-arg]
        self.page = 1
        return self._load()

    @rx.event
    def reset_filters(self):
        self.action = self.actor_email = self.target_type = self.target_id = ""
        self.date_from = self.date_to = ""
        self.page = 1
        return self._load()

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(1, min(int(page), self.pages))
        return self._load()
