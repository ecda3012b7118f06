"""The student's browse page state: one page of cards, and how many pages there are."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher
from tests.state.conftest import new_state
from visio.services import accounts, catalog
from visio.state.sessions import PAGE_SIZE, StudentSessionsState


def _browsing(db, now_clock, sessions: int, lang: str = "en") -> StudentSessionsState:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    for day in range(1, sessions + 1):
        make_session(
            db,
            teacher=teacher,
            clock=now_clock,
            publish=True,
            starts_at=now_clock() + timedelta(days=day),
        )
    student = make_student(db, clock=now_clock)
    token = accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(StudentSessionsState, token)
    state.lang_choice = lang
    return state


def test_a_counted_catalog_shows_its_pages(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    state = _browsing(db, now_clock, PAGE_SIZE + 1)
    state.on_load()
    assert (len(state.cards), state.total, state.pages, state.more) == (PAGE_SIZE, 13, 2, False)
    assert state.page_label == "Page 1 of 2"


def test_a_catalog_past_the_count_cap_says_there_is_more(bound, db, now_clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(catalog, "COUNT_CAP", 2 * PAGE_SIZE)
    state = _browsing(db, now_clock, 2 * PAGE_SIZE + 1, lang="fr")
    state.on_load()
    assert (state.total, state.pages, state.more) == (2 * PAGE_SIZE, 2, True)
    assert state.page_label == "Page 1 sur 2+"
    state.go_to_page(2)  # full, and past it more to see: Next stays open
    assert (state.page, state.pages, len(state.cards)) == (2, 3, PAGE_SIZE)
    state.go_to_page(3)
    assert (state.page, state.pages, len(state.cards)) == (3, 3, 1)
    assert state.page_label == "Page 3 sur 3"  # a partial page is the last one


def test_a_date_filter_out_of_the_calendar_gets_a_message_not_a_crash(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    state = _browsing(db, now_clock, 2)
    state.on_load()
    state.set_filter("date_from", "0001-01-01")
    assert state.filter_error == "Choose a date between the years 1970 and 9000."
    state.set_filter("date_from", "")
    assert (state.filter_error, len(state.cards)) == ("", 2)
