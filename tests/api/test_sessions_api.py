"""Sessions over HTTP: create, list, read, edit, publish, cancel, delete, and the statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from tests.api.conftest import assert_error
from tests.factories import balances, session_input
from visio.models import User, VideoSession
from visio.services import enrollments, series, waitlist

SESSION_KEYS = {
    "id",
    "title",
    "description",
    "date",
    "duration",
    "timezone",
    "platform",
    "link",
    "teacher_id",
    "teacher_name",
    "status",
    "is_paid",
    "price_cents",
    "currency",
    "capacity",
    "enrolled_count",
    "enrollment_deadline",
    "tags",
    "materials_count",
    "created_at",
    "moved_from",
    "min_participants",
    "decide_at",
    "confirmed",
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _new_session(**overrides):  # type: ignore[no-untyped-def]
    starts = datetime.now(UTC) + timedelta(days=3)
    return {
        "title": "Chemistry lab prep",
        "starts_at": starts.astimezone().isoformat(),
        "duration": 45,
        "timezone": "Europe/Paris",
        **overrides,
    }


# --- create ---------------------------------------------------------------------------------


def test_create_answers_201_with_the_draft(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    day = (datetime.now(UTC) + timedelta(days=40)).date()  # within the two years one may plan
    starts = f"{day}T18:00:00+02:00"
    deadline = datetime.combine(day - timedelta(days=1), datetime.min.time(), UTC).replace(hour=12)
    response = http.post(
        "/api/sessions",
        headers=teacher.headers,
        json=_new_session(
            starts_at=starts,
            description="Bring goggles",
            is_paid=True,
            price_cents=1500,
            capacity=12,
            enrollment_deadline=deadline.isoformat().replace("+00:00", "Z"),
            tags=["Chemistry", " lab "],
        ),
    )

    assert response.status_code == 201, response.text
    session = response.json()
    assert set(session) == SESSION_KEYS
    assert session["status"] == "draft"
    assert session["date"] == f"{day}T16:00:00Z"
    assert _at(session["date"]) == datetime.fromisoformat(starts)
    assert _at(session["enrollment_deadline"]) == deadline
    assert (session["is_paid"], session["price_cents"], session["currency"]) == (
        True,
        1500,
        "EUR",
    )
    assert (session["capacity"], session["enrolled_count"], session["materials_count"]) == (
        12,
        0,
        0,
    )
    assert session["tags"] == ["chemistry", "lab"]
    assert session["platform"] == "jitsi"
    assert session["link"].startswith("https://meet.jit.si/visio-")
    assert (session["teacher_id"], session["teacher_name"]) == (
        teacher.id,
        teacher.user.full_name,
    )


def test_create_refusals(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher, student = make.teacher(), make.student()

    def create(who, **overrides):  # type: ignore[no-untyped-def]
        return http.post("/api/sessions", headers=who.headers, json=_new_session(**overrides))

    naive = assert_error(create(teacher, starts_at="2031-05-04T18:00:00"), 422, "invalid_input")
    assert naive["detail"][0]["loc"] == ["body", "starts_at"]
    past = assert_error(
        create(teacher, starts_at="2020-01-01T10:00:00+00:00"), 422, "start_in_past"
    )
    assert past["field"] == "starts_at"
    short = assert_error(create(teacher, duration=2), 422, "duration_out_of_range")
    assert short["field"] == "duration"
    cheap = assert_error(create(teacher, is_paid=True, price_cents=10), 422, "price_out_of_range")
    assert cheap["field"] == "price_cents"
    assert_error(create(teacher, platform="zoom", link="http://zoom.us/j/1"), 422, "link_not_https")
    assert_error(
        create(teacher, platform="custom", link="javascript:alert(1)"), 422, "link_not_https"
    )
    assert_error(create(teacher, title="ab"), 422, "title_too_short")
    assert_error(create(teacher, tags=["x" * 31]), 422, "tag_too_long")
    assert_error(create(teacher, start_at="typo"), 422, "invalid_input")
    assert_error(create(teacher, starts_at="9999-12-31T23:59:00+00:00"), 422, "invalid_input")
    assert_error(create(student), 403, "wrong_role")


def test_create_takes_the_start_as_date_too_and_refuses_both_names(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    starts = (datetime.now(UTC) + timedelta(days=4)).replace(microsecond=0)
    body = _new_session()
    del body["starts_at"]

    created = http.post(
        "/api/sessions", headers=teacher.headers, json={**body, "date": starts.isoformat()}
    )
    assert created.status_code == 201, created.text
    assert _at(created.json()["date"]) == starts

    both = {**body, "date": starts.isoformat(), "starts_at": starts.isoformat()}
    assert_error(http.post("/api/sessions", headers=teacher.headers, json=both), 422,
                 "invalid_input")  # fmt: skip


def test_a_price_for_a_free_session_is_refused_not_dropped(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    refused = assert_error(
        http.post("/api/sessions", headers=teacher.headers, json=_new_session(price_cents=900)),
        422,
        "price_without_paid",
    )
    assert refused["field"] == "price_cents"

    free = make.session(teacher, publish=False)
    url = f"/api/sessions/{free.id}"
    assert_error(http.patch(url, headers=teacher.headers, json={"price_cents": 700}), 422,
                 "price_without_paid")  # fmt: skip
    paid = make.session(teacher, publish=False, is_paid=True, price_cents=1200)
    made_free = http.patch(
        f"/api/sessions/{paid.id}", headers=teacher.headers, json={"is_paid": False}
    )
    assert made_free.status_code == 200, made_free.text
    assert (made_free.json()["is_paid"], made_free.json()["price_cents"]) == (False, 0)


# --- list -----------------------------------------------------------------------------------


def test_teacher_lists_own_sessions_with_filters_and_pages(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher, other = make.teacher(), make.teacher()
    base = make.clock() + timedelta(days=10)
    paid = make.session(teacher, title="Organic chemistry", starts_at=base, is_paid=True,
                        price_cents=900, tags=["chem"])  # fmt: skip
    free = make.session(teacher, title="Algebra drill", starts_at=base + timedelta(days=1))
    draft = make.session(teacher, publish=False, title="Draft geometry")
    make.session(other, title="Organic chemistry elsewhere")

    def ids(**params):  # type: ignore[no-untyped-def]
        response = http.get("/api/sessions", headers=teacher.headers, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert sorted(ids()) == sorted([paid.id, free.id, draft.id])
    assert ids(q="ORGANIC") == [paid.id]
    assert ids(tag="chem") == [paid.id]
    assert ids(is_paid="true") == [paid.id]
    assert ids(status="draft") == [draft.id]
    assert ids(platform="zoom") == []
    day = base.date().isoformat()
    assert ids(date_from=day, date_to=day, tz="UTC") == [paid.id]
    assert ids(sort="title", status="scheduled") == [free.id, paid.id]

    first = http.get("/api/sessions", headers=teacher.headers, params={"page_size": 2}).json()
    second = http.get(
        "/api/sessions", headers=teacher.headers, params={"page_size": 2, "page": 2}
    ).json()
    assert (first["total"], first["page"], first["page_size"], len(first["items"])) == (
        3,
        1,
        2,
        2,
    )
    assert len(second["items"]) == 1
    assert first["total_capped"] is False
    assert all(item["link"] for item in first["items"])  # the owner sees the links


def test_list_refusals(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    for params, code in (
        ({"page_size": 101}, "invalid_input"),
        ({"page": 0}, "invalid_input"),
        ({"status": "paused"}, "invalid_input"),
        ({"sort": "cheapest"}, "sort_invalid"),
        ({"date_from": "2031-02-30"}, "invalid_input"),
        ({"date_from": "2031-03-02", "date_to": "2031-03-01"}, "date_range_invalid"),
        ({"tz": "Mars/Olympus"}, "timezone_invalid"),
        ({"scope": "everything"}, "invalid_input"),
    ):
        response = http.get("/api/sessions", headers=teacher.headers, params=params)
        assert_error(response, 422, code)
    available = http.get("/api/sessions", headers=teacher.headers, params={"scope": "available"})
    assert_error(available, 403, "wrong_role")


def test_student_lists_enrolled_and_available_sessions_without_any_link(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher, student = make.teacher(), make.student()
    tag = f"t{make.clock().timestamp():.0f}"[-12:]
    mine = make.session(teacher, tags=[tag], title="Enrolled one")
    open_one = make.session(teacher, tags=[tag], title="Open one")
    make.enroll(student, mine)

    enrolled = http.get("/api/sessions", headers=student.headers)
    assert [item["id"] for item in enrolled.json()["items"]] == [mine.id]
    assert enrolled.json()["items"][0]["link"] is None
    assert mine.link not in enrolled.text  # enrolled or not: the link comes from join only

    available = http.get(
        "/api/sessions", headers=student.headers, params={"scope": "available", "tag": tag}
    )
    by_id = {item["id"]: item for item in available.json()["items"]}
    assert set(by_id) == {mine.id, open_one.id}
    assert {item["link"] for item in by_id.values()} == {None}
    assert mine.link not in available.text

    stranger = make.student()
    seen = http.get(
        "/api/sessions", headers=stranger.headers, params={"scope": "available", "tag": tag}
    ).json()
    assert {item["link"] for item in seen["items"]} == {None}


def test_the_open_catalog_counts_each_sessions_materials(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher, student = make.teacher(), make.student()
    tag = f"m{make.clock().timestamp():.0f}"[-12:]
    shared = make.session(teacher, tags=[tag], title="With notes")
    bare = make.session(teacher, tags=[tag], title="Without")
    make.link(teacher, shared)
    make.pdf(teacher, shared)

    found = http.get(
        "/api/sessions", headers=student.headers, params={"scope": "available", "tag": tag}
    )
    assert found.status_code == 200, found.text
    counts = {item["id"]: item["materials_count"] for item in found.json()["items"]}
    assert counts == {shared.id: 2, bare.id: 0}
    assert set(found.json()["items"][0]) == SESSION_KEYS


def test_a_student_sorts_the_open_catalog_by_price_and_popularity(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher, student = make.teacher(), make.student()
    tag = f"s{make.clock().timestamp():.0f}"[-12:]
    day = timedelta(days=1)
    free = make.session(teacher, tags=[tag], starts_in=3 * day)
    dear = make.session(teacher, tags=[tag], starts_in=4 * day, is_paid=True, price_cents=2500)
    cheap = make.session(teacher, tags=[tag], starts_in=5 * day, is_paid=True, price_cents=700)
    also_cheap = make.session(teacher, tags=[tag], starts_in=2 * day, is_paid=True, price_cents=700)
    for _ in range(2):
        make.enroll(make.student(), free)
    make.enroll(make.student(funds_cents=5000), cheap)

    def ids(**params):  # type: ignore[no-untyped-def]
        params = {"scope": "available", "tag": tag, **params}
        response = http.get("/api/sessions", headers=student.headers, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    # Ties in price: the soonest first.
    assert ids(sort="price_asc") == [free.id, also_cheap.id, cheap.id, dear.id]
    assert ids(sort="price_desc") == [dear.id, also_cheap.id, cheap.id, free.id]
    assert ids(sort="popular") == [free.id, cheap.id, also_cheap.id, dear.id]
    assert ids(sort="price_asc", is_paid="true") == [also_cheap.id, cheap.id, dear.id]
    assert ids(sort="price_desc", is_paid="false") == [free.id]
    pages = [ids(sort="price_desc", page_size=3, page=page) for page in (1, 2)]
    assert pages == [[dear.id, also_cheap.id, cheap.id], [free.id]]


def test_the_catalog_answers_while_a_seat_claim_holds_its_locks(http, make, served) -> None:  # type: ignore[no-untyped-def]
    # The listing runs on the event loop (`list_sessions`): a read waiting there on a lock would
    # hold up every request of the worker. The claim below holds, uncommitted, what a seat claim
    # holds until its commit: the session's row, and on SQLite the database's write lock.
    teacher, student = make.teacher(), make.student()
    tag = f"l{make.clock().timestamp():.0f}"[-12:]
    claimed = make.session(teacher, tags=[tag], capacity=5)
    with served.engine.connect() as claim:
        held = claim.begin()
        try:
            row = VideoSession.id == claimed.id
            claim.execute(select(VideoSession.id).where(row).with_for_update())
            seats = VideoSession.enrolled_count
            claim.execute(update(VideoSession).where(row).values(enrolled_count=seats + 1))
            found = http.get(
                "/api/sessions", headers=student.headers, params={"scope": "available", "tag": tag}
            )
        finally:
            held.rollback()
    assert found.status_code == 200, found.text
    # What was committed when the page was read: the claim in flight is not counted.
    assert [(item["id"], item["enrolled_count"]) for item in found.json()["items"]] == [
        (claimed.id, 0)
    ]


def test_listing_refuses_nobody_logged_in_before_checking_the_parameters(http) -> None:  # type: ignore[no-untyped-def]
    for params in ({}, {"page": 0}, {"scope": "everything"}, {"scope": "available", "sort": "x"}):
        response = http.get("/api/sessions", params=params)
        assert_error(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_paid_seat_link_cannot_be_read_ahead_then_kept_after_a_refund(http, make) -> None:  # type: ignore[no-untyped-def]
    """The attack of issue 11: read the Zoom link days ahead, unenroll refunded, keep the link."""
    teacher, student = make.teacher(), make.student(funds_cents=5000)
    zoom = f"https://us02web.zoom.us/j/{make.clock().timestamp():.0f}"
    session = make.session(
        teacher,
        starts_in=timedelta(days=3),
        is_paid=True,
        price_cents=1500,
        platform="zoom",
        link=zoom,
    )
    make.enroll(student, session)

    for answer in (
        http.get(f"/api/sessions/{session.id}", headers=student.headers),
        http.get("/api/sessions", headers=student.headers, params={"scope": "mine"}),
        http.get("/api/sessions", headers=student.headers, params={"scope": "available"}),
    ):
        assert answer.status_code == 200, answer.text
        assert zoom not in answer.text
    too_early = http.post(f"/api/sessions/{session.id}/join", headers=student.headers)
    assert_error(too_early, 409, "join_not_open")
    assert zoom not in too_early.text

    left = http.delete(f"/api/sessions/{session.id}/enroll", headers=student.headers)
    assert left.status_code == 200, left.text
    assert left.json()["refunded_cents"] == 1500
    assert zoom not in left.text
    # The teacher still sees it on their own session.
    assert http.get(f"/api/sessions/{session.id}", headers=teacher.headers).json()["link"] == zoom


# --- read -----------------------------------------------------------------------------------


def test_details_show_the_link_only_to_the_owner(http, cast) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/sessions/{cast.session.id}"
    for who, link in (
        (cast.owner, cast.session.link),
        (cast.enrolled, None),  # in the join window, yet: the link comes from join, recorded
        (cast.student, None),
        (cast.other_teacher, None),
    ):
        response = http.get(url, headers=who.headers)
        assert response.status_code == 200, response.text
        assert set(response.json()) == SESSION_KEYS
        assert response.json()["link"] == link
        if link is None:
            assert cast.session.link not in response.text
    assert http.get(url, headers=cast.owner.headers).json()["enrolled_count"] == 1


def test_details_refusals(http, cast) -> None:  # type: ignore[no-untyped-def]
    draft = f"/api/sessions/{cast.draft.id}"
    assert http.get(draft, headers=cast.owner.headers).json()["status"] == "draft"
    assert_error(http.get(draft, headers=cast.student.headers), 404, "session_not_found")
    assert_error(http.get(draft, headers=cast.other_teacher.headers), 404, "session_not_found")
    unknown = http.get("/api/sessions/2147483000", headers=cast.owner.headers)
    assert_error(unknown, 404, "session_not_found")
    assert_error(http.get("/api/sessions/abc", headers=cast.owner.headers), 422, "invalid_input")
    assert_error(http.get("/api/sessions/99999999999999999999", headers=cast.owner.headers),
                 422, "invalid_input")  # fmt: skip


# --- edit, publish --------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    session = make.session(teacher, publish=False, capacity=10, tags=["physics"])
    url = f"/api/sessions/{session.id}"
    before = http.get(url, headers=teacher.headers).json()
    new_start = (make.clock() + timedelta(days=5)).replace(microsecond=0)

    response = http.patch(
        url,
        headers=teacher.headers,
        json={"title": "Renamed", "starts_at": new_start.isoformat(), "capacity": None},
    )

    assert response.status_code == 200, response.text
    after = response.json()
    assert after["title"] == "Renamed"
    assert _at(after["date"]) == new_start
    assert after["capacity"] is None
    unchanged = SESSION_KEYS - {"title", "date", "capacity"}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


def test_patch_refusals(http, cast, make) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/sessions/{cast.session.id}"
    assert_error(http.patch(url, headers=cast.other_teacher.headers, json={"title": "Mine"}),
                 403, "not_owner")  # fmt: skip
    assert_error(http.patch(url, headers=cast.enrolled.headers, json={"title": "Mine"}),
                 403, "wrong_role")  # fmt: skip
    bad = assert_error(http.patch(url, headers=cast.owner.headers, json={"duration": 1000}),
                       422, "duration_out_of_range")  # fmt: skip
    assert bad["field"] == "duration"
    assert_error(http.patch(url, headers=cast.owner.headers, json={"capacity": 0}),
                 422, "capacity_out_of_range")  # fmt: skip
    assert_error(http.patch(url, headers=cast.owner.headers, json={"title": None}),
                 422, "invalid_input")  # fmt: skip
    assert_error(
        http.patch(url, headers=cast.owner.headers, json={"starts_at": "2031-01-01T10:00"}),
        422,
        "invalid_input",
    )
    assert_error(http.patch("/api/sessions/2147483000", headers=cast.owner.headers, json={}),
                 404, "session_not_found")  # fmt: skip

    cancelled = make.session(cast.owner)
    http.post(f"/api/sessions/{cancelled.id}/cancel", headers=cast.owner.headers,
              json={"reason": "Ill"})  # fmt: skip
    assert_error(
        http.patch(
            f"/api/sessions/{cancelled.id}", headers=cast.owner.headers, json={"title": "Back"}
        ),  # fmt: skip
        409,
        "invalid_status",
    )


def test_a_teacher_cannot_move_a_paid_workshop_to_now_and_keep_the_money(http, make) -> None:  # type: ignore[no-untyped-def]
    """Issue 11's attack over HTTP: an 8-hour paid workshop a week out, moved to start in one
    minute for 5 minutes, then pushed two years out."""
    teacher, student = make.teacher(), make.student(funds_cents=5000)
    workshop = make.session(
        teacher, starts_in=timedelta(days=7), duration_minutes=480, is_paid=True, price_cents=3000
    )
    make.enroll(student, workshop)
    url = f"/api/sessions/{workshop.id}"
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()

    now_for_5 = http.patch(url, headers=teacher.headers, json={"starts_at": soon, "duration": 5})
    assert assert_error(now_for_5, 409, "reschedule_notice_too_short")["field"] == "starts_at"
    far = (workshop.starts_at + timedelta(days=400)).isoformat()
    too_late = http.patch(url, headers=teacher.headers, json={"starts_at": far})
    assert assert_error(too_late, 409, "reschedule_too_late")["field"] == "starts_at"
    cut = http.patch(url, headers=teacher.headers, json={"duration": 5})
    assert assert_error(cut, 409, "duration_cut_too_far")["field"] == "duration"
    assert http.get(url, headers=teacher.headers).json()["duration"] == 480

    # A fair postponement is taken; the student is told, and may leave refunded until the start.
    planned = workshop.starts_at
    later = planned + timedelta(days=20)
    moved = http.patch(url, headers=teacher.headers, json={"starts_at": later.isoformat()})
    assert moved.status_code == 200, moved.text
    seen = http.get(url, headers=student.headers).json()
    assert (_at(seen["moved_from"]), _at(seen["date"])) == (planned, later)
    mine = http.get("/api/sessions", headers=student.headers, params={"scope": "mine"}).json()
    assert [_at(item["moved_from"]) for item in mine["items"]] == [planned]
    left = http.delete(f"{url}/enroll", headers=student.headers)
    assert left.status_code == 200, left.text
    assert left.json()["refunded_cents"] == 3000


def test_publish_schedules_a_draft_once(http, cast) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/sessions/{cast.draft.id}/publish"
    assert_error(http.patch(url, headers=cast.other_teacher.headers), 403, "not_owner")
    response = http.patch(url, headers=cast.owner.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "scheduled"
    assert_error(http.patch(url, headers=cast.owner.headers), 409, "invalid_status")


# --- cancel, delete -------------------------------------------------------------------------


def test_cancel_refunds_every_paid_seat_once(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    session = make.session(teacher, is_paid=True, price_cents=700)
    payers = [make.student(funds_cents=1000) for _ in range(2)]
    for payer in payers:
        make.enroll(payer, session)
    users: list[User] = [p.user for p in payers]

    url = f"/api/sessions/{session.id}/cancel"
    assert_error(http.post(url, headers=teacher.headers, json={"reason": "  "}),
                 422, "cancel_reason_required")  # fmt: skip
    assert_error(http.post(url, headers=make.teacher().headers, json={"reason": "x"}),
                 403, "not_owner")  # fmt: skip
    response = http.post(url, headers=teacher.headers, json={"reason": "Teacher is ill"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["refunded_count"], body["refunded_cents"], body["currency"]) == (2, 1400, "EUR")
    assert body["session"]["status"] == "cancelled"
    assert body["session"]["enrolled_count"] == 0
    found = balances(server_db, *users)
    assert [found[u.email] for u in users] == [1000, 1000]
    assert_error(http.post(url, headers=teacher.headers, json={"reason": "Again"}),
                 409, "invalid_status")  # fmt: skip


def test_delete_removes_a_draft_but_not_a_session_with_enrollments(http, cast) -> None:  # type: ignore[no-untyped-def]
    draft = f"/api/sessions/{cast.draft.id}"
    assert_error(http.delete(draft, headers=cast.other_teacher.headers), 403, "not_owner")
    response = http.delete(draft, headers=cast.owner.headers)
    assert (response.status_code, response.content) == (204, b"")
    assert_error(http.get(draft, headers=cast.owner.headers), 404, "session_not_found")
    assert_error(http.delete(draft, headers=cast.owner.headers), 404, "session_not_found")

    taken = http.delete(f"/api/sessions/{cast.session.id}", headers=cast.owner.headers)
    assert_error(taken, 409, "delete_has_enrollments")


# --- statistics -----------------------------------------------------------------------------


def test_stats_overview_counts_the_teachers_sessions(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    paid = make.session(teacher, is_paid=True, price_cents=1200, capacity=4)
    make.session(teacher, publish=False)
    for _ in range(2):
        payer = make.student(funds_cents=2000)
        enrollments.enroll(db=server_db, actor=payer.user, video_session_id=paid.id)

    response = http.get("/api/sessions/stats/overview", headers=teacher.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"] == {
        "draft": 1,
        "scheduled": 1,
        "ongoing": 0,
        "finished": 0,
        "cancelled": 0,
    }
    assert (body["total_sessions"], body["active_enrollments"]) == (2, 2)
    assert body["fill"] == {"enrolled": 2, "seats": 4, "rate": 0.5}
    assert body["attendance"]["rate"] is None
    assert body["revenue"] == {
        "held_cents": 2400,
        "released_cents": 0,
        "refunded_cents": 0,
        "currency": "EUR",
    }
    assert [u["session_id"] for u in body["upcoming"]] == [paid.id]
    assert len(body["enrollments_by_week"]) == 12
    assert sum(w["enrollments"] for w in body["enrollments_by_week"]) == 2


def test_stats_overview_shows_the_waiting_list_and_the_series_fill(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    weekly = series.create_series(
        db=make.db,
        actor=teacher.user,
        data=session_input(make.clock, capacity=1),
        repeat=series.Repeat(every_days=7, count=2),
        publish=True,
        clock=make.clock,
    ).occurrences
    make.enroll(make.student(), weekly[0])  # full now
    waiter = make.student()
    waitlist.join(db=make.db, actor=waiter.user, video_session_id=weekly[0].id)

    response = http.get("/api/sessions/stats/overview", headers=teacher.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["waiting"], body["auto_cancelled"]) == (1, 0)
    assert body["series_fill"] == {"series": 1, "enrolled": 1, "seats": 2, "rate": 0.5}


def test_stats_overview_is_for_teachers(http, make) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    forbidden = http.get("/api/sessions/stats/overview", headers=student.headers)
    assert_error(forbidden, 403, "wrong_role")
    teacher = make.teacher()
    bad_zone = http.get(
        "/api/sessions/stats/overview", headers=teacher.headers, params={"tz": "Nowhere/City"}
    )
    assert_error(bad_zone, 422, "timezone_invalid")
