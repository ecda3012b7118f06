"""The public session page's view: what each visitor sees, read in two statements (the session
with the viewer's enrollment, refunds, balance and tags; then the materials)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from tests.factories import make_funded_student, make_session, make_student, make_teacher
from tests.statements import recorded
from visio.services import enrollments, materials, session_view
from visio.services.errors import NotFound
from visio.services.session_view import Action

PRICE = 1500
LINK = "https://example.org/reading"


@pytest.fixture
def teacher(db: Session, clock):  # type: ignore[no-untyped-def]
    return make_teacher(db, clock=clock)


@pytest.fixture
def workshop(db: Session, clock, teacher):  # type: ignore[no-untyped-def]
    session = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=PRICE,
        capacity=3,
        tags=["maths", "algebra"],
    )
    materials.add_link(db=db, actor=teacher, video_session_id=session.id, title="Read", url=LINK)
    return session


def _view(db: Session, user, session_id: int, clock) -> tuple[session_view.PublicView, int]:  # type: ignore[no-untyped-def]
    """The view, and how many statements it ran."""
    assert user.id is not None  # loaded before listening: a reload is not the view's
    with recorded(db) as sent:
        view = session_view.public_view(db=db, actor=user, video_session_id=session_id, clock=clock)
    return view, len(sent)


def test_a_visitor_sees_the_price_seats_tags_and_titles_only(db, clock, workshop) -> None:  # type: ignore[no-untyped-def]
    visitor = make_funded_student(db, clock=clock, amount_cents=5_000)

    view, statements = _view(db, visitor, workshop.id, clock)

    assert statements == 2
    assert (view.action, view.reason) == (Action.PAY, "")
    assert view.enrollment_status is None and view.refunded_cents == 0
    assert view.balance_cents == 5_000 and view.balance_after_cents == 5_000 - PRICE
    assert view.seats_left == 3 and view.tags == ["algebra", "maths"]
    assert [(m.title, m.url) for m in view.materials] == [("Read", None)]  # no link for them
    assert view.teacher_name == workshop_teacher_name(db, workshop)


def test_an_enrolled_student_sees_their_seat_and_the_link(db, clock, workshop) -> None:  # type: ignore[no-untyped-def]
    student = make_funded_student(db, clock=clock, amount_cents=5_000)
    enrollments.enroll(db=db, actor=student, video_session_id=workshop.id, clock=clock)

    view, statements = _view(db, student, workshop.id, clock)

    assert statements == 2
    assert (view.action, view.enrollment_status) == (Action.UNENROLL, "active")
    assert view.balance_cents == 5_000 - PRICE and view.seats_left == 2
    assert [m.url for m in view.materials] == [LINK] and view.can_download


def test_a_student_who_left_sees_the_refund_and_may_come_back(db, clock, workshop) -> None:  # type: ignore[no-untyped-def]
    student = make_funded_student(db, clock=clock, amount_cents=5_000)
    enrollments.enroll(db=db, actor=student, video_session_id=workshop.id, clock=clock)
    enrollments.unenroll(db=db, actor=student, video_session_id=workshop.id, clock=clock)

    view, _ = _view(db, student, workshop.id, clock)

    assert view.refunded_cents == PRICE and view.balance_cents == 5_000
    assert view.enrollment_status == "unenrolled" and view.action == Action.PAY
    assert not view.can_download


def test_another_users_refunds_and_seat_are_not_the_viewers(db, clock, workshop) -> None:  # type: ignore[no-untyped-def]
    other = make_funded_student(db, clock=clock, amount_cents=5_000)
    enrollments.enroll(db=db, actor=other, video_session_id=workshop.id, clock=clock)
    enrollments.unenroll(db=db, actor=other, video_session_id=workshop.id, clock=clock)
    viewer = make_funded_student(db, clock=clock, amount_cents=2_000)

    view, _ = _view(db, viewer, workshop.id, clock)

    assert view.refunded_cents == 0 and view.enrollment_status is None
    assert view.balance_cents == 2_000


def test_a_draft_exists_for_its_teacher_only(db, clock, teacher) -> None:  # type: ignore[no-untyped-def]
    draft = make_session(db, teacher=teacher, clock=clock)
    student = make_student(db, clock=clock)

    with pytest.raises(NotFound):
        session_view.public_view(db=db, actor=student, video_session_id=draft.id, clock=clock)
    view, _ = _view(db, teacher, draft.id, clock)
    assert view.action == Action.MANAGE and view.tags == []
    with pytest.raises(NotFound):
        session_view.public_view(db=db, actor=student, video_session_id=10_000, clock=clock)


def workshop_teacher_name(db: Session, workshop) -> str:  # type: ignore[no-untyped-def]
    from visio.models import User

    teacher = db.get(User, workshop.teacher_id)
    assert teacher is not None
    return teacher.full_name
