"""The create dialog's "Repeat" choice and an occurrence's edit scope, through the real state."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from tests.factories import STRONG_PASSWORD, fresh, make_teacher, table_counts
from tests.state.conftest import new_state, redirect_target, toasts
from visio.models import VideoSession
from visio.state.session_form import SessionFormState

PARIS = ZoneInfo("Europe/Paris")


def _state(db: Session, user, lang: str = "en") -> SessionFormState:  # type: ignore[no-untyped-def]
    from visio.services import accounts

    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(SessionFormState, token)
    state.lang_choice = lang
    return state


def _weekly(state: SessionFormState, count: str = "4") -> None:
    state.open_create()
    state._form_tz = "Europe/Paris"
    state.title = "Weekly conversation"
    state.repeat_mode, state.repeat_end, state.repeat_count = "weekly", "count", count


def test_a_weekly_repeat_previews_its_dates_and_creates_the_series(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    state = _state(db, teacher)
    _weekly(state)

    assert len(state.repeat_preview) == 4
    assert state.repeat_count_label == "4 occurrences, same local time:"
    result = state.submit(True)

    assert toasts(result) == [("success", "Series of 4 sessions created and published.")]
    db.rollback()
    rows = db.exec(select(VideoSession).where(VideoSession.teacher_id == teacher.id)).all()
    assert len(rows) == 4 and len({r.series_id for r in rows}) == 1
    assert {r.starts_at.astimezone(PARIS).strftime("%H:%M") for r in rows} == {"18:00"}
    first = min(rows, key=lambda r: r.starts_at)
    assert redirect_target(result) == f"/teacher/video-sessions/{first.id}"


def test_too_many_occurrences_show_under_repeat_and_create_nothing(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    state = _state(db, teacher)
    _weekly(state, count="53")
    counts = table_counts(db)

    assert state.submit(False) is None

    assert state.errors == {"repeat": "A series has at most 52 occurrences."}
    assert state.repeat_preview == []
    assert table_counts(db) == counts


def test_editing_all_future_occurrences_from_the_dialog(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    state = _state(db, teacher)
    _weekly(state)
    state.submit(False)
    db.rollback()
    rows = sorted(
        db.exec(select(VideoSession).where(VideoSession.teacher_id == teacher.id)).all(),
        key=lambda r: r.starts_at,
    )

    state.open_edit(rows[1].id)
    assert state.in_series is True and state.edit_scope == "one"
    state.title, state.edit_scope = "Renamed from the second on", "future"
    result = state.submit(False)

    assert toasts(result)[0] == ("success", "3 occurrence(s) saved.")
    titles = [fresh(db, VideoSession, r.id)["title"] for r in rows]
    assert titles[0] == "Weekly conversation"
    assert set(titles[1:]) == {"Renamed from the second on"}
