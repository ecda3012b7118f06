"""The operator's figures (what /metrics serves from the database), on a real database, and the
pieces of the request path that need no server: route labels, who may read the metrics."""

from __future__ import annotations

from datetime import timedelta

from starlette.routing import Mount, Route

from tests.factories import make_session, make_student, make_teacher, top_up
from visio import metrics
from visio.api import operations as ops_api
from visio.models import PayoutRequest
from visio.services import enrollments, minimums, operations


def test_an_empty_database_has_every_figure_at_zero(db, clock) -> None:  # type: ignore[no-untyped-def]
    found = operations.figures(db=db, clock=clock)

    assert found.enrollments == {"active": 0, "unenrolled": 0, "cancelled": 0}
    assert (found.paid_enrollments, found.refunds, found.outbox_due) == (0, 0, 0)
    assert found.payouts == {"requested": 0, "paid": 0, "refused": 0}
    assert found.lag_seconds == {"notices": 0, "escrow_release": 0, "minimum_decisions": 0}


def test_a_paid_seat_then_its_refund_are_counted_with_their_cents(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher, student = make_teacher(db, clock=clock), make_student(db, clock=clock)
    top_up(db, user=student, amount_cents=5000, clock=clock)
    paid = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=1500
    )
    free = make_session(db, teacher=teacher, clock=clock, publish=True)
    enrollments.enroll(db=db, actor=student, video_session_id=paid.id, clock=clock)
    enrollments.enroll(db=db, actor=student, video_session_id=free.id, clock=clock)

    before = operations.figures(db=db, clock=clock)
    enrollments.unenroll(db=db, actor=student, video_session_id=paid.id, clock=clock)
    after = operations.figures(db=db, clock=clock)

    assert before.enrollments["active"] == 2
    assert (before.paid_enrollments, before.paid_cents, before.refunds) == (1, 1500, 0)
    assert after.enrollments == {"active": 1, "unenrolled": 1, "cancelled": 0}
    assert (after.paid_enrollments, after.refunds, after.refunded_cents) == (1, 1, 1500)


def test_the_outbox_backlog_and_its_oldest_due_notice(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher, student = make_teacher(db, clock=clock), make_student(db, clock=clock)
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    clock.advance(seconds=90)  # nobody delivered the confirmation mail

    found = operations.figures(db=db, clock=clock)

    assert found.outbox_due >= 1
    assert found.outbox_pending >= found.outbox_due
    assert found.outbox_oldest_due_seconds == 90
    assert found.lag_seconds["notices"] == 90


def test_payout_requests_by_status_and_the_oldest_waiting(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    made = clock()
    for status, cents in (("requested", 2000), ("requested", 500), ("paid", 7000)):
        db.add(
            PayoutRequest(
                user_id=teacher.id,
                amount_cents=cents,
                currency="EUR",
                destination="FR7630006000011234567890189",
                status=status,
                created_at=made,
            )
        )
    db.commit()
    clock.advance(hours=3)

    found = operations.figures(db=db, clock=clock)

    assert found.payouts == {"requested": 2, "paid": 1, "refused": 0}
    assert found.payout_cents == {"requested": 2500, "paid": 7000, "refused": 0}
    assert found.oldest_payout_request_seconds == 3 * 3600
    text = metrics.render(found).decode()
    assert 'visio_payouts{status="requested"} 2.0' in text
    assert 'visio_payout_cents{status="paid"} 7000.0' in text


def test_background_lag_is_the_age_of_the_oldest_due_work(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    session = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        starts_at=clock() + timedelta(days=2),
        duration_minutes=60,
        min_participants=3,
        decide_at=clock() + timedelta(days=1),
    )
    clock.advance(days=2, hours=1, minutes=5)  # the decision and the end are both past

    late = operations.figures(db=db, clock=clock)
    minimums.decide_due(db, clock=clock)  # the background work catches up on the decision

    overdue = timedelta(days=1, hours=1, minutes=5).total_seconds()
    assert late.lag_seconds["minimum_decisions"] == overdue
    caught_up = operations.figures(db=db, clock=clock)
    assert caught_up.lag_seconds["minimum_decisions"] == 0
    assert session.id is not None


def test_escrow_release_lag_until_the_release(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    make_session(
        db, teacher=teacher, clock=clock, publish=True, starts_at=clock() + timedelta(hours=1)
    )
    clock.advance(hours=2, minutes=1)  # ended one minute ago (60 min long)

    assert operations.figures(db=db, clock=clock).lag_seconds["escrow_release"] == 60
    enrollments.release_escrow(db=db, clock=clock)
    assert operations.figures(db=db, clock=clock).lag_seconds["escrow_release"] == 0


def test_the_same_figures_on_postgresql(pg_db, clock) -> None:  # type: ignore[no-untyped-def]
    db = pg_db
    teacher, student = make_teacher(db, clock=clock), make_student(db, clock=clock)
    top_up(db, user=student, amount_cents=5000, clock=clock)
    paid = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=1500,
        starts_at=clock() + timedelta(hours=1),
    )
    enrollments.enroll(db=db, actor=student, video_session_id=paid.id, clock=clock)
    clock.advance(hours=2, minutes=1)

    found = operations.figures(db=db, clock=clock)

    assert found.enrollments["active"] == 1
    assert (found.paid_enrollments, found.paid_cents, found.refunds) == (1, 1500, 0)
    assert found.lag_seconds["escrow_release"] == 60
    assert found.outbox_oldest_due_seconds == timedelta(hours=2, minutes=1).total_seconds()


def test_the_figures_render_as_prometheus_text(db, clock) -> None:  # type: ignore[no-untyped-def]
    text = metrics.render(operations.figures(db=db, clock=clock)).decode()

    assert "visio_figures_up 1.0" in text
    assert 'visio_enrollments{status="active"} 0.0' in text
    assert "visio_refunds_total 0.0" in text
    assert 'visio_background_lag_seconds{task="notices"} 0.0' in text
    assert "visio_figures_up 0.0" in metrics.render(None).decode()


def _scope(path: str, route: object, client: str = "127.0.0.1", **headers: str) -> dict:
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "path": path, "route": route, "client": (client, 5000), "headers": raw}


def test_requests_are_labelled_by_route_template_never_by_raw_path() -> None:
    def endpoint() -> None: ...

    detail = Route("/sessions/{session_id}", endpoint)
    label = ops_api.route_label
    assert label(_scope("/api/sessions/12", detail), 200, "/api") == "/api/sessions/{session_id}"
    assert label(_scope("/health", Route("/health", endpoint)), 200, "/api") == "/health"
    pages = Mount("", routes=[])
    assert label(_scope("/sessions/12", pages), 200, "/api") == ops_api.PAGES
    assert label(_scope("/no/such/page", pages), 404, "/api") == ops_api.UNMATCHED
    assert label(_scope("/whatever", None), 404, "/api") == ops_api.UNMATCHED


def test_without_a_token_only_a_direct_local_peer_reads_the_metrics() -> None:
    local = ops_api._local_and_direct
    assert local(_scope("/metrics", None))
    assert local(_scope("/metrics", None, client="::1"))
    assert not local(_scope("/metrics", None, client="192.0.2.7"))
    # A proxy on this machine forwards others: its loopback address proves nothing.
    assert not local(_scope("/metrics", None, x_forwarded_for="127.0.0.1"))
    assert not local(_scope("/metrics", None, forwarded="for=127.0.0.1"))
    assert not local(_scope("/metrics", None, client="not-an-address"))
