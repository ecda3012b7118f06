"""Reflex state per client on each main page, with a full page of rows, against the same page
before it loaded anything (the floor).

Each page's state is made as Reflex makes it for a new client (the root state, its substates),
logged in with a token, then its on_load runs against the big database. Measured on the chain
the page needs (root state, AppState, the page's state):
- JSON: what the browser is sent (`dict()` through Reflex's json_dumps);
- pickled: what Reflex's Redis state manager stores (`_serialize()` of each state, summed).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import select

from bench import data
from bench.context import Context
from bench.measure import Outcome, Row
from bench.services import catalog_dataset
from visio import db as visio_db
from visio.db import make_engine, open_db
from visio.models import User, VideoSession
from visio.services import accounts

LIMIT_KB = 64.0


def _state_classes() -> list[tuple[str, type, str, str, str]]:
    """(page, state class, who, pathname, path pattern) of each main page."""
    from visio.state.session_detail import SessionDetailState
    from visio.state.session_page import SessionPageState
    from visio.state.sessions import StudentSessionsState, TeacherSessionsState
    from visio.state.stats import StatsState
    from visio.state.wallet import WalletState

    return [
        (
            "Teacher's sessions list",
            TeacherSessionsState,
            "teacher",
            "/teacher/video-sessions",
            "/teacher/video-sessions",
        ),
        (
            "Student's browse page",
            StudentSessionsState,
            "student",
            "/student/video-sessions",
            "/student/video-sessions",
        ),
        (
            "Session page (student)",
            SessionPageState,
            "student",
            "/sessions/[session_id]",
            "/sessions/{open}",
        ),
        (
            "Session page (teacher)",
            SessionDetailState,
            "teacher",
            "/teacher/video-sessions/[session_id]",
            "/teacher/video-sessions/{finished}",
        ),
        ("Wallet", WalletState, "busy_student", "/wallet", "/wallet"),
        ("Statistics", StatsState, "teacher", "/teacher/statistics", "/teacher/statistics"),
    ]


def _sizes(root, page) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """JSON bytes of the page's chain of states, and their pickled bytes summed."""
    from reflex_base.utils.format import json_dumps

    name = page.get_full_name()
    chain = {k: v for k, v in root.dict().items() if name == k or name.startswith(k + ".")}
    states, state = [], page
    while state is not None:
        states.append(state)
        state = state.parent_state
    return len(json_dumps(chain)), sum(len(s._serialize()) for s in states)


def page_state(state_cls: type, token: str, pathname: str, path: str):  # type: ignore[no-untyped-def]
    """A new client's state tree, as Reflex makes it, logged in and at `path`; (root, page)."""
    import reflex as rx
    from reflex.istate.data import RouterData

    root = rx.State(_reflex_internal_init=True)
    page = root.get_substate(state_cls.get_full_name().split(".")[1:])  # type: ignore[attr-defined]
    router = RouterData.from_router_data(
        {
            "pathname": pathname,
            "asPath": path,
            "headers": {"origin": "http://localhost:3000", "accept-language": "fr-FR,fr;q=0.9"},
        }
    )
    state = page
    while state is not None:
        state.router = router
        state = state.parent_state
    page.token = token
    return root, page


def _measure(state_cls: type, token: str, pathname: str, path: str) -> dict[str, tuple[int, int]]:
    root, page = page_state(state_cls, token, pathname, path)
    before = _sizes(root, page)
    page.on_load()
    return {"before": before, "after": _sizes(root, page)}


def _picks(engine: sa.Engine, found: data.Dataset) -> dict[str, int]:
    """An open session to show a student, and a finished one of the dashboard's teacher."""
    S = VideoSession
    with open_db(engine) as db:
        open_id = db.exec(
            select(S.id)
            .where(S.status == "scheduled", S.starts_at > datetime.now(UTC), S.capacity.is_(None))  # type: ignore[union-attr]
            .order_by(S.enrolled_count.desc(), S.id)  # type: ignore[attr-defined]
        ).first()
        finished = db.exec(
            select(S.id)
            .where(S.teacher_id == found.stats_teacher_id, S.escrow_released_at.is_not(None))  # type: ignore[union-attr]
            .order_by(S.id)
        ).first()
    assert open_id is not None and finished is not None
    return {"open": open_id, "finished": finished}


def run(ctx: Context) -> Outcome:
    out = Outcome()
    found = catalog_dataset(ctx, max(ctx.plan.browse_sizes))
    engine = make_engine(found.url)
    visio_db.bind_engine(engine)
    try:
        picks = _picks(engine, found)
        who = {
            "teacher": found.stats_teacher_id,
            "student": found.student_ids[0],
            "busy_student": found.busy_student_id,
        }
        tokens: dict[str, str] = {}
        with open_db(engine) as db:
            for role, user_id in who.items():
                user = db.exec(select(User).where(User.id == user_id)).one()
                tokens[role] = accounts.login(
                    db=db, email=user.email, password=data.PASSWORD, address=None
                ).token
        for label, state_cls, role, pathname, pattern in _state_classes():
            path = pattern.format(**picks)
            ctx.log(f"state size: {label} ({path}) ...")
            sizes = _measure(state_cls, tokens[role], pathname, path)
            json_after, pickled_after = sizes["after"]
            json_before, pickled_before = sizes["before"]
            largest = max(json_after, pickled_after) / 1024
            out.rows.append(
                Row(
                    "State per client",
                    f"{label}: JSON sent to the browser",
                    json_after / 1024,
                    json_before / 1024,
                    "KB",
                    floor_label="the same page before loading",
                    target=f"<= {LIMIT_KB:g} KB",
                    met=largest <= LIMIT_KB,
                    detail=f"pickled for Redis {pickled_after / 1024:.1f} KB, "
                    f"before {pickled_before / 1024:.1f} KB",
                )
            )
    finally:
        visio_db.bind_engine(None)
        engine.dispose()
    out.notes.append(
        "State per client: the chain root state -> AppState -> page state of one new client, "
        "after the page's on_load against the largest database (a page of 12 cards on the lists, "
        "15 entries and up to 50 purchases on the wallet, 10 rows on the statistics table). "
        "The pages' words are not in it: they are built into the pages (visio.components.text)."
    )
    return out
