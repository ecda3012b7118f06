"""The session form as typed: money and numbers parsed, every field's error reported at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from visio.services.errors import InvalidInput
from visio.services.session_form import (
    SessionForm,
    edit_moves,
    form_errors,
    parse_form,
    parse_money_cents,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def valid_form(**overrides) -> SessionForm:
    """A form that passes every rule at NOW: a free Jitsi session in three days, Paris time."""
    values = {
        "title": "Algebra revision",
        "description": "Worked examples.",
        "date": "2026-03-05",
        "time": "18:30",
        "timezone": "Europe/Paris",
        "duration": "90",
    }
    values.update(overrides)
    return SessionForm(**values)


# --- money ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("15", 1_500),
        ("15,5", 1_550),
        ("15.5", 1_550),
        ("15,50", 1_550),
        ("15.50", 1_550),
        ("0,05", 5),
        ("1 000", 100_000),
        ("1\u00a0000,99", 100_099),
        ("  15,50 € ", 1_550),
        ("€15", 1_500),
        ("9999999,99", 999_999_999),
    ],
)
def test_money_is_read_as_whole_cents(typed, cents):
    assert parse_money_cents(typed) == cents


@pytest.mark.parametrize(
    "typed",
    ["", "-3", "1,234", "1.234,50", "abc", "15,555", "15.", ",50", "15,5,0", "1e3", "12345678"],
)
def test_money_that_is_not_a_plain_amount_is_refused(typed):
    with pytest.raises(InvalidInput) as refused:
        parse_money_cents(typed)
    assert (refused.value.code, refused.value.field) == ("price_invalid", "price")


def test_the_money_error_names_the_field_it_was_asked_for():
    with pytest.raises(InvalidInput) as refused:
        parse_money_cents("abc", field="amount")
    assert refused.value.field == "amount"


# --- parse_form -----------------------------------------------------------------------------


def test_parse_form_turns_the_typed_text_into_a_session_input():
    form = valid_form(
        is_paid=True,
        price="12,50",
        capacity=" 25 ",
        deadline_date="2026-03-04",
        deadline_time="",
        platform="zoom",
        link="https://zoom.us/j/1",
        tags=["maths", "exam"],
    )

    data = parse_form(form)

    assert data.title == "Algebra revision"
    assert data.starts_at == datetime(2026, 3, 5, 18, 30, tzinfo=PARIS)
    assert data.starts_at.tzinfo is not None and data.starts_at.utcoffset() == timedelta(0)
    assert (data.duration_minutes, data.timezone) == (90, "Europe/Paris")
    assert (data.platform, data.link) == ("zoom", "https://zoom.us/j/1")
    assert (data.is_paid, data.price_cents, data.capacity) == (True, 1_250, 25)
    # A deadline typed without a time closes at the end of that day.
    assert data.enrollment_deadline == datetime(2026, 3, 4, 23, 59, tzinfo=PARIS)
    assert data.tags == ["maths", "exam"]


def test_parse_form_ignores_the_price_of_a_free_session_and_reads_empty_as_none():
    data = parse_form(valid_form(is_paid=False, price="not a price", capacity=""))
    assert (data.is_paid, data.price_cents, data.capacity, data.enrollment_deadline) == (
        False,
        0,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"duration": ""}, "number_invalid", "duration_minutes"),
        ({"duration": "1h"}, "number_invalid", "duration_minutes"),
        ({"capacity": "-2"}, "number_invalid", "capacity"),
        ({"date": ""}, "datetime_required", "starts_at"),
        ({"time": "25:99"}, "datetime_invalid", "starts_at"),
        ({"timezone": "Mars/Olympus"}, "timezone_invalid", "timezone"),
        ({"is_paid": True, "price": "cheap"}, "price_invalid", "price"),
        ({"deadline_date": "someday"}, "datetime_invalid", "enrollment_deadline"),
    ],
)
def test_parse_form_refuses_what_it_cannot_read(overrides, code, field):
    with pytest.raises(InvalidInput) as refused:
        parse_form(valid_form(**overrides))
    assert (refused.value.code, refused.value.field) == (code, field)


# --- form_errors ----------------------------------------------------------------------------


def test_a_valid_form_has_no_errors():
    assert form_errors(valid_form(), now=NOW) == {}
    paid = valid_form(
        is_paid=True, price="15", capacity="10", tags=["a"], deadline_date="2026-03-04"
    )
    assert form_errors(paid, now=NOW) == {}


def test_every_wrong_field_is_reported_at_once():
    form = valid_form(
        title="ab",
        date="2026-03-01",  # yesterday
        duration="3",
        platform="zoom",
        link="http://zoom.us/j/1",
        capacity="0",
        is_paid=True,
        price="0,10",
        tags=[f"tag{i}" for i in range(11)],
    )

    errors = form_errors(form, now=NOW)

    assert {name: error.code for name, error in errors.items()} == {
        "title": "title_too_short",
        "starts_at": "start_in_past",
        "duration_minutes": "duration_out_of_range",
        "link": "link_not_https",
        "capacity": "capacity_out_of_range",
        "price": "price_out_of_range",
        "tags": "too_many_tags",
    }


def test_unreadable_fields_are_reported_beside_the_rule_errors():
    form = valid_form(title="", date="", duration="", capacity="many", is_paid=True, price="x")

    errors = form_errors(form, now=NOW)

    assert {name: error.code for name, error in errors.items()} == {
        "title": "title_too_short",
        "starts_at": "datetime_required",
        "duration_minutes": "duration_out_of_range",
        "capacity": "number_invalid",
        "price": "price_invalid",
    }


def test_a_deadline_after_the_start_is_reported_on_the_deadline():
    errors = form_errors(valid_form(deadline_date="2026-03-06", deadline_time="10:00"), now=NOW)
    assert {name: e.code for name, e in errors.items()} == {
        "enrollment_deadline": "deadline_after_start"
    }


def test_on_edit_an_unchanged_past_start_is_accepted():
    started = valid_form(date="2026-03-02", time="09:30")  # 08:30 UTC, half an hour ago

    assert form_errors(started, now=NOW, start_changed=False) == {}
    assert form_errors(started, now=NOW)["starts_at"].code == "start_in_past"


def test_a_past_start_does_not_hide_a_past_deadline():
    form = valid_form(date="2026-03-01", deadline_date="2026-02-28", deadline_time="10:00")

    errors = form_errors(form, now=NOW)

    assert {name: e.code for name, e in errors.items()} == {
        "starts_at": "start_in_past",
        "enrollment_deadline": "deadline_in_past",
    }


# --- edit_moves -----------------------------------------------------------------------------


def test_an_edit_form_as_it_was_opened_moves_nothing_even_with_an_unreadable_price():
    before = parse_form(valid_form(deadline_date="2026-03-04", deadline_time="12:00"))
    form = valid_form(deadline_date="2026-03-04", deadline_time="12:00", is_paid=True, price="?")

    assert edit_moves(form, before) == (False, False)


@pytest.mark.parametrize(
    ("overrides", "moves"),
    [
        ({"time": "19:00"}, (True, False)),
        ({"duration": "45"}, (True, False)),
        ({"date": "someday"}, (True, False)),
        ({"deadline_date": "2026-03-04"}, (False, True)),
        ({"deadline_date": "someday"}, (False, True)),
    ],
)
def test_edit_moves_says_what_the_form_changes(overrides, moves):
    before = parse_form(valid_form())
    assert edit_moves(valid_form(**overrides), before) == moves
