"""Video sessions: creation bounds, platform links, publish, status by the clock, cancel, delete."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from tests.factories import (
    audit_actions,
    fresh,
    make_session,
    make_student,
    make_teacher,
    session_input,
    table_counts,
)
from visio.models import AuditEvent, EffectiveStatus, SessionTag, StoredStatus, Tag, VideoSession
from visio.services import sessions
from visio.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from visio.settings import settings

JITSI_LINK = re.compile(rf"^https://{re.escape(settings.jitsi_domain)}/visio-[A-Za-z0-9_-]{{24}}$")


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock)


def create(db, clock, actor, **overrides):
    return sessions.create_session(
        db=db, actor=actor, data=session_input(clock, **overrides), clock=clock
    )


def tag_names(db, session_id):
    return set(
        db.exec(
            select(Tag.name)
            .join(SessionTag, SessionTag.tag_id == Tag.id)
            .where(SessionTag.session_id == session_id)
        ).all()
    )


# --- create ---------------------------------------------------------------------------------


def test_create_session_makes_a_draft_with_derived_fields_and_an_audit_event(db, clock, teacher):
    starts = clock() + timedelta(days=3)
    created = create(
        db,
        clock,
        teacher,
        title="  Intro   to   Rust ",
        starts_at=starts,
        duration_minutes=90,
        is_paid=True,
        price_cents=1_500,
        capacity=12,
        tags=["Rust", " rust ", "#Systems", "  "],
    )

    stored = db.get(VideoSession, created.id)
    assert stored.status == StoredStatus.DRAFT
    assert stored.title == "Intro to Rust"
    assert stored.teacher_id == teacher.id
    assert (stored.starts_at, stored.ends_at) == (starts, starts + timedelta(minutes=90))
    assert (stored.is_paid, stored.price_cents, stored.currency) == (True, 1_500, settings.currency)
    assert (stored.capacity, stored.enrolled_count, stored.timezone) == (12, 0, "Europe/Paris")
    assert stored.created_at == stored.updated_at == clock()
    assert tag_names(db, created.id) == {"rust", "systems"}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "session.created")).one()
    assert (event.actor_id, event.target_id, event.data) == (
        teacher.id,
        created.id,
        {"title": "Intro to Rust"},
    )


def test_create_session_by_a_student_is_refused_and_writes_nothing(db, clock):
    student = make_student(db, clock=clock)
    before = table_counts(db)

    with pytest.raises(Forbidden) as refused:
        create(db, clock, student)

    assert refused.value.code == "wrong_role"
    assert table_counts(db) == before


LATER = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # two days after the frozen clock


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"title": "ab"}, "title_too_short", "title"),
        ({"title": "   ab    "}, "title_too_short", "title"),
        ({"title": "t" * 121}, "title_too_long", "title"),
        ({"description": "d" * 5001}, "description_too_long", "description"),
        ({"starts_at": datetime(2026, 3, 2, 9, 0, tzinfo=UTC)}, "start_in_past", "starts_at"),
        ({"starts_at": datetime(2026, 3, 1, 9, 0, tzinfo=UTC)}, "start_in_past", "starts_at"),
        ({"starts_at": datetime(2026, 3, 4, 9, 0)}, "datetime_invalid", "starts_at"),
        ({"duration_minutes": 4}, "duration_out_of_range", "duration_minutes"),
        ({"duration_minutes": 481}, "duration_out_of_range", "duration_minutes"),
        ({"capacity": 0}, "capacity_out_of_range", "capacity"),
        ({"capacity": 10_001}, "capacity_out_of_range", "capacity"),
        (
            {"starts_at": LATER, "enrollment_deadline": datetime(2026, 3, 3, 9, 0)},
            "datetime_invalid",
            "enrollment_deadline",
        ),
        (
            {"starts_at": LATER, "enrollment_deadline": LATER + timedelta(seconds=1)},
            "deadline_after_start",
            "enrollment_deadline",
        ),
        ({"is_paid": True, "price_cents": 49}, "price_out_of_range", "price"),
        ({"is_paid": True, "price_cents": 0}, "price_out_of_range", "price"),
        ({"is_paid": True, "price_cents": 1_000_001}, "price_out_of_range", "price"),
        ({"tags": [f"tag{i}" for i in range(11)]}, "too_many_tags", "tags"),
        ({"tags": ["t" * 31]}, "tag_too_long", "tags"),
        ({"timezone": "Europe/Atlantis"}, "timezone_invalid", "timezone"),
        ({"platform": "skype", "link": "https://skype.com/x"}, "platform_invalid", "platform"),
    ],
)
def test_create_session_out_of_bounds_is_refused_and_writes_nothing(
    db, clock, teacher, overrides, code, field
):
    before = table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        create(db, clock, teacher, **overrides)

    assert (refused.value.code, refused.value.field) == (code, field)
    assert table_counts(db) == before


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": "abc"},
        {"title": "t" * 120},
        {"description": ""},
        {"description": "d" * 5000},
        {"starts_at": datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)},
        {"duration_minutes": 5},
        {"duration_minutes": 480},
        {"capacity": None},
        {"capacity": 1},
        {"capacity": 10_000},
        {"starts_at": LATER, "enrollment_deadline": LATER},
        {"starts_at": LATER, "enrollment_deadline": LATER - timedelta(days=1)},
        {"is_paid": True, "price_cents": 50},
        {"is_paid": True, "price_cents": 1_000_000},
        {"tags": [f"tag{i}" for i in range(10)]},
        {"tags": ["t" * 30]},
    ],
)
def test_create_session_at_each_bound_is_accepted(db, clock, teacher, overrides):
    created = create(db, clock, teacher, **overrides)
    assert db.get(VideoSession, created.id).status == StoredStatus.DRAFT


def test_create_free_session_with_a_price_is_refused(db, clock, teacher):
    with pytest.raises(InvalidInput) as refused:
        create(db, clock, teacher, is_paid=False, price_cents=2_000)
    assert (refused.value.code, refused.value.field) == ("price_without_paid", "price")
    assert db.exec(select(VideoSession)).all() == []


def test_tags_are_shared_between_sessions(db, clock, teacher):
    create(db, clock, teacher, tags=["Python"])
    create(db, clock, teacher, tags=["python", "SQL"])
    assert sorted(db.exec(select(Tag.name)).all()) == ["python", "sql"]


# --- platform links -------------------------------------------------------------------------


def test_jitsi_session_gets_a_generated_unguessable_link(db, clock, teacher):
    first = create(db, clock, teacher, link="javascript:alert(1)")
    second = create(db, clock, teacher)

    assert first.platform == "jitsi"
    assert JITSI_LINK.match(first.link) and JITSI_LINK.match(second.link)
    assert first.link != second.link


@pytest.mark.parametrize(
    ("platform", "link"),
    [
        ("zoom", "https://us02web.zoom.us/j/1234567890?pwd=abc"),
        ("zoom", "https://zoom.us/j/1"),
        ("teams", "https://teams.microsoft.com/l/meetup-join/19%3ameeting"),
        ("teams", "https://teams.live.com/meet/123"),
        ("custom", "https://whereby.com/maths-room"),
    ],
)
def test_external_platform_keeps_a_valid_https_link(db, clock, teacher, platform, link):
    created = create(db, clock, teacher, platform=platform, link=f"  {link} ")
    assert (created.platform, created.link) == (platform, link)


@pytest.mark.parametrize(
    ("platform", "link", "code"),
    [
        ("zoom", "https://zoom.example.com/j/1", "link_wrong_host"),
        ("zoom", "https://evilzoom.us/j/1", "link_wrong_host"),
        ("zoom", "https://zoom.us.evil.org/j/1", "link_wrong_host"),
        ("teams", "https://teams.microsoft.com.evil.org/x", "link_wrong_host"),
        ("teams", "https://zoom.us/j/1", "link_wrong_host"),
        ("custom", "javascript:alert(document.cookie)", "link_not_https"),
        ("custom", "JavaScript:alert(1)", "link_not_https"),
        ("custom", "data:text/html;base64,PHNjcmlwdD4=", "link_not_https"),
        ("zoom", "http://zoom.us/j/1", "link_not_https"),
        ("custom", "ftp://files.example.org/x", "link_not_https"),
        ("custom", "", "link_required"),
        ("zoom", "   ", "link_required"),
        ("custom", "https://user:secret@example.org/room", "link_invalid"),
        ("custom", "https://exa mple.org/room", "link_invalid"),
        ("custom", "https://localhost/room", "link_private_address"),
        ("custom", "https://example.org/" + "a" * 2048, "link_too_long"),
    ],
)
def test_unsafe_or_wrong_host_links_are_refused_and_write_nothing(
    db, clock, teacher, platform, link, code
):
    before = table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        create(db, clock, teacher, platform=platform, link=link)

    assert (refused.value.code, refused.value.field) == (code, "link")
    assert table_counts(db) == before


# --- publish --------------------------------------------------------------------------------


def test_publish_turns_a_draft_into_a_scheduled_session(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)
    clock.advance(hours=1)

    published = sessions.publish_session(
        db=db, actor=teacher, video_session_id=draft.id, clock=clock
    )

    stored = fresh(db, VideoSession, draft.id)
    assert published.status == stored["status"] == StoredStatus.SCHEDULED
    assert stored["published_at"] == stored["updated_at"] == clock()
    assert audit_actions(db, target_type="session", target_id=draft.id) == [
        "session.created",
        "session.published",
    ]


def test_publish_by_another_teacher_is_forbidden_and_changes_nothing(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)
    intruder = make_teacher(db, clock=clock)
    before, counts = fresh(db, VideoSession, draft.id), table_counts(db)

    with pytest.raises(Forbidden) as refused:
        sessions.publish_session(db=db, actor=intruder, video_session_id=draft.id, clock=clock)

    assert refused.value.code == "not_owner"
    assert fresh(db, VideoSession, draft.id) == before
    assert table_counts(db) == counts


def test_publish_by_a_student_is_forbidden(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)
    student = make_student(db, clock=clock)
    with pytest.raises(Forbidden):
        sessions.publish_session(db=db, actor=student, video_session_id=draft.id, clock=clock)
    assert fresh(db, VideoSession, draft.id)["status"] == StoredStatus.DRAFT


def test_publish_after_the_start_is_refused(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)
    clock.at = draft.starts_at
    before = fresh(db, VideoSession, draft.id)

    with pytest.raises(Conflict) as refused:
        sessions.publish_session(db=db, actor=teacher, video_session_id=draft.id, clock=clock)

    assert refused.value.code == "start_in_past"
    assert fresh(db, VideoSession, draft.id) == before


def test_publish_twice_is_refused(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    before = fresh(db, VideoSession, session.id)

    with pytest.raises(Conflict) as refused:
        sessions.publish_session(db=db, actor=teacher, video_session_id=session.id, clock=clock)

    assert (refused.value.code, refused.value.params) == ("invalid_status", {"status": "scheduled"})
    assert fresh(db, VideoSession, session.id) == before


def test_publish_of_an_unknown_session_is_not_found(db, clock, teacher):
    with pytest.raises(NotFound):
        sessions.publish_session(db=db, actor=teacher, video_session_id=999_999, clock=clock)


# --- effective status -----------------------------------------------------------------------


def test_effective_status_follows_the_clock(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True, duration_minutes=30)

    def status_at(at):
        return sessions.effective_status(session, at)

    second = timedelta(seconds=1)
    assert status_at(clock()) == EffectiveStatus.SCHEDULED
    assert status_at(session.starts_at - second) == EffectiveStatus.SCHEDULED
    assert status_at(session.starts_at) == EffectiveStatus.ONGOING
    assert status_at(session.ends_at - second) == EffectiveStatus.ONGOING
    assert status_at(session.ends_at) == EffectiveStatus.FINISHED
    assert status_at(session.ends_at + timedelta(days=30)) == EffectiveStatus.FINISHED


def test_effective_status_of_drafts_and_cancelled_sessions_ignores_the_clock(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)
    cancelled = make_session(db, teacher=teacher, clock=clock, publish=True)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=cancelled.id, reason="Ill", clock=clock
    )
    much_later = draft.ends_at + timedelta(days=1)
    assert sessions.effective_status(draft, much_later) == EffectiveStatus.DRAFT
    assert sessions.effective_status(cancelled, much_later) == EffectiveStatus.CANCELLED


def test_start_given_in_another_zone_is_stored_as_the_same_instant_in_utc(db, clock, teacher):
    paris_evening = datetime(2026, 3, 10, 19, 30, tzinfo=ZoneInfo("Europe/Paris"))

    created = create(db, clock, teacher, starts_at=paris_evening, timezone="Europe/Paris")

    stored = fresh(db, VideoSession, created.id)
    assert stored["starts_at"] == paris_evening
    assert stored["starts_at"].tzinfo == UTC
    assert stored["starts_at"].hour == 18  # Paris is UTC+1 in March before the DST switch
    assert stored["timezone"] == "Europe/Paris"


def test_a_start_more_than_two_years_ahead_is_refused(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    with pytest.raises(InvalidInput) as refused:
        sessions.create_session(
            db=db,
            actor=teacher,
            clock=clock,
            data=session_input(clock, starts_at=clock() + timedelta(days=731)),
        )
    assert (refused.value.code, refused.value.field) == ("start_too_far", "starts_at")


def test_a_nul_character_in_a_title_is_refused(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    with pytest.raises(InvalidInput) as refused:
        sessions.create_session(
            db=db, actor=teacher, clock=clock, data=session_input(clock, title="Algebra\x00 night")
        )
    assert (refused.value.code, refused.value.field) == ("text_invalid", "title")
