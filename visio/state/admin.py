"""/admin: the platform's money at a glance and the reconciliation (admins only)."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from visio.db import open_db
from visio.i18n.formatting import format_money
from visio.models import Role
from visio.services import admin_money
from visio.state.app import AppState


class Tile(TypedDict):
    key: str
    value: str


class CheckRow(TypedDict):
    label: str
    line: str
    difference: str
    ok: bool


class AdminState(AppState):
    loading: bool = True
    tiles: list[Tile] = []
    checks: list[CheckRow] = []
    gaps: list[str] = []
    balanced: bool = True

    @rx.event
    def on_load(self):
        user, redirect = self.guard(Role.ADMIN)
        if user is None:
            self.tiles, self.checks, self.gaps = [], [], []
            return redirect
        lang = self.lang
        with open_db() as db:
            seen = admin_money.money_overview(db=db, actor=user)

        def money(cents: int) -> str:
            return format_money(cents, lang, seen.currency)

        self.tiles = [
            Tile(key=key, value=money(cents))
            for key, cents in (
                ("users", seen.users_cents),
                ("escrow", seen.escrow_cents),
                ("payouts_held", seen.payouts_held_cents),
                ("paid_out", seen.paid_out_cents),
                ("platform", seen.platform_cents),
                ("topups", seen.topups_cents),
            )
        ]
        self.checks = [
            CheckRow(
                label=self.text(f"admin.recon.{c.name}"),
                line=self.text(
                    "admin.recon.line", held=money(c.held_cents), expected=money(c.expected_cents)
                ),
                difference=self.text(
                    "admin.recon.difference", difference=money(c.difference_cents)
                ),
                ok=c.difference_cents == 0,
            )
            for c in seen.checks
        ]
        self.gaps = [
            self.text(
                "admin.recon.gap",
                id=g.wallet_id,
                kind=g.kind,
                balance=money(g.balance_cents),
                ledger=money(g.ledger_cents),
            )
            for g in seen.gaps
        ]
        self.balanced = seen.balanced
        self.loading = False
        return None
