"""Session listings: every filter and sort in SQL, paging, search, roles, the student's seats."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_session, make_student, make_teacher, table_counts, top_up
from tests.statements import recorded, sqlite_plan
from visio.clock import FrozenClock
from visio.models import EnrollmentStatus, VideoSession
from visio.search_text import fold_text
from visio.services import catalog, enrollments, materials, sessions
from visio.services.catalog import SessionFilters
from visio.services.errors import Forbidden, InvalidInput

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock, full_name="Camille Durand")


@pytest.fixture
def student(db, clock):
    return make_student(db, clock=clock, full_name="Léa Martin")


def later(clock, delta):
    """A clock `delta` after the test's: listings are read then, data was made before."""
    return FrozenClock(clock() + delta)


def ids(page):
    return [row.session.id for row in page.rows]


def mine(db, teacher, clock, page_size=100, **filters):
    return catalog.teacher_sessions(
        db=db, actor=teacher, filters=SessionFilters(**filters), page_size=page_size, clock=clock
    )


def open_to(db, student, clock, page_size=100, **filters):
    return catalog.available_sessions(
        db=db, actor=student, filters=SessionFilters(**filters), page_size=page_size, clock=clock
    )


def enroll(db, student, session, clock):
    return enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)


def cancel(db, teacher, session, clock):
    return sessions.cancel_session(
        db=db, actor=teacher, video_session_id=session.id, reason="Teacher is ill", clock=clock
    )


@pytest.fixture
def timeline(db, clock, teacher):
    """One session of the teacher per effective status, as seen 1 day and 30 minutes later."""
    made = {
        "finished": make_session(
            db,
            teacher=teacher,
            clock=clock,
            publish=True,
            title="Finished",
            starts_at=clock() + HOUR,
        ),
        "ongoing": make_session(
            db, teacher=teacher, clock=clock, publish=True, title="Ongoing", starts_at=clock() + DAY
        ),
        "scheduled": make_session(
            db,
            teacher=teacher,
            clock=clock,
            publish=True,
            title="Scheduled",
            starts_at=clock() + 3 * DAY,
        ),
        "draft": make_session(
            db, teacher=teacher, clock=clock, title="Draft", starts_at=clock() + 4 * DAY
        ),
        "cancelled": make_session(
            db,
            teacher=teacher,
            clock=clock,
            publish=True,
            title="Cancelled",
            starts_at=clock() + 2 * DAY,
        ),
    }
    cancel(db, teacher, made["cancelled"], clock)
    return made, later(clock, DAY + timedelta(minutes=30))


# --- teacher listing: ownership, rows, roles ------------------------------------------------


def test_teacher_sees_only_own_sessions_with_name_and_tags(db, clock, teacher):
    other = make_teacher(db, clock=clock)
    own = make_session(db, teacher=teacher, clock=clock, tags=["Maths", "lycée"])
    make_session(db, teacher=other, clock=clock)
    page = mine(db, teacher, clock)
    assert ids(page) == [own.id]
    assert page.total == 1
    row = page.rows[0]
    assert (row.teacher_name, row.tags, row.revenue_cents) == (
        "Camille Durand",
        ["lycée", "maths"],
        0,
    )


def test_each_listing_refuses_the_other_role(db, clock, teacher, student):
    with pytest.raises(Forbidden) as err:
        catalog.teacher_sessions(db=db, actor=student, clock=clock)
    assert err.value.code == "wrong_role"
    with pytest.raises(Forbidden):
        catalog.count_by_status(db=db, actor=student, clock=clock)
    with pytest.raises(Forbidden):
        catalog.available_sessions(db=db, actor=teacher, clock=clock)
    with pytest.raises(Forbidden):
        catalog.my_enrollments(db=db, actor=teacher, view="upcoming", clock=clock)


def test_revenue_counts_held_and_released_payments_but_not_refunds(db, clock, teacher):
    paid = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=1500
    )
    free = make_session(db, teacher=teacher, clock=clock, publish=True)
    stays, leaves = make_student(db, clock=clock), make_student(db, clock=clock)
    for someone in (stays, leaves):
        top_up(db, user=someone, amount_cents=5000, clock=clock)
        enroll(db, someone, paid, clock)
        enroll(db, someone, free, clock)
    enrollments.unenroll(db=db, actor=leaves, video_session_id=paid.id, clock=clock)

    revenue = {r.session.id: r.revenue_cents for r in mine(db, teacher, clock).rows}
    assert revenue == {paid.id: 1500, free.id: 0}

    after = later(clock, 3 * DAY)
    assert enrollments.release_escrow(db=db, clock=after) == 2
    revenue = {r.session.id: r.revenue_cents for r in mine(db, teacher, after).rows}
    assert revenue == {paid.id: 1500, free.id: 0}


# --- status, counts -------------------------------------------------------------------------


def test_status_filter_uses_the_effective_status_by_the_clock(db, teacher, timeline):
    made, now = timeline
    for status, session in made.items():
        page = mine(db, teacher, now, status=status)
        assert ids(page) == [session.id], status
        assert sessions.effective_status(page.rows[0].session, now()) == status


def test_count_by_status_counts_each_effective_status_of_own_sessions(db, clock, teacher, timeline):
    _, now = timeline
    make_session(db, teacher=make_teacher(db, clock=clock), clock=clock)  # someone else's draft
    assert catalog.count_by_status(db=db, actor=teacher, clock=now) == {
        "draft": 1,
        "scheduled": 1,
        "ongoing": 1,
        "finished": 1,
        "cancelled": 1,
    }


def test_count_by_status_of_a_new_teacher_is_all_zeros(db, clock, teacher):
    assert set(catalog.count_by_status(db=db, actor=teacher, clock=clock).values()) == {0}


# --- other filters --------------------------------------------------------------------------


def test_platform_filter(db, clock, teacher):
    jitsi = make_session(db, teacher=teacher, clock=clock)
    zoom = make_session(
        db, teacher=teacher, clock=clock, platform="zoom", link="https://zoom.us/j/123456"
    )
    assert ids(mine(db, teacher, clock, platform="zoom")) == [zoom.id]
    assert ids(mine(db, teacher, clock, platform="jitsi")) == [jitsi.id]
    assert ids(mine(db, teacher, clock, platform="teams")) == []
    assert len(ids(mine(db, teacher, clock, platform=""))) == 2  # "" means any


def test_free_and_paid_filter(db, clock, teacher):
    free = make_session(db, teacher=teacher, clock=clock)
    paid = make_session(db, teacher=teacher, clock=clock, is_paid=True, price_cents=900)
    assert ids(mine(db, teacher, clock, is_paid=True)) == [paid.id]
    assert ids(mine(db, teacher, clock, is_paid=False)) == [free.id]


def test_date_range_is_read_in_the_viewer_time_zone(db, clock, teacher):
    # 2026-03-04 23:30 UTC is already 5 March in Paris (UTC+1).
    late = make_session(
        db, teacher=teacher, clock=clock, starts_at=clock().replace(day=4, hour=23, minute=30)
    )
    noon = make_session(db, teacher=teacher, clock=clock, starts_at=clock().replace(day=5, hour=12))
    march_5 = date(2026, 3, 5)

    def on_day(tz):
        return catalog.teacher_sessions(
            db=db,
            actor=teacher,
            filters=SessionFilters(date_from=march_5, date_to=march_5),
            clock=clock,
            tz=tz,
        )

    assert set(ids(on_day("Europe/Paris"))) == {late.id, noon.id}
    assert ids(on_day("UTC")) == [noon.id]
    assert ids(mine(db, teacher, clock, date_from=date(2026, 3, 6))) == []
    assert ids(mine(db, teacher, clock, date_to=date(2026, 3, 4))) == [late.id]


def test_price_range_and_tag_filters(db, clock, teacher, student):
    cheap = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=500,
        tags=["maths"],
    )  # fmt: skip
    dear = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=5000,
        tags=["maths", "physique"],
    )  # fmt: skip
    free = make_session(db, teacher=teacher, clock=clock, publish=True, tags=["physique"])
    assert ids(open_to(db, student, clock, price_min_cents=500, price_max_cents=500)) == [cheap.id]
    assert ids(open_to(db, student, clock, price_min_cents=1000)) == [dear.id]
    assert set(ids(open_to(db, student, clock, price_max_cents=500))) == {cheap.id, free.id}
    assert set(ids(open_to(db, student, clock, tag=" #Maths "))) == {cheap.id, dear.id}
    assert ids(open_to(db, student, clock, tag="math")) == []  # exact tag name only
    assert ids(open_to(db, student, clock, tag="physique", is_paid=False)) == [free.id]


# --- search ---------------------------------------------------------------------------------


@pytest.fixture
def library(db, clock, teacher):
    return {
        "algebre": make_session(db, teacher=teacher, clock=clock, publish=True, title="Algèbre"),
        "histoire": make_session(
            db,
            teacher=teacher,
            clock=clock,
            publish=True,
            title="Révolution",
            description="La prise de la Bastille, 100% expliquée",
        ),
        "tagged": make_session(
            db, teacher=teacher, clock=clock, publish=True, title="Atelier", tags=["Géométrie"]
        ),
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Algèbre", "algebre"),  # title
        ("algèbre", "algebre"),  # case
        ("ALGÈBRE", "algebre"),  # case of an accented letter
        ("algebre", "algebre"),  # accents
        ("  bastille ", "histoire"),  # description
        ("géo", "tagged"),  # tag name
        ("GEOMETRIE", "tagged"),
        ("prise bastille", "histoire"),  # every word, anywhere
        ("100%", "histoire"),  # % is a character, not a wildcard
    ],
)
def test_search_matches_title_description_and_tags(db, clock, teacher, library, q, expected):
    assert ids(mine(db, teacher, clock, q=q)) == [library[expected].id]


def test_search_words_must_all_match_and_wildcards_are_not_wildcards(db, clock, teacher, library):
    assert ids(mine(db, teacher, clock, q="algèbre bastille")) == []
    assert ids(mine(db, teacher, clock, q="_")) == []  # no word to look for: nothing matches
    assert ids(mine(db, teacher, clock, q="%")) == []
    assert ids(mine(db, teacher, clock, q="100%")) == [library["histoire"].id]


def test_student_search_also_matches_the_teacher_name(db, clock, teacher, student, library):
    make_session(
        db, teacher=make_teacher(db, clock=clock, full_name="Zoé Leroy"), clock=clock, publish=True
    )
    assert len(ids(open_to(db, student, clock, q="durand"))) == 3
    assert len(ids(open_to(db, student, clock, q="camille algebre"))) == 1
    assert open_to(db, student, clock, q="ZOE").rows[0].teacher_name == "Zoé Leroy"


def test_search_is_cut_at_100_characters(db, clock, teacher):
    long_title = make_session(db, teacher=teacher, clock=clock, title="a" * 110)
    assert ids(mine(db, teacher, clock, q="a" * 100 + "zzz")) == [long_title.id]
    assert (
        catalog.clean_filters(SessionFilters(q="b" * 150), sorts=catalog.TEACHER_SORTS).q
        == "b" * 100
    )


# --- sorts ----------------------------------------------------------------------------------


def test_teacher_sorts(db, clock, teacher):
    def at(hours, **kw):
        return make_session(
            db, teacher=teacher, clock=clock, starts_at=clock() + hours * HOUR, **kw
        )

    past_early = at(2, title="Économie", is_paid=True, price_cents=3000)
    past_late = at(5, title="droit", is_paid=True, price_cents=1000)
    ongoing = at(30, title="Français")
    soon = at(48, title="Biologie", is_paid=True, price_cents=2000)
    far = at(96, title="Arts", publish=True)
    enroll(db, make_student(db, clock=clock), far, clock)
    now = later(clock, 30.5 * HOUR)

    def order(sort):
        return ids(mine(db, teacher, now, sort=sort))

    assert order("soonest") == [ongoing.id, soon.id, far.id, past_late.id, past_early.id]
    assert ids(mine(db, teacher, now)) == order("soonest")  # the default
    assert order("latest") == [far.id, soon.id, ongoing.id, past_late.id, past_early.id]
    assert order("title") == [far.id, soon.id, past_late.id, past_early.id, ongoing.id]
    assert order("price") == [ongoing.id, far.id, past_late.id, soon.id, past_early.id]
    assert order("enrolled")[0] == far.id


def test_student_sorts(db, clock, teacher, student):
    def offer(days, price, seats_taken=0):
        paid = dict(is_paid=True, price_cents=price) if price else {}
        session = make_session(
            db, teacher=teacher, clock=clock, publish=True, starts_at=clock() + days * DAY, **paid
        )
        for _ in range(seats_taken):
            someone = make_student(db, clock=clock)
            top_up(db, user=someone, amount_cents=10_000, clock=clock)
            enroll(db, someone, session, clock)
        return session

    a = offer(3, 2000, seats_taken=1)
    b = offer(1, 0, seats_taken=0)
    c = offer(2, 5000, seats_taken=2)

    def order(sort):
        return ids(open_to(db, student, clock, sort=sort))

    assert order("soonest") == [b.id, c.id, a.id]
    assert order("price_asc") == [b.id, a.id, c.id]
    assert order("price_desc") == [c.id, a.id, b.id]
    assert order("popular") == [c.id, a.id, b.id]


@pytest.mark.parametrize("is_paid", [None, True, False])
@pytest.mark.parametrize("sort", ["price_asc", "price_desc", "popular"])
def test_price_and_popular_pages_walk_their_index_in_order(
    db, clock, teacher, student, sort, is_paid
):
    """Sorted by price or popularity, the page's rows are read walking the sort's index
    (migration 0015): no sort of every open session. What has started, is full or is a draft is
    passed over; pages follow each other without a gap or a repeat, ties by start then id."""

    def offer(hours, price=0, taken=0, capacity=None, publish=True):
        paid = dict(is_paid=True, price_cents=price) if price else {}
        session = make_session(
            db,
            teacher=teacher,
            clock=clock,
            publish=publish,
            starts_at=clock() + hours * HOUR,
            capacity=capacity,
            **paid,
        )
        for _ in range(taken):
            someone = make_student(db, clock=clock)
            top_up(db, user=someone, amount_cents=10_000, clock=clock)
            enroll(db, someone, session, clock)
        return session

    started = [offer(1, 900), offer(2, 0, taken=1)]
    offer(50, 700, publish=False)  # a draft
    offer(60, 800, taken=1, capacity=1)  # full
    open_ones = [
        offer(40, 0),
        offer(30, 0, taken=2),
        offer(48, 1500, taken=1),
        offer(36, 1500, taken=2),
        offer(72, 3000),
        offer(24, 1500),
        offer(44, 500, taken=1),
    ]
    now = later(clock, 3 * HOUR)
    assert all(s.starts_at <= now() for s in started)

    def key(s):
        first = {"price_asc": s.price_cents, "price_desc": -s.price_cents}.get(sort)
        return (-s.enrolled_count if first is None else first, s.starts_at, s.id)

    matching = [s for s in open_ones if is_paid is None or s.is_paid == is_paid]
    for s in matching:
        db.refresh(s)
    expected = [s.id for s in sorted(matching, key=key)]
    with recorded(db) as statements:
        pages = [
            catalog.available_sessions(
                db=db,
                actor=student,
                filters=SessionFilters(sort=sort, is_paid=is_paid),
                page=page,
                page_size=2,
                clock=now,
            )
            for page in range(1, 6)
        ]
    assert [i for found in pages for i in ids(found)] == expected
    # By price: either price index, once the price is one value (free sessions only).
    index = "ix_video_sessions_popular" if sort == "popular" else "ix_video_sessions_price"
    plan = sqlite_plan(db, *next(st for st in statements if "ORDER BY" in st[0]))
    walk = next(i for i, step in enumerate(plan) if f"INDEX {index}" in step)
    assert "TEMP B-TREE" not in plan[walk + 1], plan  # in order: no sort of the rows read


# --- paging ---------------------------------------------------------------------------------


def test_paging_gives_the_total_the_page_count_and_an_empty_page_past_the_end(db, clock, teacher):
    made = [
        make_session(db, teacher=teacher, clock=clock, starts_at=clock() + (i + 1) * DAY)
        for i in range(5)
    ]

    def page(n, size=2):
        return catalog.teacher_sessions(db=db, actor=teacher, page=n, page_size=size, clock=clock)

    assert [ids(page(n)) for n in (1, 2, 3)] == [
        [made[0].id, made[1].id],
        [made[2].id, made[3].id],
        [made[4].id],
    ]
    assert (page(1).total, page(1).pages) == (5, 3)
    beyond = page(4)
    assert (beyond.rows, beyond.total, beyond.page, beyond.pages) == ([], 5, 4, 3)
    assert page(0).page == 1
    assert page(1, size=10_000).page_size == catalog.MAX_PAGE_SIZE


def teachers_pages_follow_on(db, clock, sort):
    """Ties on the sort's first key (two titles, two prices), sessions ended and to come: each
    page is chosen on ids first, then its rows are read and put back in the same order."""
    teacher = make_teacher(db, clock=clock)
    for i, (title, price) in enumerate(
        [("Écologie", 0), ("algèbre", 500), ("Zoologie", 500), ("Algèbre", 0), ("biologie", 900)]
    ):
        make_session(
            db,
            teacher=teacher,
            clock=clock,
            title=title,
            is_paid=price > 0,
            price_cents=price,
            starts_at=clock() + timedelta(hours=3 * (i + 1)),
        )
    clock.advance(hours=7)  # the first two have ended

    def page(n, size):
        return ids(
            catalog.teacher_sessions(
                db=db,
                actor=teacher,
                filters=SessionFilters(sort=sort),
                page=n,
                page_size=size,
                clock=clock,
            )
        )

    whole = page(1, 100)
    assert len(whole) == 5
    assert page(1, 2) + page(2, 2) + page(3, 2) == whole


@pytest.mark.parametrize("sort", catalog.TEACHER_SORTS)
def test_a_teachers_pages_in_every_order_follow_on_from_one_another(db, clock, sort):
    teachers_pages_follow_on(db, clock, sort)


@pytest.mark.postgres
@pytest.mark.parametrize("sort", catalog.TEACHER_SORTS)
def test_a_teachers_pages_follow_on_on_postgresql(pg_db, clock, sort):
    teachers_pages_follow_on(pg_db, clock, sort)


def test_paging_of_filtered_student_listing_counts_only_matches(db, clock, teacher, student):
    for i in range(3):
        make_session(db, teacher=teacher, clock=clock, publish=True, title=f"Chimie {i}")
    make_session(db, teacher=teacher, clock=clock, publish=True, title="Physique")
    page = catalog.available_sessions(
        db=db, actor=student, filters=SessionFilters(q="chimie"), page=2, page_size=2, clock=clock
    )
    assert (len(page.rows), page.total, page.pages) == (1, 3, 2)


# --- what students may enroll in ------------------------------------------------------------


def test_available_lists_only_open_sessions_with_a_free_seat(db, clock, teacher, student):
    open_one = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=2)
    make_session(db, teacher=teacher, clock=clock)  # draft
    full = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=1)
    enroll(db, make_student(db, clock=clock), full, clock)
    cancel(db, teacher, make_session(db, teacher=teacher, clock=clock, publish=True), clock)
    make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        enrollment_deadline=clock() + HOUR,  # closes before the listing is read
    )
    make_session(db, teacher=teacher, clock=clock, publish=True, starts_at=clock() + HOUR)
    page = open_to(db, student, later(clock, 2 * HOUR))
    assert ids(page) == [open_one.id]
    assert page.total == 1


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "code", "field"),
    [
        (dict(status="running"), "filter_status_invalid", "status"),
        (dict(platform="skype"), "filter_platform_invalid", "platform"),
        (dict(sort="random"), "sort_invalid", "sort"),
        (dict(sort="price_asc"), "sort_invalid", "sort"),  # a student sort
        (dict(date_from=date(2026, 3, 9), date_to=date(2026, 3, 8)), "date_range_invalid", None),
        (dict(price_min_cents=2000, price_max_cents=1000), "price_range_invalid", None),
        (dict(price_min_cents=-1), "price_range_invalid", "price_min_cents"),
        (dict(price_max_cents="12"), "price_range_invalid", "price_max_cents"),  # not parsed
        (dict(date_from="2026-03-09"), "date_range_invalid", "date_from"),
        (dict(date_from=date(1, 1, 1)), "date_out_of_range", "date_from"),  # no overflow
        (dict(date_to=date(9999, 12, 31)), "date_out_of_range", "date_to"),
    ],
)
def test_bad_teacher_filters_are_refused_and_change_nothing(
    db, clock, teacher, filters, code, field
):
    make_session(db, teacher=teacher, clock=clock)
    before = table_counts(db)
    with pytest.raises(InvalidInput) as err:
        mine(db, teacher, clock, **filters)
    assert err.value.code == code
    if field:
        assert err.value.field == field
    assert table_counts(db) == before


def test_bad_student_sort_time_zone_and_view_are_refused(db, clock, student):
    with pytest.raises(InvalidInput) as err:
        open_to(db, student, clock, sort="latest")
    assert (err.value.code, err.value.field) == ("sort_invalid", "sort")
    with pytest.raises(InvalidInput) as err:
        catalog.available_sessions(db=db, actor=student, clock=clock, tz="Mars/Olympus")
    assert err.value.code == "timezone_invalid"
    with pytest.raises(InvalidInput) as err:
        catalog.my_enrollments(db=db, actor=student, view="someday", clock=clock)
    assert (err.value.code, err.value.field) == ("filter_view_invalid", "view")


# --- the student's own sessions -------------------------------------------------------------


def test_my_enrollments_views_follow_the_clock_and_the_enrollment(db, clock, teacher, student):
    def seat(title, starts_in, **kw):
        session = make_session(
            db, teacher=teacher, clock=clock, publish=True, title=title,
            starts_at=clock() + starts_in, **kw,
        )  # fmt: skip
        enroll(db, student, session, clock)
        return session

    top_up(db, user=student, amount_cents=10_000, clock=clock)
    past = seat("Past", HOUR)
    ongoing = seat("Ongoing", DAY)
    upcoming = seat("Upcoming", 3 * DAY)
    left = seat("Left", 4 * DAY)
    enrollments.unenroll(db=db, actor=student, video_session_id=left.id, clock=clock)
    called_off = seat("Called off", 2 * DAY, is_paid=True, price_cents=1200)
    cancel(db, teacher, called_off, clock)
    other = make_student(db, clock=clock)
    enroll(db, other, upcoming, clock)
    now = later(clock, DAY + timedelta(minutes=30))

    def view(name):
        return catalog.my_enrollments(db=db, actor=student, view=name, clock=now)

    assert ids(view("upcoming")) == [upcoming.id]
    assert ids(view("ongoing")) == [ongoing.id]
    assert ids(view("past")) == [past.id]
    cancelled = view("cancelled")
    assert ids(cancelled) == [called_off.id]
    row = cancelled.rows[0]
    assert (row.enrollment_status, row.refunded_cents) == (EnrollmentStatus.CANCELLED, 1200)
    assert view("upcoming").rows[0].enrollment_status == EnrollmentStatus.ACTIVE
    assert view("upcoming").rows[0].teacher_name == "Camille Durand"
    assert catalog.my_enrollments(db=db, actor=other, view="upcoming", clock=now).total == 1


def test_my_enrollments_pages(db, clock, teacher, student):
    for i in range(3):
        session = make_session(
            db, teacher=teacher, clock=clock, publish=True, starts_at=clock() + (i + 1) * DAY
        )
        enroll(db, student, session, clock)
    page = catalog.my_enrollments(db=db, actor=student, page=2, page_size=2, clock=clock)
    assert (len(page.rows), page.total, page.pages) == (1, 3, 2)


def test_the_open_catalog_is_counted_up_to_a_cap_and_pages_on_past_it(
    db, clock, teacher, student, monkeypatch
):
    monkeypatch.setattr(catalog, "COUNT_CAP", 3)
    made = [
        make_session(db, teacher=teacher, clock=clock, publish=True, starts_at=clock() + i * DAY)
        for i in range(1, 6)
    ]
    first = open_to(db, student, clock, page_size=2)
    assert (first.total, first.capped, first.pages) == (3, True, 2)
    assert [r.session.id for r in first.rows] == [made[0].id, made[1].id]
    second = catalog.available_sessions(db=db, actor=student, page=2, page_size=2, clock=clock)
    assert (second.pages, len(second.rows)) == (3, 2)  # a full page past the count: one more
    third = catalog.available_sessions(db=db, actor=student, page=3, page_size=2, clock=clock)
    assert [r.session.id for r in third.rows] == [made[4].id]  # past the count, rows still list
    assert (third.total, third.capped, third.pages) == (3, True, 3)

    words = open_to(db, student, clock, page_size=2, q=made[0].title.split()[0])
    assert (words.total, words.capped, len(words.rows)) == (3, True, 2)  # a search says 3+ too

    monkeypatch.setattr(catalog, "COUNT_CAP", 5)  # exactly as many as the cap: not capped
    exactly = open_to(db, student, clock)
    assert (exactly.total, exactly.capped, len(exactly.rows)) == (5, False, 5)


def test_a_word_search_counts_its_matches_on_every_page_even_past_the_last(
    db, clock, teacher, student
):
    for day in range(1, 4):
        make_session(
            db,
            teacher=teacher,
            clock=clock,
            publish=True,
            title=f"Optique {day}",
            starts_at=clock() + day * DAY,
        )
    make_session(db, teacher=teacher, clock=clock, publish=True, title="Chimie")
    for page, shown in ((1, 2), (2, 1), (3, 0)):
        found = catalog.available_sessions(
            db=db,
            actor=student,
            filters=SessionFilters(q="optique"),
            page=page,
            page_size=2,
            clock=clock,
        )
        assert (len(found.rows), found.total, found.capped) == (shown, 3, False), page


def test_a_count_past_the_cap_is_remembered_a_few_seconds_and_a_smaller_one_never(
    db, clock, teacher, student, monkeypatch
):
    """Past the cap the catalog says "N+" whatever opens: it skips counting again for a while.
    Under the cap each listing counts, so a session published a moment ago is in the total."""
    monkeypatch.setattr(catalog, "_capped_at", {})
    monkeypatch.setattr(catalog, "COUNT_CAP", 2)
    for day in range(1, 4):
        make_session(db, teacher=teacher, clock=clock, publish=True, starts_at=clock() + day * DAY)
    with recorded(db) as statements:
        first = open_to(db, student, clock)
        counted = len(statements)
        again = open_to(db, student, clock)
        assert len(statements) == 2 * counted - 1  # the page alone
        assert (first.total, first.capped, again.total, again.capped) == (2, True, 2, True)

        monkeypatch.setattr(catalog, "COUNT_CAP", 5)  # another cap: counted afresh
        assert (open_to(db, student, clock).total, open_to(db, student, clock).capped) == (3, False)
        make_session(db, teacher=teacher, clock=clock, publish=True)
        assert open_to(db, student, clock).total == 4  # under the cap: never remembered

        monkeypatch.setattr(catalog, "COUNT_CAP", 2)
        now = catalog.monotonic()
        monkeypatch.setattr(catalog, "monotonic", lambda: now + catalog.CAPPED_COUNT_SECONDS)
        statements.clear()
        assert open_to(db, student, clock).capped
        assert len(statements) == counted  # its time is up: counted again


def test_the_open_catalog_reads_each_sessions_materials_count_with_its_page(
    db, clock, teacher, student
):
    with_two = make_session(db, teacher=teacher, clock=clock, publish=True, title="Two links")
    make_session(db, teacher=teacher, clock=clock, publish=True, title="None")
    for n in range(2):
        materials.add_link(
            db=db,
            actor=teacher,
            video_session_id=with_two.id,
            title=f"Notes {n}",
            url=f"https://example.org/notes/{n}",
            clock=clock,
        )
    found = {row.session.title: row.materials_count for row in open_to(db, student, clock).rows}
    assert found == {"Two links": 2, "None": 0}


# --- SQL: indexes, PostgreSQL ---------------------------------------------------------------


def test_listings_read_through_indexes_never_scanning_a_table(db, clock, teacher):
    student = make_student(db, clock=clock)
    session = make_session(db, teacher=teacher, clock=clock, publish=True, tags=["maths"])
    enroll(db, student, session, clock)
    with recorded(db) as statements:
        mine(db, teacher, clock, status="scheduled")
        open_to(db, student, clock, tag="maths", sort="popular")
        catalog.my_enrollments(db=db, actor=student, view="upcoming", clock=clock)
        catalog.count_by_status(db=db, actor=teacher, clock=clock)
    # Not one per row. Teacher: count, page, tags, revenue. Open catalog: the tag's size, the
    # page (tags and seats included), count. Student's own: count, page, tags. By status: one.
    assert len(statements) == 4 + 3 + 3 + 1
    for statement, params in statements:
        plan = sqlite_plan(db, statement, params)
        # A scan of anon_N is the capped count reading its own LIMITed subquery, not a table.
        tables = [step for step in plan if step.startswith("SCAN") and "anon_" not in step]
        assert not tables, (statement, plan)


def test_the_open_catalog_is_paged_and_counted_from_one_covering_index(db, clock, teacher, student):
    """SQLite reads "open to enroll" for the page's ids and for the count from the index alone
    (migration 0014): no row of the table is read to filter out the closed sessions."""
    make_session(db, teacher=teacher, clock=clock, publish=True)
    with recorded(db) as statements:
        open_to(db, student, clock, page_size=20)
    assert len(statements) == 2  # the page, the count
    for statement, params in statements:
        plan = sqlite_plan(db, statement, params)
        assert any("COVERING INDEX ix_video_sessions_open" in step for step in plan), plan


@pytest.mark.parametrize("few", [catalog.TAG_FEW_SESSIONS, 2])
@pytest.mark.parametrize("sort", ["soonest", "price_asc", "popular"])
def test_a_tag_is_read_from_its_few_sessions_or_by_walking_the_open_ones(
    db, clock, teacher, student, monkeypatch, sort, few
):
    """A tag held by few sessions is read from them: walking the open sessions to test each
    one's tags would read them all when the tag matches few (or none). A tag held by more than
    TAG_FEW_SESSIONS sessions is walked, as the other filters are. Both find the same page."""
    monkeypatch.setattr(catalog, "TAG_FEW_SESSIONS", few)

    def offer(hours, tags, price=0):
        paid = dict(is_paid=True, price_cents=price) if price else {}
        starts_at = clock() + hours * HOUR
        return make_session(
            db, teacher=teacher, clock=clock, publish=True, tags=tags, starts_at=starts_at, **paid
        )

    offer(1, ["maths"])  # started by the time of reading
    offer(20, ["chimie"])
    sooner, dearer, later_one = (
        offer(10, ["maths"], 900),
        offer(30, ["maths", "chimie"], 2500),
        offer(50, ["maths"]),
    )
    top_up(db, user=student, amount_cents=10_000, clock=clock)
    enroll(db, student, dearer, clock)
    expected = {
        "soonest": [sooner, dearer, later_one],
        "price_asc": [later_one, sooner, dearer],
        "popular": [dearer, sooner, later_one],
    }[sort]
    with recorded(db) as statements:
        found = open_to(db, student, later(clock, 2 * HOUR), tag="maths", sort=sort)
    assert ids(found) == [s.id for s in expected]
    assert found.total == 3
    plan = sqlite_plan(db, *next(st for st in statements if "ORDER BY" in st[0]))
    from_tag = "SEARCH video_sessions USING INTEGER PRIMARY KEY (rowid=?)"
    assert (plan[1] == from_tag) == (few >= 4), plan  # "maths" is on 4 sessions


@pytest.mark.postgres
def test_a_teachers_list_by_title_walks_its_index_on_postgresql(pg_db, clock):
    """Among a teacher's thousands of sessions, a page by title reads the folded titles' index in
    order (ix_video_sessions_teacher_title), with no sort of them all, and lists them as folded:
    accents and case aside, ties by id."""
    teacher = make_teacher(pg_db, clock=clock)
    other = make_teacher(pg_db, clock=clock)
    pg_db.commit()
    titles = ["Économie", "ecole", "Zèbre", "algèbre", "ÉCOLE", "Alpha", "zoo", "Été"]
    for owner in (teacher, other):
        pg_db.exec(
            sa.text(
                "INSERT INTO video_sessions (teacher_id, title, description, starts_at, ends_at, "
                "duration_minutes, timezone, platform, link, status, is_paid, price_cents, "
                "currency, enrolled_count, created_at, updated_at) "
                "SELECT :teacher, (CAST(:titles AS text[]))[1 + n % 8] || ' ' || (n % 97), '', "
                ":starts, :starts + interval '1 hour', 60, 'UTC', 'jitsi', "
                "'https://meet.jit.si/x' || n, 'scheduled', false, 0, 'EUR', 0, :now, :now "
                "FROM generate_series(1, 3000) AS n"
            ),
            params={
                "teacher": owner.id,
                "titles": titles,
                "starts": clock() + timedelta(days=2),
                "now": clock(),
            },
        )
    pg_db.commit()
    pg_db.connection().exec_driver_sql("ANALYZE video_sessions")
    pg_db.commit()

    with recorded(pg_db) as sent:
        found = mine(pg_db, teacher, clock, page_size=20, sort="title")
    page = next(one for one in sent if "ORDER BY" in one.sql and "LIMIT" in one.sql)
    plan = [
        row[0] for row in pg_db.connection().exec_driver_sql(f"EXPLAIN {page.sql}", page.params)
    ]
    # The page's 20 ids come from the index in order (only those 20 rows are sorted again).
    limit = next(i for i, step in enumerate(plan) if "Limit" in step)
    assert "Index Scan using ix_video_sessions_teacher_title" in plan[limit + 1], plan

    rows = pg_db.exec(
        sa.select(VideoSession.id, VideoSession.title).where(VideoSession.teacher_id == teacher.id)
    ).all()
    expected = sorted(rows, key=lambda row: (fold_text(row.title), row.id))[:20]
    assert ids(found) == [row.id for row in expected]
    pg_db.rollback()


@pytest.mark.postgres
def test_listings_work_on_postgresql(pg_db, clock):
    teacher = make_teacher(pg_db, clock=clock)
    student = make_student(pg_db, clock=clock)
    algebra = make_session(
        pg_db, teacher=teacher, clock=clock, publish=True, title="ALGÈBRE linéaire", tags=["Maths"]
    )
    draft = make_session(pg_db, teacher=teacher, clock=clock, title="100% Économie")
    assert ids(mine(pg_db, teacher, clock, q="algebre")) == [algebra.id]
    assert ids(mine(pg_db, teacher, clock, q="économie 100%")) == [draft.id]
    assert ids(mine(pg_db, teacher, clock, sort="title")) == [draft.id, algebra.id]
    assert ids(open_to(pg_db, student, clock, q=teacher.full_name.upper(), tag="maths")) == [
        algebra.id
    ]
    counts = catalog.count_by_status(db=pg_db, actor=teacher, clock=clock)
    assert (counts["scheduled"], counts["draft"], counts["ongoing"]) == (1, 1, 0)
    paid = make_session(
        pg_db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=1500
    )
    assert ids(open_to(pg_db, student, clock, sort="price_asc")) == [algebra.id, paid.id]
    assert ids(open_to(pg_db, student, clock, sort="price_desc")) == [paid.id, algebra.id]
    assert ids(open_to(pg_db, student, clock, sort="popular", is_paid=True)) == [paid.id]
    assert ids(open_to(pg_db, student, clock, sort="price_asc", is_paid=False)) == [algebra.id]
    enroll(pg_db, student, algebra, clock)
    assert ids(catalog.my_enrollments(db=pg_db, actor=student, clock=clock)) == [algebra.id]


def test_available_sessions_say_which_ones_the_student_is_enrolled_in(db, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_session, make_student, make_teacher
    from visio.services import catalog, enrollments

    teacher = make_teacher(db, clock=clock)
    taken = make_session(db, teacher=teacher, clock=clock, publish=True, title="Taken seat")
    make_session(db, teacher=teacher, clock=clock, publish=True, title="Free seat")
    student = make_student(db, clock=clock)
    enrollments.enroll(db=db, actor=student, video_session_id=taken.id, clock=clock)

    page = catalog.available_sessions(db=db, actor=student, clock=clock)

    status = {row.session.title: row.enrollment_status for row in page.rows}
    assert status == {"Taken seat": "active", "Free seat": None}
